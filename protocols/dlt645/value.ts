import { ProtocolError } from '../errors.ts';
import type { Dlt645DiLayout } from './di-table.ts';
import {
  bcdFields,
  formatDate,
  formatTime,
  isValidDate,
  isValidTime,
  parseDate,
  parseTime,
  toBcdFields,
  weekday,
} from './time.ts';

/** A decoded value: a number for scaled BCD, a string for date/time, plus the week byte of a date. */
export interface Dlt645Value {
  value: number | string;
  /** Day of the week (0 = Sunday) carried by a YYMMDDWW date. */
  week?: number;
}

/**
 * Value bytes (after −33H, low byte first) to a value per the DI's layout, or undefined when the bytes do not
 * fit it (wrong length, not BCD, not a date): such a reply is kept as an `opaque` body.
 */
export function decodeValue(layout: Dlt645DiLayout, bytes: Uint8Array): Dlt645Value | undefined {
  if (bytes.length !== layout.length) return undefined;
  if (layout.type === 'date') {
    const f = bcdFields(bytes);
    if (!f) return undefined;
    // YYMMDDWW is written high to low and sent low byte first: WW DD MM YY (docs/dlt645.md §2.3).
    const [week, day, month, yy] = f;
    if (!isValidDate(2000 + yy, month, day) || week > 6) return undefined;
    return { value: formatDate(2000 + yy, month, day), week };
  }
  if (layout.type === 'time') {
    const f = bcdFields(bytes);
    if (!f) return undefined;
    const [second, minute, hour] = f;
    return isValidTime(hour, minute, second) ? { value: formatTime(hour, minute, second) } : undefined;
  }
  const top = bytes.length - 1;
  const negative = layout.signed && (bytes[top] & 0x80) !== 0;
  const magnitude = bytes.slice();
  if (layout.signed) magnitude[top] &= 0x7f;
  const f = bcdFields(magnitude);
  if (!f) return undefined;
  let scaled = 0;
  for (let i = top; i >= 0; i--) scaled = scaled * 100 + f[i];
  const value = scaled / 10 ** layout.decimals;
  // A set sign bit on zero would be -0, which JSON cannot carry: report 0 (the caller keeps the raw bytes).
  return { value: negative && scaled !== 0 ? -value : value };
}

/**
 * A value to its bytes per the DI's layout (before +33H). Throws BAD_FIELD when the value has the wrong type,
 * is out of range, or (date) has a week that is not 0–6; a date's week defaults to its real day of the week.
 */
export function encodeValue(layout: Dlt645DiLayout, value: number | string, week?: number): Uint8Array {
  if (layout.type === 'date') {
    const { year, month, day } = parseDate(value as string, valueWhat(layout));
    const ww = week ?? weekday(year, month, day);
    if (!Number.isInteger(ww) || ww < 0 || ww > 6) {
      throw new ProtocolError('BAD_FIELD', `week of DI ${layout.di} must be 0 (Sunday) to 6, got ${ww}`);
    }
    return toBcdFields([ww, day, month, year - 2000]);
  }
  if (layout.type === 'time') {
    const { hour, minute, second } = parseTime(value as string, valueWhat(layout));
    return toBcdFields([second, minute, hour]);
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ProtocolError(
      'BAD_FIELD',
      `${valueWhat(layout)} must be a finite number, got ${JSON.stringify(value)}`,
    );
  }
  const scaled = Math.round(Math.abs(value) * 10 ** layout.decimals);
  // Sign and magnitude: the top byte keeps 7 bits of magnitude, so its BCD digit pair is at most 79.
  const limit = (layout.signed ? 80 : 100) * 100 ** (layout.length - 1);
  if ((value < 0 && !layout.signed) || scaled >= limit) {
    const range = layout.signed
      ? `±${(limit - 1) / 10 ** layout.decimals}`
      : `0…${(limit - 1) / 10 ** layout.decimals}`;
    throw new ProtocolError(
      'BAD_FIELD',
      `${valueWhat(layout)} ${value} is outside ${range} ${layout.unit}`.trimEnd(),
    );
  }
  const fields: number[] = [];
  let rest = scaled;
  for (let i = 0; i < layout.length; i++) {
    fields.push(rest % 100);
    rest = Math.floor(rest / 100);
  }
  const out = toBcdFields(fields);
  if (value < 0 && scaled !== 0) out[layout.length - 1] |= 0x80;
  return out;
}

/** "value of DI 00010000 (forward active energy total, XXXXXX.XX)", for messages (made only for one). */
function valueWhat(layout: Dlt645DiLayout): string {
  return `value of DI ${layout.di} (${layout.name}, ${layout.format})`;
}
