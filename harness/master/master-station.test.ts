import { once } from 'node:events';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../protocols/bytes.ts';
import { buildWaterReadReply, decodeCjt188Frame, encodeCjt188 } from '../../protocols/cjt188/index.ts';
import { buildHeartbeat, buildLogin, encodeGdw376, type Gdw376Frame } from '../../protocols/gdw376/index.ts';
import { encodeText } from '../../protocols/point-read/index.ts';
import { VirtualClock } from '../../simulator/clock/index.ts';
import { LinkWrapper } from '../../simulator/link/index.ts';
import type { ArchiveData } from './archive.ts';
import { MasterError } from './master-error.ts';
import {
  type LoginEvent,
  type MasterSession,
  MasterStation,
  type MasterStationOptions,
} from './master-station.ts';
import { FakeConcentrator } from './testing/fake-concentrator.ts';
import { LineClient } from './testing/line-client.ts';
import { waitForEvent } from './testing/wait.ts';

const ARCHIVE: ArchiveData = {
  concentrators: [
    {
      id: '017102082',
      alias: '101',
      a1: '0171',
      a2: 2082,
      ports: [
        { port: 1, meters: [{ address: '101001', protocol: 'cjt188' }] },
        { port: 2, meters: [{ address: '000000000002', protocol: 'dlt645' }] },
      ],
    },
  ],
};

/** A tap that counts bytes each way; the master station only sees a Link. */
class ByteCounter extends LinkWrapper {
  transmitted = 0;
  received = 0;
  protected override transmit(bytes: Uint8Array): Promise<void> {
    this.transmitted += bytes.length;
    return super.transmit(bytes);
  }
  protected override receive(bytes: Uint8Array): void {
    this.received += bytes.length;
    super.receive(bytes);
  }
}

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function startMaster(options: MasterStationOptions = {}) {
  const master = new MasterStation({ listen: { port: 0 }, api: { port: 0 }, archive: ARCHIVE, ...options });
  const addresses = await master.start();
  cleanup.push(() => master.stop());
  return { master, port: addresses.listen.port, apiPort: addresses.api!.port };
}

async function loggedIn(master: MasterStation, port: number, a1 = '0171', a2 = 2082) {
  const fake = await FakeConcentrator.connect(port, a1, a2);
  cleanup.push(() => fake.close());
  const login = waitForEvent<LoginEvent>(master, 'login');
  const answer = await fake.exchange(() => fake.login());
  await login;
  return { fake, answer };
}

async function client(apiPort: number, encoding: 'utf8' | 'gb2312' = 'utf8') {
  const c = await LineClient.connect(apiPort, encoding);
  cleanup.push(() => c.close());
  return c;
}

async function rejection(p: Promise<unknown>): Promise<MasterError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof MasterError) return err;
    throw err;
  }
  throw new Error('the read succeeded');
}

describe('MasterStation sessions', () => {
  it('confirms login and heartbeat in the F1 form, echoing SEQ (docs/gdw376.md §3.5, Q10)', async () => {
    const { master, port } = await startMaster();
    const { fake, answer } = await loggedIn(master, port);
    expect(answer.control.raw).toBe(0x0b);
    expect(answer.seq).toMatchObject({ seq: 0, con: false, fir: true, fin: true });
    expect(answer.units).toEqual([{ pn: [0], fn: [1], body: { kind: 'confirm-all' } }]);
    const hb = await fake.exchange(() => fake.heartbeat());
    expect(hb.seq.seq).toBe(1);
    expect(hb.units[0].fn).toEqual([1]);
    const [session] = master.sessions();
    expect(session).toMatchObject({ id: '017102082', alias: '101', state: 'online', heartbeats: 1 });
  });

  it('confirms in the F3 per-item form when asked (Q17)', async () => {
    const { master, port } = await startMaster({ confirmForm: 'F3' });
    const { fake, answer } = await loggedIn(master, port);
    expect(answer.units[0]).toMatchObject({
      pn: [0],
      fn: [3],
      body: { kind: 'confirm-items', afn: 0x02, items: [{ pn: [0], fn: [1], ok: true, err: 0 }] },
    });
    const hb = await fake.exchange(() => fake.heartbeat());
    expect(hb.units[0].body).toMatchObject({ kind: 'confirm-items', items: [{ fn: [3], ok: true }] });
  });

  it('accepts a login whose L carries protocol id 01 and answers in kind (docs/field-notes.md §8)', async () => {
    const { master, port } = await startMaster();
    const fake = await FakeConcentrator.connect(port);
    cleanup.push(() => fake.close());
    const answer = await fake.exchange(() =>
      fake.send({ ...buildLogin({ a1: '0171', a2: 2082, seq: 5 }), protocolId: 1 }),
    );
    expect(answer.protocolId).toBe(1);
    expect(answer.seq.seq).toBe(5);
    expect(master.sessions()[0].state).toBe('online');
  });

  it('accepts the 2013 heartbeat that carries the terminal clock (docs/gdw376.md §3.4, Q22 corrected)', async () => {
    const { master, port } = await startMaster();
    const { fake } = await loggedIn(master, port);
    const answer = await fake.exchange(() =>
      fake.send(buildHeartbeat({ a1: '0171', a2: 2082, seq: 3, clock: '2018-12-14 14:09:31' })),
    );
    expect(answer.seq.seq).toBe(3);
    expect(master.sessions()[0].heartbeats).toBe(1);
  });

  it('confirms a logout and reports it', async () => {
    const { master, port } = await startMaster();
    const { fake } = await loggedIn(master, port);
    const logout = waitForEvent<MasterSession>(master, 'logout');
    await fake.exchange(() => fake.logout());
    expect((await logout).offlineReason).toBe('logout');
    const err = await rejection(master.pointRead({ concentrator: '101', meter: '101001' }));
    expect(err.code).toBe('CONCENTRATOR_OFFLINE');
  });

  it('marks a concentrator offline after missed heartbeats, fails reads fast, and accepts it back', async () => {
    const clock = new VirtualClock();
    const { master, port } = await startMaster({ clock, heartbeatPeriodMs: 1000, missedHeartbeats: 3 });
    const { fake } = await loggedIn(master, port);
    fake.meters.set('00000000101001', { value: 5 });
    await fake.exchange(() => fake.heartbeat());
    clock.advance(2000);
    expect(master.sessions()[0].state).toBe('online');
    const offline = waitForEvent<MasterSession>(master, 'offline');
    clock.advance(1001);
    expect(await offline).toMatchObject({
      id: '017102082',
      state: 'offline',
      offlineReason: 'heartbeat-timeout',
    });
    await fake.closed; // the master drops the presumed-dead socket
    const err = await rejection(master.pointRead({ concentrator: '101', meter: '101001' }));
    expect(err.code).toBe('CONCENTRATOR_OFFLINE');
    expect(err.message).toMatch(/017102082.*heartbeats missed/);
    expect(fake.forwards).toHaveLength(0);

    const { fake: again } = await loggedIn(master, port);
    again.meters.set('00000000101001', { value: 6 });
    expect((await master.pointRead({ concentrator: '101', meter: '101001' })).value).toBe(6);
    expect(master.sessions()[0]).toMatchObject({ state: 'online', logins: 2 });
  });

  it('lets a second login from the same A1/A2 replace the older socket (docs/field-notes.md §8)', async () => {
    const { master, port } = await startMaster();
    const { fake: first } = await loggedIn(master, port);
    const second = await FakeConcentrator.connect(port);
    cleanup.push(() => second.close());
    const login = waitForEvent<LoginEvent>(master, 'login');
    await second.exchange(() => second.login());
    expect((await login).replaced).toBe(true);
    await first.closed;
    second.meters.set('00000000101001', { value: 42 });
    expect((await master.pointRead({ concentrator: '101', meter: '101001' })).value).toBe(42);
    expect(first.forwards).toHaveLength(0);
    expect(master.sessions()).toHaveLength(1);
  });

  it('survives garbage and frames split across writes from the concentrator', async () => {
    const { master, port } = await startMaster();
    const { fake } = await loggedIn(master, port);
    fake.meters.set('00000000101001', { value: 9.5 });
    const dropped = waitForEvent(master, 'dropped');
    fake.sendRaw('FF 00 68 32 00 33 00 68 AA 16 68 01');
    const hb = encodeGdw376(buildLogin({ a1: '0171', a2: 2082, seq: 9 }));
    const answered = fake.nextFrame((f) => f.afn === 0 && f.seq.seq === 9);
    fake.sendRaw(hb.subarray(0, 7));
    await new Promise((r) => setImmediate(r));
    fake.sendRaw(hb.subarray(7));
    await dropped;
    await answered;
    expect(master.sessions()[0].state).toBe('online');
    expect((await master.pointRead({ concentrator: '101', meter: '101001' })).value).toBe(9.5);
  });

  it('never crashes on random bytes from a connection, and a logged-in concentrator keeps working', async () => {
    const { master, port } = await startMaster();
    const { fake } = await loggedIn(master, port);
    fake.meters.set('00000000101001', { value: 1 });
    // Biased toward 376.1 headers so the framer sees candidate frames, not only junk (STYLE habit 6).
    const header = fc.constant(Uint8Array.of(0x68, 0x32, 0x00, 0x32, 0x00, 0x68, 0xc9));
    const chunks = fc.array(fc.oneof(fc.uint8Array({ maxLength: 48 }), header), { maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(chunks, async (parts) => {
        const raw = connect({ host: '127.0.0.1', port });
        await once(raw, 'connect');
        raw.end(Buffer.concat(parts));
        await once(raw, 'close');
        const reading = await master.pointRead({ concentrator: '101', meter: '101001' });
        expect(reading.value).toBe(1);
      }),
      { numRuns: 20 },
    );
  });

  it('reports a listener that throws while a frame is handled as an error, and carries on', async () => {
    const { master, port } = await startMaster();
    master.once('login', () => {
      throw new Error('listener bug');
    });
    const error = waitForEvent<Error>(master, 'error');
    const fake = await FakeConcentrator.connect(port);
    cleanup.push(() => fake.close());
    await fake.exchange(() => fake.login());
    expect((await error).message).toBe('listener bug');
    fake.meters.set('00000000101001', { value: 2 });
    expect((await master.pointRead({ concentrator: '101', meter: '101001' })).value).toBe(2);
  });

  it('closes a connection that never logs in', async () => {
    const clock = new VirtualClock();
    const { port } = await startMaster({ clock, loginTimeoutMs: 500 });
    const fake = await FakeConcentrator.connect(port);
    cleanup.push(() => fake.close());
    fake.sendRaw('00 11 22');
    await new Promise((r) => setImmediate(r));
    clock.advance(501);
    await fake.closed;
  });
});

describe('MasterStation point-reads', () => {
  it('reads a CJ/T 188 meter through the client API by alias, from the archive', async () => {
    const { master, port, apiPort } = await startMaster();
    const { fake } = await loggedIn(master, port);
    fake.meters.set('00000000101001', { value: 123.45 });
    const c = await client(apiPort);
    const answer = await c.request({ type: 'read', id: 'r1', concentrator: '101', meter: '101001' });
    expect(answer).toMatchObject({
      type: 'reading',
      id: 'r1',
      value: 123.45,
      unit: 'm3',
      protocol: 'cjt188',
    });
    const body = fake.forwards[0].units[0].body;
    expect(body).toMatchObject({
      kind: 'forward-request',
      port: 1,
      controlWord: 0x6b,
      frameTimeout: { value: 10, unit: 's' },
    });
    expect(fake.forwards[0].aux.pw).toBeDefined();
  });

  it('reads a DL/T 645 meter with protocol and port given in the request', async () => {
    const { master, port, apiPort } = await startMaster({ archive: { concentrators: [] } });
    const { fake } = await loggedIn(master, port);
    fake.meters.set('123456789012', { value: 1234.56 });
    const c = await client(apiPort);
    const answer = await c.request({
      type: 'read',
      id: 'r2',
      concentrator: '017102082',
      meter: '123456789012',
      protocol: 'dlt645',
      port: 3,
    });
    expect(answer).toMatchObject({
      type: 'reading',
      id: 'r2',
      value: 1234.56,
      unit: 'kWh',
      protocol: 'dlt645',
    });
    expect(fake.forwards[0].units[0].body).toMatchObject({ port: 3 });
  });

  it('forwards the protocol the request names, even for a meter the archive knows under another', async () => {
    const { master, port } = await startMaster();
    const { fake } = await loggedIn(master, port);
    fake.meters.set('000000000002', { value: 22 });
    fake.meters.set('00000000000002', { value: 33 });
    for (let i = 0; i < 2; i++) {
      expect(await master.pointRead({ concentrator: '101', meter: '2' })).toMatchObject({
        value: 22,
        protocol: 'dlt645',
      });
      expect(
        await master.pointRead({ concentrator: '101', meter: '2', protocol: 'cjt188', port: 2 }),
      ).toMatchObject({ value: 33, protocol: 'cjt188', meter: '00000000000002' });
    }
  });

  it('correlates two reads in flight on different ports by SEQ when answered out of order', async () => {
    const { master, port } = await startMaster();
    const { fake } = await loggedIn(master, port);
    fake.meters.set('00000000101001', { value: 11 });
    fake.meters.set('000000000002', { value: 22 });
    fake.holdReplies = true;
    const both = waitForEvent(fake, 'frame', () => fake.held.length === 2);
    const a = master.pointRead({ concentrator: '101', meter: '101001' });
    const b = master.pointRead({ concentrator: '101', meter: '2' });
    await both;
    const seqs = fake.forwards.map((f) => f.seq.seq);
    expect(new Set(seqs).size).toBe(2);
    fake.releaseHeld([1, 0]);
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra).toMatchObject({ value: 11, protocol: 'cjt188', meter: '00000000101001' });
    expect(rb).toMatchObject({ value: 22, protocol: 'dlt645', meter: '000000000002' });
  });

  it('says METER_TIMEOUT when the meter is silent (empty forward content)', async () => {
    const { master, port, apiPort } = await startMaster();
    const { fake } = await loggedIn(master, port);
    fake.behaviour = 'silent-meter';
    const c = await client(apiPort);
    const answer = await c.request({ type: 'read', id: 'r3', concentrator: '101', meter: '101001' });
    expect(answer).toMatchObject({
      type: 'error',
      id: 'r3',
      code: 'METER_TIMEOUT',
      message: /00000000101001/,
    });
  });

  it('says METER_TIMEOUT when the concentrator never answers the forward', async () => {
    const { master, port } = await startMaster({ forwardTimeoutMs: 150 });
    const { fake } = await loggedIn(master, port);
    fake.behaviour = 'mute';
    const err = await rejection(master.pointRead({ concentrator: '101', meter: '101001' }));
    expect(err.code).toBe('METER_TIMEOUT');
    expect(err.message).toMatch(/no AFN 10 reply.*150 ms/);
  });

  it('says BAD_REPLY naming the cause when the meter answers from another address', async () => {
    const { master, port } = await startMaster();
    const { fake } = await loggedIn(master, port);
    fake.meterReply = (request) => {
      const req = decodeCjt188Frame(request);
      return encodeCjt188(
        buildWaterReadReply(req, { current: 1, time: null }, { address: '00000000999999' }),
      );
    };
    const err = await rejection(master.pointRead({ concentrator: '101', meter: '101001' }));
    expect(err).toMatchObject({ code: 'BAD_REPLY', detail: { reason: 'ADDRESS_MISMATCH' } });
    expect(err.message).toMatch(/00000000999999/);
  });

  it('sends the precise reason, the addresses and the reply bytes as the error detail on the client API', async () => {
    const { master, port, apiPort } = await startMaster();
    const { fake } = await loggedIn(master, port);
    let reply: Uint8Array = new Uint8Array(0);
    fake.meterReply = (request) => {
      const req = decodeCjt188Frame(request);
      reply = encodeCjt188(
        buildWaterReadReply(req, { current: 1, time: null }, { address: '00000000999999' }),
      );
      return reply;
    };
    const c = await client(apiPort);
    const answer = await c.request({ type: 'read', id: 'd1', concentrator: '101', meter: '101001' });
    expect(answer).toEqual({
      type: 'error',
      id: 'd1',
      code: 'BAD_REPLY',
      message: expect.stringMatching(/00000000999999/),
      concentrator: '101',
      meter: '101001',
      detail: {
        reason: 'ADDRESS_MISMATCH',
        protocol: 'cjt188',
        expected: '00000000101001',
        got: '00000000999999',
        reply: bytesToHex(reply),
      },
    });
    fake.meterReply = (request) => {
      const bad = encodeCjt188(buildWaterReadReply(decodeCjt188Frame(request), { current: 1, time: null }));
      bad[bad.length - 2] ^= 0xff;
      return bad;
    };
    expect(await c.request({ type: 'read', id: 'd2', concentrator: '101', meter: '101001' })).toMatchObject({
      code: 'BAD_REPLY',
      detail: { reason: 'BAD_CHECKSUM', protocol: 'cjt188' },
    });
    fake.meterReply = (request) => request.subarray(0, 12); // a truncated frame: one name, BAD_REPLY
    expect(await c.request({ type: 'read', id: 'd3', concentrator: '101', meter: '101001' })).toMatchObject({
      code: 'BAD_REPLY',
      detail: { reason: 'BAD_REPLY', protocol: 'cjt188' },
    });
    fake.meterReply = undefined;
    fake.behaviour = 'silent-meter';
    expect(await c.request({ type: 'read', id: 'd4', concentrator: '101', meter: '101001' })).toEqual({
      type: 'error',
      id: 'd4',
      code: 'METER_TIMEOUT',
      message: expect.any(String),
      concentrator: '101',
      meter: '101001',
      detail: { reason: 'METER_TIMEOUT', protocol: 'cjt188', expected: '00000000101001' },
    });
  });

  it('says DENIED when the concentrator denies the forward', async () => {
    const { master, port } = await startMaster();
    const { fake } = await loggedIn(master, port);
    fake.behaviour = 'deny';
    expect((await rejection(master.pointRead({ concentrator: '101', meter: '101001' }))).code).toBe('DENIED');
  });

  it('reports a reply that comes after its timeout as unmatched and stays usable', async () => {
    const { master, port } = await startMaster({ forwardTimeoutMs: 100 });
    const { fake } = await loggedIn(master, port);
    fake.meters.set('00000000101001', { value: 8 });
    fake.holdReplies = true;
    const held = waitForEvent(fake, 'frame', () => fake.held.length === 1);
    const late = rejection(master.pointRead({ concentrator: '101', meter: '101001' }));
    await held;
    expect((await late).code).toBe('METER_TIMEOUT');
    const unmatched = waitForEvent(master, 'unmatched');
    fake.releaseHeld([0]);
    await unmatched;
    fake.holdReplies = false;
    expect((await master.pointRead({ concentrator: '101', meter: '101001' })).value).toBe(8);
  });

  it('never settles a re-read of the same meter with the late reply to an earlier, timed-out read', async () => {
    // Issue 9: SEQ is 4 bits. A timed-out SEQ that is handed out again before the late reply arrives must not
    // let that reply settle the newer forward — same meter, so the address check cannot catch it.
    const { master, port } = await startMaster({ forwardTimeoutMs: 100 });
    const { fake } = await loggedIn(master, port);
    fake.meters.set('00000000101001', { value: 8 });
    fake.holdReplies = true;
    const first = rejection(master.pointRead({ concentrator: '101', meter: '101001' }));
    await waitForEvent(fake, 'frame', () => fake.held.length === 1);
    expect((await first).code).toBe('METER_TIMEOUT');
    const staleSeq = fake.forwards[0].seq.seq;
    // The meter's reading moves on; reads go round the whole SEQ space until the next forward would reuse the
    // timed-out SEQ.
    fake.meters.set('00000000101001', { value: 9 });
    fake.holdReplies = false;
    for (let i = 0; i < 15; i++) {
      expect((await master.pointRead({ concentrator: '101', meter: '101001' })).value).toBe(9);
    }
    fake.holdReplies = true;
    const reread = master.pointRead({ concentrator: '101', meter: '101001' });
    await waitForEvent(fake, 'frame', () => fake.held.length === 2);
    const unmatched: Gdw376Frame[] = [];
    master.on('unmatched', (frame: Gdw376Frame) => unmatched.push(frame));
    fake.releaseHeld([0, 1]); // the stale reply (value 8) first, then the re-read's own
    expect((await reread).value).toBe(9);
    expect(unmatched.map((f) => f.seq.seq)).toEqual([staleSeq]);
  });

  it('paces its frames so a concentrator that takes each TCP read as one frame keeps its link under load', async () => {
    // Issue 9: two frames written back to back (a confirm right after a forward, forwards of concurrent reads)
    // reached the peer in one read. The master writes them minFrameGapMs (20 ms by default) apart.
    const { master, port } = await startMaster({ heartbeatPeriodMs: 2000 });
    const { fake } = await loggedIn(master, port);
    fake.oneFramePerRead = true;
    // Meters on a real bus take time to answer; without it the twelve reads end before the heartbeats start.
    fake.replyDelayMs = 30;
    for (let i = 1; i <= 12; i++) fake.meters.set(`000000001010${String(i).padStart(2, '0')}`, { value: i });
    let heartbeats = 0;
    const beat = setInterval(() => {
      heartbeats += 1;
      fake.heartbeat();
    }, 25);
    cleanup.push(() => clearInterval(beat));
    const meters = Array.from({ length: 12 }, (_, i) => `1010${String(i + 1).padStart(2, '0')}`);
    const readings = await Promise.all(
      meters.map((meter) => master.pointRead({ concentrator: '101', meter, protocol: 'cjt188', port: 1 })),
    );
    clearInterval(beat);
    expect(readings.map((r) => r.value)).toEqual(meters.map((_, i) => i + 1));
    expect(heartbeats).toBeGreaterThan(3);
    expect(fake.readsNotOneFrame).toBe(0);
    expect(master.sessions()[0].state).toBe('online');
  });

  it('counts every byte of the exchange in a wrapper around the concentrator link, over real TCP', async () => {
    const counters: ByteCounter[] = [];
    const { master, port } = await startMaster({
      wrapConcentratorLink: (link) => {
        const counter = new ByteCounter(link);
        counters.push(counter);
        return counter;
      },
    });
    const { fake } = await loggedIn(master, port);
    fake.meters.set('00000000101001', { value: 4.5 });
    const reading = await master.pointRead({ concentrator: '101', meter: '101001' });
    expect(reading).toMatchObject({ value: 4.5, meter: '00000000101001' });
    expect(master.sessions()[0].remote).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(counters).toHaveLength(1);
    // Login + forward reply up, confirm + forward down: exactly what the concentrator's socket saw.
    expect(counters[0].received).toBe(fake.socket.bytesWritten);
    expect(counters[0].transmitted).toBe(fake.socket.bytesRead);
    expect(counters[0].received).toBeGreaterThan(0);
  });

  it('queues beyond the in-flight limit and answers BUSY when the queue is full', async () => {
    const { master, port } = await startMaster({
      maxInFlightPerConcentrator: 1,
      maxQueuedPerConcentrator: 1,
      forwardTimeoutMs: 2000,
    });
    const { fake } = await loggedIn(master, port);
    fake.behaviour = 'mute';
    const first = master.pointRead({ concentrator: '101', meter: '101001' });
    first.catch(() => {});
    const queued = master.pointRead({ concentrator: '101', meter: '101001' });
    queued.catch(() => {});
    const err = await rejection(master.pointRead({ concentrator: '101', meter: '2' }));
    expect(err.code).toBe('BUSY');
    expect(err.message).toMatch(/1 queued/);
    fake.close();
    expect((await rejection(first)).code).toBe('CONCENTRATOR_OFFLINE');
    expect((await rejection(queued)).code).toBe('CONCENTRATOR_OFFLINE');
  });

  it('says UNKNOWN_CONCENTRATOR and UNKNOWN_METER', async () => {
    const { master, port, apiPort } = await startMaster();
    await loggedIn(master, port);
    const c = await client(apiPort);
    expect(await c.request({ type: 'read', id: 'u1', concentrator: '999', meter: '1' })).toMatchObject({
      code: 'UNKNOWN_CONCENTRATOR',
    });
    expect(await c.request({ type: 'read', id: 'u2', concentrator: '017100099', meter: '1' })).toMatchObject({
      code: 'UNKNOWN_CONCENTRATOR',
    });
    expect(await c.request({ type: 'read', id: 'u3', concentrator: '101', meter: '777' })).toMatchObject({
      code: 'UNKNOWN_METER',
      message: /777.*017102082/,
    });
    expect(
      await c.request({ type: 'read', id: 'u4', concentrator: '101', meter: '777', protocol: 'cjt188' }),
    ).toMatchObject({ code: 'UNKNOWN_METER', message: /no port/ });
    const bad = await rejection(master.pointRead({ concentrator: '101', meter: '10x' }));
    expect(bad.code).toBe('BAD_REQUEST');
  });

  it('answers bad JSON and bad bytes on the client API and keeps the connection open', async () => {
    const { master, port, apiPort } = await startMaster();
    const { fake } = await loggedIn(master, port);
    fake.meters.set('00000000101001', { value: 1 });
    const c = await client(apiPort);
    expect(await c.request('{"type":"read"')).toMatchObject({ type: 'error', code: 'BAD_JSON' });
    c.send(Uint8Array.of(0xff, 0xfe, 0x0a));
    expect((await c.waitFor(2))[1]).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    expect(await c.request({ type: 'read', id: 'ok', concentrator: '101', meter: '101001' })).toMatchObject({
      type: 'reading',
      id: 'ok',
    });
  });

  it('speaks GB2312 to legacy clients', async () => {
    const { master, port, apiPort } = await startMaster({ encoding: 'gb2312' });
    const { fake } = await loggedIn(master, port);
    fake.meters.set('00000000101001', { value: 3.5 });
    const c = await client(apiPort, 'gb2312');
    c.send(
      encodeText(
        `${JSON.stringify({ type: 'read', id: '抄表1', concentrator: '101', meter: '101001' })}\n`,
        'gb2312',
      ),
    );
    expect((await c.waitFor(1))[0]).toMatchObject({ type: 'reading', id: '抄表1', value: 3.5 });
  });
});
