import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { percentile, summariseLatency } from './latency.ts';
import { formatReadTable, type ReadOutcome } from './read-all.ts';

describe('summariseLatency', () => {
  it('never puts a percentile above the largest latency (issue 14 item 9: p99 4538.4 ms next to max 4535.1 ms)', () => {
    const s = summariseLatency([12.5, 4535.1]);
    expect(s.max).toBe(4535.1);
    expect(s.p99).toBeLessThanOrEqual(4535.1);
    expect(s.p99).toBeGreaterThan(4530);
  });

  it('orders min ≤ p50 ≤ p95 ≤ p99 ≤ max and stays within the histogram precision of the exact rank', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.001, max: 100_000, noNaN: true }), { minLength: 1, maxLength: 200 }),
        (xs) => {
          const s = summariseLatency(xs);
          expect(s.min).toBeLessThanOrEqual(s.p50);
          expect(s.p50).toBeLessThanOrEqual(s.p95);
          expect(s.p95).toBeLessThanOrEqual(s.p99);
          expect(s.p99).toBeLessThanOrEqual(s.max);
          const sorted = [...xs].sort((a, b) => a - b);
          const exact = sorted[Math.max(0, Math.ceil(0.5 * sorted.length) - 1)];
          // 3 significant digits, and 1 µs at the bottom of the range
          expect(Math.abs(percentile(xs, 50) - exact)).toBeLessThanOrEqual(exact * 0.002 + 0.002);
        },
      ),
    );
  });

  it('says nothing for no latencies: zeros in the summary, NaN for a percentile', () => {
    expect(summariseLatency([])).toEqual({ count: 0, min: 0, p50: 0, p95: 0, p99: 0, max: 0 });
    expect(percentile([], 99)).toBeNaN();
  });
});

describe('formatReadTable', () => {
  it('counts failed reads apart, with their own latencies, so a timeout does not pass for a slow read', () => {
    const target = (meter: string) => ({ concentrator: '101', meter });
    const ok = (meter: string, ms: number): ReadOutcome => ({
      target: target(meter),
      latencyMs: ms,
      reading: {
        type: 'reading',
        id: meter,
        concentrator: '101',
        meter,
        value: 1,
        unit: 'm3',
        readAt: '2026-01-01T00:00:00.000Z',
      } as ReadOutcome['reading'],
    });
    const failed: ReadOutcome = {
      target: target('3'),
      latencyMs: 10_500,
      error: { code: 'METER_TIMEOUT', message: 'no answer' },
    };
    const table = formatReadTable([ok('1', 100), ok('2', 684.4), failed]);
    const summary = table.split('\n').at(-2) ?? '';
    expect(summary).toMatch(
      /^2 of 3 read; latency p50 \d+\.\d ms, .*max 684\.4 ms; 1 failed \(.*max 10500\.0 ms\)$/,
    );
  });
});
