import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConsumptionModel } from './consumption.ts';

const T2026 = Date.UTC(2026, 10, 21, 4, 0, 0);
const meterArb = fc.stringMatching(/^[0-9]{14}$/);
const timeArb = fc.integer({ min: Date.UTC(2019, 0, 1), max: Date.UTC(2040, 0, 1) });

describe('ConsumptionModel', () => {
  it('is a pure function of seed, meter and time', () => {
    const a = new ConsumptionModel({ seed: 7 });
    const b = new ConsumptionModel({ seed: 7 });
    expect(a.readingAt('00000000101001', T2026)).toBe(b.readingAt('00000000101001', T2026));
    expect(new ConsumptionModel({ seed: 8 }).readingAt('00000000101001', T2026)).not.toBe(
      a.readingAt('00000000101001', T2026),
    );
  });

  it('never decreases', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        meterArb,
        timeArb,
        fc.integer({ min: 0, max: 400 * 86_400_000 }),
        (seed, m, t, dt) => {
          const model = new ConsumptionModel({ seed });
          expect(model.readingAt(m, t + dt)).toBeGreaterThanOrEqual(model.readingAt(m, t));
        },
      ),
    );
  });

  it('uses a household amount per day and less at night than in the evening', () => {
    const model = new ConsumptionModel({ seed: 1, utcOffsetMinutes: 0 });
    const m = '00000000101001';
    const day = Date.UTC(2026, 0, 10);
    const used = model.exactReadingAt(m, day + 86_400_000) - model.exactReadingAt(m, day);
    expect(used).toBeGreaterThan(0.09);
    expect(used).toBeLessThan(1.3);
    const night = model.exactReadingAt(m, day + 4 * 3.6e6) - model.exactReadingAt(m, day + 2 * 3.6e6);
    const evening = model.exactReadingAt(m, day + 20 * 3.6e6) - model.exactReadingAt(m, day + 18 * 3.6e6);
    expect(evening).toBeGreaterThan(night * 5);
  });

  it('freezes the settlement value at local midnight of the settlement day', () => {
    const model = new ConsumptionModel({ seed: 3, settlementDay: 1 });
    const m = '00000000101002';
    const midnightLocal = Date.UTC(2026, 10, 1) - 8 * 3.6e6;
    expect(model.settlementReadingAt(m, T2026)).toBe(model.readingAt(m, midnightLocal));
    expect(model.dailyFrozenAt(m, T2026)).toBe(model.readingAt(m, Date.UTC(2026, 10, 21) - 8 * 3.6e6));
  });

  it('fits the 4-byte BCD field with 2 decimals for decades', () => {
    const model = new ConsumptionModel({ seed: 99 });
    expect(model.readingAt('99999999999999', Date.UTC(2045, 0, 1))).toBeLessThan(999_999.99);
  });

  it('rejects an impossible settlement day', () => {
    expect(() => new ConsumptionModel({ seed: 1, settlementDay: 31 })).toThrow(/settlementDay/);
  });
});
