/**
 * The point-read client library: connect to a relay, `read(concentrator, meter)` → reading, or a typed
 * {@link PointReadError}; reconnects with back-off; many reads in flight.
 */
export { PointReadError, type PointReadErrorCode } from './errors.ts';
export { formatLatency, type LatencySummary, percentile, percentiles, summariseLatency } from './latency.ts';
export {
  PointReadClient,
  type PointReadClientEvents,
  type PointReadClientOptions,
  type ReadOptions,
} from './point-read-client.ts';
export {
  formatReadTable,
  type ReadAllOptions,
  type ReadOutcome,
  type ReadTarget,
  readAll,
} from './read-all.ts';
export { resolveToken, TOKEN_ENV, type TokenSources } from './token.ts';
