import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.ts';
import { sequenceIds } from './id-space.ts';
import { RequestWindow, RequestWindowError } from './request-window.ts';

// Model-based test of the request window (STYLE.md habit 8) with fc.scheduler: the scheduler runs the commands and,
// between them, in an order it picks, resolves asynchronous sends and delivers outcomes to the callers — so an
// answer can arrive before `send` has finished, and a caller can learn its outcome long after the window moved on.
// The model is a list of requests, a map of ids in flight and a map of quarantined ids with their end times.

const SPACE = 4;
const WINDOW = 2;
const MAX_QUEUED = 2;
const QUARANTINE_MS = 300;

type SendMode = 'sync' | 'throws' | 'async' | 'rejects';
type Outcome =
  | { kind: 'reply'; id: number; reply: string; latencyMs: number }
  | { kind: 'error'; what: string };

interface ModelRequest {
  k: number;
  timeoutMs: number;
  from: 'send' | 'sent' | 'request';
  mode: SendMode;
  state: 'queued' | 'inflight' | 'done';
  id?: number;
  sentAt?: number;
  requestedAt: number;
  /** Creation order of its timeout timer on the clock (timers due together fire in creation order). */
  timerSeq?: number;
  expected?: Outcome;
}
interface Model {
  now: number;
  closed: boolean;
  nextId: number;
  timerSeq: number;
  requests: ModelRequest[];
  queue: number[];
  inflight: Map<number, number>;
  quarantine: Map<number, { until: number; seq: number }>;
  sent: Array<[number, number]>;
}
interface Real {
  clock: VirtualClock;
  window: RequestWindow<number, string>;
  s: fc.Scheduler;
  sent: Array<[number, number]>;
  outcomes: Map<number, Outcome>;
  controllers: Map<number, AbortController>;
  failSend: Map<number, (error: Error) => void>;
}

const describeError = (e: unknown): string =>
  e instanceof RequestWindowError ? e.code : e instanceof Error ? e.message : String(e);

function busy(m: Model, id: number): boolean {
  return m.inflight.has(id) || m.quarantine.has(id);
}

function finish(req: ModelRequest, outcome: Outcome): void {
  req.state = 'done';
  req.expected = outcome;
}

function modelStart(m: Model, req: ModelRequest, id: number): void {
  req.state = 'inflight';
  req.id = id;
  req.sentAt = m.now;
  m.inflight.set(id, req.k);
  // 'sent' starts the timeout when send returns: the same moment for the synchronous sends it is used with here.
  if (req.from !== 'request') req.timerSeq = m.timerSeq++;
  m.sent.push([req.k, id]);
  if (req.mode === 'throws') {
    m.inflight.delete(id);
    finish(req, { kind: 'error', what: `send ${req.k} threw` });
  }
}

function modelPump(m: Model): void {
  while (!m.closed && m.queue.length > 0 && m.inflight.size < WINDOW) {
    let id: number | undefined;
    for (let i = 0; i < SPACE; i++) {
      const c = (m.nextId + i) % SPACE;
      if (!busy(m, c)) {
        id = c;
        break;
      }
    }
    if (id === undefined) return;
    m.nextId = (id + 1) % SPACE;
    const k = m.queue.shift()!;
    modelStart(m, m.requests[k], id);
  }
}

function modelQuarantine(m: Model, id: number): void {
  m.inflight.delete(id);
  m.quarantine.set(id, { until: m.now + QUARANTINE_MS, seq: m.timerSeq++ });
}

/** Moves the model's time forward, firing timeouts and quarantine ends in the clock's order. */
function modelAdvance(m: Model, to: number): void {
  for (;;) {
    let best: { at: number; seq: number; fire: () => void } | undefined;
    const consider = (at: number, seq: number, fire: () => void) => {
      if (at <= to && (!best || at < best.at || (at === best.at && seq < best.seq))) best = { at, seq, fire };
    };
    for (const req of m.requests) {
      if (req.state === 'done' || req.timerSeq === undefined) continue;
      const at = (req.from === 'request' ? req.requestedAt : req.sentAt!) + req.timeoutMs;
      consider(at, req.timerSeq, () => {
        if (req.state === 'queued') {
          m.queue.splice(m.queue.indexOf(req.k), 1);
          finish(req, { kind: 'error', what: 'WINDOW_TIMEOUT' });
          return;
        }
        modelQuarantine(m, req.id!);
        finish(req, { kind: 'error', what: 'WINDOW_TIMEOUT' });
        modelPump(m);
      });
    }
    for (const [id, q] of m.quarantine) {
      consider(q.until, q.seq, () => {
        m.quarantine.delete(id);
        modelPump(m);
      });
    }
    if (!best) break;
    m.now = best.at;
    best.fire();
  }
  m.now = to;
}

function checkAll(m: Model, r: Real): void {
  expect(r.window.inFlight).toBe(m.inflight.size);
  expect(r.window.queued).toBe(m.queue.length);
  expect(r.window.quarantined).toBe(m.quarantine.size);
  expect(r.window.inFlight).toBeLessThanOrEqual(WINDOW);
  for (let id = 0; id < SPACE; id++) expect(r.window.isQuarantined(id)).toBe(m.quarantine.has(id));
  expect(r.sent).toEqual(m.sent);
}

class RequestCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly timeoutMs: number,
    readonly from: 'send' | 'sent' | 'request',
    readonly mode: SendMode,
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const k = m.requests.length;
    const req: ModelRequest = {
      k,
      timeoutMs: this.timeoutMs,
      from: this.from,
      mode: this.mode,
      state: 'queued',
      requestedAt: m.now,
    };
    m.requests.push(req);
    const controller = new AbortController();
    r.controllers.set(k, controller);
    const send = (id: number): void | Promise<void> => {
      r.sent.push([k, id]);
      if (this.mode === 'throws') throw new Error(`send ${k} threw`);
      if (this.mode === 'async') return r.s.schedule(Promise.resolve(), `send ${k} done`);
      if (this.mode === 'rejects') return new Promise<void>((_, reject) => r.failSend.set(k, reject));
    };
    const pending = r.window.request(send, {
      timeoutMs: this.timeoutMs,
      timeoutFrom: this.from,
      signal: controller.signal,
    });
    // The caller hears about its outcome when the scheduler says so.
    void pending
      .then(
        (v): Outcome => ({ kind: 'reply', id: v.id, reply: v.reply, latencyMs: v.latencyMs }),
        (e): Outcome => ({ kind: 'error', what: describeError(e) }),
      )
      .then((outcome) => r.s.schedule(Promise.resolve(outcome), `outcome ${k}`))
      .then((outcome) => r.outcomes.set(k, outcome));

    if (m.closed) {
      finish(req, { kind: 'error', what: 'WINDOW_CLOSED' });
    } else {
      if (this.from === 'request') req.timerSeq = m.timerSeq++;
      m.queue.push(k);
      modelPump(m);
      if (req.state === 'queued' && m.queue.length > MAX_QUEUED) {
        m.queue.pop();
        finish(req, { kind: 'error', what: 'WINDOW_FULL' });
      }
    }
    checkAll(m, r);
  }
  toString(): string {
    return `request(${this.timeoutMs} ms from ${this.from}, send ${this.mode})`;
  }
}

class AnswerCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly id: number,
    readonly kind: 'reply' | 'fail',
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const text = `answer-${this.id}@${m.now}`;
    const result =
      this.kind === 'reply' ? r.window.settle(this.id, text) : r.window.fail(this.id, new Error(text));
    const k = m.inflight.get(this.id);
    if (!m.closed && k !== undefined) {
      expect(result).toBe('settled');
      const req = m.requests[k];
      m.inflight.delete(this.id);
      finish(
        req,
        this.kind === 'reply'
          ? { kind: 'reply', id: this.id, reply: text, latencyMs: m.now - req.sentAt! }
          : { kind: 'error', what: text },
      );
      modelPump(m);
    } else if (!m.closed && m.quarantine.has(this.id)) {
      expect(result).toBe('late');
      m.quarantine.delete(this.id);
      modelPump(m);
    } else {
      expect(result).toBe('unknown');
    }
    checkAll(m, r);
  }
  toString(): string {
    return `${this.kind === 'reply' ? 'settle' : 'fail'}(${this.id})`;
  }
}

class AdvanceCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    r.clock.advance(this.ms);
    if (!m.closed) modelAdvance(m, m.now + this.ms);
    else m.now += this.ms;
    expect(r.clock.now()).toBe(m.now);
    checkAll(m, r);
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

class AbortCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check(m: Readonly<Model>): boolean {
    return m.requests.length > 0;
  }
  async run(m: Model, r: Real): Promise<void> {
    const req = m.requests[this.pick % m.requests.length];
    r.controllers.get(req.k)!.abort(new Error(`withdrawn ${req.k}`));
    if (!m.closed && req.state === 'queued') {
      m.queue.splice(m.queue.indexOf(req.k), 1);
      finish(req, { kind: 'error', what: `withdrawn ${req.k}` });
    } else if (!m.closed && req.state === 'inflight') {
      modelQuarantine(m, req.id!);
      finish(req, { kind: 'error', what: `withdrawn ${req.k}` });
      modelPump(m);
    }
    checkAll(m, r);
  }
  toString(): string {
    return `abort(#${this.pick})`;
  }
}

class SendFailsCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check(m: Readonly<Model>): boolean {
    return m.requests.some((q) => q.mode === 'rejects' && q.id !== undefined);
  }
  async run(m: Model, r: Real): Promise<void> {
    const candidates = m.requests.filter((q) => q.mode === 'rejects' && q.id !== undefined);
    const req = candidates[this.pick % candidates.length];
    r.failSend.get(req.k)?.(new Error(`send ${req.k} failed`));
    for (let i = 0; i < 5; i++) await Promise.resolve();
    if (!m.closed && req.state === 'inflight') {
      m.inflight.delete(req.id!);
      finish(req, { kind: 'error', what: `send ${req.k} failed` });
      modelPump(m);
    }
    checkAll(m, r);
  }
  toString(): string {
    return `sendFails(#${this.pick})`;
  }
}

class CloseCommand implements fc.AsyncCommand<Model, Real> {
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    r.window.close();
    if (!m.closed) {
      for (const req of m.requests)
        if (req.state !== 'done') finish(req, { kind: 'error', what: 'WINDOW_CLOSED' });
      m.closed = true;
      m.queue = [];
      m.inflight.clear();
      m.quarantine.clear();
    }
    checkAll(m, r);
  }
  toString(): string {
    return 'close()';
  }
}

const commandArb = fc.oneof(
  {
    arbitrary: fc
      .tuple(
        fc.constantFrom(100, 250, 400),
        fc.constantFrom<'send' | 'sent' | 'request'>('send', 'sent', 'request'),
        fc.constantFrom<SendMode>('sync', 'sync', 'async', 'throws', 'rejects'),
      )
      // An asynchronous send resolves whenever the scheduler says: the model cannot know when a 'sent' timer starts.
      .map(
        ([t, from, mode]) =>
          new RequestCommand(t, from, from === 'sent' && mode !== 'throws' ? 'sync' : mode),
      ),
    weight: 5,
  },
  {
    arbitrary: fc
      .tuple(
        fc.integer({ min: 0, max: SPACE - 1 }),
        fc.constantFrom<'reply' | 'fail'>('reply', 'reply', 'fail'),
      )
      .map(([id, kind]) => new AnswerCommand(id, kind)),
    weight: 4,
  },
  { arbitrary: fc.constantFrom(30, 90, 150, 320).map((ms) => new AdvanceCommand(ms)), weight: 3 },
  { arbitrary: fc.nat(20).map((p) => new AbortCommand(p)), weight: 1 },
  { arbitrary: fc.nat(20).map((p) => new SendFailsCommand(p)), weight: 1 },
  { arbitrary: fc.constant(new CloseCommand()), weight: 1, depthSize: 'small' },
);

describe(`RequestWindow model (FC_SEED=${process.env.FC_SEED})`, () => {
  it('matches the model under any interleaving of requests, answers, timeouts, withdrawals and close', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.commands([commandArb], { size: '+1' }), async (s, cmds) => {
        const clock = new VirtualClock();
        const real: Real = {
          clock,
          s,
          window: new RequestWindow<number, string>({
            ids: sequenceIds(SPACE),
            window: WINDOW,
            maxQueued: MAX_QUEUED,
            quarantineMs: QUARANTINE_MS,
            clock,
          }),
          sent: [],
          outcomes: new Map(),
          controllers: new Map(),
          failSend: new Map(),
        };
        const model: Model = {
          now: 0,
          closed: false,
          nextId: 0,
          timerSeq: 0,
          requests: [],
          queue: [],
          inflight: new Map(),
          quarantine: new Map(),
          sent: [],
        };
        await fc.scheduledModelRun(s, () => ({ model, real }), cmds);
        // Whatever is still open ends with WINDOW_CLOSED; every caller then hears exactly its model outcome.
        real.window.close();
        for (const req of model.requests)
          if (req.state !== 'done') finish(req, { kind: 'error', what: 'WINDOW_CLOSED' });
        // Outcomes reach the scheduler a few promise steps after the window settles them: let them all arrive.
        for (let round = 0; round < 3; round++) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          await s.waitAll();
        }
        for (const req of model.requests)
          expect([req.k, real.outcomes.get(req.k)]).toEqual([req.k, req.expected]);
        // No id was ever in flight twice at once, and no answer settled anything but the request holding its id.
        expect(clock.pending).toBe(0);
      }),
    );
  });
});
