import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { hexToBytes } from '../../protocols/bytes.ts';
import { buildWaterReadReply, decodeCjt188Frame, encodeCjt188 } from '../../protocols/cjt188/index.ts';
import {
  buildForwardReply,
  buildForwardRequest,
  buildLogin,
  encodeGdw376,
  type Gdw376Frame,
} from '../../protocols/gdw376/index.ts';
import { VirtualClock } from '../../simulator/clock/index.ts';
import type { ArchiveData } from './archive.ts';
import type { MasterLogEntry } from './master-log.ts';
import {
  type LoginEvent,
  type LoginRefusedEvent,
  MAX_REFUSED_LOGINS_PER_CONNECTION,
  MasterStation,
  type MasterStationOptions,
} from './master-station.ts';
import { FakeConcentrator } from './testing/fake-concentrator.ts';
import { waitForEvent } from './testing/wait.ts';

// Issue 13, items 1–3: a hostile peer on the concentrator port cannot hold a connection with junk, fill the
// session table from one connection, or take a real concentrator's session. Real TCP on 127.0.0.1.

const ARCHIVE: ArchiveData = {
  concentrators: [
    {
      id: '017102082',
      alias: '101',
      a1: '0171',
      a2: 2082,
      ports: [{ port: 1, meters: [{ address: '101001', protocol: 'cjt188' }] }],
    },
  ],
};

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function startMaster(options: MasterStationOptions = {}) {
  const log: MasterLogEntry[] = [];
  const master = new MasterStation({
    listen: { port: 0 },
    api: false,
    archive: ARCHIVE,
    minFrameGapMs: 0,
    log: (entry) => log.push(entry),
    ...options,
  });
  const addresses = await master.start();
  cleanup.push(() => master.stop());
  return { master, port: addresses.listen.port, log };
}

async function fake(port: number, a1 = '0171', a2 = 2082): Promise<FakeConcentrator> {
  const f = await FakeConcentrator.connect(port, a1, a2);
  cleanup.push(() => f.close());
  return f;
}

async function loggedIn(master: MasterStation, port: number, a1 = '0171', a2 = 2082) {
  const f = await fake(port, a1, a2);
  const login = waitForEvent<LoginEvent>(master, 'login');
  const answer = await f.exchange(() => f.login());
  expect(answer.units[0].fn).toEqual([1]); // AFN 00 F1: confirmed
  await login;
  return f;
}

async function rawSocket(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => {}); // the master may reset it while we write
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  cleanup.push(() => socket.destroy());
  return socket;
}

/** Resolves once `check()` holds, polling; rejects naming `what` after `timeoutMs`. */
async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const isDeny = (frame: Gdw376Frame) => frame.afn === 0 && frame.units[0]?.fn[0] === 2;

describe('junk on the concentrator port (issue 13, item 1)', () => {
  it('closes a connection after maxJunkBytes that never formed a frame, logs it once with the remote address, and keeps serving others', async () => {
    const { master, port, log } = await startMaster();
    const real = await loggedIn(master, port);
    real.meters.set('00000000101001', { value: 7.5 });
    const junk = await rawSocket(port);
    const junkPort = junk.localPort;
    const closed = new Promise<void>((resolve) => junk.once('close', () => resolve()));
    const mb = Buffer.alloc(1 << 20, 0x68); // every byte looks like a frame start (the worst case)
    junk.write(mb);
    await closed;
    const limits = log.filter((e) => e.event === 'junk-limit');
    expect(limits).toHaveLength(1);
    expect(limits[0].message).toContain(`127.0.0.1:${junkPort}`);
    expect(limits[0].fields?.droppedBytes).toBeGreaterThan(65_536);
    expect(limits[0].fields?.droppedBytes).toBeLessThan(1 << 20);
    expect((await master.pointRead({ concentrator: '101', meter: '101001' })).value).toBe(7.5);
  });

  it('starts counting again after each whole frame, so line noise between frames never closes a concentrator', async () => {
    const { master, port } = await startMaster({ maxJunkBytes: 1000 });
    const real = await loggedIn(master, port);
    real.meters.set('00000000101001', { value: 1 });
    for (let i = 0; i < 5; i++) {
      real.sendRaw(new Uint8Array(600).fill(0x68));
      await real.exchange(() => real.heartbeat()); // 600 bytes of junk, then a whole frame
    }
    expect((await master.pointRead({ concentrator: '101', meter: '101001' })).value).toBe(1);
    expect(real.socket.destroyed).toBe(false);
  });

  it('logs frames before login and malformed bytes with the remote address, one line per kind per 10 s and a "… N more" summary', async () => {
    const clock = new VirtualClock();
    const { master, port, log } = await startMaster({ clock });
    const peer = await fake(port);
    // 50 AFN 10 replies from a connection that never logged in.
    const request = buildForwardRequest({
      a1: '0171',
      a2: 2082,
      msa: 0,
      seq: 1,
      port: 1,
      content: new Uint8Array(2),
    });
    const reply = encodeGdw376(buildForwardReply(request, { content: new Uint8Array(0) }));
    let frames = 0;
    master.on('frame', () => frames++);
    for (let i = 0; i < 50; i++) peer.sendRaw(reply);
    await until(() => frames === 50, 'the 50 frames are in');
    let drops = 0;
    master.on('dropped', () => drops++);
    const bad = encodeGdw376(buildLogin({ a1: '0171', a2: 2082, seq: 3 }));
    bad[bad.length - 2] ^= 0xff; // checksum
    for (let i = 0; i < 20; i++) {
      peer.sendRaw(bad);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await until(() => drops >= 1, 'the bad frames are dropped');
    await new Promise((resolve) => setTimeout(resolve, 50));

    const remote = `127.0.0.1:${peer.socket.localPort}`;
    const before = log.filter((e) => e.event === 'before-login');
    expect(before).toHaveLength(1);
    expect(before[0].message).toContain(remote);
    const malformed = log.filter((e) => e.event === 'malformed');
    expect(malformed).toHaveLength(1);
    expect(malformed[0].message).toContain(remote);
    expect(log.filter((e) => e.event === 'suppressed')).toHaveLength(0);

    clock.advance(10_000);
    const summaries = log.filter((e) => e.event === 'suppressed');
    expect(summaries.find((e) => e.fields?.of === 'before-login')?.message).toMatch(
      /^… 49 more before-login in the last 10 s; latest: /,
    );
    const moreMalformed = summaries.find((e) => e.fields?.of === 'malformed');
    if (drops > 1) expect(moreMalformed?.fields?.count).toBe(drops - 1);
    else expect(moreMalformed).toBeUndefined();
    expect(log.length).toBeLessThanOrEqual(4);
  });
});

describe('logins per connection and per host (issue 13, item 2)', () => {
  it('refuses a second address on one connection and closes it after 16 refusals: 10,000 logins fill no table and real concentrators still log in', async () => {
    const { master, port, log } = await startMaster({ maxSessions: 100 });
    const attacker = await fake(port, '0999', 1);
    const first = await attacker.exchange(() => attacker.login());
    expect(first.units[0].fn).toEqual([1]);
    const refused: LoginRefusedEvent[] = [];
    master.on('refused', (e: LoginRefusedEvent) => refused.push(e));
    const logins: Uint8Array[] = [];
    for (let a2 = 2; a2 <= 10_000; a2++)
      logins.push(encodeGdw376(buildLogin({ a1: '0999', a2, seq: a2 & 15 })));
    attacker.sendRaw(Buffer.concat(logins));
    // The first 16 are denied; then the station closes a connection that keeps cycling addresses, and the rest
    // of the burst is never looked at.
    await attacker.closed;
    expect(refused).toHaveLength(MAX_REFUSED_LOGINS_PER_CONNECTION);
    expect(new Set(refused.map((e) => e.reason))).toEqual(new Set(['second-address']));
    expect(master.sessions()).toHaveLength(1);
    expect(log.filter((e) => e.event === 'second-address')).toHaveLength(1);
    expect(log[log.findIndex((e) => e.event === 'second-address')].message).toMatch(
      /127\.0\.0\.1:\d+: login of concentrator 099900002 refused: the connection already carries concentrator 099900001/,
    );

    const real = await loggedIn(master, port);
    real.meters.set('00000000101001', { value: 3.25 });
    expect((await master.pointRead({ concentrator: '101', meter: '101001' })).value).toBe(3.25);
  });

  it('caps logins per remote host per minute', async () => {
    const clock = new VirtualClock();
    const { master, port, log } = await startMaster({ clock, maxLoginsPerMinute: 3 });
    for (let a2 = 1; a2 <= 3; a2++) await loggedIn(master, port, '0999', a2);
    const fourth = await fake(port, '0999', 4);
    const refused = waitForEvent<LoginRefusedEvent>(master, 'refused');
    expect(isDeny(await fourth.exchange(() => fourth.login()))).toBe(true);
    expect((await refused).reason).toBe('login-rate');
    expect(log.find((e) => e.event === 'login-rate')?.message).toContain('more than 3 logins from 127.0.0.1');
    // A heartbeat of a connection's own session is no login: it is never counted or refused.
    const own = master.sessions()[0];
    expect(own.state).toBe('online');
    clock.advance(60_000);
    const again = await fourth.exchange(() => fourth.login());
    expect(again.units[0].fn).toEqual([1]);
  });
});

describe('login policy (issue 13, item 3)', () => {
  it('keep: a forger logging in with a real concentrator address cannot take its session, and reads return the real value', async () => {
    const clock = new VirtualClock();
    const { master, port, log } = await startMaster({
      clock,
      loginPolicy: 'keep',
      heartbeatPeriodMs: 60_000,
    });
    const real = await loggedIn(master, port);
    real.meters.set('00000000101001', { value: 12.5 });
    const forger = await fake(port);
    forger.meters.set('00000000101001', { value: 999 });
    for (let i = 0; i < 3; i++) {
      const refused = waitForEvent<LoginRefusedEvent>(master, 'refused');
      expect(isDeny(await forger.exchange(() => (i === 1 ? forger.heartbeat() : forger.login())))).toBe(true);
      expect((await refused).reason).toBe('kept');
      expect((await master.pointRead({ concentrator: '101', meter: '101001' })).value).toBe(12.5);
      clock.advance(30_000);
      await real.exchange(() => real.heartbeat()); // the real one answers on schedule
    }
    expect(forger.forwards).toHaveLength(0);
    expect(master.sessions()).toMatchObject([{ id: '017102082', state: 'online', logins: 1 }]);
    expect(log.find((e) => e.event === 'login-refused')?.message).toMatch(
      /127\.0\.0\.1:\d+: login of concentrator 017102082 refused: it is online on 127\.0\.0\.1:\d+, heard \d+ ms ago/,
    );
  });

  it('keep: a concentrator whose old connection fell silent logs in again on a new one (a GPRS reconnect)', async () => {
    const clock = new VirtualClock();
    const { master, port } = await startMaster({ clock, loginPolicy: 'keep', heartbeatPeriodMs: 60_000 });
    const old = await loggedIn(master, port);
    clock.advance(90_001); // more than 1.5 heartbeat periods of silence, less than the 3 that end the session
    expect(master.sessions()[0].state).toBe('online');
    const renewed = await loggedIn(master, port);
    await old.closed;
    renewed.meters.set('00000000101001', { value: 4 });
    expect((await master.pointRead({ concentrator: '101', meter: '101001' })).value).toBe(4);
  });

  it('replace: the newer login takes the session, logged with both remote addresses', async () => {
    const { master, port, log } = await startMaster({ loginPolicy: 'replace' });
    const first = await loggedIn(master, port);
    const firstPort = first.socket.localPort;
    const second = await loggedIn(master, port);
    await first.closed;
    const line = log.find((e) => e.event === 'login-replaced');
    expect(line?.message).toBe(
      `127.0.0.1:${second.socket.localPort}: login of concentrator 017102082 replaced its session on 127.0.0.1:${firstPort}`,
    );
  });

  it('archive: only archived concentrators log in', async () => {
    const { master, port } = await startMaster({ loginPolicy: 'archive' });
    const stranger = await fake(port, '0999', 1);
    const refused = waitForEvent<LoginRefusedEvent>(master, 'refused');
    expect(isDeny(await stranger.exchange(() => stranger.login()))).toBe(true);
    expect((await refused).reason).toBe('not-archived');
    await loggedIn(master, port);
    expect(master.sessions().map((s) => s.id)).toEqual(['017102082']);
  });

  it('allowFrom: an archived concentrator logs in only from its allowed sources, under any policy', async () => {
    const elsewhere: ArchiveData = {
      concentrators: [{ ...ARCHIVE.concentrators[0], allowFrom: ['10.0.0.0/8', '192.168.1.7'] }],
    };
    const { master, port } = await startMaster({ archive: elsewhere });
    const f = await fake(port);
    const refused = waitForEvent<LoginRefusedEvent>(master, 'refused');
    expect(isDeny(await f.exchange(() => f.login()))).toBe(true);
    expect((await refused).reason).toBe('source');

    const here: ArchiveData = {
      concentrators: [{ ...ARCHIVE.concentrators[0], allowFrom: ['127.0.0.0/8'] }],
    };
    const { master: allowed, port: allowedPort } = await startMaster({ archive: here });
    await loggedIn(allowed, allowedPort);
  });
});

describe('read policy (issue 13, item 5: a flood of reads of absent meters)', () => {
  it('any (the default): a read naming protocol and port reaches the field for a meter the archive lacks', async () => {
    const { master, port } = await startMaster();
    expect(master.readPolicy).toBe('any');
    const f = await loggedIn(master, port);
    f.meters.set('00000000909001', { value: 7 });
    const reading = await master.pointRead({
      concentrator: '101',
      meter: '909001',
      protocol: 'cjt188',
      port: 1,
    });
    expect(reading.value).toBe(7);
    expect(f.forwards).toHaveLength(1);
  });

  it('archived: reads of unarchived meters, or of an archived meter on another port or protocol, are UNKNOWN_METER at once and never forwarded', async () => {
    const { master, port } = await startMaster({ readPolicy: 'archived' });
    const f = await loggedIn(master, port);
    f.meters.set('00000000909001', { value: 7 });
    f.meters.set('00000000101001', { value: 12.5 });
    const refused = [
      {
        meter: '909001',
        protocol: 'cjt188',
        port: 1,
        why: /909001 is not in the archive of concentrator 017102082/,
      },
      { meter: '101001', protocol: 'cjt188', port: 2, why: /archived on port 1, not 2/ },
      { meter: '101001', protocol: 'dlt645', port: 1, why: /archived as cjt188, not dlt645/ },
    ] as const;
    for (const { why, ...request } of refused) {
      const error = await master.pointRead({ concentrator: '101', ...request }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'UNKNOWN_METER' });
      expect((error as Error).message).toMatch(why);
      expect((error as Error).message).toMatch(/read policy archived/);
    }
    expect(f.forwards).toHaveLength(0);
    // The archived meter, named with or without its archived protocol and port, is read as before.
    expect((await master.pointRead({ concentrator: '101', meter: '101001' })).value).toBe(12.5);
    expect(
      (await master.pointRead({ concentrator: '101', meter: '101001', protocol: 'cjt188', port: 1 })).value,
    ).toBe(12.5);
  });

  it('names the policies when given another', () => {
    expect(() => new MasterStation({ readPolicy: 'some' as never })).toThrow(
      /"readPolicy" must be any or archived, got some/,
    );
  });
});

describe('forward replies across a reconnect (issue 13, the restart.e2e flake)', () => {
  it('does not settle a read with a reply for another port under the same SEQ (a stale reply from an earlier connection)', async () => {
    const { master, port } = await startMaster();
    const real = await loggedIn(master, port);
    real.behaviour = 'mute';
    const unmatched: Gdw376Frame[] = [];
    master.on('unmatched', (f: Gdw376Frame) => unmatched.push(f));
    const read = master.pointRead({ concentrator: '101', meter: '101001' });
    const request = await real.nextFrame((f) => f.afn === 0x10);
    const meterReply = (value: number) =>
      encodeCjt188(
        buildWaterReadReply(decodeCjt188Frame(meterRequestOf(request)), { current: value, time: null }),
      );
    real.send(buildForwardReply(request, { content: meterReply(666), port: 2 })); // stale: same SEQ, port 2
    await until(() => unmatched.length === 1, 'the stale reply is set aside');
    real.send(buildForwardReply(request, { content: meterReply(5) }));
    expect((await read).value).toBe(5);
  });
});

function meterRequestOf(forward: Gdw376Frame): Uint8Array {
  const body = forward.units[0].body;
  if (body.kind !== 'forward-request') throw new Error('not a forward request');
  return hexToBytes(body.content);
}
