import {
  coversKind,
  isMeterProtocolName,
  type MeterProtocolName,
  meterProtocol,
  meterProtocolList,
  protocolsForKind,
} from '../../protocols/registry.ts';
import type { Clock } from '../clock/clock.ts';
import type { MeterSpec } from '../scenario/types.ts';
import { Cjt188Meter, type Cjt188MeterKind, type Cjt188MeterOptions } from './cjt188-meter.ts';
import type { ConsumptionModel } from './consumption.ts';
import { Dlt645Meter } from './dlt645-meter.ts';

/** A simulated meter of either protocol. */
export type SimulatedMeter = Cjt188Meter | Dlt645Meter;

/** What a scenario's meter description does not say: the shared model, clock and seed. */
export interface CreateMeterContext {
  model: ConsumptionModel;
  clock?: Clock;
  /** @defaultValue the model's seed */
  seed?: number | string;
  /** @defaultValue 1000 */
  maxEvents?: number;
}

/**
 * Makes the meter a scenario's {@link MeterSpec} describes. A CJ/T 188 meter of kind 'electricity' (which
 * CJ/T 188 has no type for) is refused, as is a DL/T 645 meter with a CJ/T 188 DI-order quirk it cannot use
 * (the quirk is ignored: DL/T 645 has one DI order).
 * @throws TypeError naming the field.
 */
export function createMeter(spec: MeterSpec, context: CreateMeterContext): SimulatedMeter {
  const common = {
    address: spec.address,
    model: context.model,
    clock: context.clock,
    seed: context.seed,
    maxEvents: context.maxEvents,
    faults: spec.faults,
    preamble: spec.quirks?.preamble,
    replyDelayMs: spec.quirks?.replyDelayMs,
    valve: spec.valve,
    batteryLow: spec.batteryLow,
  };
  if (!isMeterProtocolName(spec.protocol)) {
    throw new TypeError(`"protocol" must be ${meterProtocolList()}, got ${String(spec.protocol)}`);
  }
  if (!coversKind(spec.protocol, spec.kind)) {
    const others = protocolsForKind(spec.kind).map((p) => `'${p.name}'`);
    throw new TypeError(
      `meter ${spec.address}: ${meterProtocol(spec.protocol).title} has no ${spec.kind} meter type${others.length > 0 ? `; use protocol ${others.join(' or ')}` : ''}`,
    );
  }
  const meter = SIMULATORS[spec.protocol](spec, common);
  if (spec.baseReading !== undefined) {
    // The same offset a base-reading write sets: the model's consumption goes on from the given value.
    meter.baseOffset = spec.baseReading - context.model.readingAt(meter.modelKey, meter.clock.now());
  }
  return meter;
}

type CommonOptions = Omit<Cjt188MeterOptions, 'kind' | 'diOrder'>;

/**
 * The simulated meter of each registered protocol. Keyed by the registry's names: a protocol added to the
 * registry without a simulator here is a type error.
 */
const SIMULATORS: Record<MeterProtocolName, (spec: MeterSpec, common: CommonOptions) => SimulatedMeter> = {
  cjt188: (spec, common) =>
    new Cjt188Meter({ ...common, kind: spec.kind as Cjt188MeterKind, diOrder: spec.quirks?.diOrder }),
  dlt645: (_spec, common) => new Dlt645Meter(common),
};
