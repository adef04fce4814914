export { generateFleet, type QuickFleetOptions } from './generate-fleet.ts';
export {
  DEFAULT_MASTER,
  DEFAULT_SERIAL,
  loadScenarioFile,
  parseScenario,
  ScenarioError,
} from './load-scenario.ts';
export { SCENARIO_SCHEMA } from './schema.ts';
export * from './types.ts';
