import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeLine, NdjsonDecoder } from '../../protocols/point-read/index.ts';
import { VirtualClock } from '../../simulator/clock/index.ts';
import { createMemoryPair, type MemoryLink } from '../../simulator/link/index.ts';
import { MasterLink } from './master-link.ts';

// Model-based test of the relay's link to the master (STYLE.md habit 8, template: session-table.model.test.ts)
// with fc.scheduler: the link runs over an in-memory link on a virtual clock; a scripted master answers the
// requests it received — in any order, late, twice, or with a line that is not a valid answer — and may drop the
// connection; the scheduler decides when each caller hears its outcome. The model keeps the reads queued, the
// requests outstanding at the master (a timed-out one keeps its slot until its late answer or one more timeout)
// and the connection state, and predicts every caller's one answer.

const MAX_IN_FLIGHT = 2;
const MAX_PENDING = 4;
const TIMEOUT_MS = 400;
const BACKOFF_MS = 100;

type Outcome = { kind: 'reading'; value: number } | { kind: 'error'; code: string };

interface ModelRead {
  k: number;
  state: 'queued' | 'sent' | 'done';
  id?: string;
  requestedAt: number;
  timerSeq: number;
  expected?: Outcome;
}
interface Model {
  now: number;
  up: boolean;
  reconnectAt?: { at: number; timerSeq: number };
  attempts: number;
  timerSeq: number;
  nextId: number;
  reads: ModelRead[];
  queue: number[];
  /** Upstream id → read, for requests sent and not answered or timed out. */
  inflight: Map<string, number>;
  /** Upstream id → end of its slot's hold, for timed-out requests whose answer has not come. */
  held: Map<string, { until: number; timerSeq: number }>;
  /** (read, upstream id) in the order the master must have received them, on the current connection. */
  sent: [number, string][];
  /** Upstream ids the master must have received a `cancel` for, in order, on the current connection. */
  cancels: string[];
}
interface Real {
  clock: VirtualClock;
  link: MasterLink;
  s: fc.Scheduler;
  /** The master's end of the current connection. */
  master: () => MemoryLink;
  /** Requests the master received on the current connection: (read, upstream id). */
  received: () => [number, string][];
  /** `cancel` ids the master received on the current connection. */
  cancelsReceived: () => string[];
  /** Each read's withdrawal, by read number (its client left: issue 13 item 5). */
  withdraw: AbortController[];
  outcomes: Map<number, Outcome>;
}

function finish(r: ModelRead, outcome: Outcome): void {
  r.state = 'done';
  r.expected = outcome;
}

function modelPump(m: Model): void {
  while (m.up && m.queue.length > 0 && m.inflight.size + m.held.size < MAX_IN_FLIGHT) {
    const r = m.reads[m.queue.shift()!];
    r.state = 'sent';
    r.id = String(++m.nextId);
    m.inflight.set(r.id, r.k);
    m.sent.push([r.k, r.id]);
  }
}

function modelDown(m: Model): void {
  for (const r of m.reads) if (r.state !== 'done') finish(r, { kind: 'error', code: 'MASTER_UNAVAILABLE' });
  m.up = false;
  m.queue = [];
  m.inflight.clear();
  m.held.clear();
  m.attempts += 1;
  m.reconnectAt = { at: m.now + BACKOFF_MS * 2 ** (m.attempts - 1), timerSeq: m.timerSeq++ };
}

/** Moves the model's time forward, firing read timeouts, slot releases and the reconnect in the clock's order. */
function modelAdvance(m: Model, to: number): void {
  for (;;) {
    let best: { at: number; seq: number; fire: () => void } | undefined;
    const consider = (at: number, seq: number, fire: () => void) => {
      if (at <= to && (!best || at < best.at || (at === best.at && seq < best.seq))) best = { at, seq, fire };
    };
    for (const r of m.reads) {
      if (r.state === 'done') continue;
      consider(r.requestedAt + TIMEOUT_MS, r.timerSeq, () => {
        if (r.state === 'queued') {
          m.queue.splice(m.queue.indexOf(r.k), 1);
        } else {
          m.inflight.delete(r.id!);
          m.held.set(r.id!, { until: m.now + TIMEOUT_MS, timerSeq: m.timerSeq++ });
        }
        finish(r, { kind: 'error', code: 'TIMEOUT' });
        modelPump(m);
      });
    }
    for (const [id, h] of m.held) {
      consider(h.until, h.timerSeq, () => {
        m.held.delete(id);
        modelPump(m);
      });
    }
    if (m.reconnectAt) {
      consider(m.reconnectAt.at, m.reconnectAt.timerSeq, () => {
        // The new connection opens a few microtasks later (no clock time): up, a fresh set of ids.
        m.reconnectAt = undefined;
        m.up = true;
        m.nextId = 0; // attempts stay: only a valid answer resets the back-off (issue 13 item 4)
        m.sent = [];
        m.cancels = [];
      });
    }
    if (!best) break;
    m.now = best.at;
    best.fire();
  }
  m.now = to;
}

/** Lets lines cross the in-memory link: the link batches them until the end of the turn (setImmediate). */
async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function checkAll(m: Model, r: Real): void {
  expect(r.link.connected).toBe(m.up);
  expect(r.link.pending).toBe(m.queue.length + m.inflight.size);
  expect(r.link.outstanding).toBe(m.inflight.size + m.held.size);
  expect(r.link.outstanding).toBeLessThanOrEqual(MAX_IN_FLIGHT);
  if (m.up) expect(r.received()).toEqual(m.sent);
  if (m.up) expect(r.cancelsReceived()).toEqual(m.cancels);
}

class ReadCommand implements fc.AsyncCommand<Model, Real> {
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const k = m.reads.length;
    const read: ModelRead = { k, state: 'queued', requestedAt: m.now, timerSeq: -1 };
    m.reads.push(read);
    const withdraw = new AbortController();
    r.withdraw.push(withdraw);
    void r.link
      .read({ concentrator: '101', meter: String(k + 1) }, { signal: withdraw.signal })
      .then(
        (answer): Outcome =>
          answer.type === 'reading'
            ? { kind: 'reading', value: answer.value }
            : { kind: 'error', code: answer.code },
      )
      .then((outcome) => r.s.schedule(Promise.resolve(outcome), `outcome ${k}`))
      .then((outcome) => r.outcomes.set(k, outcome));
    if (!m.up) {
      finish(read, { kind: 'error', code: 'MASTER_UNAVAILABLE' });
    } else if (m.queue.length + m.inflight.size >= MAX_PENDING) {
      finish(read, { kind: 'error', code: 'QUEUE_FULL' });
    } else {
      read.timerSeq = m.timerSeq++;
      m.queue.push(k);
      modelPump(m);
    }
    await flush();
    checkAll(m, r);
  }
  toString(): string {
    return 'read()';
  }
}

/** The master answers one of the requests it received on this connection: a reading, or a bad line naming it. */
class AnswerCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly pick: number,
    readonly kind: 'reading' | 'bad-line',
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.up && m.sent.length > 0;
  }
  async run(m: Model, r: Real): Promise<void> {
    const [k, id] = m.sent[this.pick % m.sent.length];
    const line =
      this.kind === 'reading'
        ? encodeLine({ type: 'reading', id, concentrator: '101', meter: String(k + 1), value: k, unit: 'm3' })
        : new TextEncoder().encode(`${JSON.stringify({ type: 'reading', id, value: 'lots' })}\n`);
    void r.master().write(line);
    if (this.kind === 'reading') m.attempts = 0; // a valid answer proves the master works: back-off starts over
    const holder = m.inflight.get(id);
    if (holder !== undefined) {
      m.inflight.delete(id);
      finish(
        m.reads[holder],
        this.kind === 'reading' ? { kind: 'reading', value: k } : { kind: 'error', code: 'BAD_REPLY' },
      );
    }
    m.held.delete(id); // a late answer frees the slot its request held
    modelPump(m);
    await flush();
    checkAll(m, r);
  }
  toString(): string {
    return `${this.kind}(#${this.pick})`;
  }
}

class AdvanceCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    r.clock.advance(this.ms);
    modelAdvance(m, m.now + this.ms);
    await flush();
    checkAll(m, r);
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

/** The connection drops (the master went away): everything waiting is MASTER_UNAVAILABLE; back-off, reconnect. */
class DropCommand implements fc.AsyncCommand<Model, Real> {
  check(m: Readonly<Model>): boolean {
    return m.up;
  }
  async run(m: Model, r: Real): Promise<void> {
    await r.master().peer.close();
    modelDown(m);
    await flush();
    checkAll(m, r);
  }
  toString(): string {
    return 'drop()';
  }
}

/**
 * A read's client leaves (issue 13 item 5): still queued in the link, it is dropped; sent, the master gets a
 * `cancel` for its id and the request keeps its slot until the master's answer (or one more timeout), like a
 * timed-out one. Either way the read is answered CANCELLED at once; a finished read is not affected.
 */
class WithdrawCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check(m: Readonly<Model>): boolean {
    return m.reads.length > 0;
  }
  async run(m: Model, r: Real): Promise<void> {
    const read = m.reads[this.pick % m.reads.length];
    r.withdraw[read.k].abort();
    if (read.state === 'queued') {
      m.queue.splice(m.queue.indexOf(read.k), 1);
      finish(read, { kind: 'error', code: 'CANCELLED' });
    } else if (read.state === 'sent') {
      const id = read.id!;
      m.inflight.delete(id);
      m.held.set(id, { until: m.now + TIMEOUT_MS, timerSeq: m.timerSeq++ });
      m.cancels.push(id);
      finish(read, { kind: 'error', code: 'CANCELLED' });
      modelPump(m);
    }
    await flush();
    checkAll(m, r);
  }
  toString(): string {
    return `withdraw(#${this.pick})`;
  }
}

const commandArb = fc.oneof(
  { arbitrary: fc.constant(new ReadCommand()), weight: 5 },
  {
    arbitrary: fc
      .tuple(fc.nat(40), fc.constantFrom<'reading' | 'bad-line'>('reading', 'reading', 'reading', 'bad-line'))
      .map(([pick, kind]) => new AnswerCommand(pick, kind)),
    weight: 5,
  },
  { arbitrary: fc.constantFrom(50, 150, 450).map((ms) => new AdvanceCommand(ms)), weight: 3 },
  { arbitrary: fc.constant(new DropCommand()), weight: 1, depthSize: 'small' },
  { arbitrary: fc.nat(40).map((pick) => new WithdrawCommand(pick)), weight: 2 },
);

describe(`MasterLink request window model (FC_SEED=${process.env.FC_SEED})`, () => {
  it('answers each read exactly once, with its own answer or the right error, under any order of events', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.commands([commandArb], { size: '+1' }), async (s, cmds) => {
        const clock = new VirtualClock();
        let master: MemoryLink | undefined;
        let received: [number, string][] = [];
        let cancelsReceived: string[] = [];
        const link = new MasterLink({
          host: 'master.test',
          port: 9092,
          maxInFlight: MAX_IN_FLIGHT,
          maxPending: MAX_PENDING,
          readTimeoutMs: TIMEOUT_MS,
          backoff: { initialMs: BACKOFF_MS, maxMs: 100_000, jitter: 0 },
          clock,
          link: () => {
            // Each connection attempt: a fresh in-memory pair, the master's end opened when the relay's opens.
            const pair = createMemoryPair({ names: ['relay', 'master'] });
            const decoder = new NdjsonDecoder();
            const mine: [number, string][] = [];
            const cancels: string[] = [];
            received = mine;
            cancelsReceived = cancels;
            master = pair.b;
            void pair.b.open();
            pair.b.on('data', (bytes) => {
              for (const e of decoder.push(bytes)) {
                if (e.kind === 'message' && 'type' in e.message && e.message.type === 'read') {
                  mine.push([Number(e.message.meter) - 1, e.message.id]);
                }
                if (e.kind === 'message' && 'type' in e.message && e.message.type === 'cancel') {
                  cancels.push(e.message.id);
                }
              }
            });
            return pair.a;
          },
        });
        link.start();
        await flush();
        const real: Real = {
          clock,
          link,
          s,
          master: () => master!,
          received: () => received,
          cancelsReceived: () => cancelsReceived,
          withdraw: [],
          outcomes: new Map(),
        };
        const model: Model = {
          now: 0,
          up: true,
          attempts: 0,
          timerSeq: 0,
          nextId: 0,
          reads: [],
          queue: [],
          inflight: new Map(),
          held: new Map(),
          sent: [],
          cancels: [],
        };
        expect(link.connected).toBe(true);
        await fc.scheduledModelRun(s, () => ({ model, real }), cmds);
        link.stop();
        for (const r of model.reads)
          if (r.state !== 'done') finish(r, { kind: 'error', code: 'MASTER_UNAVAILABLE' });
        for (let round = 0; round < 3; round++) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          await s.waitAll();
        }
        for (const r of model.reads) expect([r.k, real.outcomes.get(r.k)]).toEqual([r.k, r.expected]);
        expect(clock.pending).toBe(0);
      }),
    );
  });
});
