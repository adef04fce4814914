/**
 * Conformance suites (issue 11): numbered, graded cases against a device under test, with the decoded,
 * timestamped exchange as evidence, and console / JUnit XML / HTML / JSON reports. Today: the meter role
 * (CJ/T 188, DL/T 645).
 */
export { concentratorCatalogue, runConcentratorSuite } from './concentrator/concentrator-suite.ts';
export { loadConcentratorCaseFile, loadConcentratorDataCases } from './concentrator/data-cases.ts';
export { ConformanceError, type ConformanceErrorCode } from './errors.ts';
export {
  type MasterSuiteOptions,
  masterSuiteCatalogue,
  runMasterSuite,
} from './master/master-suite.ts';
export { type MasterTrigger, shellTrigger, type TriggerOutput, type TriggerVars } from './master/trigger.ts';
export { loadCaseFile, loadDataCases } from './meter/data-cases.ts';
export { type MeterCase, meterCodeCases } from './meter/meter-cases.ts';
export { MeterCaseContext, type MeterSuiteConfig } from './meter/meter-context.ts';
export { type MeterSuiteOptions, meterCatalogue, runMeterSuite } from './meter/meter-suite.ts';
export { METER_SUITE_PROTOCOLS, type MeterSuiteProtocol } from './meter/meter-wire.ts';
export {
  CASES as RELAY_CASES,
  parseRelayTarget,
  type RelaySuiteOptions,
  relayCatalogue,
  runRelaySuite,
} from './relay/index.ts';
export { ConsoleReporter, type ConsoleReporterOptions } from './reports/console.ts';
export { htmlReport } from './reports/html.ts';
export { junitXml } from './reports/junit.ts';
export {
  CONFORM_ROLES,
  type ConformIo,
  type ConformOptions,
  parseSerialTarget,
  runConformance,
} from './run-conformance.ts';
export { type ConformanceCase, runCases, selectCases, type Verdict } from './runner.ts';
export { Trace } from './trace.ts';
export * from './types.ts';
