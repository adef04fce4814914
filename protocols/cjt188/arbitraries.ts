import fc from 'fast-check';
import { makeCjt188Frame } from './builders.ts';
import { CJT188_MAX_PREAMBLE } from './constants.ts';
import { CJT188_FUNCTIONS } from './control.ts';
import { CJT188_DI, type Cjt188DiOrder, diText } from './di.ts';
import type { Cjt188Body, Cjt188Frame } from './frame.ts';
import type { Cjt188RawData } from './layout.ts';
import type { Cjt188ReadData } from './read-data.ts';
import { readLayouts } from './read-data.ts';
import { type Cjt188Status, decodeStatus } from './status.ts';
import { formatTime } from './time.ts';
import { CJT188_UNITS, type Cjt188Quantity, unitName } from './units.ts';
import { type Cjt188WriteData, writeLayouts } from './write-data.ts';

/**
 * fast-check arbitraries of valid CJ/T 188 frames, for round-trip, chunking and resynchronisation properties
 * here and in other folders (simulator, harness). Every generated frame satisfies decode(encode(f)) = f.
 * @packageDocumentation
 */

const byte = fc.integer({ min: 0, max: 255 });

/** Addresses in human order: BCD byte pairs, now and then the "AA" wildcard. */
export const cjt188AddressArb: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      { weight: 9, arbitrary: fc.integer({ min: 0, max: 99 }).map((n) => String(n).padStart(2, '0')) },
      { weight: 1, arbitrary: fc.constant('AA') },
    ),
    { minLength: 7, maxLength: 7 },
  )
  .map((pairs) => pairs.join(''));

/** DI byte order. */
export const cjt188DiOrderArb: fc.Arbitrary<Cjt188DiOrder> = fc.constantFrom('high-first', 'low-first');

/** A unit code: mostly from the table, sometimes any byte (unknown codes must round-trip too). */
export const cjt188UnitCodeArb: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(...Object.keys(CJT188_UNITS).map(Number)),
  byte,
);

/** A BCD value of `size` bytes with `decimals` implied decimals, and a unit. */
export function cjt188QuantityArb(size = 4, decimals = 2): fc.Arbitrary<Cjt188Quantity> {
  return fc
    .record({ n: fc.integer({ min: 0, max: 10 ** (size * 2) - 1 }), unitCode: cjt188UnitCodeArb })
    .map(({ n, unitCode }) => ({ value: n / 10 ** decimals, unit: unitName(unitCode), unitCode }));
}

function bcdNumberArb(size: number, decimals: number): fc.Arbitrary<number> {
  return fc.integer({ min: 0, max: 10 ** (size * 2) - 1 }).map((n) => n / 10 ** decimals);
}

/** A status word of 2 bytes (or 1 when `oneByte`). */
export function cjt188StatusArb(bytes: 1 | 2 = 2): fc.Arbitrary<Cjt188Status> {
  return fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => decodeStatus(b));
}

/** A meter clock: null (all zero) or a valid calendar time. */
export const cjt188TimeArb: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  {
    weight: 5,
    arbitrary: fc
      .record({
        year: fc.integer({ min: 2000, max: 2099 }),
        month: fc.integer({ min: 1, max: 12 }),
        day: fc.integer({ min: 1, max: 28 }),
        hour: fc.integer({ min: 0, max: 23 }),
        minute: fc.integer({ min: 0, max: 59 }),
        second: fc.integer({ min: 0, max: 59 }),
      })
      .map((parts) => formatTime(parts)),
  },
);

const dayArb = fc.integer({ min: 0, max: 99 });

function rawArb(forbidden: readonly number[]): fc.Arbitrary<Cjt188RawData> {
  return fc
    .uint8Array({ maxLength: 24 })
    .filter((b) => !forbidden.includes(b.length))
    .map((b) => ({ type: 'raw', hex: Buffer.from(b).toString('hex').toUpperCase() }));
}

/** A read-reply payload valid for `di`. */
export function cjt188ReadDataArb(di: number): fc.Arbitrary<Cjt188ReadData> {
  const raw = rawArb(readLayouts(di).map((l) => l.length));
  const q = cjt188QuantityArb;
  let typed: fc.Arbitrary<Cjt188ReadData> | undefined;
  if (di === CJT188_DI.meterData) {
    typed = fc.oneof(
      fc.record({
        type: fc.constant('water' as const),
        current: q(),
        settlement: q(),
        time: cjt188TimeArb,
        status: cjt188StatusArb(),
      }),
      fc.record({
        type: fc.constant('heat' as const),
        settlementHeat: q(),
        currentHeat: q(),
        heatPower: q(),
        flowRate: q(4, 4),
        accumulatedFlow: q(),
        supplyTemperature: bcdNumberArb(3, 2),
        returnTemperature: bcdNumberArb(3, 2),
        workingHours: bcdNumberArb(3, 0),
        time: cjt188TimeArb,
        status: cjt188StatusArb(),
      }),
    );
  } else if (di >= CJT188_DI.history1 && di <= CJT188_DI.history12) {
    typed = q().map((x) => ({ type: 'history' as const, month: di - CJT188_DI.history1 + 1, ...x }));
  } else if (di === CJT188_DI.readPriceTable) {
    typed = fc.record({
      type: fc.constant('price-table' as const),
      prices: fc.tuple(bcdNumberArb(3, 2), bcdNumberArb(3, 2), bcdNumberArb(3, 2)),
      volumes: fc.tuple(bcdNumberArb(3, 0), bcdNumberArb(3, 0)),
    });
  } else if (di === CJT188_DI.readSettlementDay || di === CJT188_DI.readReadingDay) {
    const type = di === CJT188_DI.readSettlementDay ? 'settlement-day' : 'reading-day';
    typed = dayArb.map((day) => ({ type, day }));
  } else if (di === CJT188_DI.readPurchaseAmount) {
    typed = fc.record({ type: fc.constant('purchase' as const), seq: byte, amount: bcdNumberArb(4, 2) });
  } else if (di === CJT188_DI.readKeyVersion) {
    typed = byte.map((keyVersion) => ({ type: 'key-version' as const, keyVersion }));
  } else if (di === CJT188_DI.readAddress) {
    typed = fc
      .option(cjt188AddressArb, { nil: null })
      .map((address) => ({ type: 'address' as const, address }));
  }
  return typed ? fc.oneof({ weight: 4, arbitrary: typed }, { weight: 1, arbitrary: raw }) : raw;
}

/** A write payload valid for `di`. */
export function cjt188WriteDataArb(di: number): fc.Arbitrary<Cjt188WriteData> {
  const raw = rawArb(writeLayouts(di).map((l) => l.length));
  let typed: fc.Arbitrary<Cjt188WriteData> | undefined;
  switch (di) {
    case CJT188_DI.writePriceTable:
      typed = fc.record({
        type: fc.constant('price-table' as const),
        prices: fc.tuple(bcdNumberArb(3, 2), bcdNumberArb(3, 2), bcdNumberArb(3, 2)),
        volumes: fc.tuple(bcdNumberArb(3, 0), bcdNumberArb(3, 0)),
        startDay: dayArb,
      });
      break;
    case CJT188_DI.writeSettlementDay:
      typed = dayArb.map((day) => ({ type: 'settlement-day' as const, day }));
      break;
    case CJT188_DI.writeReadingDay:
      typed = dayArb.map((day) => ({ type: 'reading-day' as const, day }));
      break;
    case CJT188_DI.writePurchaseAmount:
      typed = fc.record({ type: fc.constant('purchase' as const), seq: byte, amount: bcdNumberArb(4, 2) });
      break;
    case CJT188_DI.writeKey:
      typed = fc.record({
        type: fc.constant('key' as const),
        keyVersion: byte,
        key: fc
          .uint8Array({ minLength: 8, maxLength: 8 })
          .map((b) => Buffer.from(b).toString('hex').toUpperCase()),
      });
      break;
    case CJT188_DI.writeTime:
      typed = cjt188TimeArb.map((time) => ({ type: 'time' as const, time }));
      break;
    case CJT188_DI.writeBaseReading:
      typed = cjt188QuantityArb().map((x) => ({ type: 'base-reading' as const, ...x }));
      break;
    case CJT188_DI.valveControl:
      typed = fc
        .oneof(
          fc.constantFrom('open' as const, 'close' as const),
          byte.filter((b) => b !== 0x55 && b !== 0x99),
        )
        .map((command) => ({ type: 'valve' as const, command }));
      break;
    case CJT188_DI.writeAddress:
      typed = cjt188AddressArb.map((address) => ({ type: 'address' as const, address }));
      break;
    case CJT188_DI.factoryEnable:
      typed = fc.constant({ type: 'factory-enable' as const });
      break;
  }
  return typed ? fc.oneof({ weight: 4, arbitrary: typed }, { weight: 1, arbitrary: raw }) : raw;
}

const READ_DIS = [
  CJT188_DI.meterData,
  ...Array.from({ length: 12 }, (_, i) => CJT188_DI.history1 + i),
  0x8102,
  0x8103,
  0x8104,
  0x8105,
  0x8106,
  CJT188_DI.readAddress,
];
const WRITE_DIS = Array.from({ length: 10 }, (_, i) => CJT188_DI.writePriceTable + i);
const KNOWN_FUNCTIONS: readonly number[] = Object.values(CJT188_FUNCTIONS);

const headArb = (dis: readonly number[]) =>
  fc.record({ di: fc.constantFrom(...dis).map(diText), diOrder: cjt188DiOrderArb, ser: byte });

/** A control code with its matching body (every body kind, including opaque). */
export const cjt188BodyArb: fc.Arbitrary<{ control: number; body: Cjt188Body }> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(
        ['read', 0x01] as const,
        ['read-address', 0x03] as const,
        ['read-key-version', 0x09] as const,
      ),
      headArb([...READ_DIS, ...WRITE_DIS]),
    )
    .map(([[kind, control], head]) => ({ control, body: { kind, ...head } })),
  fc
    .tuple(
      fc.constantFrom(
        ['read-reply', 0x81] as const,
        ['read-address-reply', 0x83] as const,
        ['read-key-version-reply', 0x89] as const,
      ),
      fc.constantFrom(...READ_DIS).chain((di) => fc.tuple(fc.constant(di), cjt188ReadDataArb(di))),
      cjt188DiOrderArb,
      byte,
    )
    .map(([[kind, control], [di, data], diOrder, ser]) => ({
      control,
      body: { kind, di: diText(di), diOrder, ser, data },
    })),
  fc
    .tuple(
      fc.constantFrom(
        ['write', 0x04] as const,
        ['write-address', 0x15] as const,
        ['write-base-reading', 0x16] as const,
      ),
      fc.constantFrom(...WRITE_DIS).chain((di) => fc.tuple(fc.constant(di), cjt188WriteDataArb(di))),
      cjt188DiOrderArb,
      byte,
    )
    .map(([[kind, control], [di, data], diOrder, ser]) => ({
      control,
      body: { kind, di: diText(di), diOrder, ser, data },
    })),
  fc
    .tuple(
      fc.constantFrom(
        ['write-reply', 0x84] as const,
        ['write-address-reply', 0x95] as const,
        ['write-base-reading-reply', 0x96] as const,
      ),
      headArb(WRITE_DIS),
      fc.option(cjt188StatusArb(), { nil: null }),
    )
    .map(([[kind, control], head, status]) => ({ control, body: { kind, ...head, status } })),
  fc
    .record({
      control: fc.constantFrom(0xc1, 0xc3, 0xc4, 0xc9, 0xd5, 0xd6),
      ser: byte,
      st: fc.oneof(cjt188StatusArb(2), cjt188StatusArb(1)),
    })
    .map(({ control, ser, st }) => ({ control, body: { kind: 'error-reply' as const, ser, st } })),
  fc
    .record({
      control: byte.filter((c) => !KNOWN_FUNCTIONS.includes(c & 0x3f)),
      data: fc.uint8Array({ maxLength: 30 }),
    })
    .map(({ control, data }) => ({
      control,
      body: { kind: 'opaque' as const, data: Buffer.from(data).toString('hex').toUpperCase() },
    })),
);

/** Any valid frame: every field, every body kind, both DI orders, 0…{@link CJT188_MAX_PREAMBLE} FE bytes. */
export const cjt188FrameArb: fc.Arbitrary<Cjt188Frame> = fc
  .record({
    preamble: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: CJT188_MAX_PREAMBLE })),
    meterType: fc.oneof(fc.constantFrom(0x10, 0x11, 0x20, 0x30, 0xaa), byte),
    address: cjt188AddressArb,
    cb: cjt188BodyArb,
  })
  .map(({ preamble, meterType, address, cb }) => makeCjt188Frame({ preamble, meterType, address, ...cb }));
