import { ProtocolError } from '../errors.ts';

/**
 * Data identifiers (docs/cjt188.md §1.7) and the DI byte-order problem (docs/cjt188.md §1.6): both `90 1F`
 * (high byte first; NGGW's 2004 encoding, BLOG-JY, AIXI self-tests) and `1F 90` (low byte first; BLOG-SC,
 * AIXI's final read path, TMNL) occur on the wire, even from 2004-era meters. The decoder recognises a DI by
 * table lookup in both orders and reports which one it saw; the encoder writes the order the frame asks for.
 * @packageDocumentation
 */

/** Byte order of the DI on the wire: `'high-first'` is `90 1F`, `'low-first'` is `1F 90`. */
export type Cjt188DiOrder = 'high-first' | 'low-first';

/** Named DIs of CJ/T 188-2004 (KINGDA `CJT-188-2004.h`, NGGW `defs.rs`). */
export const CJT188_DI = {
  /** Current metering data 计量数据 (layout docs/cjt188.md §1.8). */
  meterData: 0x901f,
  /** History: last settlement month 1 (D120) … 12 (D12B). */
  history1: 0xd120,
  history12: 0xd12b,
  readPriceTable: 0x8102,
  readSettlementDay: 0x8103,
  readReadingDay: 0x8104,
  readPurchaseAmount: 0x8105,
  readKeyVersion: 0x8106,
  readAddress: 0x810a,
  writePriceTable: 0xa010,
  writeSettlementDay: 0xa011,
  writeReadingDay: 0xa012,
  writePurchaseAmount: 0xa013,
  writeKey: 0xa014,
  writeTime: 0xa015,
  writeBaseReading: 0xa016,
  valveControl: 0xa017,
  writeAddress: 0xa018,
  factoryEnable: 0xa019,
} as const;

/**
 * Every DI this codec decodes. No DI in the table is the byte swap of another, so the order is never
 * ambiguous (C11/C12 show that the checksum cannot tell the orders apart, only the table can).
 */
export function isKnownDi(di: number): boolean {
  return (
    di === CJT188_DI.meterData ||
    (di >= CJT188_DI.history1 && di <= CJT188_DI.history12) ||
    (di >= CJT188_DI.readPriceTable && di <= CJT188_DI.readKeyVersion) ||
    di === CJT188_DI.readAddress ||
    (di >= CJT188_DI.writePriceTable && di <= CJT188_DI.factoryEnable)
  );
}

/** A DI as 4 upper-case hex digits ("901F"), the form used in frames. */
export function diText(di: number): string {
  return di.toString(16).toUpperCase().padStart(4, '0');
}

/** Parses "901F" (or a number) to a DI. Throws BAD_FIELD for malformed text. */
export function parseDi(di: string | number): number {
  if (typeof di === 'number') {
    if (Number.isInteger(di) && di >= 0 && di <= 0xffff) return di;
  } else if (/^[0-9A-Fa-f]{4}$/.test(di)) {
    return Number.parseInt(di, 16);
  }
  throw new ProtocolError('BAD_FIELD', `CJ/T 188 DI ${JSON.stringify(di)} must be 4 hex digits`);
}

/** Parses a DI and requires it to be one this codec knows. Throws UNKNOWN_DI (or BAD_FIELD if malformed). */
export function knownDi(di: string | number, what = 'DI'): number {
  const value = parseDi(di);
  if (!isKnownDi(value)) {
    throw new ProtocolError('UNKNOWN_DI', `CJ/T 188 ${what} ${diText(value)} is not a DI this codec knows`);
  }
  return value;
}

/** Recognises the first two DATA bytes as a known DI in either order; undefined when neither order is known. */
export function readDi(b0: number, b1: number): { di: number; diOrder: Cjt188DiOrder } | undefined {
  const high = (b0 << 8) | b1;
  if (isKnownDi(high)) return { di: high, diOrder: 'high-first' };
  const low = (b1 << 8) | b0;
  if (isKnownDi(low)) return { di: low, diOrder: 'low-first' };
  return undefined;
}

/** The two wire bytes of a DI in the given order. Throws BAD_FIELD for an order that is not one of the two. */
export function writeDi(di: number, order: Cjt188DiOrder): [number, number] {
  if (order === 'high-first') return [di >> 8, di & 0xff];
  if (order === 'low-first') return [di & 0xff, di >> 8];
  throw new ProtocolError(
    'BAD_FIELD',
    `CJ/T 188 diOrder "${String(order)}" must be 'high-first' or 'low-first'`,
  );
}
