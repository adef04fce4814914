import { bytesToHex, concatBytes, hexToBytes, numberToBcdByte } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';
import { decodeAddress, encodeAddress } from './address.ts';
import { CJT188_DI } from './di.ts';
import { type Cjt188RawData, decodePayload, encodePayload, type Layout, layoutFactory } from './layout.ts';
import {
  type Cjt188PriceTable,
  checkByte,
  dayLayout,
  decodeDay,
  decodePrices,
  encodePrices,
  purchaseLayout,
} from './read-data.ts';
import { decodeTime, encodeTime } from './time.ts';
import { type Cjt188Quantity, decodeQuantity, encodeQuantity } from './units.ts';

/**
 * Payloads of write requests A010–A019 (C = 04, 15, 16), after `DI SER` (docs/cjt188.md §1.7, §1.11).
 * @packageDocumentation
 */

/** Valve command byte of A017: 55H open, 99H close (SYN, KINGDA, BLOG-SC; C5, C6, C19, C20, C23, C24). */
export const CJT188_VALVE_OPEN = 0x55;
/** @see CJT188_VALVE_OPEN */
export const CJT188_VALVE_CLOSE = 0x99;

/**
 * A017 valve control, 1 byte. Other bytes (KINGDA AAH exercise, 77H half-open; vendor 66H/77H/FFH/00H) are
 * kept as the number.
 */
export interface Cjt188ValveCommand {
  type: 'valve';
  command: 'open' | 'close' | number;
}

/** A015 write standard time, 7 bytes (KINGDA `CJT_188_WriteTime_func`, C28). */
export interface Cjt188TimeWrite {
  type: 'time';
  time: string | null;
}

/** A011 settlement day / A012 meter-reading day, 1 BCD byte (KINGDA). */
export interface Cjt188DayWrite {
  type: 'settlement-day' | 'reading-day';
  day: number;
}

/** A010 price table: the 8102 layout plus a start day (1 BCD byte) — 16 bytes. Not in the reference. */
export interface Cjt188PriceTableWrite extends Omit<Cjt188PriceTable, 'type'> {
  type: 'price-table';
  startDay: number;
}

/** A013 purchase amount: sequence number (1 binary byte) + amount (4 BCD, 2 decimals). Not in the reference. */
export interface Cjt188PurchaseWrite {
  type: 'purchase';
  seq: number;
  amount: number;
}

/** A014 new key: key version (1 byte) + key (8 bytes, hex). Not in the reference. */
export interface Cjt188KeyWrite {
  type: 'key';
  keyVersion: number;
  /** 16 hex digits, wire order. */
  key: string;
}

/**
 * A016 write electro-mechanical sync data (C = 16) — set the base reading: value 4 BCD with 2 decimals, then
 * the unit byte, as in C26 (`78 56 34 12 00` = 123456.78, unit 00). KINGDA's `CJT_188_WriteOffsetStruct`
 * declares the unit first; C26 and every other value in the standard put it after, so that order is used.
 */
export interface Cjt188BaseReadingWrite extends Cjt188Quantity {
  type: 'base-reading';
}

/** A018 write address (C = 15): the new 7-byte address (AIXI, C25). */
export interface Cjt188AddressWrite {
  type: 'address';
  address: string;
}

/** A019 factory enable 出厂启用 with no payload (KINGDA handles the DI without reading one). */
export interface Cjt188FactoryEnable {
  type: 'factory-enable';
}

/** Decoded payload of a write request, by DI and length. */
export type Cjt188WriteData =
  | Cjt188ValveCommand
  | Cjt188TimeWrite
  | Cjt188DayWrite
  | Cjt188PriceTableWrite
  | Cjt188PurchaseWrite
  | Cjt188KeyWrite
  | Cjt188BaseReadingWrite
  | Cjt188AddressWrite
  | Cjt188FactoryEnable
  | Cjt188RawData;

const layout = layoutFactory<Cjt188WriteData>();

const valve = layout({
  type: 'valve',
  length: 1,
  decode: (p) => ({
    type: 'valve',
    command: p[0] === CJT188_VALVE_OPEN ? 'open' : p[0] === CJT188_VALVE_CLOSE ? 'close' : p[0],
  }),
  encode: (d) => {
    if (d.command === 'open') return Uint8Array.of(CJT188_VALVE_OPEN);
    if (d.command === 'close') return Uint8Array.of(CJT188_VALVE_CLOSE);
    return Uint8Array.of(checkByte(d.command, 'valve command'));
  },
});

const time = layout({
  type: 'time',
  length: 7,
  decode: (p) => ({ type: 'time', time: decodeTime(p) }),
  encode: (d) => encodeTime(d.time),
});

const priceTable = layout({
  type: 'price-table',
  length: 16,
  decode: (p) => ({ type: 'price-table', ...decodePrices(p), startDay: decodeDay(p[15]) }),
  encode: (d) => concatBytes([encodePrices(d), Uint8Array.of(numberToBcdByte(d.startDay))]),
});

const key = layout({
  type: 'key',
  length: 9,
  decode: (p) => ({ type: 'key', keyVersion: p[0], key: bytesToHex(p.subarray(1), '') }),
  encode: (d) => {
    if (typeof d.key !== 'string' || !/^[0-9A-F]{16}$/.test(d.key)) {
      throw new ProtocolError('BAD_FIELD', 'CJ/T 188 key must be 16 upper-case hex digits');
    }
    return concatBytes([Uint8Array.of(checkByte(d.keyVersion, 'key version')), hexToBytes(d.key)]);
  },
});

const baseReading = layout({
  type: 'base-reading',
  length: 5,
  decode: (p) => ({ type: 'base-reading', ...decodeQuantity(p, 0, 4, 2, 'base reading') }),
  encode: (d) => encodeQuantity(d, 4, 2, 'base reading'),
});

const address = layout({
  type: 'address',
  length: 7,
  decode: (p) => ({ type: 'address', address: decodeAddress(p) }),
  encode: (d) => encodeAddress(d.address, 'new address'),
});

const factoryEnable = layout({
  type: 'factory-enable',
  length: 0,
  decode: () => ({ type: 'factory-enable' }),
  encode: () => new Uint8Array(0),
});

/** Layouts of a write payload, by DI. @internal */
export function writeLayouts(di: number): readonly Layout<Cjt188WriteData>[] {
  switch (di) {
    case CJT188_DI.writePriceTable:
      return [priceTable];
    case CJT188_DI.writeSettlementDay:
      return [dayLayout('settlement-day')];
    case CJT188_DI.writeReadingDay:
      return [dayLayout('reading-day')];
    case CJT188_DI.writePurchaseAmount:
      return [purchaseLayout];
    case CJT188_DI.writeKey:
      return [key];
    case CJT188_DI.writeTime:
      return [time];
    case CJT188_DI.writeBaseReading:
      return [baseReading];
    case CJT188_DI.valveControl:
      return [valve];
    case CJT188_DI.writeAddress:
      return [address];
    case CJT188_DI.factoryEnable:
      return [factoryEnable];
  }
  return [];
}

/** Decodes the payload of a write request. Throws BAD_BCD for a bad value. */
export function decodeWriteData(di: number, payload: Uint8Array): Cjt188WriteData {
  return decodePayload(writeLayouts(di), di, payload);
}

/** Encodes the payload of a write request. Throws BAD_FIELD naming the field. */
export function encodeWriteData(di: number, data: Cjt188WriteData): Uint8Array {
  return encodePayload(writeLayouts(di), di, data, 'write data');
}
