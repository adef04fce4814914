import hdr from 'hdr-histogram-js';

/** Latency figures of a set of reads, in ms. Every percentile lies between `min` and `max`. */
export interface LatencySummary {
  count: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * Percentiles from an HDR histogram (hdr-histogram-js: 1 µs to 10 min, 3 significant digits), the one
 * percentile implementation of the project — commands and benches alike (issue 14 item 17).
 *
 * A histogram answers with the upper edge of a value's bucket, which can lie a little above the largest value
 * recorded (a p99 of 4538.4 ms next to a max of 4535.1 ms, issue 14 item 9). The exact min and max are kept
 * beside it and every percentile is clamped between them.
 */
export function summariseLatency(latenciesMs: readonly number[]): LatencySummary {
  if (latenciesMs.length === 0) return { count: 0, min: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  const [p50, p95, p99] = percentiles(latenciesMs, [50, 95, 99]);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const ms of latenciesMs) {
    min = Math.min(min, ms);
    max = Math.max(max, ms);
  }
  return { count: latenciesMs.length, min, p50, p95, p99, max };
}

/** The p-th percentile (0–100) of `values` through the same histogram; NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  return percentiles(values, [p])[0];
}

/** Several percentiles (0–100) of `values` from one histogram, each clamped to the exact min and max. */
export function percentiles(values: readonly number[], ps: readonly number[]): number[] {
  if (values.length === 0) return ps.map(() => Number.NaN);
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const ms of values) {
    histogram.recordValue(Math.min(600_000_000, Math.max(1, Math.round(ms * 1000))));
    min = Math.min(min, ms);
    max = Math.max(max, ms);
  }
  const result = ps.map((p) => Math.min(max, Math.max(min, histogram.getValueAtPercentile(p) / 1000)));
  histogram.destroy();
  return result;
}

/** `p50 1.2 ms, p95 3.4 ms, p99 5.6 ms, max 7.8 ms`. */
export function formatLatency(s: LatencySummary): string {
  return `p50 ${s.p50.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms`;
}
