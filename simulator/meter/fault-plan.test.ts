import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../random.ts';
import { FaultPlan, parseFaultSpec, validateFaultRules } from './fault-plan.ts';

describe('parseFaultSpec', () => {
  it('reads kinds, values and triggers', () => {
    expect(parseFaultSpec('silence@every:3, late:5000@p:0.5,noise:4,bad-checksum')).toEqual([
      { kind: 'silence', when: { every: 3 } },
      { kind: 'late', when: { probability: 0.5 }, delayMs: 5000 },
      { kind: 'noise', when: { always: true }, noiseBytes: 4 },
      { kind: 'bad-checksum', when: { always: true } },
    ]);
  });
  it('names an unknown fault and a bad trigger', () => {
    expect(() => parseFaultSpec('slience')).toThrow(/unknown fault "slience"/);
    expect(() => parseFaultSpec('silence@every:0')).toThrow(/bad trigger "every:0"/);
    expect(() => parseFaultSpec('duplicate:3')).toThrow(/takes no value/);
  });
});

describe('FaultPlan', () => {
  it('fires every Nth request', () => {
    const plan = new FaultPlan(parseFaultSpec('silence@every:3'), new SeededRandom(1));
    const fired = Array.from({ length: 9 }, () => plan.next().length);
    expect(fired).toEqual([0, 0, 1, 0, 0, 1, 0, 0, 1]);
  });
  it('fires with the seeded probability, reproducibly', () => {
    const run = () => {
      const plan = new FaultPlan(parseFaultSpec('bad-checksum@p:0.3'), new SeededRandom(42));
      return Array.from({ length: 1000 }, () => plan.next().length).reduce((a, b) => a + b, 0);
    };
    expect(run()).toBe(run());
    expect(run()).toBeGreaterThan(240);
    expect(run()).toBeLessThan(360);
  });
  it('validates rules given as data', () => {
    expect(validateFaultRules([{ kind: 'silence', when: { every: 0 } }])).toEqual([
      '[0].when must be {"always":true}, {"every":N≥1} or {"probability":0..1}',
    ]);
    expect(validateFaultRules([{ kind: 'late', when: { always: true } }])).toEqual([]);
  });
});
