import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../protocols/bytes.ts';
import { FrameAccumulator } from '../../protocols/framer.ts';
import {
  buildForwardReply,
  decodeGdw376,
  denyFor,
  encodeGdw376,
  type Gdw376Frame,
} from '../../protocols/gdw376/index.ts';
import { VirtualClock } from '../../simulator/clock/index.ts';
import { createMemoryPair, type MemoryLink } from '../../simulator/link/index.ts';
import { ConcentratorConnection } from './concentrator-connection.ts';
import { MasterError } from './master-error.ts';

// Model-based test of the master's SEQ correlation (STYLE.md habit 8, template: session-table.model.test.ts) with
// fc.scheduler: the connection runs on an in-memory link and a virtual clock; a scripted concentrator on the other
// end answers the forwards it received — in any order, late, twice, or with a deny — and the scheduler decides
// when each caller hears its outcome. The model keeps the forwards in flight and the quarantined SEQs (the policy of
// ConcentratorConnection: a cyclic PSEQ counter that skips both), and predicts every caller's outcome. Its central
// claim: a reply settles only the forward that holds its SEQ, and a timed-out SEQ is not reused until its late reply
// came or the quarantine passed — so within that time a late reply can never settle a newer forward.

const MAX_IN_FLIGHT = 3;
const MAX_QUEUED = 2;
const QUARANTINE_MS = 300;
const A = { a1: '0171', a2: 2082 };

type Outcome = { kind: 'reply'; content: string } | { kind: 'error'; code: string };

interface ModelForward {
  k: number;
  timeoutMs: number;
  state: 'queued' | 'inflight' | 'done';
  seq?: number;
  sentAt?: number;
  timerSeq?: number;
  expected?: Outcome;
}
interface Model {
  now: number;
  closed: boolean;
  nextSeq: number;
  timerSeq: number;
  forwards: ModelForward[];
  queue: number[];
  /** SEQ → forward holding it. */
  inflight: Map<number, number>;
  /** SEQ → end of its quarantine (and its timer's creation order, for ties). */
  quarantine: Map<number, { until: number; timerSeq: number }>;
  /** (forward, SEQ) in the order the concentrator must have received them. */
  sent: [number, number][];
  unmatched: number;
}
interface Real {
  clock: VirtualClock;
  conn: ConcentratorConnection;
  concentrator: MemoryLink;
  s: fc.Scheduler;
  /** Forward requests the concentrator received, with the forward number read back from their content. */
  received: { k: number; frame: Gdw376Frame }[];
  outcomes: Map<number, Outcome>;
  unmatched: number;
}

/** Forward k's meter frame: distinct bytes per forward, echoed back as its "meter reply". */
const contentOf = (k: number) => Uint8Array.of(0x68, k & 0xff, k >> 8, 0x16);
const forwardOf = (content: string) => {
  const [, lo, hi] = content.split(' ').map((h) => Number.parseInt(h, 16));
  return lo + (hi << 8);
};

function finish(f: ModelForward, outcome: Outcome): void {
  f.state = 'done';
  f.expected = outcome;
}

function modelPump(m: Model): void {
  while (!m.closed && m.queue.length > 0 && m.inflight.size < MAX_IN_FLIGHT) {
    let seq: number | undefined;
    for (let i = 0; i < 16; i++) {
      const c = (m.nextSeq + i) % 16;
      if (!m.inflight.has(c) && !m.quarantine.has(c)) {
        seq = c;
        break;
      }
    }
    if (seq === undefined) return;
    m.nextSeq = (seq + 1) % 16;
    const f = m.forwards[m.queue.shift()!];
    f.state = 'inflight';
    f.seq = seq;
    f.sentAt = m.now;
    f.timerSeq = m.timerSeq++;
    m.inflight.set(seq, f.k);
    m.sent.push([f.k, seq]);
  }
}

/** Moves the model's time forward, firing forward timeouts and quarantine ends in the clock's order. */
function modelAdvance(m: Model, to: number): void {
  for (;;) {
    let best: { at: number; seq: number; fire: () => void } | undefined;
    const consider = (at: number, seq: number, fire: () => void) => {
      if (at <= to && (!best || at < best.at || (at === best.at && seq < best.seq))) best = { at, seq, fire };
    };
    for (const f of m.forwards) {
      if (f.state !== 'inflight') continue;
      consider(f.sentAt! + f.timeoutMs, f.timerSeq!, () => {
        m.inflight.delete(f.seq!);
        m.quarantine.set(f.seq!, { until: m.now + QUARANTINE_MS, timerSeq: m.timerSeq++ });
        finish(f, { kind: 'error', code: 'METER_TIMEOUT' });
        modelPump(m);
      });
    }
    for (const [seq, q] of m.quarantine) {
      consider(q.until, q.timerSeq, () => {
        m.quarantine.delete(seq);
        modelPump(m);
      });
    }
    if (!best) break;
    m.now = best.at;
    best.fire();
  }
  m.now = to;
}

/** Lets bytes cross the in-memory link (delivery is on microtasks) and the connection react. */
async function flush(): Promise<void> {
  for (let i = 0; i < 8; i++) await Promise.resolve();
}

function checkAll(m: Model, r: Real): void {
  expect(r.conn.inFlight).toBe(m.inflight.size);
  expect(r.conn.inFlight).toBeLessThanOrEqual(MAX_IN_FLIGHT);
  expect(r.conn.quarantinedSeqs).toBe(m.quarantine.size);
  expect(r.received.map((x) => [x.k, x.frame.seq.seq])).toEqual(m.sent);
  expect(r.unmatched).toBe(m.unmatched);
}

class ForwardCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly timeoutMs: number) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const k = m.forwards.length;
    const f: ModelForward = { k, timeoutMs: this.timeoutMs, state: 'queued' };
    m.forwards.push(f);
    void r.conn
      .forward({
        ...A,
        port: 1,
        serial: { baud: 2400, parity: 'even', dataBits: 8, stopBits: 1 },
        frameTimeout: { value: 10, unit: 's' },
        content: contentOf(k),
        timeoutMs: this.timeoutMs,
        what: `forward ${k}`,
      })
      .then(
        (reply): Outcome => ({ kind: 'reply', content: bytesToHex(reply.content) }),
        (error): Outcome => ({
          kind: 'error',
          code: error instanceof MasterError ? error.code : String(error),
        }),
      )
      // The caller hears about its outcome when the scheduler says so.
      .then((outcome) => r.s.schedule(Promise.resolve(outcome), `outcome ${k}`))
      .then((outcome) => r.outcomes.set(k, outcome));
    if (m.closed) {
      finish(f, { kind: 'error', code: 'CONCENTRATOR_OFFLINE' });
    } else {
      m.queue.push(k);
      modelPump(m);
      if (f.state === 'queued' && m.queue.length > MAX_QUEUED) {
        m.queue.pop();
        finish(f, { kind: 'error', code: 'BUSY' });
      }
    }
    await flush();
    checkAll(m, r);
  }
  toString(): string {
    return `forward(${this.timeoutMs} ms)`;
  }
}

/** The concentrator answers one of the forwards it received (answered before or not): a reply or a deny. */
class AnswerCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly pick: number,
    readonly kind: 'reply' | 'deny',
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.sent.length > 0;
  }
  async run(m: Model, r: Real): Promise<void> {
    const { k, frame } = r.received[this.pick % r.received.length];
    const answer =
      this.kind === 'reply' ? buildForwardReply(frame, { content: contentOf(k) }) : denyFor(frame);
    void r.concentrator.write(encodeGdw376(answer));
    const seq = frame.seq.seq;
    const holder = m.inflight.get(seq);
    if (!m.closed && holder !== undefined) {
      // Whoever holds the SEQ gets the answer. Within the quarantine that is always the forward it answers;
      // only an answer later than the quarantine can reach a newer forward (the documented limit).
      if (holder !== k) expect(m.forwards[k].state).toBe('done');
      m.inflight.delete(seq);
      finish(
        m.forwards[holder],
        this.kind === 'reply'
          ? { kind: 'reply', content: bytesToHex(contentOf(k)) }
          : { kind: 'error', code: 'DENIED' },
      );
      modelPump(m);
    } else {
      if (!m.closed) {
        m.unmatched += 1;
        m.quarantine.delete(seq); // a late answer releases its SEQ at once
        modelPump(m);
      }
    }
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
    if (m.closed) m.now += this.ms;
    else modelAdvance(m, m.now + this.ms);
    await flush();
    checkAll(m, r);
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

class CloseCommand implements fc.AsyncCommand<Model, Real> {
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    r.conn.close();
    if (!m.closed) {
      for (const f of m.forwards)
        if (f.state !== 'done') finish(f, { kind: 'error', code: 'CONCENTRATOR_OFFLINE' });
      m.closed = true;
      m.queue = [];
      m.inflight.clear();
      m.quarantine.clear();
    }
    await flush();
    expect(r.conn.closed).toBe(true);
  }
  toString(): string {
    return 'close()';
  }
}

const commandArb = fc.oneof(
  { arbitrary: fc.constantFrom(100, 250).map((t) => new ForwardCommand(t)), weight: 5 },
  {
    arbitrary: fc
      .tuple(fc.nat(40), fc.constantFrom<'reply' | 'deny'>('reply', 'reply', 'reply', 'deny'))
      .map(([pick, kind]) => new AnswerCommand(pick, kind)),
    weight: 5,
  },
  { arbitrary: fc.constantFrom(30, 90, 150, 320).map((ms) => new AdvanceCommand(ms)), weight: 3 },
  { arbitrary: fc.constant(new CloseCommand()), weight: 1, depthSize: 'small' },
);

describe(`ConcentratorConnection SEQ model (FC_SEED=${process.env.FC_SEED})`, () => {
  it('settles each forward with its own reply, or the right error, under any order of replies and timeouts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.commands([commandArb], { size: '+1' }), async (s, cmds) => {
        const clock = new VirtualClock();
        const pair = createMemoryPair({ names: ['master', 'concentrator'] });
        await pair.open();
        const conn = new ConcentratorConnection(pair.a, {
          id: 1,
          maxInFlight: MAX_IN_FLIGHT,
          maxQueued: MAX_QUEUED,
          seqQuarantineMs: QUARANTINE_MS,
          clock,
        });
        const real: Real = {
          clock,
          conn,
          concentrator: pair.b,
          s,
          received: [],
          outcomes: new Map(),
          unmatched: 0,
        };
        conn.on('unmatched', () => {
          real.unmatched += 1;
        });
        const frames = new FrameAccumulator(decodeGdw376, { maxBufferedBytes: 4096 });
        pair.b.on('data', (bytes) => {
          for (const e of frames.push(bytes)) {
            const body = e.kind === 'frame' ? e.frame.units[0]?.body : undefined;
            if (e.kind === 'frame' && body?.kind === 'forward-request') {
              real.received.push({ k: forwardOf(body.content), frame: e.frame });
            }
          }
        });
        const model: Model = {
          now: 0,
          closed: false,
          nextSeq: 0,
          timerSeq: 0,
          forwards: [],
          queue: [],
          inflight: new Map(),
          quarantine: new Map(),
          sent: [],
          unmatched: 0,
        };
        await fc.scheduledModelRun(s, () => ({ model, real }), cmds);
        conn.close();
        for (const f of model.forwards)
          if (f.state !== 'done') finish(f, { kind: 'error', code: 'CONCENTRATOR_OFFLINE' });
        for (let round = 0; round < 3; round++) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          await s.waitAll();
        }
        for (const f of model.forwards) expect([f.k, real.outcomes.get(f.k)]).toEqual([f.k, f.expected]);
        expect(clock.pending).toBe(0);
        await pair.close();
      }),
    );
  });
});
