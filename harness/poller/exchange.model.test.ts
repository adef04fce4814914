import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecodeResult } from '../../protocols/decode-result.ts';
import { ProtocolError } from '../../protocols/errors.ts';
import { VirtualClock } from '../../simulator/clock/index.ts';
import { createMemoryPair, type MemoryLink } from '../../simulator/link/index.ts';
import { FrameExchange } from './exchange.ts';
import { PollError } from './poll-error.ts';

// Model-based test of the poller's exchange on the request window (issue 9, STYLE.md habit 8) with fc.scheduler:
// exchanges are started, the meter on the other end of an in-memory link answers the request on the wire (its
// own reply, another meter's reply, or a reply the judge refuses), time passes on a virtual clock, and the
// scheduler decides when each caller hears its outcome. The model is the half-duplex discipline: one request on
// the wire at a time, FIFO, a bounded queue (BUSY), each attempt's timeout from the moment it was sent, and a
// reply settles only the exchange whose request is on the wire.

const TIMEOUT_MS = 100;
const MAX_QUEUED = 2;

/** A toy frame `68 id 16`: enough for the exchange, which knows no protocol. */
type Toy = { id: number };
function decodeToy(buf: Uint8Array): DecodeResult<Toy> {
  if (buf[0] !== 0x68) return { kind: 'error', error: new ProtocolError('NO_START', 'no 68'), skip: 1 };
  if (buf.length < 3) return { kind: 'need-more', atLeast: 3 };
  if (buf[2] !== 0x16) return { kind: 'error', error: new ProtocolError('BAD_END', 'no 16'), skip: 1 };
  return { kind: 'frame', frame: { id: buf[1] }, consumed: 3 };
}
const REFUSED = 0xee;

type Outcome = 'accepted' | 'METER_TIMEOUT' | 'ADDRESS_MISMATCH' | 'BUSY';

interface Model {
  now: number;
  /** Exchange on the wire and when its request was sent. */
  wire: { k: number; sentAt: number } | undefined;
  queue: number[];
  expected: Map<number, Outcome>;
  /** Exchanges in the order their requests must reach the meter. */
  sent: number[];
  next: number;
}
interface Real {
  clock: VirtualClock;
  exchange: FrameExchange<Toy>;
  meter: MemoryLink;
  s: fc.Scheduler;
  received: number[];
  outcomes: Map<number, Outcome>;
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

/** The next queued exchange goes on the wire at `at`. */
function pump(m: Model, at: number): void {
  if (m.wire || m.queue.length === 0) return;
  const k = m.queue.shift() as number;
  m.wire = { k, sentAt: at };
  m.sent.push(k);
}

function settleWire(m: Model, outcome: Outcome, at: number): void {
  if (!m.wire) return;
  m.expected.set(m.wire.k, outcome);
  m.wire = undefined;
  pump(m, at);
}

class StartCommand implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const k = m.next++;

    if (m.wire && m.queue.length >= MAX_QUEUED) m.expected.set(k, 'BUSY');
    else {
      m.queue.push(k);
      pump(m, m.now);
    }
    const judge = (frame: Toy) =>
      frame.id === k
        ? ('accept' as const)
        : frame.id === REFUSED
          ? new PollError('ADDRESS_MISMATCH', `refused for ${k}`)
          : ('ignore' as const);
    void r.exchange
      .exchange(() => ({ bytes: Uint8Array.of(0x68, k, 0x16), judge }), {
        timeoutMs: TIMEOUT_MS,
        retries: 0,
        target: `meter ${k}`,
      })
      .then(
        (result) => r.outcomes.set(k, result.frame.id === k ? 'accepted' : ('wrong' as Outcome)),
        (error: unknown) =>
          r.outcomes.set(k, error instanceof PollError ? (error.code as Outcome) : ('?' as Outcome)),
      );
    await flush();
  }
  toString = () => 'start()';
}

class AnswerCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly kind: 'own' | 'other' | 'refused') {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const wire = m.wire;
    const id = this.kind === 'own' ? (wire?.k ?? 0xf0) : this.kind === 'other' ? 0xf1 : REFUSED;
    if (wire && this.kind === 'own') settleWire(m, 'accepted', m.now);
    if (wire && this.kind === 'refused') settleWire(m, 'ADDRESS_MISMATCH', m.now);
    await r.meter.write(Uint8Array.of(0x68, id, 0x16));
    await flush();
  }
  toString = () => `answer(${this.kind})`;
}

class AdvanceCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const end = m.now + this.ms;
    while (m.wire && m.wire.sentAt + TIMEOUT_MS <= end)
      settleWire(m, 'METER_TIMEOUT', m.wire.sentAt + TIMEOUT_MS);
    m.now = end;
    // One timer at a time: each timeout's next request is sent (and its timer set) before the next one fires.
    let left = this.ms;
    while (left > 0) {
      const step = Math.min(left, 10);
      r.clock.advance(step);
      left -= step;
      await flush();
    }
  }
  toString = () => `advance(${this.ms})`;
}

const commandArb = fc.oneof(
  { arbitrary: fc.constant(new StartCommand()), weight: 4 },
  {
    arbitrary: fc.constantFrom('own', 'own', 'other', 'refused').map((k) => new AnswerCommand(k as 'own')),
    weight: 4,
  },
  { arbitrary: fc.constantFrom(40, 100, 250).map((ms) => new AdvanceCommand(ms)), weight: 2 },
);

describe(`FrameExchange on the request window (FC_SEED=${process.env.FC_SEED})`, () => {
  it('keeps one request on the wire, FIFO, bounded, and settles each exchange with its own reply or the right error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.commands([commandArb], { size: '+1' }), async (s, cmds) => {
        const clock = new VirtualClock();
        const pair = createMemoryPair({ names: ['poller', 'meter'] });
        await pair.open();
        const real: Real = {
          clock,
          exchange: new FrameExchange(pair.a, decodeToy, { clock, maxQueued: MAX_QUEUED }),
          meter: pair.b,
          s,
          received: [],
          outcomes: new Map(),
        };
        pair.b.on('data', (bytes) => {
          for (let i = 0; i + 2 < bytes.length; i += 3) real.received.push(bytes[i + 1]);
        });
        const model: Model = { now: 0, wire: undefined, queue: [], expected: new Map(), sent: [], next: 0 };
        await fc.scheduledModelRun(s, () => ({ model, real }), cmds);
        // Let every exchange left on the wire or queued time out, then hear every outcome.
        while (model.wire) await new AdvanceCommand(TIMEOUT_MS).run(model, real);
        for (let round = 0; round < 3; round++) {
          await flush();
          await s.waitAll();
        }
        expect(real.received).toEqual(model.sent);
        expect(new Map([...real.outcomes].sort(([a], [b]) => a - b))).toEqual(
          new Map([...model.expected].sort(([a], [b]) => a - b)),
        );
        expect(clock.pending).toBe(0);
        await pair.close();
      }),
    );
  });
});
