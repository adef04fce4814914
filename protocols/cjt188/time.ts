import { bcdByteToNumber, byteToHex, numberToBcdByte } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';

/**
 * Real-time fields (docs/cjt188.md §1.8): 7 BCD bytes `ss mm hh DD MM YY CC` (KINGDA `CJT_188_Time_Struct`;
 * NGGW
 * `decode_datetime`): `31 01 22 11 05 15 20` is 2015-05-11 22:01:31. In frames the time is the string
 * "YYYY-MM-DD hh:mm:ss", or null when all seven bytes are zero (a meter without a set clock, C9).
 * @packageDocumentation
 */

/** Length of a time field. */
export const CJT188_TIME_LENGTH = 7;

const TIME_TEXT = /^(\d{2})(\d{2})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/**
 * Seven wire bytes to "YYYY-MM-DD hh:mm:ss" (null when all zero). Only BCD is checked, not the calendar: a
 * meter with a bad clock still decodes, and the text re-encodes to the same bytes. Throws BAD_BCD.
 */
export function decodeTime(bytes: Uint8Array, what = 'time'): string | null {
  if (bytes.every((b) => b === 0)) return null;
  const label = `CJ/T 188 ${what}`;
  for (const b of bytes) bcdByteToNumber(b, label);
  const date = `${hexAt(bytes, 6)}${hexAt(bytes, 5)}-${hexAt(bytes, 4)}-${hexAt(bytes, 3)}`;
  return `${date} ${hexAt(bytes, 2)}:${hexAt(bytes, 1)}:${hexAt(bytes, 0)}`;
}

/** Byte `i` as hex ('' past the end): a BCD byte's two decimal digits. */
function hexAt(bytes: Uint8Array, i: number): string {
  return i < bytes.length ? byteToHex(bytes[i]) : '';
}

/** "YYYY-MM-DD hh:mm:ss" (or null for all-zero) to the seven wire bytes. Throws BAD_FIELD naming `what`. */
export function encodeTime(time: string | null, what = 'time'): Uint8Array {
  if (time === null) return new Uint8Array(CJT188_TIME_LENGTH);
  const m = typeof time === 'string' ? TIME_TEXT.exec(time) : null;
  if (!m) {
    throw new ProtocolError('BAD_FIELD', `CJ/T 188 ${what} "${time}" must be "YYYY-MM-DD hh:mm:ss" or null`);
  }
  // The text reads CC YY MM DD hh mm ss (captures 1–7); the wire order is the reverse.
  const out = new Uint8Array(CJT188_TIME_LENGTH);
  for (let i = 0; i < CJT188_TIME_LENGTH; i++) out[i] = numberToBcdByte(Number(m[CJT188_TIME_LENGTH - i]));
  // All-zero bytes mean "no time" and decode as null; refusing the text keeps decode(encode(x)) === x.
  if (out.every((b) => b === 0)) {
    throw new ProtocolError('BAD_FIELD', `CJ/T 188 ${what} "${time}" is all zero; use null`);
  }
  return out;
}

/** Calendar parts of a time field, as a meter's clock shows them. */
export interface Cjt188TimeParts {
  year: number;
  /** 1–12 */
  month: number;
  /** 1–31 */
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/**
 * Meters in the field keep Chinese standard time (UTC+8). A `Date` is turned into wall-clock parts with this
 * offset unless another is given; this keeps the builders pure and independent of the host's time zone.
 */
export const CJT188_DEFAULT_UTC_OFFSET_MINUTES = 480;

/** Two-digit zero-padded decimal. */
function p2(n: number): string {
  return String(n).padStart(2, '0');
}

/** The range of each calendar part, checked in this order. */
const TIME_PART_RANGES: readonly (readonly [keyof Cjt188TimeParts, number, number])[] = [
  ['year', 0, 9999],
  ['month', 1, 12],
  ['day', 1, 31],
  ['hour', 0, 23],
  ['minute', 0, 59],
  ['second', 0, 59],
];

/**
 * A `Date` (shifted by `utcOffsetMinutes`) or calendar parts to "YYYY-MM-DD hh:mm:ss", checking ranges.
 * Throws BAD_FIELD naming the bad part.
 */
export function formatTime(
  time: Date | Cjt188TimeParts,
  utcOffsetMinutes = CJT188_DEFAULT_UTC_OFFSET_MINUTES,
): string {
  let parts: Cjt188TimeParts;
  if (time instanceof Date) {
    if (Number.isNaN(time.getTime()))
      throw new ProtocolError('BAD_FIELD', 'CJ/T 188 time is an invalid Date');
    const d = new Date(time.getTime() + utcOffsetMinutes * 60_000);
    parts = {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
    };
  } else {
    parts = time;
  }
  for (const [key, min, max] of TIME_PART_RANGES) {
    const v = parts[key];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new ProtocolError('BAD_FIELD', `CJ/T 188 time ${key} ${v} is outside ${min}..${max}`);
    }
  }
  return `${String(parts.year).padStart(4, '0')}-${p2(parts.month)}-${p2(parts.day)} ${p2(parts.hour)}:${p2(parts.minute)}:${p2(parts.second)}`;
}
