import { bytesToHex, hexToBytes } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';

/**
 * Status word ST (docs/cjt188.md §1.10). First byte: D1 D0 valve (00 open, 01 closed, 11 abnormal), D2
 * battery (1 = low); the other bits and the second byte are manufacturer-defined (KINGDA `CJT_188_ST_Stuct`
 * comments, BLOG-SC "21 84"). ST is two bytes in 901F replies and KINGDA error replies; NGGW sends one byte
 * in error replies, so one byte is accepted there too.
 * @packageDocumentation
 */

/** Valve state from ST D1 D0. */
export type Cjt188ValveState = 'open' | 'closed' | 'abnormal';

/** A decoded status word. `raw` is authoritative when encoding; the other fields are derived from it. */
export interface Cjt188Status {
  valve: Cjt188ValveState;
  batteryLow: boolean;
  /** ST bytes in wire order as hex without spaces, e.g. "2184" (1 or 2 bytes). */
  raw: string;
}

const VALVE_BITS: Record<Cjt188ValveState, number> = { open: 0b00, closed: 0b01, abnormal: 0b11 };
const BATTERY_LOW_BIT = 0x04;

/**
 * ST bytes to a status. D1 D0 = `10` is not defined by KINGDA; NGGW-DOC reads D1 as "abnormal", so it is
 * reported as `'abnormal'` (the raw bits are kept).
 */
export function decodeStatus(bytes: Uint8Array): Cjt188Status {
  const first = bytes[0] ?? 0;
  const bits = first & 0b11;
  const valve: Cjt188ValveState = bits === 0b00 ? 'open' : bits === 0b01 ? 'closed' : 'abnormal';
  return { valve, batteryLow: (first & BATTERY_LOW_BIT) !== 0, raw: bytesToHex(bytes, '') };
}

/** A status to its ST bytes, checking that `valve` and `batteryLow` agree with `raw`. Throws BAD_FIELD. */
export function encodeStatus(status: Cjt188Status, what = 'status'): Uint8Array {
  if (typeof status.raw !== 'string' || !/^([0-9A-Fa-f]{2}){1,2}$/.test(status.raw)) {
    throw new ProtocolError('BAD_FIELD', `CJ/T 188 ${what}.raw "${status.raw}" must be 1 or 2 bytes of hex`);
  }
  const bytes = hexToBytes(status.raw);
  const derived = decodeStatus(bytes);
  if (derived.valve !== status.valve || derived.batteryLow !== status.batteryLow) {
    throw new ProtocolError(
      'BAD_FIELD',
      `CJ/T 188 ${what} {valve: '${status.valve}', batteryLow: ${status.batteryLow}} disagrees with raw ${status.raw}`,
    );
  }
  return bytes;
}

/** Options to make a status word from its meaning. */
export interface Cjt188StatusInit {
  /** @defaultValue 'open' */
  valve?: Cjt188ValveState;
  /** @defaultValue false */
  batteryLow?: boolean;
  /** Second ST byte, manufacturer-defined. @defaultValue 0 */
  manufacturer?: number;
}

/** Builds a two-byte status word with the given valve and battery state. */
export function makeStatus(init: Cjt188StatusInit = {}): Cjt188Status {
  const valve = init.valve ?? 'open';
  const manufacturer = init.manufacturer ?? 0;
  if (!(valve in VALVE_BITS))
    throw new ProtocolError('BAD_FIELD', `CJ/T 188 valve state "${valve}" is unknown`);
  if (!Number.isInteger(manufacturer) || manufacturer < 0 || manufacturer > 0xff) {
    throw new ProtocolError('BAD_FIELD', `CJ/T 188 status manufacturer byte ${manufacturer} is not a byte`);
  }
  const first = VALVE_BITS[valve] | (init.batteryLow ? BATTERY_LOW_BIT : 0);
  return decodeStatus(Uint8Array.of(first, manufacturer));
}
