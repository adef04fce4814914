import type { Clock } from '../clock/clock.ts';
import type { MeterSpec } from '../scenario/types.ts';
import { Cjt188Meter, type Cjt188MeterKind } from './cjt188-meter.ts';
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
  if (spec.protocol === 'dlt645') return new Dlt645Meter(common);
  if (spec.protocol !== 'cjt188') {
    throw new TypeError(`"protocol" must be 'cjt188' or 'dlt645', got ${String(spec.protocol)}`);
  }
  if (spec.kind === 'electricity') {
    throw new TypeError(
      `meter ${spec.address}: CJ/T 188 has no electricity meter type; use protocol 'dlt645'`,
    );
  }
  return new Cjt188Meter({ ...common, kind: spec.kind as Cjt188MeterKind, diOrder: spec.quirks?.diOrder });
}
