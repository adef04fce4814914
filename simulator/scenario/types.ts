import type { MeterKind } from '../../protocols/meter-protocol.ts';
import { type MeterProtocolName, meterProtocol } from '../../protocols/registry.ts';
import type { FaultRule } from '../meter/fault-plan.ts';

/** Meter protocols on the RS-485 side: the names of the meter-protocol registry (protocols/registry.ts). */
export type MeterProtocol = MeterProtocolName;

/**
 * Meter kinds a scenario can ask for (protocols/meter-protocol.ts); each protocol covers some of them (CJ/T 188
 * water, heat and gas with their meter type T, docs/cjt188.md §1.3; DL/T 645 electricity).
 */
export type { MeterKind };

export interface SerialSettingsSpec {
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
}

/** How a concentrator port reaches its meters. */
export type PortLinkSpec =
  /** Meters in the same process on a simulated bus: the fast default. */
  | { kind: 'memory' }
  /** A socat pty pair: the concentrator opens one end with serialport, the meters' bus sits on the other. */
  | { kind: 'pty' }
  /** A real serial device (USB-RS485 adapter) with real meters behind it; no simulated meters on this port. */
  | { kind: 'serial'; path: string; echoDiscard?: boolean; rts?: boolean };

export interface MeterQuirks {
  /** CJ/T 188 DI byte order on the wire (docs/cjt188.md §1.6). @defaultValue 'low-first' */
  diOrder?: 'high-first' | 'low-first';
  /** FE bytes before each reply. @defaultValue 2 */
  preamble?: number;
  /** Extra time before replying, ms. @defaultValue 0 */
  replyDelayMs?: number;
}

export interface MeterSpec {
  /** Digits in human order, padded to the protocol's width: 14 for CJ/T 188, 12 for DL/T 645. */
  address: string;
  protocol: MeterProtocol;
  kind: MeterKind;
  quirks: MeterQuirks;
  faults: FaultRule[];
  valve: 'open' | 'closed';
  batteryLow: boolean;
  /**
   * The meter's reading when it is made (m³ for water and gas, kWh for heat and electricity): the meter
   * starts from this value and the seed's consumption model adds to it from then on, as after a CJ/T 188
   * base-reading write (DI A016, docs/cjt188.md). `meterlab learn` writes each meter's last recorded reading here, so
   * look-alike meters answer what the real ones did. @defaultValue the consumption model's reading alone
   */
  baseReading?: number;
}

export interface PortSpec {
  /** Concentrator port number as AFN 10 F1 addresses it (1–31). */
  port: number;
  serial: SerialSettingsSpec;
  link: PortLinkSpec;
  /** Model the time frames take on the wire (bytes × bits per char / baud). @defaultValue true */
  wireTiming: boolean;
  /** Time a meter waits after a request before it answers, ms. @defaultValue 20 */
  turnaroundMs: number;
  meters: MeterSpec[];
}

export type UpstreamSpec =
  | { mode: 'client'; host: string; port: number }
  | { mode: 'server'; host: string; port: number };

export interface ConcentratorSpec {
  /** A1 (4 digits) + A2 (5 decimal digits), e.g. "017102082": the id the master and the relay use. */
  id: string;
  /** Area code, 4 BCD digits. */
  a1: string;
  /** Terminal address, 1..65535. */
  a2: number;
  /** A short name for point-reads, such as "101". */
  alias?: string;
  upstream: UpstreamSpec;
  heartbeatSeconds: number;
  /** How often the concentrator polls its meters; 0 = never. @defaultValue 0 */
  pollMinutes: number;
  ports: PortSpec[];
}

/** A validated, normalised fleet: every default filled in. */
export interface Scenario {
  name: string;
  seed: number;
  concentrators: ConcentratorSpec[];
}

/** The fleet as one JSON line (`--print-fleet`), so scripts know what to read; also loadable as an archive. */
export interface FleetSummary {
  concentrators: {
    id: string;
    alias?: string;
    a1: string;
    a2: number;
    /** `kind` is there when it is not the protocol's default kind (cold water for CJ/T 188). */
    ports: { port: number; meters: { address: string; protocol: MeterProtocol; kind?: MeterKind }[] }[];
  }[];
}

/** Builds the `--print-fleet` summary of a scenario. */
export function fleetSummary(scenario: Scenario): FleetSummary {
  return {
    concentrators: scenario.concentrators.map((c) => ({
      id: c.id,
      ...(c.alias ? { alias: c.alias } : {}),
      a1: c.a1,
      a2: c.a2,
      ports: c.ports.map((p) => ({
        port: p.port,
        meters: p.meters.map((m) => ({
          address: m.address,
          protocol: m.protocol,
          ...(m.kind === meterProtocol(m.protocol).defaultKind ? {} : { kind: m.kind }),
        })),
      })),
    })),
  };
}

/** "017102082" from A1 "0171" and A2 2082. */
export function concentratorId(a1: string, a2: number): string {
  return `${a1}${String(a2).padStart(5, '0')}`;
}
