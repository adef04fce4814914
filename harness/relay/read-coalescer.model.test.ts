import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WithdrawSignal } from '../../simulator/window/index.ts';
import { type CoalescedRead, ReadCoalescer } from './read-coalescer.ts';

// Model-based test of read sharing with withdrawal (issue 13 item 5), with fc.scheduler deciding when each field
// read ends: clients ask for meters, leave their reads (their socket closed), and field reads settle. The model
// says which fetch each request joins, and that a fetch is withdrawn (its signal aborts) exactly when every request
// that joined it has left before it settled — never while one still wants it — and that a request after a
// withdrawal starts a fresh fetch instead of joining the withdrawn one.

const METERS = ['1', '2'];

interface ModelFetch {
  n: number;
  meter: string;
  /** Requests that joined and have not left. */
  wanting: Set<number>;
  settled: boolean;
  withdrawn: boolean;
}
interface Model {
  fetches: ModelFetch[];
  /** meter → the fetch new requests join */
  current: Map<string, number>;
  /** request number → its fetch */
  requestFetch: number[];
  left: Set<number>;
}
interface Real {
  coalescer: ReadCoalescer<{ concentrator: string; meter: string }, string>;
  s: fc.Scheduler;
  signals: WithdrawSignal[];
  handles: CoalescedRead<string>[];
  results: Map<number, string>;
  settledFetches: number[];
}

const settle = async () => {
  for (let i = 0; i < 2; i++) await new Promise<void>((r) => setImmediate(r));
};

function check(m: Model, r: Real): void {
  expect(r.signals.length).toBe(m.fetches.length);
  for (const f of m.fetches) expect([f.n, r.signals[f.n].aborted]).toEqual([f.n, f.withdrawn]);
  expect(r.coalescer.size).toBe(m.current.size);
  for (const [k, fetch] of m.requestFetch.entries()) {
    const f = m.fetches[fetch];
    if (f.settled) expect([k, r.results.get(k)]).toEqual([k, `fetch ${fetch}`]);
  }
}

class AskCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly meter: string) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const k = m.requestFetch.length;
    const handle = r.coalescer.read({ concentrator: '101', meter: this.meter });
    r.handles.push(handle);
    void handle.result.then((v) => r.results.set(k, v));
    let fetch = m.current.get(this.meter);
    expect(handle.shared).toBe(fetch !== undefined);
    if (fetch === undefined) {
      fetch = m.fetches.length;
      m.fetches.push({ n: fetch, meter: this.meter, wanting: new Set(), settled: false, withdrawn: false });
      m.current.set(this.meter, fetch);
    }
    m.fetches[fetch].wanting.add(k);
    m.requestFetch.push(fetch);
    await settle();
    check(m, r);
  }
  toString(): string {
    return `ask(${this.meter})`;
  }
}

class LeaveCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check(m: Readonly<Model>): boolean {
    return m.requestFetch.length > 0;
  }
  async run(m: Model, r: Real): Promise<void> {
    const k = this.pick % m.requestFetch.length;
    r.handles[k].leave();
    await settle();
    const f = m.fetches[m.requestFetch[k]];
    if (!f.settled && !f.withdrawn && !m.left.has(k)) {
      f.wanting.delete(k);
      if (f.wanting.size === 0) {
        f.withdrawn = true;
        m.current.delete(f.meter);
      }
    }
    m.left.add(k);
    check(m, r);
  }
  toString(): string {
    return `leave(request #${this.pick})`;
  }
}

class FieldCommand implements fc.AsyncCommand<Model, Real> {
  check(m: Readonly<Model>): boolean {
    return m.fetches.some((f) => !f.settled);
  }
  async run(m: Model, r: Real): Promise<void> {
    const before = r.settledFetches.length;
    await r.s.waitOne();
    await settle();
    expect(r.settledFetches.length).toBe(before + 1);
    const f = m.fetches[r.settledFetches[before]];
    expect(f.settled).toBe(false);
    f.settled = true;
    if (m.current.get(f.meter) === f.n) m.current.delete(f.meter);
    check(m, r);
  }
  toString(): string {
    return 'field read ends';
  }
}

describe(`ReadCoalescer withdrawal model (FC_SEED=${process.env.FC_SEED})`, () => {
  it('withdraws a shared read exactly when its last requester leaves, and never hands a withdrawn read to a newcomer', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.commands(
          [
            fc.constantFrom(...METERS).map((meter) => new AskCommand(meter)),
            fc.nat().map((n) => new LeaveCommand(n)),
            fc.constant(new FieldCommand()),
          ],
          { size: '+1' },
        ),
        async (s, cmds) => {
          const real: Real = {
            s,
            signals: [],
            handles: [],
            results: new Map(),
            settledFetches: [],
            coalescer: new ReadCoalescer((_req, signal) => {
              const n = real.signals.length;
              real.signals.push(signal);
              return s.schedule(Promise.resolve(`fetch ${n}`), `field read ${n}`).then((v) => {
                real.settledFetches.push(n);
                return v;
              });
            }),
          };
          const model: Model = { fetches: [], current: new Map(), requestFetch: [], left: new Set() };
          await fc.asyncModelRun(() => ({ model, real }), cmds);
          const field = new FieldCommand();
          while (field.check(model)) await field.run(model, real);
          // Every request got its fetch's one result, whether or not it had left.
          expect(real.results.size).toBe(model.requestFetch.length);
        },
      ),
    );
  });
});
