import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.ts';
import type { MeterSpec } from '../scenario/types.ts';
import { ConsumptionModel } from './consumption.ts';
import { createMeter } from './create-meter.ts';

const spec = (over: Partial<MeterSpec>): MeterSpec => ({
  address: '00000000101001',
  protocol: 'cjt188',
  kind: 'cold-water',
  quirks: {},
  faults: [],
  valve: 'open',
  batteryLow: false,
  ...over,
});

describe('createMeter with a base reading', () => {
  it('starts from the scenario baseReading and goes on consuming from there (both protocols)', () => {
    const clock = new VirtualClock({ start: Date.UTC(2026, 11, 5, 4, 0) });
    const model = new ConsumptionModel({ seed: 7 });
    const water = createMeter(spec({ baseReading: 4914.06 }), { model, clock });
    const power = createMeter(
      spec({ address: '000000000042', protocol: 'dlt645', kind: 'electricity', baseReading: 17.5 }),
      {
        model,
        clock,
      },
    );
    expect(water.readingAt(clock.now())).toBe(4914.06);
    expect(power.readingAt(clock.now())).toBe(17.5);
    const plain = createMeter(spec({}), { model, clock });
    expect(plain.readingAt(clock.now())).toBe(model.readingAt('00000000101001', clock.now()));
    clock.advance(86_400_000);
    // A day later the consumption of the seed's model is added (0.15–0.9 m³ a day, ±35 %).
    const grown = water.readingAt(clock.now()) - 4914.06;
    expect(grown).toBeGreaterThan(0.05);
    expect(grown).toBeLessThan(1.3);
  });
});
