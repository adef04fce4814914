import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FairQueue } from './fair-queue.ts';
import { MasterError } from './master-error.ts';
import { PortScheduler } from './port-scheduler.ts';

// Model-based test of the fair queueing per concentrator port (STYLE.md habit 8, template:
// session-table.model.test.ts) with fc.scheduler: clients ask for reads on two ports of one concentrator, the
// field answers the reads in flight in whatever order the scheduler picks, and clients go away. The model states
// the policy its own way — each client waiting at a port holds a ticket taken when it joined or was last served,
// and the lowest ticket goes next — and predicts which read is sent when, and every read's outcome.

const CLIENTS = 3;
const PORTS = [1, 2];

type Outcome = 'answered' | 'BUSY' | 'STOPPED' | 'CANCELLED';

interface ModelRead {
  k: number;
  client: number;
  port: number;
  outcome?: Outcome;
}
interface Model {
  maxInFlight: number;
  maxQueued: number;
  maxTotal: number;
  reads: ModelRead[];
  /** port → reads sent to it and not answered */
  inFlight: Map<number, number[]>;
  /** port → reads waiting, in arrival order */
  waiting: Map<number, number[]>;
  /** port → client → ticket */
  tickets: Map<number, Map<number, number>>;
  tick: number;
  gone: Set<number>;
  /** reads in the order the model says they were sent */
  started: number[];
}
interface Real {
  scheduler: PortScheduler;
  s: fc.Scheduler;
  clients: object[];
  leave: AbortController[];
  /** Each read's own cancel (a v1 `cancel` for its id), by read number. */
  cancels: AbortController[];
  started: number[];
  outcomes: Map<number, Outcome>;
  answered: number[];
}

const settle = async () => {
  for (let i = 0; i < 2; i++) await new Promise<void>((r) => setImmediate(r));
};

function pump(m: Model, port: number): void {
  const inFlight = m.inFlight.get(port)!;
  const waiting = m.waiting.get(port)!;
  const tickets = m.tickets.get(port)!;
  while (inFlight.length < m.maxInFlight && waiting.length > 0) {
    const [client] = [...tickets.entries()].sort((a, b) => a[1] - b[1])[0];
    const k = waiting.find((w) => m.reads[w].client === client)!;
    waiting.splice(waiting.indexOf(k), 1);
    if (waiting.some((w) => m.reads[w].client === client)) tickets.set(client, m.tick++);
    else tickets.delete(client);
    inFlight.push(k);
    m.started.push(k);
  }
}

function unqueue(m: Model, k: number, outcome: Outcome): void {
  const { port, client } = m.reads[k];
  const waiting = m.waiting.get(port)!;
  waiting.splice(waiting.indexOf(k), 1);
  if (!waiting.some((w) => m.reads[w].client === client)) m.tickets.get(port)!.delete(client);
  m.reads[k].outcome = outcome;
}

function total(m: Model): number {
  let n = 0;
  for (const p of PORTS) n += m.inFlight.get(p)!.length + m.waiting.get(p)!.length;
  return n;
}

function check(m: Model, r: Real): void {
  expect(r.started).toEqual(m.started);
  for (const read of m.reads) expect([read.k, r.outcomes.get(read.k)]).toEqual([read.k, read.outcome]);
  for (const p of PORTS) {
    expect(r.scheduler.inFlight('C', p)).toBe(m.inFlight.get(p)!.length);
    expect(r.scheduler.queued('C', p)).toBe(m.waiting.get(p)!.length);
  }
}

class ReadCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly client: number,
    readonly port: number,
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const k = m.reads.length;
    const read: ModelRead = { k, client: this.client, port: this.port };
    m.reads.push(read);
    const evictedBefore = new Set(r.outcomes.keys());
    const cancel = new AbortController();
    r.cancels.push(cancel);
    void r.scheduler
      .run(
        { concentrator: 'C', port: this.port },
        { client: r.clients[this.client], signal: r.leave[this.client].signal, cancel: cancel.signal },
        `read ${k}`,
        () => {
          r.started.push(k);
          return r.s.schedule(Promise.resolve(k), `field answers read ${k}`).then((done) => {
            r.answered.push(done);
            return done;
          });
        },
      )
      .then(
        () => r.outcomes.set(k, 'answered'),
        (error: unknown) =>
          r.outcomes.set(k, error instanceof MasterError ? (error.code as Outcome) : 'BUSY'),
      );
    await settle();
    const inFlight = m.inFlight.get(this.port)!;
    const waiting = m.waiting.get(this.port)!;
    const mine = waiting.filter((w) => m.reads[w].client === this.client).length;
    // When the concentrator's bound is full, a client with more reads waiting than this one gives up its newest.
    const needsRoom = () => total(m) >= m.maxTotal;
    const makeRoom = (): boolean => {
      const counts = new Map<number, number>();
      for (const p of PORTS)
        for (const w of m.waiting.get(p)!)
          counts.set(m.reads[w].client, (counts.get(m.reads[w].client) ?? 0) + 1);
      const most = Math.max(0, ...counts.values());
      const myAll = counts.get(this.client) ?? 0;
      if (most <= myAll + 1) return false;
      // The real scheduler picks one of the heaviest clients' newest reads: find which one it refused.
      const victims = [...r.outcomes.keys()].filter((v) => !evictedBefore.has(v) && v !== k);
      expect(victims).toHaveLength(1);
      const victim = m.reads[victims[0]];
      expect(counts.get(victim.client)).toBe(most);
      const victimQueue = m.waiting.get(victim.port)!.filter((w) => m.reads[w].client === victim.client);
      expect(victimQueue[victimQueue.length - 1]).toBe(victim.k);
      unqueue(m, victim.k, 'BUSY');
      return true;
    };
    if (m.gone.has(this.client)) {
      read.outcome = 'STOPPED';
    } else if (inFlight.length < m.maxInFlight && waiting.length === 0) {
      if (needsRoom() && !makeRoom()) read.outcome = 'BUSY';
      else {
        inFlight.push(k);
        m.started.push(k);
      }
    } else if (mine >= m.maxQueued) {
      read.outcome = 'BUSY';
    } else if (needsRoom() && !makeRoom()) {
      read.outcome = 'BUSY';
    } else {
      if (mine === 0) m.tickets.get(this.port)!.set(this.client, m.tick++);
      waiting.push(k);
    }
    check(m, r);
  }
  toString(): string {
    return `read(client ${this.client}, port ${this.port})`;
  }
}

/** The field answers one read in flight: which one is the scheduler's choice. */
class AnswerCommand implements fc.AsyncCommand<Model, Real> {
  check(m: Readonly<Model>): boolean {
    return PORTS.some((p) => m.inFlight.get(p)!.length > 0);
  }
  async run(m: Model, r: Real): Promise<void> {
    const before = r.answered.length;
    await r.s.waitOne();
    await settle();
    expect(r.answered.length).toBe(before + 1);
    const k = r.answered[before];
    const read = m.reads[k];
    const inFlight = m.inFlight.get(read.port)!;
    expect(inFlight).toContain(k);
    inFlight.splice(inFlight.indexOf(k), 1);
    read.outcome = 'answered';
    pump(m, read.port);
    check(m, r);
  }
  toString(): string {
    return 'answer';
  }
}

/** A client's connection closes: its waiting reads are cancelled, never sent. */
class LeaveCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly client: number) {}
  check(m: Readonly<Model>): boolean {
    return !m.gone.has(this.client);
  }
  async run(m: Model, r: Real): Promise<void> {
    r.leave[this.client].abort();
    await settle();
    m.gone.add(this.client);
    for (const p of PORTS) {
      for (const w of [...m.waiting.get(p)!]) if (m.reads[w].client === this.client) unqueue(m, w, 'STOPPED');
    }
    check(m, r);
  }
  toString(): string {
    return `leave(client ${this.client})`;
  }
}

/**
 * The client cancels one of its reads (issue 13 item 5): dropped and answered CANCELLED if it still waits; a read
 * already sent, answered or refused is not affected.
 */
class CancelCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check(m: Readonly<Model>): boolean {
    return m.reads.length > 0;
  }
  async run(m: Model, r: Real): Promise<void> {
    const k = this.pick % m.reads.length;
    r.cancels[k].abort();
    await settle();
    if (m.waiting.get(m.reads[k].port)!.includes(k)) unqueue(m, k, 'CANCELLED');
    check(m, r);
  }
  toString(): string {
    return `cancel(read #${this.pick})`;
  }
}

const commandArb = fc.oneof(
  {
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: CLIENTS - 1 }), fc.constantFrom(...PORTS))
      .map(([c, p]) => new ReadCommand(c, p)),
    weight: 5,
  },
  { arbitrary: fc.constant(new AnswerCommand()), weight: 3 },
  { arbitrary: fc.integer({ min: 0, max: CLIENTS - 1 }).map((c) => new LeaveCommand(c)), weight: 1 },
  { arbitrary: fc.nat().map((n) => new CancelCommand(n)), weight: 1 },
);

describe(`PortScheduler fair queue model (FC_SEED=${process.env.FC_SEED})`, () => {
  it('sends reads in turn across clients, bounded, and never sends a read of a client that left', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.record({
          maxInFlight: fc.integer({ min: 1, max: 2 }),
          maxQueued: fc.integer({ min: 1, max: 4 }),
          maxTotal: fc.integer({ min: 2, max: 8 }),
        }),
        fc.commands([commandArb], { size: '+1' }),
        async (s, limits, cmds) => {
          const real: Real = {
            scheduler: new PortScheduler({
              maxInFlightPerPort: limits.maxInFlight,
              maxQueuedPerClientPort: limits.maxQueued,
              maxPerConcentrator: limits.maxTotal,
            }),
            s,
            clients: Array.from({ length: CLIENTS }, () => ({})),
            leave: Array.from({ length: CLIENTS }, () => new AbortController()),
            cancels: [],
            started: [],
            outcomes: new Map(),
            answered: [],
          };
          const model: Model = {
            ...limits,
            reads: [],
            inFlight: new Map(PORTS.map((p) => [p, []])),
            waiting: new Map(PORTS.map((p) => [p, []])),
            tickets: new Map(PORTS.map((p) => [p, new Map()])),
            tick: 0,
            gone: new Set(),
            started: [],
          };
          await fc.asyncModelRun(() => ({ model, real }), cmds);
          // The field answers everything still in flight; every read ends exactly once.
          const answer = new AnswerCommand();
          while (answer.check(model)) await answer.run(model, real);
          expect(model.reads.every((read) => read.outcome !== undefined)).toBe(true);
          expect(real.outcomes.size).toBe(model.reads.length);
          // A read of a client that had left was never sent.
          for (const k of real.started) expect(model.reads[k].outcome).toBe('answered');
        },
      ),
    );
  });
});

describe('FairQueue', () => {
  it('serves clients in turn and refuses beyond maxQueuedPerClient', () => {
    const q = new FairQueue<string, number>({ maxQueuedPerClient: 3 });
    for (const n of [1, 2, 3]) expect(q.enqueue('a', n)).toBe(true);
    expect(q.enqueue('a', 4)).toBe(false);
    q.enqueue('b', 10);
    q.enqueue('c', 20);
    q.enqueue('b', 11);
    const order = [];
    for (let next = q.dequeue(); next; next = q.dequeue()) order.push(next.item);
    expect(order).toEqual([1, 10, 20, 2, 11, 3]);
  });

  it('rejects a bad maxQueuedPerClient naming the option', () => {
    expect(() => new FairQueue({ maxQueuedPerClient: 0 })).toThrow(/"maxQueuedPerClient"/);
  });
});
