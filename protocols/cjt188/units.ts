import { bcdToNumber, numberToBcd } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';

/**
 * Unit codes (docs/cjt188.md §1.9). The base list is KINGDA `CJT_188_UnitType`; the ×10/×100 steps and the
 * energy-per-hour codes come from NGGW `defs.rs` ("CJ/T 188-2004 Table 13 and CJ/T 188-2018 Table 20", impl.).
 * Where they clash NGGW wins: `36` is m³/h×10 there, volts in KINGDA's vendor extension.
 * @packageDocumentation
 */

/** Unit names by code. Strings are ASCII ("m3", not "m³") so they survive any terminal or log. */
export const CJT188_UNITS: Readonly<Record<number, string>> = {
  1: 'J',
  2: 'Wh',
  3: 'Wh*10',
  4: 'Wh*100',
  5: 'kWh',
  6: 'kWh*10',
  7: 'kWh*100',
  8: 'MWh',
  9: 'MWh*10',
  10: 'MWh*100',
  11: 'kJ',
  12: 'kJ*10',
  13: 'kJ*100',
  14: 'MJ',
  15: 'MJ*10',
  16: 'MJ*100',
  17: 'GJ',
  18: 'GJ*10',
  19: 'GJ*100',
  20: 'W',
  21: 'W*10',
  22: 'W*100',
  23: 'kW',
  24: 'kW*10',
  25: 'kW*100',
  26: 'MW',
  27: 'MW*10',
  28: 'MW*100',
  41: 'L',
  42: 'L*10',
  43: 'L*100',
  44: 'm3',
  45: 'm3*10',
  46: 'm3*100',
  50: 'L/h',
  51: 'L/h*10',
  52: 'L/h*100',
  53: 'm3/h',
  54: 'm3/h*10',
  55: 'm3/h*100',
  64: 'J/h',
  67: 'kJ/h',
  68: 'kJ/h*10',
  69: 'kJ/h*100',
  70: 'MJ/h',
  71: 'MJ/h*10',
  72: 'MJ/h*100',
  73: 'GJ/h',
  74: 'GJ/h*10',
  75: 'GJ/h*100',
};

/** Name given to a unit code missing from {@link CJT188_UNITS}; the code itself is kept in `unitCode`. */
export const CJT188_UNKNOWN_UNIT = 'unknown';

/** The code for cubic metres, the unit of water and gas volumes (`2C`, every 901F capture). */
export const CJT188_UNIT_M3 = 0x2c;

/** A number with its unit, as BCD value + unit byte on the wire. */
export interface Cjt188Quantity {
  /** The value with its implied decimals applied (`00 77 66 55` with 2 decimals → 556677). */
  value: number;
  /** Unit name from {@link CJT188_UNITS}, or "unknown". */
  unit: string;
  /** The raw unit byte, kept so unknown codes round-trip. */
  unitCode: number;
}

/** The name of a unit code. */
export function unitName(code: number): string {
  return CJT188_UNITS[code] ?? CJT188_UNKNOWN_UNIT;
}

/** Unit codes by name, the reverse of {@link CJT188_UNITS} (lowest code first, should a name repeat). */
const UNIT_CODES = new Map<string, number>();
for (const [code, unit] of Object.entries(CJT188_UNITS)) {
  if (!UNIT_CODES.has(unit)) UNIT_CODES.set(unit, Number(code));
}

/** The code of a unit name ("m3" → 2CH). Throws BAD_FIELD for a name not in the table. */
export function unitCode(name: string): number {
  const code = UNIT_CODES.get(name);
  if (code === undefined) {
    throw new ProtocolError('BAD_FIELD', `CJ/T 188 unit "${name}" is not in the unit table`);
  }
  return code;
}

/** Checks that `unit` names `unitCode` (the encoder trusts the code; a disagreement is a caller bug). */
export function checkUnit(q: Pick<Cjt188Quantity, 'unit' | 'unitCode'>, what: string): void {
  if (!Number.isInteger(q.unitCode) || q.unitCode < 0 || q.unitCode > 0xff) {
    throw new ProtocolError('BAD_FIELD', `CJ/T 188 ${what} unit code ${q.unitCode} is not a byte`);
  }
  if (unitName(q.unitCode) !== q.unit) {
    throw new ProtocolError(
      'BAD_FIELD',
      `CJ/T 188 ${what} unit "${q.unit}" does not match unit code 0x${hex2(q.unitCode)} ("${unitName(q.unitCode)}")`,
    );
  }
}

/**
 * Reads `size` BCD bytes (LE) then a unit byte — the order of every value in the standard layouts
 * (KINGDA `CJT_188_MeterData_Struct`, docs/cjt188.md §1.8). Throws BAD_BCD naming `what`.
 */
export function decodeQuantity(bytes: Uint8Array, at: number, size: number, decimals: number, what: string) {
  const value = bcdToNumber(bytes.subarray(at, at + size), decimals, `CJ/T 188 ${what}`);
  const code = bytes[at + size];
  return { value, unit: unitName(code), unitCode: code } satisfies Cjt188Quantity;
}

/** Writes a {@link Cjt188Quantity} as `size` BCD bytes with `decimals` implied decimals, then its unit code. */
export function encodeQuantity(q: Cjt188Quantity, size: number, decimals: number, what: string): Uint8Array {
  checkUnit(q, what);
  const out = new Uint8Array(size + 1);
  out.set(numberToBcd(q.value, size, decimals, `CJ/T 188 ${what}`));
  out[size] = q.unitCode;
  return out;
}

/** Two upper-case hex digits. @internal */
export function hex2(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, '0');
}
