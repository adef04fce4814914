import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type TimerHandle, VirtualClock } from '../../simulator/clock/index.ts';
import type { RelayLogEntry } from './log.ts';
import { MasterLink } from './master-link.ts';
import { errorFor, FakeMaster, readingFor } from './testing/fake-master.ts';

/** A VirtualClock that records what is scheduled on it: reconnect delays are observed, never slept. */
class ManualTimers extends VirtualClock {
  readonly scheduled: { ms: number; at: number; done: boolean }[] = [];
  readonly #byHandle = new Map<TimerHandle, { done: boolean }>();
  #waiters: (() => void)[] = [];
  override setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = { ms, at: this.now() + ms, done: false };
    this.scheduled.push(t);
    const handle = super.setTimeout(() => {
      t.done = true;
      fn();
    }, ms);
    this.#byHandle.set(handle, t);
    for (const w of this.#waiters.splice(0)) w();
    return handle;
  }
  override clearTimeout(handle: TimerHandle): void {
    const t = this.#byHandle.get(handle);
    if (t) t.done = true;
    super.clearTimeout(handle);
  }
  /** Waits until a timer of at least `count` has been scheduled (the link's retries), then returns it. */
  async nth(count: number, filter: (ms: number) => boolean = () => true) {
    for (;;) {
      const matching = this.scheduled.filter((t) => filter(t.ms));
      if (matching.length >= count) return matching[count - 1];
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }
  /** Moves the clock to the timer's time, so it fires (with anything else due by then). */
  fire(t: { at: number; done: boolean }) {
    if (!t.done) this.advance(Math.max(0, t.at - this.now()));
  }
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('MasterLink', () => {
  it("does not make one browser's single read wait behind another's 500 queued reads (issue 13)", async () => {
    const master = new FakeMaster();
    await master.start();
    master.handler = () => ({ kind: 'silent' });
    const link = new MasterLink({
      host: '127.0.0.1',
      port: master.port,
      maxInFlight: 2,
      clock: new VirtualClock(),
    });
    cleanups.push(
      () => link.stop(),
      () => master.stop(),
    );
    const up = new Promise<void>((resolve) => link.once('up', () => resolve()));
    link.start();
    await up;
    const reads: Promise<unknown>[] = [];
    for (let i = 1; i <= 500; i++)
      reads.push(link.read({ concentrator: '101', meter: String(i) }, { origin: 'ws-1' }));
    const b = link.read({ concentrator: '101', meter: '9999' }, { origin: 'ws-2' });
    expect(link.pending).toBe(501);
    await master.waitForRequests(2);
    // Answer one request at a time: B's read goes up after at most two more of A's — the one already waiting in the
    // window for the next slot, and A's turn (A started waiting before B) — not after 498.
    for (let answered = 0; !master.requests.some((r) => r.meter === '9999'); answered++) {
      expect(answered).toBeLessThan(4);
      const n = master.requests.length;
      master.respond(master.requests[answered], readingFor(master.requests[answered]));
      await master.waitForRequests(n + 1);
    }
    expect(master.requests.map((r) => r.meter)).toEqual(['1', '2', '3', '4', '9999']);
    expect(master.requests.at(-1)).toMatchObject({ origin: 'ws-2' });
    link.stop();
    expect(await b).toMatchObject({ code: 'MASTER_UNAVAILABLE' });
    await Promise.all(reads);
  });

  it('sends the origin, drops a withdrawn read still queued here and sends `cancel` for one already sent (issue 13 item 5)', async () => {
    const master = new FakeMaster();
    await master.start();
    master.handler = () => ({ kind: 'silent' });
    const logs: RelayLogEntry[] = [];
    const link = new MasterLink({
      host: '127.0.0.1',
      port: master.port,
      maxInFlight: 1, // the second read waits in the link
      clock: new VirtualClock(),
      log: (e) => logs.push(e),
    });
    cleanups.push(
      () => link.stop(),
      () => master.stop(),
    );
    const up = new Promise<void>((resolve) => link.once('up', () => resolve()));
    link.start();
    await up;
    const sent = new AbortController();
    const queued = new AbortController();
    const first = link.read({ concentrator: '101', meter: '1' }, { origin: 'ws-7', signal: sent.signal });
    const second = link.read({ concentrator: '101', meter: '2' }, { origin: 'ws-8', signal: queued.signal });
    await master.waitForRequests(1);
    expect(master.requests[0]).toMatchObject({ type: 'read', meter: '1', origin: 'ws-7' });
    queued.abort();
    expect(await second).toMatchObject({ type: 'error', code: 'CANCELLED', meter: '2' });
    const cancelled = new Promise<string>((resolve) => master.once('cancel', resolve));
    sent.abort();
    expect(await first).toMatchObject({ type: 'error', code: 'CANCELLED', meter: '1' });
    expect(await cancelled).toBe(master.requests[0].id);
    expect(master.cancels).toEqual([master.requests[0].id]);
    // The master's answer to the cancelled read frees its slot and is expected, not a stray.
    master.respond(master.requests[0], errorFor(master.requests[0], 'CANCELLED', 'cancelled'));
    master.handler = (req) => readingFor(req);
    expect(await link.read({ concentrator: '101', meter: '3' })).toMatchObject({
      type: 'reading',
      meter: '3',
    });
    expect(master.requests.map((r) => r.meter)).toEqual(['1', '3']);
    expect(master.requests[1].origin).toBeUndefined();
    expect(logs.filter((e) => e.event === 'master-stray-answer')).toEqual([]);
  });

  it('retries with growing back-off while the master is away and resets once connected', async () => {
    const master = new FakeMaster();
    await master.start();
    await master.stop(); // a port with nobody listening
    const timers = new ManualTimers();
    const link = new MasterLink({
      host: '127.0.0.1',
      port: master.port,
      backoff: { initialMs: 100, maxMs: 1000, jitter: 0 },
      readTimeoutMs: 60_000,
      clock: timers,
    });
    cleanups.push(
      () => link.stop(),
      () => master.stop(),
    );
    link.start();
    const isRetry = (ms: number) => ms !== 60_000;
    timers.fire(await timers.nth(1, isRetry));
    timers.fire(await timers.nth(2, isRetry));
    await timers.nth(3, isRetry);
    expect(timers.scheduled.filter((t) => isRetry(t.ms)).map((t) => t.ms)).toEqual([100, 200, 400]);
    expect(link.state).toBe('waiting');
    expect(await link.read({ concentrator: '101', meter: '1' })).toMatchObject({
      code: 'MASTER_UNAVAILABLE',
    });

    await master.start();
    const up = new Promise<void>((resolve) => link.once('up', () => resolve()));
    timers.fire(await timers.nth(3, isRetry));
    await up;
    expect(await link.read({ concentrator: '101', meter: '1' })).toMatchObject({ type: 'reading' });
    await master.stop();
    // After a good connection the schedule starts again from initialMs.
    expect((await timers.nth(4, isRetry)).ms).toBe(100);
  });

  it('keeps backing off when the master accepts and closes at once: a bare TCP connect is no success (issue 13 item 4)', async () => {
    // A master restarting behind a listener (or a full client API) accepts the connection and drops it at once;
    // resetting the back-off on the connect made the relay cycle connect/close every initialMs.
    let accepted = 0;
    const slam = net.createServer((socket) => {
      accepted += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => slam.listen(0, '127.0.0.1', () => resolve()));
    const port = (slam.address() as net.AddressInfo).port;
    const timers = new ManualTimers();
    const link = new MasterLink({
      host: '127.0.0.1',
      port,
      backoff: { initialMs: 100, maxMs: 1000, jitter: 0 },
      readTimeoutMs: 60_000,
      clock: timers,
    });
    cleanups.push(
      () => link.stop(),
      () => new Promise<void>((resolve) => slam.close(() => resolve())),
    );
    link.start();
    const isRetry = (ms: number) => ms !== 60_000;
    for (let n = 1; n <= 4; n++) timers.fire(await timers.nth(n, isRetry));
    await timers.nth(5, isRetry);
    expect(accepted).toBe(5);
    expect(timers.scheduled.filter((t) => isRetry(t.ms)).map((t) => t.ms)).toEqual([
      100, 200, 400, 800, 1000,
    ]);
  });

  it('matches answers to reads by its own ids whatever order they come in', async () => {
    const master = new FakeMaster();
    await master.start();
    master.handler = () => ({ kind: 'silent' });
    const link = new MasterLink({ host: '127.0.0.1', port: master.port });
    cleanups.push(
      () => link.stop(),
      () => master.stop(),
    );
    const up = new Promise<void>((resolve) => link.once('up', () => resolve()));
    link.start();
    await up;
    const first = link.read({ concentrator: '101', meter: '1' });
    const second = link.read({ concentrator: '101', meter: '2' });
    await master.waitForRequests(2);
    expect(new Set(master.requests.map((r) => r.id)).size).toBe(2);
    master.respond(master.requests[1], readingFor(master.requests[1], 2));
    master.respond(master.requests[0], readingFor(master.requests[0], 1));
    expect(await first).toMatchObject({ meter: '1', value: 1 });
    expect(await second).toMatchObject({ meter: '2', value: 2 });
    expect(link.pending).toBe(0);
  });

  it('keeps at most maxInFlight requests at the master and queues the rest in order', async () => {
    const master = new FakeMaster();
    await master.start();
    master.handler = () => ({ kind: 'silent' });
    const link = new MasterLink({ host: '127.0.0.1', port: master.port, maxInFlight: 2, readTimeoutMs: 400 });
    cleanups.push(
      () => link.stop(),
      () => master.stop(),
    );
    const up = new Promise<void>((resolve) => link.once('up', () => resolve()));
    link.start();
    await up;
    const reads = ['1', '2', '3', '4'].map((meter) => link.read({ concentrator: '101', meter }));
    await master.waitForRequests(2);
    expect([link.pending, link.outstanding]).toEqual([4, 2]);
    master.respond(master.requests[0], readingFor(master.requests[0], 1));
    expect(await reads[0]).toMatchObject({ type: 'reading', meter: '1' });
    await master.waitForRequests(3);
    expect(master.requests.map((r) => r.meter)).toEqual(['1', '2', '3']);
    // Reads 2 and 3 time out at the master; read 4 times out in the queue, never sent.
    expect(await reads[1]).toMatchObject({ code: 'TIMEOUT' });
    expect(await reads[3]).toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining('queued') });
    expect(await reads[2]).toMatchObject({ code: 'TIMEOUT' });
    expect(master.requests).toHaveLength(3);
    // Timed-out requests keep their slots until the master's late answers arrive.
    expect(link.outstanding).toBe(2);
    master.handler = (req) => readingFor(req, 5);
    const next = link.read({ concentrator: '101', meter: '5' });
    master.respond(master.requests[1], readingFor(master.requests[1]));
    expect(await next).toMatchObject({ type: 'reading', meter: '5' });
  });

  it('rejects bad options with a TypeError naming them', () => {
    expect(() => new MasterLink({ host: '', port: 1 })).toThrow(/"master.host"/);
    expect(() => new MasterLink({ host: 'h', port: 70000 })).toThrow(/"master.port"/);
    expect(() => new MasterLink({ host: 'h', port: 1, maxPending: 0 })).toThrow(/"maxPendingUpstream"/);
    expect(() => new MasterLink({ host: 'h', port: 1, maxInFlight: 1.5 })).toThrow(/"maxInFlightUpstream"/);
  });
});
