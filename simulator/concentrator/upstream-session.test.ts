import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildConfirm,
  buildDeny,
  buildForwardReply,
  buildForwardRequest,
  encodeGdw376,
  type Gdw376Frame,
} from '../../protocols/gdw376/index.ts';
import { VirtualClock } from '../clock/index.ts';
import { LinkWrapper } from '../link/index.ts';
import { SeededRandom } from '../random.ts';
import { FakeMaster, once } from './testing/fake-master.ts';
import { UpstreamSession, type UpstreamSessionOptions } from './upstream-session.ts';

const HEARTBEAT_MS = 60_000;
const CONFIRM_MS = 10_000;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function setup(options: Partial<UpstreamSessionOptions> = {}) {
  const master = new FakeMaster();
  const port = await master.listen();
  const clock = new VirtualClock({ start: Date.parse('2024-03-01T00:00:00Z') });
  const session = new UpstreamSession({
    a1: '0171',
    a2: 2082,
    upstream: { mode: 'client', host: '127.0.0.1', port },
    heartbeatMs: HEARTBEAT_MS,
    confirmTimeoutMs: CONFIRM_MS,
    clock,
    ...options,
  });
  cleanup.push(
    () => session.stop(),
    () => master.close(),
  );
  return { master, clock, session, port };
}

const isLogin = (f: { afn: number; units: { fn: number[] }[] }) => f.afn === 2 && f.units[0].fn[0] === 1;
const isHeartbeat = (f: { afn: number; units: { fn: number[] }[] }) => f.afn === 2 && f.units[0].fn[0] === 3;

describe('UpstreamSession (client mode)', () => {
  it('logs in with C9, CON set and its A1/A2, and goes online on an F1 confirm', async () => {
    const { master, session } = await setup();
    const online = once(session, 'online');
    await session.start();
    const login = await master.next(isLogin);
    expect(login.control.raw).toBe(0xc9);
    expect(login.seq.con).toBe(true);
    expect(login.seq.fir && login.seq.fin).toBe(true);
    expect([login.a1, login.a2]).toEqual(['0171', 2082]);
    await online;
    expect(session.state).toBe('online');
  });

  it('accepts the F3 per-item confirm form', async () => {
    const { master, session } = await setup();
    master.confirm = 'F3';
    const online = once(session, 'online');
    await session.start();
    await online;
    expect(session.online).toBe(true);
  });

  it('sends a heartbeat (F3) every period, timed on the clock', async () => {
    const { master, session, clock } = await setup();
    const online = once(session, 'online');
    await session.start();
    await online;
    const t0 = clock.now();
    const sentAt: number[] = [];
    master.on('frame', (f) => {
      if (isHeartbeat(f)) sentAt.push(clock.now());
    });
    clock.advance(HEARTBEAT_MS - 1);
    clock.advance(1);
    const first = await master.next(isHeartbeat);
    expect(first.seq.con).toBe(true);
    // Let the confirm come back before the next period.
    await once(session, 'frame', () => true);
    clock.advance(HEARTBEAT_MS);
    await master.next(isHeartbeat, 5000, master.frames.indexOf(first) + 1);
    expect(sentAt).toEqual([t0 + HEARTBEAT_MS, t0 + 2 * HEARTBEAT_MS]);
  });

  it('after missed confirms goes offline, backs off within the jitter bounds and logs in again', async () => {
    const { master, session, clock } = await setup({ maxMissedConfirms: 3 });
    const online = once(session, 'online');
    await session.start();
    await online;
    master.confirm = 'none';
    const missed: number[] = [];
    session.on('missed', (m) => missed.push(m.missed));
    clock.advance(HEARTBEAT_MS);
    await master.next(isHeartbeat);
    const offline = once<string>(session, 'offline');
    const backoff = once<{ attempt: number; delayMs: number }>(session, 'backoff');
    clock.advance(CONFIRM_MS);
    clock.advance(CONFIRM_MS);
    clock.advance(CONFIRM_MS);
    expect(missed).toEqual([1, 2, 3]);
    expect(await offline).toMatch(/3 heartbeats in a row not confirmed/);
    const b = await backoff;
    expect(b.attempt).toBe(1);
    expect(b.delayMs).toBeGreaterThanOrEqual(500);
    expect(b.delayMs).toBeLessThanOrEqual(1000);
    master.confirm = 'F1';
    const loginsBefore = master.frames.filter(isLogin).length;
    const again = once(session, 'online');
    clock.advance(b.delayMs);
    await again;
    expect(master.frames.filter(isLogin).length).toBe(loginsBefore + 1);
  });

  it('reconnects and logs in again after the link drops', async () => {
    const { master, session, clock } = await setup();
    const online = once(session, 'online');
    await session.start();
    await online;
    const offline = once<string>(session, 'offline');
    const backoff = once<{ delayMs: number }>(session, 'backoff');
    master.dropAll();
    expect(await offline).toBeTruthy();
    const { delayMs } = await backoff;
    const again = once(session, 'online');
    clock.advance(delayMs);
    await again;
    expect(master.frames.filter(isLogin)).toHaveLength(2);
  });

  it('treats a denied login as a failed attempt and backs off', async () => {
    const { master, session } = await setup();
    master.confirm = 'none';
    master.on('frame', (f) => {
      if (isLogin(f)) master.send(buildDeny({ a1: f.a1, a2: f.a2, seq: f.seq.seq }));
    });
    const backoff = once<{ reason: string }>(session, 'backoff');
    await session.start();
    expect((await backoff).reason).toMatch(/denied the login/);
    expect(session.online).toBe(false);
  });

  it('backs off exponentially with seeded jitter while the master is unreachable', async () => {
    // A port with nothing listening: connections are refused at once.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const deadPort = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const clock = new VirtualClock();
    const session = new UpstreamSession({
      a1: '0001',
      a2: 7,
      upstream: { mode: 'client', host: '127.0.0.1', port: deadPort },
      clock,
      backoff: { initialMs: 1000, maxMs: 16_000, jitter: 0.5 },
      random: new SeededRandom('same'),
    });
    cleanup.push(() => session.stop());
    const delays: number[] = [];
    session.on('backoff', (b) => delays.push(b.delayMs));
    await session.start();
    for (let attempt = 1; attempt <= 7; attempt++) {
      while (delays.length < attempt) await once(session, 'backoff');
      clock.advance(delays[attempt - 1]);
    }
    const nominal = [1000, 2000, 4000, 8000, 16_000, 16_000, 16_000];
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(nominal[i] / 2);
      expect(d).toBeLessThanOrEqual(nominal[i]);
    });
    expect(new Set(delays.map((d, i) => d / nominal[i])).size).toBeGreaterThan(1);
    // Same seed, same delays.
    const twin = new UpstreamSession({
      a1: '0001',
      a2: 7,
      upstream: { mode: 'client', host: '127.0.0.1', port: deadPort },
      backoff: { initialMs: 1000, maxMs: 16_000, jitter: 0.5 },
      random: new SeededRandom('same'),
    });
    expect(nominal.map((_, i) => twin.backoffDelay(i + 1))).toEqual(delays);
  });

  it('keeps the link with a 2 s heartbeat when the master holds each confirm for 10 s (confirm timeout is its own)', async () => {
    const { master, session, clock } = await setup({ heartbeatMs: 2000, confirmTimeoutMs: undefined });
    const online = once(session, 'online');
    await session.start();
    await online;
    master.confirm = 'none';
    const offline: string[] = [];
    session.on('offline', (reason) => offline.push(reason));
    let from = master.frames.length;
    for (let round = 0; round < 5; round++) {
      clock.advance(2000);
      const heartbeat = await master.next(isHeartbeat, 5000, from);
      from = master.frames.indexOf(heartbeat) + 1;
      // A master busy with a forward answers the heartbeat 10 s later.
      clock.advance(9_999);
      expect(offline).toEqual([]);
      const confirmed = once(session, 'frame', () => true);
      master.send(encodeConfirm(heartbeat.a1, heartbeat.a2, heartbeat.seq.seq));
      await confirmed;
      expect(session.online).toBe(true);
    }
    expect(offline).toEqual([]);
    expect(session.confirmTimeoutMs).toBe(30_000);
  });

  it('survives garbage and half frames from the master and still takes the confirm', async () => {
    const { master, session } = await setup();
    master.confirm = 'none';
    const dropped: unknown[] = [];
    session.on('dropped', (d) => dropped.push(d));
    await session.start();
    const login = await master.next(isLogin);
    const online = once(session, 'online');
    master.send(Uint8Array.from([0x00, 0xff, 0x68, 0x32, 0x00, 0x99, 0x16, 0x68, 0x68]));
    const confirm = encodeConfirm(login.a1, login.a2, login.seq.seq);
    master.send(confirm.subarray(0, 7));
    await new Promise((r) => setTimeout(r, 20));
    master.send(confirm.subarray(7));
    await online;
    expect(dropped.length).toBeGreaterThan(0);
  });
});

/** A tap counting the bytes each way: the session does not know it is there. */
class ByteCounter extends LinkWrapper {
  sent = 0;
  received = 0;
  protected override transmit(b: Uint8Array): Promise<void> {
    this.sent += b.length;
    return super.transmit(b);
  }
  protected override receive(b: Uint8Array): void {
    this.received += b.length;
    super.receive(b);
  }
}

describe('UpstreamSession link', () => {
  it('runs through a byte-counting wrapper around its TCP link, login and heartbeat included', async () => {
    const counters: ByteCounter[] = [];
    const { master, session, clock } = await setup({
      wrapLink: (link) => {
        const counter = new ByteCounter(link);
        counters.push(counter);
        return counter;
      },
    });
    const online = once(session, 'online');
    await session.start();
    await online;
    clock.advance(HEARTBEAT_MS);
    const heartbeat = await master.next(isHeartbeat);
    await once(session, 'frame', () => true);
    const login = master.frames.find(isLogin)!;
    expect(counters).toHaveLength(1);
    const frameBytes = (f: Gdw376Frame) => encodeGdw376(f).length;
    expect(counters[0].sent).toBe(frameBytes(login) + frameBytes(heartbeat));
    const confirm = encodeConfirm(login.a1, login.a2, login.seq.seq).length;
    expect(counters[0].received).toBe(2 * confirm);
  });
});

describe('UpstreamSession frame pacing', () => {
  // docs/gdw376.md "Frame pacing": the gap keeps two frames from meeting in one read at a slow master; a frame
  // the master has shown it read (it confirmed it, or sent its next request after it) needs no gap behind it.
  // With a minute-long gap, any frame that waited for it would not arrive within the test.
  it('answers at once after a confirmed login and after each new request, and holds an unasked frame', async () => {
    const { master, session } = await setup({ minFrameGapMs: 60_000 });
    const online = once(session, 'online');
    await session.start();
    await online;
    const request = (seq: number) =>
      buildForwardRequest({
        a1: '0171',
        a2: 2082,
        seq,
        port: 1,
        frameTimeout: { value: 2, unit: 's' },
        content: Uint8Array.of(0x68, seq, 0x16),
      });
    session.on('frame', ({ frame }) => {
      if (frame.afn === 0x10 && frame.control.prm) {
        session.send(buildForwardReply(frame, { content: Uint8Array.of(frame.seq.seq) }));
      }
    });
    const isReply = (seq: number) => (f: Gdw376Frame) =>
      f.afn === 0x10 && !f.control.prm && f.seq.seq === seq;
    for (const seq of [1, 2, 3]) {
      master.send(request(seq));
      await master.next(isReply(seq), 2000);
    }
    // Nothing the master sent since the last answer: a second frame must wait out the gap.
    const before = master.frames.length;
    session.send(buildForwardReply(request(3), { content: Uint8Array.of(9) }));
    await new Promise((r) => setTimeout(r, 50));
    expect(master.frames.length).toBe(before);
  });
});

describe('UpstreamSession (server mode)', () => {
  it('listens, goes online when a master connects, and offline when it leaves', async () => {
    const session = new UpstreamSession({
      a1: '0001',
      a2: 1,
      upstream: { mode: 'server', host: '127.0.0.1', port: 0 },
    });
    cleanup.push(() => session.stop());
    await session.start();
    const port = session.address()?.port;
    expect(port).toBeGreaterThan(0);
    const online = once(session, 'online');
    const { createConnection } = await import('node:net');
    const socket = createConnection({ host: '127.0.0.1', port: port as number });
    await online;
    const offline = once(session, 'offline');
    socket.destroy();
    await offline;
    expect(session.state).toBe('listening');
  });
});

function encodeConfirm(a1: string, a2: number, seq: number): Uint8Array {
  return encodeGdw376(buildConfirm({ a1, a2, seq }));
}
