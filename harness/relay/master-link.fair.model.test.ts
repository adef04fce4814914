import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeLine, NdjsonDecoder } from '../../protocols/point-read/index.ts';
import { VirtualClock } from '../../simulator/clock/index.ts';
import { createMemoryPair, type MemoryLink } from '../../simulator/link/index.ts';
import { MasterLink } from './master-link.ts';

// Model-based test of the fairness of the relay's own upstream queue (issue 13) with fc.scheduler: reads of three
// browsers (origins) wait in the master link while the request window toward the master is full; the scripted
// master answers in any order, reads time out or are withdrawn, and the scheduler decides when each caller hears
// its outcome. The model predicts which read the master receives next: the origins take turns (round-robin, in the
// order they started waiting), each origin's reads in arrival order; the one read whose turn came waits in the
// window itself until a slot frees. It also predicts every read's one answer, and `pending` never passes
// maxPending. (master-link.model.test.ts covers reconnection and bad lines with a single origin.)

const MAX_IN_FLIGHT = 2;
const MAX_PENDING = 6;
const TIMEOUT_MS = 400;
const ORIGINS = ['a', 'b', 'c'] as const;

type Outcome = { kind: 'reading'; value: number } | { kind: 'error'; code: string };

interface ModelRead {
  k: number;
  origin: string;
  state: 'waiting' | 'window' | 'sent' | 'done';
  id?: string;
  requestedAt: number;
  timerSeq: number;
  expected?: Outcome;
}
interface Model {
  now: number;
  timerSeq: number;
  nextId: number;
  reads: ModelRead[];
  /** Origins with reads waiting, the one whose turn it is first, each with its reads in arrival order. */
  turns: Map<string, number[]>;
  /** The one read the window holds until a slot frees. */
  windowQueued: number | undefined;
  inflight: Map<string, number>;
  held: Map<string, { until: number; timerSeq: number }>;
  sent: [number, string][];
  cancels: string[];
}
interface Real {
  clock: VirtualClock;
  link: MasterLink;
  s: fc.Scheduler;
  master: MemoryLink;
  received: [number, string][];
  cancelsReceived: string[];
  withdraw: AbortController[];
  outcomes: Map<number, Outcome>;
}

const waitingCount = (m: Model) => [...m.turns.values()].reduce((n, q) => n + q.length, 0);
const slotFree = (m: Model) => m.inflight.size + m.held.size < MAX_IN_FLIGHT;

function finish(r: ModelRead, outcome: Outcome): void {
  r.state = 'done';
  r.expected = outcome;
}

function send(m: Model, k: number): void {
  const r = m.reads[k];
  r.state = 'sent';
  r.id = String(++m.nextId);
  m.inflight.set(r.id, k);
  m.sent.push([k, r.id]);
}

/** Round-robin: the oldest read of the origin whose turn it is; that origin goes to the back. */
function takeTurn(m: Model): number | undefined {
  const first = m.turns.entries().next();
  if (first.done) return undefined;
  const [origin, queue] = first.value;
  const k = queue.shift() as number;
  m.turns.delete(origin);
  if (queue.length > 0) m.turns.set(origin, queue);
  return k;
}

function unwait(m: Model, r: ModelRead): void {
  const queue = m.turns.get(r.origin) as number[];
  queue.splice(queue.indexOf(r.k), 1);
  if (queue.length === 0) m.turns.delete(r.origin);
}

/** Fills free slots: the read in the window first, then turns; one more read waits in the window if any is left. */
function modelPump(m: Model): void {
  for (;;) {
    if (m.windowQueued !== undefined && slotFree(m)) {
      send(m, m.windowQueued);
      m.windowQueued = undefined;
      continue;
    }
    if (m.windowQueued === undefined && m.turns.size > 0) {
      const k = takeTurn(m) as number;
      m.reads[k].state = 'window';
      m.windowQueued = k;
      continue;
    }
    return;
  }
}

/** Ends a read not yet done: queued ones leave their queue, a sent one's id is held for one more timeout. */
function end(m: Model, r: ModelRead, code: 'TIMEOUT' | 'CANCELLED'): void {
  if (r.state === 'waiting') unwait(m, r);
  else if (r.state === 'window') m.windowQueued = undefined;
  else if (r.state === 'sent') {
    const id = r.id as string;
    m.inflight.delete(id);
    m.held.set(id, { until: m.now + TIMEOUT_MS, timerSeq: m.timerSeq++ });
    if (code === 'CANCELLED') m.cancels.push(id);
  }
  finish(r, { kind: 'error', code });
  modelPump(m);
}

function modelAdvance(m: Model, to: number): void {
  for (;;) {
    let best: { at: number; seq: number; fire: () => void } | undefined;
    const consider = (at: number, seq: number, fire: () => void) => {
      if (at <= to && (!best || at < best.at || (at === best.at && seq < best.seq))) best = { at, seq, fire };
    };
    for (const r of m.reads) {
      if (r.state !== 'done') consider(r.requestedAt + TIMEOUT_MS, r.timerSeq, () => end(m, r, 'TIMEOUT'));
    }
    for (const [id, h] of m.held) {
      consider(h.until, h.timerSeq, () => {
        m.held.delete(id);
        modelPump(m);
      });
    }
    if (!best) break;
    m.now = best.at;
    best.fire();
  }
  m.now = to;
}

async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function checkAll(m: Model, r: Real): void {
  expect(r.link.pending).toBe(waitingCount(m) + (m.windowQueued === undefined ? 0 : 1) + m.inflight.size);
  expect(r.link.pending).toBeLessThanOrEqual(MAX_PENDING);
  expect(r.link.outstanding).toBe(m.inflight.size + m.held.size);
  expect(r.received).toEqual(m.sent);
  expect(r.cancelsReceived).toEqual(m.cancels);
  // Within one origin, reads reach the master in the order they were asked.
  for (const origin of ORIGINS) {
    const ks = r.received.map(([k]) => k).filter((k) => m.reads[k].origin === origin);
    expect(ks).toEqual([...ks].sort((x, y) => x - y));
  }
}

class ReadCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly origin: string) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const k = m.reads.length;
    const read: ModelRead = { k, origin: this.origin, state: 'waiting', requestedAt: m.now, timerSeq: -1 };
    m.reads.push(read);
    const withdraw = new AbortController();
    r.withdraw.push(withdraw);
    void r.link
      .read({ concentrator: '101', meter: String(k + 1) }, { origin: this.origin, signal: withdraw.signal })
      .then(
        (answer): Outcome =>
          answer.type === 'reading'
            ? { kind: 'reading', value: answer.value }
            : { kind: 'error', code: answer.code },
      )
      .then((outcome) => r.s.schedule(Promise.resolve(outcome), `outcome ${k}`))
      .then((outcome) => r.outcomes.set(k, outcome));
    const pending = waitingCount(m) + (m.windowQueued === undefined ? 0 : 1) + m.inflight.size;
    if (pending >= MAX_PENDING) {
      finish(read, { kind: 'error', code: 'QUEUE_FULL' });
    } else {
      read.timerSeq = m.timerSeq++;
      if (m.turns.size === 0 && m.windowQueued === undefined && slotFree(m)) send(m, k);
      else {
        const queue = m.turns.get(this.origin);
        if (queue) queue.push(k);
        else m.turns.set(this.origin, [k]);
        modelPump(m);
      }
    }
    await flush();
    checkAll(m, r);
  }
  toString(): string {
    return `read(${this.origin})`;
  }
}

class AnswerCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check(m: Readonly<Model>): boolean {
    return m.sent.length > 0;
  }
  async run(m: Model, r: Real): Promise<void> {
    const [k, id] = m.sent[this.pick % m.sent.length];
    void r.master.write(
      encodeLine({ type: 'reading', id, concentrator: '101', meter: String(k + 1), value: k, unit: 'm3' }),
    );
    const holder = m.inflight.get(id);
    if (holder !== undefined) {
      m.inflight.delete(id);
      finish(m.reads[holder], { kind: 'reading', value: k });
    }
    m.held.delete(id);
    modelPump(m);
    await flush();
    checkAll(m, r);
  }
  toString(): string {
    return `answer(#${this.pick})`;
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

class WithdrawCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check(m: Readonly<Model>): boolean {
    return m.reads.length > 0;
  }
  async run(m: Model, r: Real): Promise<void> {
    const read = m.reads[this.pick % m.reads.length];
    r.withdraw[read.k].abort();
    if (read.state !== 'done') end(m, read, 'CANCELLED');
    await flush();
    checkAll(m, r);
  }
  toString(): string {
    return `withdraw(#${this.pick})`;
  }
}

const commandArb = fc.oneof(
  { arbitrary: fc.constantFrom(...ORIGINS).map((o) => new ReadCommand(o)), weight: 6 },
  { arbitrary: fc.nat(40).map((pick) => new AnswerCommand(pick)), weight: 4 },
  { arbitrary: fc.constantFrom(50, 150, 450).map((ms) => new AdvanceCommand(ms)), weight: 2 },
  { arbitrary: fc.nat(40).map((pick) => new WithdrawCommand(pick)), weight: 2 },
);

describe(`MasterLink fair upstream queue model (FC_SEED=${process.env.FC_SEED})`, () => {
  it('serves origins in turn, each in order, within maxPending, and answers every read exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.commands([commandArb], { size: '+1' }), async (s, cmds) => {
        const clock = new VirtualClock();
        const pair = createMemoryPair({ names: ['relay', 'master'] });
        const received: [number, string][] = [];
        const cancelsReceived: string[] = [];
        const decoder = new NdjsonDecoder();
        pair.b.on('data', (bytes) => {
          for (const e of decoder.push(bytes)) {
            if (e.kind !== 'message' || !('type' in e.message)) continue;
            if (e.message.type === 'read') received.push([Number(e.message.meter) - 1, e.message.id]);
            if (e.message.type === 'cancel') cancelsReceived.push(e.message.id);
          }
        });
        const link = new MasterLink({
          host: 'master.test',
          port: 9092,
          maxInFlight: MAX_IN_FLIGHT,
          maxPending: MAX_PENDING,
          readTimeoutMs: TIMEOUT_MS,
          clock,
          link: () => {
            void pair.b.open();
            return pair.a;
          },
        });
        link.start();
        await flush();
        expect(link.connected).toBe(true);
        const real: Real = {
          clock,
          link,
          s,
          master: pair.b,
          received,
          cancelsReceived,
          withdraw: [],
          outcomes: new Map(),
        };
        const model: Model = {
          now: 0,
          timerSeq: 0,
          nextId: 0,
          reads: [],
          turns: new Map(),
          windowQueued: undefined,
          inflight: new Map(),
          held: new Map(),
          sent: [],
          cancels: [],
        };
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
