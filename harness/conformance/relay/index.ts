/**
 * The relay role of `meterlab conform` (issue 11): cases `RLY-*` against a point-read WebSocket endpoint.
 */
export {
  BUILTIN_RELAY_CASES_DIR,
  fillSend,
  loadRelayCaseFile,
  loadRelayDataCases,
  mismatchOf,
} from './data-cases.ts';
export { CASES, padded, type RelayCase } from './relay-cases.ts';
export { listRelayCases, type RelayRoleOptions, runRelayRole } from './relay-command.ts';
export { RelayCaseContext, type RelaySuiteConfig, type TokenUse } from './relay-context.ts';
export {
  parseRelayTarget,
  type RelayCatalogueOptions,
  type RelaySuiteOptions,
  type RelayTarget,
  relayCatalogue,
  runRelaySuite,
} from './relay-suite.ts';
