import { parseScenario } from './load-scenario.ts';
import type { MeterProtocol, Scenario } from './types.ts';

export interface QuickFleetOptions {
  concentrators: number;
  metersPerPort: number;
  /** @defaultValue 1 */
  ports?: number;
  /** @defaultValue 'cjt188' */
  protocol?: MeterProtocol;
  master: { host: string; port: number };
  /** @defaultValue 60 */
  heartbeatSeconds?: number;
  /** @defaultValue 1 */
  seed?: number;
  /** Model wire time on the simulated buses. @defaultValue true */
  wireTiming?: boolean;
}

/**
 * The fleet of `meterlab sim --concentrators N --meters-per-port M`: concentrators A1 "0001", A2 1..N; meter
 * addresses are <concentrator number><port><meter number> so that each is unique and readable ("101001" is
 * concentrator 1, port 01, meter 001, as in the seed's example). Goes through the same validation as a file.
 */
export function generateFleet(options: QuickFleetOptions): Scenario {
  const ports = options.ports ?? 1;
  if (
    !Number.isInteger(options.concentrators) ||
    options.concentrators < 1 ||
    options.concentrators > 65535
  ) {
    throw new TypeError(`"concentrators" must be 1..65535, got ${String(options.concentrators)}`);
  }
  if (!Number.isInteger(options.metersPerPort) || options.metersPerPort < 0 || options.metersPerPort > 999) {
    throw new TypeError(`"metersPerPort" must be 0..999, got ${String(options.metersPerPort)}`);
  }
  if (!Number.isInteger(ports) || ports < 1 || ports > 31)
    throw new TypeError(`"ports" must be 1..31, got ${ports}`);
  const concentrators = Array.from({ length: options.concentrators }, (_, i) => ({
    a1: '0001',
    a2: i + 1,
    alias: String(100 + i + 1),
    heartbeatSeconds: options.heartbeatSeconds ?? 60,
    upstream: { mode: 'client' as const, ...options.master },
    ports: Array.from({ length: ports }, (_, p) => ({
      port: p + 1,
      protocol: options.protocol ?? 'cjt188',
      wireTiming: options.wireTiming ?? true,
      meters: Array.from({ length: options.metersPerPort }, (_, m) => ({
        address: `${i + 1}${String(p + 1).padStart(2, '0')}${String(m + 1).padStart(3, '0')}`,
      })),
    })),
  }));
  return parseScenario(
    { name: 'quick fleet', seed: options.seed ?? 1, master: options.master, concentrators },
    'command-line fleet',
  );
}
