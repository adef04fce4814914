import { ProtocolError } from '../errors.ts';
import { CJT188_WILDCARD_ADDRESS, decodeAddress, encodeAddress } from './address.ts';
import { CJT188_DEFAULT_PREAMBLE } from './constants.ts';
import {
  CJT188_FUNCTIONS,
  controlAbnormal,
  controlDirection,
  errorControl,
  replyControl,
} from './control.ts';
import { CJT188_DI, type Cjt188DiOrder, diText, knownDi } from './di.ts';
import type { Cjt188Body, Cjt188Frame } from './frame.ts';
import { CJT188_METER_TYPES, meterTypeName } from './meter-type.ts';
import type { Cjt188ReadData } from './read-data.ts';
import { type Cjt188Status, type Cjt188StatusInit, makeStatus } from './status.ts';
import { type Cjt188TimeParts, formatTime } from './time.ts';
import { CJT188_UNIT_M3, type Cjt188Quantity, unitCode, unitName } from './units.ts';
import type { Cjt188WriteData } from './write-data.ts';

/**
 * Pure builders of common frames for the simulator and the CLI. Each returns a {@link Cjt188Frame} (plain
 * data: inspect or tweak it, then `encodeCjt188`). Reply builders take the decoded request so the reply echoes
 * its SER and DI order, as meters do (KINGDA copies `ask->DataHead.SER` into every reply).
 * @packageDocumentation
 */

/** Options shared by request builders. */
export interface Cjt188RequestOptions {
  /** Sequence number. @defaultValue 0 */
  ser?: number;
  /** T byte. @defaultValue 0x10 (cold water) */
  meterType?: number;
  /** DI byte order on the wire. @defaultValue 'high-first' (NGGW's 2004 order; many meters want 'low-first') */
  diOrder?: Cjt188DiOrder;
  /** FE bytes before the frame. @defaultValue {@link CJT188_DEFAULT_PREAMBLE} (4) */
  preamble?: number;
}

/** Options shared by reply builders. */
export interface Cjt188ReplyOptions {
  /** The replying meter's address; required when the request used wildcard bytes. @defaultValue the request's */
  address?: string;
  /** The replying meter's T byte. @defaultValue the request's, or 0x10 when the request used the AA wildcard */
  meterType?: number;
  /** @defaultValue {@link CJT188_DEFAULT_PREAMBLE} (4) */
  preamble?: number;
}

/**
 * Assembles a frame and fills the derived fields (names, direction, abnormal). The address is normalised to
 * 14 characters; throws BAD_FIELD for a malformed one.
 */
export function makeCjt188Frame(fields: {
  preamble?: number;
  meterType: number;
  address: string;
  control: number;
  body: Cjt188Body;
}): Cjt188Frame {
  return {
    protocol: 'cjt188',
    preamble: fields.preamble ?? CJT188_DEFAULT_PREAMBLE,
    meterType: fields.meterType,
    meterTypeName: meterTypeName(fields.meterType),
    address: decodeAddress(encodeAddress(fields.address)),
    control: fields.control,
    direction: controlDirection(fields.control),
    abnormal: controlAbnormal(fields.control),
    body: fields.body,
  };
}

function request(address: string, control: number, body: Cjt188Body, o: Cjt188RequestOptions): Cjt188Frame {
  return makeCjt188Frame({
    preamble: o.preamble,
    meterType: o.meterType ?? CJT188_METER_TYPES.coldWater,
    address,
    control,
    body,
  });
}

function head(di: string | number, o: Cjt188RequestOptions) {
  return { di: diText(knownDi(di)), diOrder: o.diOrder ?? 'high-first', ser: o.ser ?? 0 } as const;
}

/** Read data (C = 01), e.g. `buildReadRequest('78330011223344', '901F', { diOrder: 'low-first' })` (C1). */
export function buildReadRequest(address: string, di: string | number, options: Cjt188RequestOptions = {}) {
  return request(address, CJT188_FUNCTIONS.read, { kind: 'read', ...head(di, options) }, options);
}

/**
 * Read address (C = 03, DI 810A) to the wildcard address and wildcard type (AIXI; C7), for a bus with one meter.
 * @param options - `address` and `meterType` default to AAAAAAAAAAAAAA and AAH.
 */
export function buildReadAddressRequest(options: Cjt188RequestOptions & { address?: string } = {}) {
  const o = { ...options, meterType: options.meterType ?? CJT188_METER_TYPES.wildcard };
  return request(
    options.address ?? CJT188_WILDCARD_ADDRESS,
    CJT188_FUNCTIONS.readAddress,
    { kind: 'read-address', ...head(CJT188_DI.readAddress, o) },
    o,
  );
}

/** Read key version (C = 09, DI 8106). */
export function buildReadKeyVersionRequest(address: string, options: Cjt188RequestOptions = {}) {
  return request(
    address,
    CJT188_FUNCTIONS.readKeyVersion,
    { kind: 'read-key-version', ...head(CJT188_DI.readKeyVersion, options) },
    options,
  );
}

/** Write data (C = 04) with any A010–A019 payload. */
export function buildWriteRequest(
  address: string,
  di: string | number,
  data: Cjt188WriteData,
  options: Cjt188RequestOptions = {},
) {
  return request(address, CJT188_FUNCTIONS.write, { kind: 'write', ...head(di, options), data }, options);
}

/**
 * Valve control (C = 04, DI A017): 'open' sends 55H, 'close' 99H, a number sends that byte
 * (docs/cjt188.md §1.11; C5, C6).
 */
export function buildValveRequest(
  address: string,
  command: 'open' | 'close' | number,
  options: Cjt188RequestOptions = {},
) {
  return buildWriteRequest(address, CJT188_DI.valveControl, { type: 'valve', command }, options);
}

/** Write standard time (C = 04, DI A015; C28). A `Date` is shifted by `utcOffsetMinutes` (default UTC+8). */
export function buildWriteTimeRequest(
  address: string,
  time: Date | Cjt188TimeParts,
  options: Cjt188RequestOptions & { utcOffsetMinutes?: number } = {},
) {
  const text = formatTime(time, options.utcOffsetMinutes);
  return buildWriteRequest(address, CJT188_DI.writeTime, { type: 'time', time: text }, options);
}

/** Write address (C = 15, DI A018): the meter at `address` takes `newAddress` (AIXI; C25). */
export function buildWriteAddressRequest(
  address: string,
  newAddress: string,
  options: Cjt188RequestOptions = {},
) {
  const data: Cjt188WriteData = {
    type: 'address',
    address: decodeAddress(encodeAddress(newAddress, 'new address')),
  };
  return request(
    address,
    CJT188_FUNCTIONS.writeAddress,
    { kind: 'write-address', ...head(CJT188_DI.writeAddress, options), data },
    options,
  );
}

/** Write electro-mechanical sync data (C = 16, DI A016): set the base reading (C26). `unit` defaults to "m3". */
export function buildWriteBaseReadingRequest(
  address: string,
  value: number,
  options: Cjt188RequestOptions & { unit?: string } = {},
) {
  const data: Cjt188WriteData = { type: 'base-reading', ...quantity(value, options.unit) };
  return request(
    address,
    CJT188_FUNCTIONS.writeBaseReading,
    { kind: 'write-base-reading', ...head(CJT188_DI.writeBaseReading, options), data },
    options,
  );
}

/** What a request gives a reply: its SER, DI, DI order and control code. */
function replyHead(req: Cjt188Frame): { ser: number; di: string; diOrder: Cjt188DiOrder } {
  const b = req.body;
  if (b.kind === 'opaque' || b.kind === 'error-reply') {
    throw new ProtocolError('BAD_FIELD', `CJ/T 188 cannot reply to a '${b.kind}' frame: it has no DI`);
  }
  return { ser: b.ser, di: b.di, diOrder: b.diOrder };
}

function reply(req: Cjt188Frame, control: number, body: Cjt188Body, o: Cjt188ReplyOptions): Cjt188Frame {
  if (req.direction !== 'request') {
    throw new ProtocolError(
      'BAD_FIELD',
      `CJ/T 188 C=0x${req.control.toString(16)} is a reply, not a request`,
    );
  }
  const address = o.address ?? req.address;
  if (address.toUpperCase().includes('AA')) {
    throw new ProtocolError(
      'BAD_FIELD',
      'CJ/T 188 reply to a wildcard request needs the meter\'s own "address"',
    );
  }
  const wildcardType = req.meterType === CJT188_METER_TYPES.wildcard;
  return makeCjt188Frame({
    preamble: o.preamble,
    meterType: o.meterType ?? (wildcardType ? CJT188_METER_TYPES.coldWater : req.meterType),
    address,
    control,
    body,
  });
}

/** A normal reply to a read-type request (C = 81/83/89) with the given payload. */
export function buildReadReply(req: Cjt188Frame, data: Cjt188ReadData, options: Cjt188ReplyOptions = {}) {
  const kinds = {
    read: 'read-reply',
    'read-address': 'read-address-reply',
    'read-key-version': 'read-key-version-reply',
  } as const;
  const kind = kinds[req.body.kind as keyof typeof kinds];
  if (!kind) throw new ProtocolError('BAD_FIELD', `CJ/T 188 '${req.body.kind}' is not a read request`);
  const { ser, di, diOrder } = replyHead(req); // listed, not spread: see docs/performance.md
  return reply(req, replyControl(req.control), { kind, ser, di, diOrder, data }, options);
}

/** A meter's reading for {@link buildWaterReadReply}. */
export interface Cjt188WaterReadingInit extends Cjt188StatusInit {
  /** Current accumulated flow. */
  current: number;
  /** Settlement-day flow. @defaultValue `current` */
  settlement?: number;
  /** Unit name of both flows. @defaultValue 'm3' */
  unit?: string;
  /** Meter clock; null sends all zeros. A `Date` is shifted by `utcOffsetMinutes` (default UTC+8). */
  time: Date | Cjt188TimeParts | null;
  utcOffsetMinutes?: number;
}

/**
 * The 901F water/gas reply (C = 81, 19-byte layout, docs/cjt188.md §1.8) to a read request, echoing its SER
 * and DI order.
 */
export function buildWaterReadReply(
  req: Cjt188Frame,
  reading: Cjt188WaterReadingInit,
  options: Cjt188ReplyOptions = {},
) {
  const data: Cjt188ReadData = {
    type: 'water',
    current: quantity(reading.current, reading.unit),
    settlement: quantity(reading.settlement ?? reading.current, reading.unit),
    time: reading.time === null ? null : formatTime(reading.time, reading.utcOffsetMinutes),
    status: makeStatus(reading),
  };
  if (req.body.kind !== 'read' || req.body.di !== diText(CJT188_DI.meterData)) {
    throw new ProtocolError('BAD_FIELD', 'CJ/T 188 water reply answers a read of DI 901F');
  }
  return buildReadReply(req, data, options);
}

/**
 * The read-address reply (C = 83, DI 810A, L = 3): the meter's address goes in the A field (C16, C18, KINGDA).
 */
export function buildReadAddressReply(
  req: Cjt188Frame,
  meterAddress: string,
  options: Cjt188ReplyOptions = {},
) {
  return buildReadReply(req, { type: 'address', address: null }, { ...options, address: meterAddress });
}

/**
 * A normal reply to a write-type request (C = 84/95/96). Without `status` it is `DI SER` (L = 3, KINGDA);
 * with one it is `DI SER ST` (L = 5, BLOG-SC valve reply).
 */
export function buildWriteReply(
  req: Cjt188Frame,
  status: Cjt188Status | Cjt188StatusInit | null = null,
  options: Cjt188ReplyOptions = {},
) {
  const kinds = {
    write: 'write-reply',
    'write-address': 'write-address-reply',
    'write-base-reading': 'write-base-reading-reply',
  } as const;
  const kind = kinds[req.body.kind as keyof typeof kinds];
  if (!kind) throw new ProtocolError('BAD_FIELD', `CJ/T 188 '${req.body.kind}' is not a write request`);
  const st = status === null ? null : 'raw' in status ? status : makeStatus(status);
  const { ser, di, diOrder } = replyHead(req); // listed, not spread: see docs/performance.md
  return reply(req, replyControl(req.control), { kind, ser, di, diOrder, status: st }, options);
}

/**
 * An abnormal reply (C = request | C0H: C1, C3, C4, C9, D5, D6) with `SER ST` (KINGDA). SER is the request's
 * when it has one, else `options.ser` (default 0).
 */
export function buildErrorReply(
  req: Cjt188Frame,
  st: Cjt188Status | Cjt188StatusInit = {},
  options: Cjt188ReplyOptions & { ser?: number } = {},
) {
  const b = req.body;
  const ser = options.ser ?? ('ser' in b ? b.ser : 0);
  const status = 'raw' in st ? st : makeStatus(st);
  return reply(req, errorControl(req.control), { kind: 'error-reply', ser, st: status }, options);
}

function quantity(value: number, unit = unitName(CJT188_UNIT_M3)): Cjt188Quantity {
  return { value, unit, unitCode: unitCode(unit) };
}
