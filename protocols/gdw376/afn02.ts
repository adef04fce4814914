import { bcdByteToNumber, numberToBcdByte } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';
import { p2 } from './auxiliary-field.ts';
import { hex2 } from './control.ts';
import type { HeartbeatBody } from './types.ts';

/**
 * AFN 02: link interface check — F1 login, F2 logout, F3 heartbeat (docs/gdw376.md §3.4/§3.5, TURTLE
 * `rgm_afn02h.xml`).
 */
export const AFN_LINK_CHECK = 0x02;
/** Length of a data-format A.1 clock: sec, min, hour, day, week|month, year. */
export const CLOCK_A1_LENGTH = 6;

/** A terminal clock in data format A.1. */
export interface Gdw376Clock {
  /** "YYYY-MM-DD hh:mm:ss", year 2000–2099. */
  clock: string;
  /** 1 = Monday … 7 = Sunday, 0 = not set. */
  week: number;
}

/**
 * Reads the data of AFN 02 F3. It runs to the end of the data region: no data (older terminals, Q2/Q11) or
 * the 2013 terminal clock (TURTLE `terminalTime`, Q22). Throws BAD_FIELD on any other length.
 */
export function decodeHeartbeat(data: Uint8Array): HeartbeatBody {
  if (data.length === 0) return { kind: 'heartbeat' };
  if (data.length !== CLOCK_A1_LENGTH) {
    throw new ProtocolError(
      'BAD_FIELD',
      `heartbeat data must be empty or a 6-byte A.1 clock, got ${data.length} bytes`,
    );
  }
  return { kind: 'heartbeat', ...decodeClockA1(data) };
}

/** Writes the data of AFN 02 F3 (empty, or the clock; week computed from the date when left out). */
export function encodeHeartbeat(body: HeartbeatBody): Uint8Array {
  if (body.clock === undefined) {
    if (body.week !== undefined)
      throw new ProtocolError('BAD_FIELD', 'heartbeat week is given without a clock');
    return new Uint8Array(0);
  }
  return encodeClockA1(body.clock, body.week);
}

/**
 * Reads data format A.1: sec, min, hour, day BCD, then week (D7–D5, binary) | month (D4 tens, D3–D0 units),
 * then year BCD. Only BCD is checked, not calendar ranges, so any clock a device sends is shown as sent.
 */
export function decodeClockA1(bytes: Uint8Array): Gdw376Clock {
  const [sec, min, hour, day] = [0, 1, 2, 3].map((i) => bcdByteToNumber(bytes[i], 'heartbeat clock'));
  const wm = bytes[4];
  if ((wm & 0x0f) > 9) {
    throw new ProtocolError('BAD_BCD', `heartbeat clock: month in ${hex2(wm)} is not BCD`);
  }
  const month = ((wm >> 4) & 1) * 10 + (wm & 0x0f);
  const year = bcdByteToNumber(bytes[5], 'heartbeat clock');
  return {
    clock: `20${p2(year)}-${p2(month)}-${p2(day)} ${p2(hour)}:${p2(min)}:${p2(sec)}`,
    week: wm >> 5,
  };
}

/** Writes data format A.1. `week` defaults to the day of week of the date (Monday 1 … Sunday 7). */
export function encodeClockA1(clock: string, week?: number): Uint8Array {
  const m = /^20(\d{2})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(clock);
  if (!m) throw new ProtocolError('BAD_FIELD', `clock "${clock}" is not "YYYY-MM-DD hh:mm:ss" in 2000–2099`);
  const [year, month, day, hour, min, sec] = m.slice(1).map(Number);
  if (month > 19) throw new ProtocolError('BAD_FIELD', `clock month ${month} does not fit A.1 (5 bits BCD)`);
  const w = week ?? dayOfWeek(2000 + year, month, day);
  if (!Number.isInteger(w) || w < 0 || w > 7) {
    throw new ProtocolError('BAD_FIELD', `week ${w} is not 0–7`);
  }
  return Uint8Array.of(
    numberToBcdByte(sec),
    numberToBcdByte(min),
    numberToBcdByte(hour),
    numberToBcdByte(day),
    (w << 5) | numberToBcdByte(month),
    numberToBcdByte(year),
  );
}

/** Day of week, Monday 1 … Sunday 7; 0 when the date is not a calendar date. */
export function dayOfWeek(year: number, month: number, day: number): number {
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return 0;
  return date.getUTCDay() === 0 ? 7 : date.getUTCDay();
}
