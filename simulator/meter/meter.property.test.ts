import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildValveRequest,
  type Cjt188Frame,
  buildReadRequest as cjtRead,
  decodeCjt188Frame,
  encodeCjt188,
} from '../../protocols/cjt188/index.ts';
import {
  type Dlt645Frame,
  decodeDlt645Frame,
  buildReadRequest as dltRead,
  encodeDlt645,
} from '../../protocols/dlt645/index.ts';
import { Rs485Bus } from '../bus/index.ts';
import { VirtualClock } from '../clock/index.ts';
import { Cjt188Meter } from './cjt188-meter.ts';
import { ConsumptionModel } from './consumption.ts';
import { Dlt645Meter } from './dlt645-meter.ts';
import { MeterOnBus } from './meter-on-bus.ts';

const START = Date.parse('2023-06-01T00:00:00Z');

const fleetArb = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  protocol: fc.constantFrom('cjt188' as const, 'dlt645' as const),
  addresses: fc.uniqueArray(fc.integer({ min: 1, max: 999_999 }), { minLength: 1, maxLength: 8 }),
  diOrder: fc.constantFrom('low-first' as const, 'high-first' as const),
  preamble: fc.integer({ min: 0, max: 4 }),
});

const stepsArb = fc.array(
  fc.record({
    meter: fc.nat(),
    afterMs: fc.integer({ min: 0, max: 40 * 86_400_000 }),
    op: fc.constantFrom('read' as const, 'open' as const, 'close' as const),
  }),
  { minLength: 1, maxLength: 12 },
);

describe('simulated meters (property)', () => {
  it('every reply decodes and matches the consumption model, for random fleets and request sequences', () => {
    fc.assert(
      fc.property(fleetArb, stepsArb, (fleet, steps) => {
        const clock = new VirtualClock({ start: START });
        const model = new ConsumptionModel({ seed: fleet.seed });
        const make = (n: number) =>
          fleet.protocol === 'cjt188'
            ? new Cjt188Meter({
                address: String(n),
                model,
                clock,
                diOrder: fleet.diOrder,
                preamble: fleet.preamble,
              })
            : new Dlt645Meter({ address: String(n), model, clock, preamble: fleet.preamble });
        const meters = fleet.addresses.map(make);
        const valves = meters.map(() => 'open' as 'open' | 'closed');
        for (const step of steps) {
          clock.advance(step.afterMs);
          const now = clock.now();
          const i = step.meter % meters.length;
          const target = meters[i];
          const cjt = fleet.protocol === 'cjt188';
          const op = cjt ? step.op : 'read';
          const request = cjt
            ? encodeCjt188(
                op === 'read' ? cjtRead(target.address, '901F') : buildValveRequest(target.address, op),
              )
            : encodeDlt645(dltRead(target.address, '00010000'));
          const replies = meters.flatMap((m, j) => {
            const decoded = m.decode(request);
            if (decoded.kind !== 'frame') throw new Error('request did not decode');
            return m.respondToFrame(decoded.frame, now).map((p) => ({ j, p }));
          });
          expect(replies).toHaveLength(1);
          expect(replies[0].j).toBe(i);
          const bytes = replies[0].p.bytes;
          const expected = model.readingAt(target.modelKey, now);
          if (cjt) {
            const frame: Cjt188Frame = decodeCjt188Frame(bytes);
            expect(frame.address).toBe(target.address);
            expect(frame.preamble).toBe(fleet.preamble);
            if (op !== 'read') valves[i] = op === 'open' ? 'open' : 'closed';
            if (op === 'read') {
              if (frame.body.kind !== 'read-reply' || frame.body.data.type !== 'water')
                throw new Error('not water');
              expect(frame.body.diOrder).toBe(fleet.diOrder);
              expect(frame.body.data.current.value).toBe(expected);
              expect(frame.body.data.settlement.value).toBe(model.settlementReadingAt(target.modelKey, now));
              expect(frame.body.data.status.valve).toBe(valves[i]);
            } else {
              if (frame.body.kind !== 'write-reply') throw new Error('not a write reply');
              expect(frame.body.status?.valve).toBe(valves[i]);
            }
          } else {
            const frame: Dlt645Frame = decodeDlt645Frame(bytes);
            expect(frame.address).toBe(target.address);
            expect(frame.body).toMatchObject({ kind: 'read-reply', di: '00010000', value: expected });
          }
        }
      }),
    );
  });

  it('on the bus, each read is answered once, on time, with the model reading', async () => {
    await fc.assert(
      fc.asyncProperty(fleetArb, stepsArb, async (fleet, steps) => {
        const clock = new VirtualClock({ start: START });
        const bus = new Rs485Bus({ clock });
        const model = new ConsumptionModel({ seed: fleet.seed });
        const heard: { bytes: Uint8Array; at: number }[] = [];
        const master = bus.attach({ name: 'master', onReceive: (bytes, at) => heard.push({ bytes, at }) });
        const meters = fleet.addresses.map((n) =>
          fleet.protocol === 'cjt188'
            ? new Cjt188Meter({ address: String(n), model, clock, preamble: fleet.preamble })
            : new Dlt645Meter({ address: String(n), model, clock, preamble: fleet.preamble }),
        );
        for (const m of meters) new MeterOnBus(m, bus);
        for (const step of steps.slice(0, 4)) {
          await clock.advanceAsync(1000 + (step.afterMs % 86_400_000));
          heard.length = 0;
          const target = meters[step.meter % meters.length];
          const request =
            fleet.protocol === 'cjt188'
              ? encodeCjt188(cjtRead(target.address, '901F'))
              : encodeDlt645(dltRead(target.address, '00010000'));
          const sentAt = clock.now();
          void master.transmit(request);
          await clock.advanceAsync(2000);
          expect(heard).toHaveLength(1);
          const arrived = sentAt + bus.wireTimeMs(request.length);
          expect(heard[0].at - sentAt).toBeCloseTo(
            bus.wireTimeMs(request.length + heard[0].bytes.length) + 20,
            2,
          );
          const expected = model.readingAt(target.modelKey, arrived);
          if (fleet.protocol === 'cjt188') {
            const frame = decodeCjt188Frame(heard[0].bytes);
            if (frame.body.kind !== 'read-reply' || frame.body.data.type !== 'water')
              throw new Error('not water');
            expect(frame.body.data.current.value).toBe(expected);
          } else {
            expect(decodeDlt645Frame(heard[0].bytes).body).toMatchObject({ value: expected });
          }
        }
      }),
      { numRuns: 25 },
    );
  });
});
