import {
  buildReadRequest as buildCjt188Read,
  type Cjt188DiOrder,
  type Cjt188Frame,
  decodeCjt188,
  encodeCjt188,
} from '../../protocols/cjt188/index.ts';
import type { DecodeResult, FrameDecoder } from '../../protocols/decode-result.ts';
import {
  buildReadRequest as buildDlt645Read,
  type Dlt645Frame,
  decodeDlt645,
  encodeDlt645,
} from '../../protocols/dlt645/index.ts';
import { FrameAccumulator } from '../../protocols/framer.ts';
import {
  type MeterProtocol,
  type MeterStatus,
  READING_UNITS,
  type ReadingUnit,
} from '../../protocols/point-read/index.ts';
import { MasterError } from './master-error.ts';

/**
 * The meter side of a point-read, as pure functions: the meter frame to forward (CJ/T 188 read 901F or DL/T 645
 * read 00010000), and the reading decoded from what the concentrator brought back. No I/O.
 */

/** CJ/T 188 addresses are 14 digits (REFERENCE §1.4), DL/T 645 addresses 12 (§2.1). */
export const ADDRESS_DIGITS: Readonly<Record<MeterProtocol, number>> = { cjt188: 14, dlt645: 12 };

/** CJ/T 188 DI of current metering data (§1.7). */
export const CJT188_READ_DI = '901F';
/** DL/T 645-2007 DI of forward active total energy (§2.3). */
export const DLT645_READ_DI = '00010000';

export interface MeterRequestOptions {
  /**
   * CJ/T 188 DI byte order on the wire (§1.6: both are in the field). Low byte first (`1F 90`) is what the SC
   * meter, TMNL's water forwarding and the simulator's meters use by default.
   * @defaultValue 'low-first'
   */
  cjt188DiOrder?: Cjt188DiOrder;
  /** CJ/T 188 meter type byte T (§1.3). @defaultValue 0x10 (cold water) */
  cjt188MeterType?: number;
  /** CJ/T 188 SER (§1.6); the meter echoes it. @defaultValue 0 */
  ser?: number;
}

/** The part of a reading that comes from the meter's own reply. */
export interface MeterValue {
  /** The address the meter answered from, padded (14 or 12 digits). */
  meter: string;
  value: number;
  unit: ReadingUnit;
  /** `YYYY-MM-DDTHH:mm:ss`, the meter's clock (CJ/T 188 901F), when it has one set. */
  meterTime?: string;
  status?: MeterStatus;
}

/**
 * The meter's address padded to its protocol's width: "101001" → "00000000101001" (CJ/T 188). Leading zeros
 * beyond the width are dropped. Throws BAD_REQUEST when it is not digits or has too many significant digits.
 */
export function meterAddressFor(protocol: MeterProtocol, meter: string): string {
  const width = ADDRESS_DIGITS[protocol];
  if (!/^\d{1,14}$/.test(meter)) {
    throw new MasterError('BAD_REQUEST', `meter address "${meter}" must be 1–14 decimal digits`);
  }
  const significant = meter.replace(/^0+/, '');
  if (significant.length > width) {
    throw new MasterError(
      'BAD_REQUEST',
      `meter address "${meter}" has more than the ${width} digits of ${protocol}`,
    );
  }
  return significant.padStart(width, '0');
}

/** The read request for the meter at `address` (already padded), as bytes to forward. */
export function buildMeterRequest(
  protocol: MeterProtocol,
  address: string,
  options: MeterRequestOptions = {},
): Uint8Array {
  if (protocol === 'cjt188') {
    return encodeCjt188(
      buildCjt188Read(address, CJT188_READ_DI, {
        diOrder: options.cjt188DiOrder ?? 'low-first',
        meterType: options.cjt188MeterType,
        ser: options.ser,
      }),
    );
  }
  return encodeDlt645(buildDlt645Read(address, DLT645_READ_DI));
}

/**
 * Decodes the forward content the concentrator returned for a read of the meter at `address`.
 *
 * - Empty content: the meter stayed silent → METER_TIMEOUT (§3.4: the terminal answers with k = 0).
 * - Junk around the frame and echoes of the request (some RS-485 adapters echo, §simulator notes) are skipped.
 * - No frame at all → BAD_REPLY with `detail` the ProtocolError code (BAD_CHECKSUM, TRUNCATED, …).
 * - A reply from another address → BAD_REPLY `ADDRESS_MISMATCH`; an abnormal reply → BAD_REPLY
 *   `ABNORMAL_REPLY`; another kind of reply → BAD_REPLY `UNEXPECTED_REPLY`; a unit a reading cannot carry →
 *   BAD_REPLY `UNSUPPORTED_UNIT`.
 * `what` names the read in messages ("meter 00000000101001 on 017102082").
 */
export function decodeMeterReply(
  protocol: MeterProtocol,
  address: string,
  content: Uint8Array,
  what: string,
): MeterValue {
  if (content.length === 0) {
    throw new MasterError('METER_TIMEOUT', `${what} did not answer (the concentrator forwarded no reply)`);
  }
  return protocol === 'cjt188'
    ? fromCjt188(
        firstReply<Cjt188Frame>((b) => decodeCjt188(b), content, what),
        address,
        what,
      )
    : fromDlt645(
        firstReply<Dlt645Frame>((b) => decodeDlt645(b), content, what),
        address,
        what,
      );
}

function firstReply<T extends { direction: string }>(
  decode: FrameDecoder<T>,
  content: Uint8Array,
  what: string,
): T {
  // The usual content starts with the meter's reply: that frame is what the accumulator below would find
  // first, so take it without building one.
  const first = decode(content);
  if (first.kind === 'frame' && first.frame.direction === 'reply') return first.frame;
  const acc = new FrameAccumulator<T>(decode as (b: Uint8Array) => DecodeResult<T>, {
    maxBufferedBytes: Math.max(16, content.length),
  });
  const events = [...acc.push(content), ...acc.flush()];
  for (const e of events) if (e.kind === 'frame' && e.frame.direction === 'reply') return e.frame;
  const dropped =
    events.find((e) => e.kind === 'dropped' && e.error.code !== 'NO_START') ??
    events.find((e) => e.kind === 'dropped');
  if (dropped?.kind === 'dropped') {
    throw new MasterError(
      'BAD_REPLY',
      `${what} answered with an unusable frame: ${dropped.error.message}`,
      dropped.error.code,
    );
  }
  throw new MasterError(
    'BAD_REPLY',
    `${what} answered with no reply frame (only an echo of the request)`,
    'NO_REPLY',
  );
}

function checkAddress(got: string, address: string, what: string): void {
  if (got !== address) {
    throw new MasterError('BAD_REPLY', `${what}: the reply came from address ${got}`, 'ADDRESS_MISMATCH');
  }
}

function readingUnit(unit: string, what: string): ReadingUnit {
  if ((READING_UNITS as readonly string[]).includes(unit)) return unit as ReadingUnit;
  throw new MasterError(
    'BAD_REPLY',
    `${what} reported its reading in "${unit}", which a reading cannot carry`,
    'UNSUPPORTED_UNIT',
  );
}

function fromCjt188(frame: Cjt188Frame, address: string, what: string): MeterValue {
  checkAddress(frame.address, address, what);
  const body = frame.body;
  if (frame.abnormal || body.kind === 'error-reply') {
    const st = body.kind === 'error-reply' ? ` (ST ${body.st.raw}, valve ${body.st.valve})` : '';
    throw new MasterError(
      'BAD_REPLY',
      `${what} gave an abnormal reply, C=${hex2(frame.control)}${st}`,
      'ABNORMAL_REPLY',
    );
  }
  if (body.kind !== 'read-reply' || (body.data.type !== 'water' && body.data.type !== 'heat')) {
    throw new MasterError(
      'BAD_REPLY',
      `${what} answered with a ${body.kind} instead of 901F metering data`,
      'UNEXPECTED_REPLY',
    );
  }
  const data = body.data;
  const quantity = data.type === 'water' ? data.current : data.currentHeat;
  const out: MeterValue = {
    meter: frame.address,
    value: quantity.value,
    unit: readingUnit(quantity.unit, what),
    status: { valve: data.status.valve, batteryLow: data.status.batteryLow },
  };
  if (data.time !== null) out.meterTime = data.time.replace(' ', 'T');
  return out;
}

function fromDlt645(frame: Dlt645Frame, address: string, what: string): MeterValue {
  checkAddress(frame.address, address, what);
  const body = frame.body;
  if (frame.abnormal || body.kind === 'abnormal-reply') {
    const errors =
      body.kind === 'abnormal-reply' ? ` (${body.errors.join(', ') || `ERR ${hex2(body.error)}`})` : '';
    throw new MasterError(
      'BAD_REPLY',
      `${what} gave an abnormal reply, C=${hex2(frame.control)}${errors}`,
      'ABNORMAL_REPLY',
    );
  }
  if (body.kind !== 'read-reply' || body.di !== DLT645_READ_DI || typeof body.value !== 'number') {
    const di = body.kind === 'read-reply' ? ` for DI ${body.di}` : '';
    throw new MasterError(
      'BAD_REPLY',
      `${what} answered with a ${body.kind}${di} instead of DI ${DLT645_READ_DI}`,
      'UNEXPECTED_REPLY',
    );
  }
  return { meter: frame.address, value: body.value, unit: readingUnit(body.unit, what) };
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}
