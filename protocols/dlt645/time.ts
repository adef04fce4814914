import { bcdByteToNumber, numberToBcdByte } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';

/**
 * Calendar fields as DL/T 645 carries them: two-digit years (2000–2099), BCD, least significant field first.
 * Week is 0 = Sunday … 6 = Saturday (the WW byte of 04000101).
 */
export interface Dlt645DateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_PATTERN = /^(\d{2}):(\d{2}):(\d{2})$/;
const pad2 = (n: number): string => String(n).padStart(2, '0');

/** True when year/month/day is a real calendar date in 2000–2099. */
export function isValidDate(year: number, month: number, day: number): boolean {
  if (![year, month, day].every(Number.isInteger) || year < 2000 || year > 2099) return false;
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** True when hour/minute/second is a time of day. */
export function isValidTime(hour: number, minute: number, second: number): boolean {
  return (
    [hour, minute, second].every(Number.isInteger) &&
    hour >= 0 &&
    hour < 24 &&
    minute >= 0 &&
    minute < 60 &&
    second >= 0 &&
    second < 60
  );
}

/** Day of the week (0 = Sunday) of a date. */
export function weekday(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

/** "YYYY-MM-DD". */
export function formatDate(year: number, month: number, day: number): string {
  return `${year}-${pad2(month)}-${pad2(day)}`;
}

/** "hh:mm:ss". */
export function formatTime(hour: number, minute: number, second: number): string {
  return `${pad2(hour)}:${pad2(minute)}:${pad2(second)}`;
}

/** "YYYY-MM-DD" to its parts; throws BAD_FIELD naming `what` unless it is a date in 2000–2099. */
export function parseDate(text: string, what: string): { year: number; month: number; day: number } {
  const m = typeof text === 'string' ? DATE_PATTERN.exec(text) : null;
  const [year, month, day] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [Number.NaN, 0, 0];
  if (!isValidDate(year, month, day)) {
    throw new ProtocolError('BAD_FIELD', `${what} "${String(text)}" is not a date YYYY-MM-DD in 2000–2099`);
  }
  return { year, month, day };
}

/** "hh:mm:ss" to its parts; throws BAD_FIELD naming `what` unless it is a time of day. */
export function parseTime(text: string, what: string): { hour: number; minute: number; second: number } {
  const m = typeof text === 'string' ? TIME_PATTERN.exec(text) : null;
  const [hour, minute, second] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [Number.NaN, 0, 0];
  if (!isValidTime(hour, minute, second)) {
    throw new ProtocolError('BAD_FIELD', `${what} "${String(text)}" is not a time hh:mm:ss`);
  }
  return { hour, minute, second };
}

/** "YYYY-MM-DD hh:mm:ss", the form of a time-sync body. */
export function formatDateTime(t: Dlt645DateTime): string {
  return `${formatDate(t.year, t.month, t.day)} ${formatTime(t.hour, t.minute, t.second)}`;
}

/** "YYYY-MM-DD hh:mm:ss" to its parts; throws BAD_FIELD naming `what`. */
export function parseDateTime(text: string, what: string): Dlt645DateTime {
  const [date, time, extra] = typeof text === 'string' ? text.split(' ') : [];
  if (date === undefined || time === undefined || extra !== undefined) {
    throw new ProtocolError('BAD_FIELD', `${what} "${String(text)}" is not "YYYY-MM-DD hh:mm:ss"`);
  }
  return { ...parseDate(date, what), ...parseTime(time, what) };
}

/**
 * BCD bytes to numbers, or undefined if any byte is not BCD. Value fields that are not BCD make a reply
 * `opaque` rather than an error: meters answer FF/EE for items they lack, and the frame itself is sound.
 * @internal
 */
export function bcdFields(bytes: Uint8Array): number[] | undefined {
  const out: number[] = [];
  for (const b of bytes) {
    if (b >> 4 > 9 || (b & 0x0f) > 9) return undefined;
    out.push(bcdByteToNumber(b));
  }
  return out;
}

/** Numbers 0–99 to BCD bytes. @internal */
export function toBcdFields(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = numberToBcdByte(values[i]);
  return out;
}
