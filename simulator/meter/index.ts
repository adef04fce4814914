/**
 * Simulated meters: CJ/T 188 water/gas/heat meters and DL/T 645 meters with a seeded consumption model, quirks
 * and fault plans as data; glue to the RS-485 bus; and a host that serves meters on a link.
 */
export {
  CJT188_METER_KINDS,
  Cjt188Meter,
  type Cjt188MeterKind,
  type Cjt188MeterOptions,
  HEAT_KWH_PER_M3,
  normaliseCjt188Address,
} from './cjt188-meter.ts';
export {
  ConsumptionModel,
  type ConsumptionModelOptions,
  type MeterProfile,
} from './consumption.ts';
export { type CreateMeterContext, createMeter, type SimulatedMeter } from './create-meter.ts';
export { Dlt645Meter, type Dlt645MeterOptions, normaliseDlt645Address } from './dlt645-meter.ts';
export { DEFAULT_MAX_METER_EVENTS, type MeterEvent, type MeterEventKind, MeterEventLog } from './events.ts';
export {
  FAULT_KINDS,
  type FaultKind,
  FaultPlan,
  type FaultRule,
  FaultSpecError,
  type FaultTrigger,
  parseFaultSpec,
  validateFaultRules,
} from './fault-plan.ts';
export {
  type IgnoredFrame,
  type MeterAnswer,
  MeterBase,
  type MeterBaseOptions,
  otherAddress,
  type PlannedTransmission,
  type ValvePosition,
} from './meter-base.ts';
export { formatMeterEvent, MeterHost, type MeterHostOptions } from './meter-host.ts';
export { MeterOnBus, type MeterOnBusOptions } from './meter-on-bus.ts';
