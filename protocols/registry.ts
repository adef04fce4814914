import { cjt188Protocol } from './cjt188/descriptor.ts';
import { dlt645Protocol } from './dlt645/descriptor.ts';
import type { MeterKind, MeterKindEntry } from './meter-protocol.ts';

/**
 * Every meter protocol meterlab speaks, one descriptor each (see meter-protocol.ts). Everything that lists
 * meter protocols — the scenario schema, archive validation, CLI choices, createMeter, auto-detect, the master's
 * point-read, the concentrator's poll, the poller — iterates this list. Adding a protocol: a folder with its
 * codec and a `descriptor.ts`, and one entry here.
 * @packageDocumentation
 */

/** The registry, in the order CLI help and error messages list the protocols. */
export const METER_PROTOCOLS = [cjt188Protocol, dlt645Protocol] as const;

/** A registry entry. */
export type RegisteredMeterProtocol = (typeof METER_PROTOCOLS)[number];
/** A meter protocol's registry name: 'cjt188' | 'dlt645'. */
export type MeterProtocolName = RegisteredMeterProtocol['name'];
/** A decoded frame of any registered meter protocol. */
export type RegisteredMeterFrame = RegisteredMeterProtocol extends infer D
  ? D extends { decode: (b: Uint8Array) => infer R }
    ? R extends { kind: 'frame'; frame: infer F }
      ? F
      : never
    : never
  : never;

/** Every registry name, for schema enums and CLI choices. */
export const meterProtocolNames: readonly MeterProtocolName[] = METER_PROTOCOLS.map((p) => p.name);

/** True when `name` is a registered meter protocol. */
export function isMeterProtocolName(name: unknown): name is MeterProtocolName {
  return typeof name === 'string' && (meterProtocolNames as readonly string[]).includes(name);
}

/** "cjt188 or dlt645", for messages. */
export function meterProtocolList(joiner = 'or'): string {
  const names = [...meterProtocolNames];
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} ${joiner} ${names.at(-1)}`;
}

/** The descriptor of `name`. Throws TypeError naming the registered protocols when there is none. */
export function meterProtocol<N extends MeterProtocolName>(
  name: N,
): Extract<RegisteredMeterProtocol, { name: N }>;
export function meterProtocol(name: string): RegisteredMeterProtocol;
export function meterProtocol(name: string): RegisteredMeterProtocol {
  const found = METER_PROTOCOLS.find((p) => p.name === name);
  if (!found) {
    throw new TypeError(`meter protocol "${String(name)}" is not one of ${meterProtocolList()}`);
  }
  return found;
}

/** The protocols that cover `kind` (CJ/T 188 for water, heat and gas; DL/T 645 for electricity). */
export function protocolsForKind(kind: MeterKind): RegisteredMeterProtocol[] {
  return METER_PROTOCOLS.filter((p) => (p.kinds as readonly MeterKindEntry[]).some((k) => k.kind === kind));
}

/** True when `protocol` covers `kind`. */
export function coversKind(protocol: MeterProtocolName, kind: MeterKind): boolean {
  return (meterProtocol(protocol).kinds as readonly MeterKindEntry[]).some((k) => k.kind === kind);
}
