import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildWaterReadReply, decodeCjt188Frame, encodeCjt188 } from '../../protocols/cjt188/index.ts';
import { VirtualClock } from '../clock/index.ts';
import { createMemoryPair, type MemoryLink } from '../link/index.ts';
import { linkTransport, MeterPort } from './meter-port.ts';
import { readRequest } from './poll-schedule.ts';

// Model-based test of the concentrator's meter port on the request window (issue 9, STYLE.md habit 8) with
// fc.scheduler: forwards arrive, the meter at the other end of an in-memory link answers the request on the wire
// (its own reply) or stays silent, time passes on a virtual clock. The model is the half-duplex port: one forward
// on the wire at a time in arrival order, a bounded queue (PORT_QUEUE_FULL), the frame timeout from the moment
// the request left (silence), and a reply ending only the forward on the wire.

const FRAME_TIMEOUT_MS = 100;
const MAX_QUEUED = 2;
const address = (k: number) => `0000000010${String(k).padStart(4, '0')}`;
const forwardOf = (meter: string) => Number(meter) - 100000;

type Outcome = string; // 'frame:<k>' | 'silence' | 'PORT_QUEUE_FULL'

interface Model {
  now: number;
  wire: { k: number; sentAt: number } | undefined;
  queue: number[];
  expected: Map<number, Outcome>;
  sent: number[];
  next: number;
}
interface Real {
  clock: VirtualClock;
  port: MeterPort;
  meter: MemoryLink;
  /** Requests the meter heard, by forward number. */
  heard: number[];
  outcomes: Map<number, Outcome>;
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

function pump(m: Model, at: number): void {
  if (m.wire || m.queue.length === 0) return;
  const k = m.queue.shift() as number;
  m.wire = { k, sentAt: at };
  m.sent.push(k);
}

function end(m: Model, outcome: Outcome, at: number): void {
  if (!m.wire) return;
  m.expected.set(m.wire.k, outcome);
  m.wire = undefined;
  pump(m, at);
}

class ForwardCommand implements fc.AsyncCommand<Model, Real> {
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const k = m.next++;
    if (m.wire && m.queue.length >= MAX_QUEUED) m.expected.set(k, 'PORT_QUEUE_FULL');
    else {
      m.queue.push(k);
      pump(m, m.now);
    }
    r.port
      .forward(readRequest({ address: address(k), protocol: 'cjt188' }), { frameTimeoutMs: FRAME_TIMEOUT_MS })
      .then(
        (result) => {
          if (result.outcome !== 'frame') return r.outcomes.set(k, result.outcome);
          const reply = decodeCjt188Frame(result.reply);
          return r.outcomes.set(k, `frame:${forwardOf(reply.address)}`);
        },
        (error: { code?: string }) => r.outcomes.set(k, error.code ?? String(error)),
      );
    await flush();
  }
  toString(): string {
    return 'forward()';
  }
}

class AnswerCommand implements fc.AsyncCommand<Model, Real> {
  check(m: Model): boolean {
    return m.wire !== undefined;
  }
  async run(m: Model, r: Real): Promise<void> {
    const k = m.wire?.k as number;
    end(m, `frame:${k}`, m.now);
    const request = decodeCjt188Frame(readRequest({ address: address(k), protocol: 'cjt188' }));
    await r.meter.write(encodeCjt188(buildWaterReadReply(request, { current: k, time: null })));
    await flush();
  }
  toString(): string {
    return 'answer()';
  }
}

class AdvanceCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const to = m.now + this.ms;
    while (m.wire && m.wire.sentAt + FRAME_TIMEOUT_MS <= to)
      end(m, 'silence', m.wire.sentAt + FRAME_TIMEOUT_MS);
    m.now = to;
    // In steps, so each timed-out forward's successor is sent (and its timer set) before the next fires.
    for (let left = this.ms; left > 0; left -= 10) {
      r.clock.advance(Math.min(10, left));
      await flush();
    }
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

const commandArb = fc.oneof(
  { arbitrary: fc.constant(new ForwardCommand()), weight: 4 },
  { arbitrary: fc.constant(new AnswerCommand()), weight: 3 },
  { arbitrary: fc.constantFrom(40, 100, 250).map((ms) => new AdvanceCommand(ms)), weight: 2 },
);

describe(`MeterPort on the request window (FC_SEED=${process.env.FC_SEED})`, () => {
  it('runs one forward at a time in order, bounded, each ended by its own reply or by silence at its frame timeout', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.commands([commandArb], { size: '+1' }), async (s, cmds) => {
        const clock = new VirtualClock();
        const pair = createMemoryPair({ names: ['port', 'meter'] });
        await pair.open();
        const real: Real = {
          clock,
          port: new MeterPort({ port: 1, transport: linkTransport(pair.a), clock, maxQueued: MAX_QUEUED }),
          meter: pair.b,
          heard: [],
          outcomes: new Map(),
        };
        pair.b.on('data', (bytes) => {
          const request = decodeCjt188Frame(bytes);
          real.heard.push(forwardOf(request.address));
        });
        const model: Model = { now: 0, wire: undefined, queue: [], expected: new Map(), sent: [], next: 0 };
        await fc.scheduledModelRun(s, () => ({ model, real }), cmds);
        while (model.wire) await new AdvanceCommand(FRAME_TIMEOUT_MS).run(model, real);
        await flush();
        await s.waitAll();
        expect(real.heard).toEqual(model.sent);
        const sorted = (map: Map<number, Outcome>) => new Map([...map].sort(([a], [b]) => a - b));
        expect(sorted(real.outcomes)).toEqual(sorted(model.expected));
        expect(clock.pending).toBe(0);
        await real.port.close();
        await pair.close();
      }),
    );
  });
});
