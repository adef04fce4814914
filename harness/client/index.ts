/**
 * The point-read client library: connect to a relay, `read(concentrator, meter)` → reading, or a typed
 * {@link PointReadError}; reconnects with back-off; many reads in flight.
 */
export { PointReadError, type PointReadErrorCode } from './errors.ts';
export {
  PointReadClient,
  type PointReadClientEvents,
  type PointReadClientOptions,
  type ReadOptions,
} from './point-read-client.ts';
export {
  formatReadTable,
  type LatencySummary,
  type ReadAllOptions,
  type ReadOutcome,
  type ReadTarget,
  readAll,
  summariseLatency,
} from './read-all.ts';
export { resolveToken, TOKEN_ENV, type TokenSources } from './token.ts';
