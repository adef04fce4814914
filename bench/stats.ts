/** Small helpers shared by the benchmarks: percentiles, formatting, timing. */

/** Percentiles come from the one HDR-histogram summary the commands use too (harness/client/latency.ts). */
export { percentile } from '../harness/client/latency.ts';

/** Rounds for printing: 3 significant decimals for small numbers, integers for large ones. */
export function round(value: number, decimals = 2): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/** Runs `fn` repeatedly for at least `minMs` and returns the best of `rounds` rounds, in ms per call. */
export function bestOf(fn: () => void, rounds = 5): number {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    fn();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    best = Math.min(best, ms);
  }
  return best;
}
