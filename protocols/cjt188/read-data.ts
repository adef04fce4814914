import { bcdByteToNumber, bcdToNumber, concatBytes, numberToBcd, numberToBcdByte } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';
import { decodeAddress, encodeAddress } from './address.ts';
import { CJT188_DI } from './di.ts';
import { type Cjt188RawData, decodePayload, encodePayload, type Layout, layoutFactory } from './layout.ts';
import { type Cjt188Status, decodeStatus, encodeStatus } from './status.ts';
import { decodeTime, encodeTime } from './time.ts';
import {
  CJT188_UNKNOWN_UNIT,
  type Cjt188Quantity,
  decodeQuantity,
  encodeQuantity,
  hex2,
  unitName,
} from './units.ts';

/**
 * Payloads of read replies (C = 81, 83, 89), after `DI SER` (docs/cjt188.md §1.7–§1.8).
 * @packageDocumentation
 */

/**
 * 901F water/gas layout, 19 bytes (L = 16H): current flow 4+unit, settlement-day flow 4+unit, time 7, ST 2.
 * Flows have 2 implied decimals (KINGDA `CJT_188_MeterData_Struct`, XJZ offsets, NGGW `di_schema.rs`, BLOG-SC).
 */
export interface Cjt188WaterReading {
  type: 'water';
  /** Current accumulated flow 当前累积流量. */
  current: Cjt188Quantity;
  /** Settlement-day accumulated flow 结算日累积流量 (BLOG-SC calls it this month's use). */
  settlement: Cjt188Quantity;
  /** Meter clock "YYYY-MM-DD hh:mm:ss", or null when all zero. */
  time: string | null;
  status: Cjt188Status;
}

/**
 * 901F heat-meter layout, 43 bytes (L = 2EH) per XJZ offsets and BLOG-JY; NGGW's 40-byte schema disagrees
 * with both captures and is not used. Decimals where the reference is silent: heat and power 2, flow rate 4,
 * accumulated flow 2, temperatures 2 (°C), working hours 0 — the XXXXXX.XX / XXXX.XXXX pattern of the 2004
 * tables as implementations print them.
 */
export interface Cjt188HeatReading {
  type: 'heat';
  settlementHeat: Cjt188Quantity;
  currentHeat: Cjt188Quantity;
  heatPower: Cjt188Quantity;
  flowRate: Cjt188Quantity;
  accumulatedFlow: Cjt188Quantity;
  /** Supply temperature, °C (3 BCD bytes, 2 decimals). */
  supplyTemperature: number;
  /** Return temperature, °C. */
  returnTemperature: number;
  /** Accumulated working time, hours (3 BCD bytes). */
  workingHours: number;
  time: string | null;
  status: Cjt188Status;
  /**
   * `'unit-first'`: the JY heat meter's layout, each unit code before its 4 value bytes (`08 02 00 00 00` = MWh,
   * 0.02), the rest as the standard. Source: BLOG-JY, "CJ/T-188 冷热量表协议解析2"
   * (https://www.shuzhiduo.com/A/RnJWxa2v5q), quoted in docs/cjt188.md §1.8 "Vendor deviation" — the article
   * exists to show such deviations. Decoded only when the standard layout cannot read the bytes (issue 14,
   * item 4).
   */
  variant?: 'unit-first';
}

/** D120…D12B: settlement-day flow of the last 1…12 months, 4 BCD (2 decimals) + unit (KINGDA, NGGW). */
export interface Cjt188HistoryReading {
  type: 'history';
  /** 1 for D120 … 12 for D12B; derived from the DI. */
  month: number;
  value: number;
  unit: string;
  unitCode: number;
}

/**
 * 8102 price table: price 1, volume 1, price 2, volume 2, price 3 — each 3 BCD bytes, prices with 2 decimals
 * (yuan per unit), volumes whole units. Not in the reference: this is the 2004 table as commonly reproduced,
 * decoded only when the payload is exactly 15 bytes (otherwise raw).
 */
export interface Cjt188PriceTable {
  type: 'price-table';
  prices: [number, number, number];
  volumes: [number, number];
}

/** 8103 settlement day / 8104 meter-reading day: 1 BCD byte, day of month (KINGDA `Set_Date`/`Read_Date`). */
export interface Cjt188DayReading {
  type: 'settlement-day' | 'reading-day';
  day: number;
}

/**
 * 8105 purchase amount: purchase sequence number (1 binary byte) + amount (4 BCD, 2 decimals), the same shape
 * as the A013 write. The reference gives no layout; other lengths decode as raw.
 */
export interface Cjt188PurchaseReading {
  type: 'purchase';
  seq: number;
  amount: number;
}

/** 8106 (and C=89) key version: 1 binary byte. Not in the reference; other lengths decode as raw. */
export interface Cjt188KeyVersion {
  type: 'key-version';
  keyVersion: number;
}

/**
 * 810A read address: the address travels in the frame's A field and DATA is just `DI SER` (C16, C18, KINGDA
 * `CTR_ReadAddress_ACKFunc`), so `address` is null. KINGDA also declares a reply struct with the 7 address
 * bytes after `DI SER`; that form decodes with `address` set.
 */
export interface Cjt188AddressReading {
  type: 'address';
  address: string | null;
}

/** Decoded payload of a read reply, by DI and length. */
export type Cjt188ReadData =
  | Cjt188WaterReading
  | Cjt188HeatReading
  | Cjt188HistoryReading
  | Cjt188PriceTable
  | Cjt188DayReading
  | Cjt188PurchaseReading
  | Cjt188KeyVersion
  | Cjt188AddressReading
  | Cjt188RawData;

const layout = layoutFactory<Cjt188ReadData>();

/** Water/gas 901F: 2 decimals on both flows. */
const water = layout({
  type: 'water',
  length: 19,
  decode: (p) => ({
    type: 'water',
    current: decodeQuantity(p, 0, 4, 2, 'current flow'),
    settlement: decodeQuantity(p, 5, 4, 2, 'settlement flow'),
    time: decodeTime(p.subarray(10, 17)),
    status: decodeStatus(p.subarray(17, 19)),
  }),
  encode: (d) =>
    concat(
      encodeQuantity(d.current, 4, 2, 'current flow'),
      encodeQuantity(d.settlement, 4, 2, 'settlement flow'),
      encodeTime(d.time),
      twoByteStatus(d.status),
    ),
});

const heat = layout({
  type: 'heat',
  length: 43,
  decode: (p) => ({
    type: 'heat',
    settlementHeat: decodeQuantity(p, 0, 4, 2, 'settlement heat'),
    currentHeat: decodeQuantity(p, 5, 4, 2, 'current heat'),
    heatPower: decodeQuantity(p, 10, 4, 2, 'heat power'),
    flowRate: decodeQuantity(p, 15, 4, 4, 'flow rate'),
    accumulatedFlow: decodeQuantity(p, 20, 4, 2, 'accumulated flow'),
    supplyTemperature: bcdToNumber(p.subarray(25, 28), 2, 'CJ/T 188 supply temperature'),
    returnTemperature: bcdToNumber(p.subarray(28, 31), 2, 'CJ/T 188 return temperature'),
    workingHours: bcdToNumber(p.subarray(31, 34), 0, 'CJ/T 188 working hours'),
    time: decodeTime(p.subarray(34, 41)),
    status: decodeStatus(p.subarray(41, 43)),
  }),
  encode: (d) =>
    concat(
      encodeQuantity(d.settlementHeat, 4, 2, 'settlement heat'),
      encodeQuantity(d.currentHeat, 4, 2, 'current heat'),
      encodeQuantity(d.heatPower, 4, 2, 'heat power'),
      encodeQuantity(d.flowRate, 4, 4, 'flow rate'),
      encodeQuantity(d.accumulatedFlow, 4, 2, 'accumulated flow'),
      numberToBcd(d.supplyTemperature, 3, 2, 'CJ/T 188 supply temperature'),
      numberToBcd(d.returnTemperature, 3, 2, 'CJ/T 188 return temperature'),
      numberToBcd(d.workingHours, 3, 0, 'CJ/T 188 working hours'),
      encodeTime(d.time),
      twoByteStatus(d.status),
    ),
});

/** The JY unit-first heat layout (see {@link Cjt188HeatReading.variant}); same length and fields as `heat`. */
function decodeHeatUnitFirst(p: Uint8Array): Cjt188HeatReading {
  const q = (at: number, decimals: number, what: string) => {
    const unitCode = p[at];
    if (unitName(unitCode) === CJT188_UNKNOWN_UNIT) {
      throw new ProtocolError('BAD_FIELD', `CJ/T 188 ${what} unit code ${hex2(unitCode)} is not a unit`);
    }
    const value = bcdToNumber(p.subarray(at + 1, at + 5), decimals, `CJ/T 188 ${what}`);
    return { value, unit: unitName(unitCode), unitCode } satisfies Cjt188Quantity;
  };
  return {
    type: 'heat',
    settlementHeat: q(0, 2, 'settlement heat'),
    currentHeat: q(5, 2, 'current heat'),
    heatPower: q(10, 2, 'heat power'),
    flowRate: q(15, 4, 'flow rate'),
    accumulatedFlow: q(20, 2, 'accumulated flow'),
    supplyTemperature: bcdToNumber(p.subarray(25, 28), 2, 'CJ/T 188 supply temperature'),
    returnTemperature: bcdToNumber(p.subarray(28, 31), 2, 'CJ/T 188 return temperature'),
    workingHours: bcdToNumber(p.subarray(31, 34), 0, 'CJ/T 188 working hours'),
    time: decodeTime(p.subarray(34, 41)),
    status: decodeStatus(p.subarray(41, 43)),
    variant: 'unit-first',
  };
}

function encodeHeatUnitFirst(d: Cjt188HeatReading): Uint8Array {
  const q = (x: Cjt188Quantity, decimals: number, what: string) => {
    const standard = encodeQuantity(x, 4, decimals, what);
    return concat(standard.subarray(4), standard.subarray(0, 4));
  };
  const standard = heat.encode({ ...d, variant: undefined }, CJT188_DI.meterData);
  return concat(
    q(d.settlementHeat, 2, 'settlement heat'),
    q(d.currentHeat, 2, 'current heat'),
    q(d.heatPower, 2, 'heat power'),
    q(d.flowRate, 4, 'flow rate'),
    q(d.accumulatedFlow, 2, 'accumulated flow'),
    standard.subarray(25),
  );
}

const history = layout({
  type: 'history',
  length: 5,
  decode: (p, di) => {
    const q = decodeQuantity(p, 0, 4, 2, 'history flow');
    return { type: 'history', month: di - CJT188_DI.history1 + 1, ...q };
  },
  encode: (d, di) => {
    if (d.month !== di - CJT188_DI.history1 + 1) {
      throw new ProtocolError('BAD_FIELD', `CJ/T 188 history month ${d.month} does not match its DI`);
    }
    return encodeQuantity(d, 4, 2, 'history flow');
  },
});

/** Shared with the A010 write, which appends a start day. @internal */
export function decodePrices(p: Uint8Array): Pick<Cjt188PriceTable, 'prices' | 'volumes'> {
  const at = (i: number, decimals: number, what: string) =>
    bcdToNumber(p.subarray(i * 3, i * 3 + 3), decimals, `CJ/T 188 ${what}`);
  return {
    prices: [at(0, 2, 'price 1'), at(2, 2, 'price 2'), at(4, 2, 'price 3')],
    volumes: [at(1, 0, 'volume 1'), at(3, 0, 'volume 2')],
  };
}

/** @internal */
export function encodePrices(d: Pick<Cjt188PriceTable, 'prices' | 'volumes'>): Uint8Array {
  if (
    !Array.isArray(d.prices) ||
    d.prices.length !== 3 ||
    !Array.isArray(d.volumes) ||
    d.volumes.length !== 2
  ) {
    throw new ProtocolError('BAD_FIELD', 'CJ/T 188 price table needs 3 prices and 2 volumes');
  }
  return concat(
    numberToBcd(d.prices[0], 3, 2, 'CJ/T 188 price 1'),
    numberToBcd(d.volumes[0], 3, 0, 'CJ/T 188 volume 1'),
    numberToBcd(d.prices[1], 3, 2, 'CJ/T 188 price 2'),
    numberToBcd(d.volumes[1], 3, 0, 'CJ/T 188 volume 2'),
    numberToBcd(d.prices[2], 3, 2, 'CJ/T 188 price 3'),
  );
}

const priceTable = layout({
  type: 'price-table',
  length: 15,
  decode: (p) => ({ type: 'price-table', ...decodePrices(p) }),
  encode: (d) => encodePrices(d),
});

/** @internal */
export function decodeDay(byte: number): number {
  return bcdByteToNumber(byte, 'CJ/T 188 day');
}

/** 8103/8104 day replies and the A011/A012 day writes: the day, 1 BCD byte. Shared with write-data.ts. @internal */
export function dayLayout(type: 'settlement-day' | 'reading-day'): Layout<Cjt188DayReading> {
  return layoutFactory<Cjt188DayReading>()({
    type,
    length: 1,
    decode: (p) => ({ type, day: decodeDay(p[0]) }),
    encode: (d) => Uint8Array.of(numberToBcdByte(d.day)),
  });
}

/** @internal */
export function checkByte(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new ProtocolError('BAD_FIELD', `CJ/T 188 ${what} ${value} is not a byte (0..255)`);
  }
  return value;
}

/**
 * 8105 purchase reply and the A013 purchase write: SEQ (1 binary byte), amount (4 BCD, 2 decimals). Shared with
 * write-data.ts. @internal
 */
export const purchaseLayout: Layout<Cjt188PurchaseReading> = layoutFactory<Cjt188PurchaseReading>()({
  type: 'purchase',
  length: 5,
  decode: (p) => ({
    type: 'purchase',
    seq: p[0],
    amount: bcdToNumber(p.subarray(1, 5), 2, 'CJ/T 188 purchase amount'),
  }),
  encode: (d) =>
    concat(
      Uint8Array.of(checkByte(d.seq, 'purchase seq')),
      numberToBcd(d.amount, 4, 2, 'CJ/T 188 purchase amount'),
    ),
});

const keyVersion = layout({
  type: 'key-version',
  length: 1,
  decode: (p) => ({ type: 'key-version', keyVersion: p[0] }),
  encode: (d) => Uint8Array.of(checkByte(d.keyVersion, 'key version')),
});

const addressNone = layout({
  type: 'address',
  length: 0,
  decode: () => ({ type: 'address', address: null }),
  encode: () => new Uint8Array(0),
  accepts: (d) => d.address === null,
});

const addressEcho = layout({
  type: 'address',
  length: 7,
  decode: (p) => ({ type: 'address', address: decodeAddress(p) }),
  encode: (d) => encodeAddress(d.address ?? '', 'read-address reply address'),
  accepts: (d) => d.address !== null,
});

/** Layouts of a read-reply payload, by DI. @internal */
export function readLayouts(di: number): readonly Layout<Cjt188ReadData>[] {
  if (di === CJT188_DI.meterData) return [water, heat];
  if (di >= CJT188_DI.history1 && di <= CJT188_DI.history12) return [history];
  switch (di) {
    case CJT188_DI.readPriceTable:
      return [priceTable];
    case CJT188_DI.readSettlementDay:
      return [dayLayout('settlement-day')];
    case CJT188_DI.readReadingDay:
      return [dayLayout('reading-day')];
    case CJT188_DI.readPurchaseAmount:
      return [purchaseLayout];
    case CJT188_DI.readKeyVersion:
      return [keyVersion];
    case CJT188_DI.readAddress:
      return [addressNone, addressEcho];
  }
  return [];
}

/**
 * Decodes the payload of a read reply. Throws BAD_BCD for a bad value. A 43-byte 901F payload that the standard
 * heat layout cannot read is tried as the JY unit-first variant before giving up.
 */
export function decodeReadData(di: number, payload: Uint8Array): Cjt188ReadData {
  try {
    return decodePayload(readLayouts(di), di, payload);
  } catch (error) {
    if (!(error instanceof ProtocolError) || di !== CJT188_DI.meterData || payload.length !== 43) throw error;
    try {
      return decodeHeatUnitFirst(payload);
    } catch {
      throw error; // the standard layout's complaint is the one to report
    }
  }
}

/** Encodes the payload of a read reply. Throws BAD_FIELD naming the field. */
export function encodeReadData(di: number, data: Cjt188ReadData): Uint8Array {
  if (data !== null && typeof data === 'object' && data.type === 'heat' && data.variant !== undefined) {
    if (data.variant !== 'unit-first' || di !== CJT188_DI.meterData) {
      throw new ProtocolError(
        'BAD_FIELD',
        `CJ/T 188 heat variant '${String(data.variant)}' is not known for DI ${di.toString(16)}`,
      );
    }
    const bytes = encodeHeatUnitFirst(data);
    // It decodes as the variant only where the standard layout fails; otherwise it would not read back as given.
    const back = decodeReadData(di, bytes);
    if (back.type !== 'heat' || back.variant !== 'unit-first') {
      throw new ProtocolError(
        'BAD_FIELD',
        'CJ/T 188 unit-first heat reading would read back in the standard layout',
      );
    }
    return bytes;
  }
  return encodePayload(readLayouts(di), di, data, 'read-reply data');
}

function twoByteStatus(status: Cjt188Status): Uint8Array {
  const bytes = encodeStatus(status, 'reading status');
  if (bytes.length !== 2) throw new ProtocolError('BAD_FIELD', 'CJ/T 188 reading status must be 2 bytes');
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}
