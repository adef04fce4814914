import { VirtualClock } from '../../../simulator/clock/virtual-clock.ts';
import { createMemoryPair, type MemoryPair } from '../../../simulator/link/memory-pair.ts';
import {
  Cjt188Meter,
  ConsumptionModel,
  Dlt645Meter,
  type FaultRule,
  MeterHost,
} from '../../../simulator/meter/index.ts';
import { runMeterSuite } from '../meter/meter-suite.ts';
import { addressBytes, type MeterSuiteProtocol } from '../meter/meter-wire.ts';
import type { SuiteReport } from '../types.ts';
import { DefectProxy, type MeterDefect } from './defect-proxy.ts';
import { driveVirtualClock } from './drive-virtual-clock.ts';

/**
 * A simulated meter for a suite to test, on in-memory links and a virtual clock: faithful, given a fault plan,
 * or behind a {@link DefectProxy}. What the proof table runs every case against.
 * @packageDocumentation
 */

export const BENCH_ADDRESS = { cjt188: '00000000101001', dlt645: '000000101001' } as const;
/** 2026-03-10 08:00 UTC: the clock DIs and the time sync need a real calendar date. */
export const BENCH_START = Date.parse('2026-03-10T08:00:00Z');

/** What to give the simulated meter. */
export interface BenchDevice {
  faults?: FaultRule[];
  defects?: MeterDefect[];
  /** Put the proxy in even without defects (to show the proxy alone changes no verdict). */
  proxy?: boolean;
}

/** Runs the meter suite (selected by `cases`) against a simulated meter on a virtual clock. */
export async function runAgainstSimulatedMeter(
  protocol: MeterSuiteProtocol,
  device: BenchDevice,
  cases?: string,
  casesDirs?: string[],
): Promise<SuiteReport> {
  const clock = new VirtualClock({ start: BENCH_START });
  const address = BENCH_ADDRESS[protocol];
  const model = new ConsumptionModel({ seed: 7 });
  const common = { address, model, clock, faults: device.faults ?? [], seed: 7 };
  const meter = protocol === 'cjt188' ? new Cjt188Meter(common) : new Dlt645Meter(common);
  const useProxy = device.proxy === true || (device.defects?.length ?? 0) > 0;
  const suiteSide: MemoryPair = createMemoryPair({ names: ['suite', 'device'] });
  await suiteSide.open();
  let meterSide: MemoryPair | undefined;
  let proxy: DefectProxy | undefined;
  let hostLink = suiteSide.b;
  if (useProxy) {
    meterSide = createMemoryPair({ names: ['proxy', 'meter'] });
    await meterSide.open();
    proxy = new DefectProxy({
      protocol,
      outer: suiteSide.b,
      inner: meterSide.a,
      meterAddress: addressBytes(protocol, address),
      meterType: protocol === 'cjt188' ? 0x10 : undefined,
      clock,
      defects: device.defects ?? [],
    });
    hostLink = meterSide.b;
  }
  const host = await MeterHost.start({ link: hostLink, meters: [meter], clock, wire: 'simulated' });
  try {
    return await driveVirtualClock(
      clock,
      runMeterSuite(suiteSide.a, { protocol, address, cases, clock, casesDirs }),
    );
  } finally {
    proxy?.detach();
    await host.close();
    await suiteSide.close();
    await meterSide?.close();
  }
}
