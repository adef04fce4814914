import { ProtocolError } from '../errors.ts';
import { parseConcentratorId } from './concentrator-id.ts';

// Field checks shared by the v1 and legacy validators (internal to this folder). Each takes the object, the key
// and the JSON path of the object (for the message), and returns the field typed or throws BAD_MESSAGE naming
// the path and the problem: `"meter" must be 1–14 decimal digits, got "10x"`, `missing "Content.ConcentratorNo"`.

/** A parsed JSON object. @internal */
export type JsonObject = Record<string, unknown>;

/** Throws the BAD_MESSAGE for `path`. */
export function fail(path: string, problem: string): never {
  throw new ProtocolError('BAD_MESSAGE', `"${path}" ${problem}`);
}

/** A short, readable rendering of a bad value for an error message. */
export function show(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function join(base: string, key: string): string {
  return base === '' ? key : `${base}.${key}`;
}

/** Rejects keys outside `allowed`, so a misspelt optional field ("prtocol") is not silently ignored. */
export function rejectUnknownKeys(
  obj: JsonObject,
  base: string,
  allowed: readonly string[],
  what: string,
): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new ProtocolError('BAD_MESSAGE', `unknown field "${join(base, key)}" in ${what}`);
    }
  }
}

function has(obj: JsonObject, key: string): boolean {
  return Object.hasOwn(obj, key) && obj[key] !== undefined;
}

/** The field if present (`undefined` if absent), else throws `missing`. */
function required(obj: JsonObject, key: string, base: string): unknown {
  if (!has(obj, key)) throw new ProtocolError('BAD_MESSAGE', `missing "${join(base, key)}"`);
  return obj[key];
}

export function string(obj: JsonObject, key: string, base: string): string {
  const value = required(obj, key, base);
  if (typeof value !== 'string') fail(join(base, key), `must be a string, got ${show(value)}`);
  return value;
}

export function optional<T>(
  obj: JsonObject,
  key: string,
  base: string,
  read: (obj: JsonObject, key: string, base: string) => T,
): T | undefined {
  return has(obj, key) ? read(obj, key, base) : undefined;
}

export function finiteNumber(obj: JsonObject, key: string, base: string): number {
  const value = required(obj, key, base);
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    fail(join(base, key), `must be a finite number, got ${show(value)}`);
  }
  // JSON cannot tell -0 from 0 once it is written ("0"), so keep one zero.
  return value === 0 ? 0 : value;
}

export function boolean(obj: JsonObject, key: string, base: string): boolean {
  const value = required(obj, key, base);
  if (typeof value !== 'boolean') fail(join(base, key), `must be true or false, got ${show(value)}`);
  return value;
}

export function oneOf<T extends string>(values: readonly T[]) {
  return (obj: JsonObject, key: string, base: string): T => {
    const value = required(obj, key, base);
    if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
      fail(join(base, key), `must be one of ${values.map((v) => `"${v}"`).join(', ')}, got ${show(value)}`);
    }
    return value as T;
  };
}

export function object(obj: JsonObject, key: string, base: string): JsonObject {
  const value = required(obj, key, base);
  if (!isObject(value)) fail(join(base, key), `must be an object, got ${show(value)}`);
  return value;
}

// Control characters in an id would corrupt logs and reports that print it.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Request id: 1–128 characters, no control characters. */
export function requestId(obj: JsonObject, key: string, base: string): string {
  const value = string(obj, key, base);
  if (value.length < 1 || value.length > 128 || CONTROL.test(value)) {
    fail(join(base, key), `must be 1–128 characters without control characters, got ${show(value)}`);
  }
  return value;
}

/** A text of 1–`max` characters without control characters (a `detail` field: it ends up in logs and reports). */
export function boundedText(max: number) {
  return (obj: JsonObject, key: string, base: string): string => {
    const value = string(obj, key, base);
    if (value.length < 1 || value.length > max || CONTROL.test(value)) {
      fail(join(base, key), `must be 1–${max} characters without control characters, got ${show(value)}`);
    }
    return value;
  };
}

/** A word as exactly `digits` upper-case hex digits, e.g. a CJ/T 188 status word ST `"0004"`. */
export function hexWord(digits: number) {
  const shape = new RegExp(`^[0-9A-F]{${digits}}$`);
  return (obj: JsonObject, key: string, base: string): string => {
    const value = string(obj, key, base);
    if (!shape.test(value))
      fail(join(base, key), `must be ${digits} upper-case hex digits, got ${show(value)}`);
    return value;
  };
}

const SPACED_HEX = /^[0-9A-F]{2}( [0-9A-F]{2})*$/;

/** Bytes as spaced upper-case hex (`"68 10 01"`), 1–`maxBytes` of them. */
export function spacedHex(maxBytes: number) {
  return (obj: JsonObject, key: string, base: string): string => {
    const value = string(obj, key, base);
    // Length first: the pattern need not scan a huge string to refuse it.
    if (value.length > maxBytes * 3 - 1 || !SPACED_HEX.test(value)) {
      fail(
        join(base, key),
        `must be 1–${maxBytes} bytes as spaced upper-case hex ("68 10 01"), got ${show(value)}`,
      );
    }
    return value;
  };
}

/** Concentrator address (A1+A2) or alias; see `concentrator-id.ts`. */
export function concentrator(obj: JsonObject, key: string, base: string): string {
  const value = string(obj, key, base);
  const id = parseConcentratorId(value);
  if (id.kind === 'invalid') fail(join(base, key), `${id.problem}, got ${show(value)}`);
  return value;
}

const METER = /^\d{1,14}$/;

/** Meter address as given: 1–14 decimal digits (the master pads it for the meter's protocol). */
export function meter(obj: JsonObject, key: string, base: string): string {
  const value = string(obj, key, base);
  if (!METER.test(value)) fail(join(base, key), `must be 1–14 decimal digits, got ${show(value)}`);
  return value;
}

/** Concentrator port, Q/GDW 1376.1 AFN 10H F1 "终端通信端口号": an integer 1–31. */
export function port(obj: JsonObject, key: string, base: string): number {
  const value = required(obj, key, base);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 31) {
    fail(join(base, key), `must be an integer 1–31, got ${show(value)}`);
  }
  return value;
}

export function nonNegative(obj: JsonObject, key: string, base: string): number {
  const value = finiteNumber(obj, key, base);
  if (value < 0) fail(join(base, key), `must be ≥ 0, got ${show(value)}`);
  return value;
}

const ERROR_CODE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;

/** Error code: UPPER_SNAKE, at most 64 characters. */
export function errorCode(obj: JsonObject, key: string, base: string): string {
  const value = string(obj, key, base);
  if (value.length > 64 || !ERROR_CODE.test(value)) {
    fail(join(base, key), `must be an UPPER_SNAKE code of at most 64 characters, got ${show(value)}`);
  }
  return value;
}

/**
 * The six numbers of `YYYY-MM-DDTHH:mm:ss` at the start of `text`, or undefined when the text does not start
 * with that shape (ASCII digits where the digits go, the separators in between).
 */
function readDateTime(text: string): DateTimeFields | undefined {
  if (text.length < 19) return undefined;
  for (let i = 0; i < 19; i++) {
    const c = text.charCodeAt(i);
    const separator = DATE_TIME_SHAPE.charCodeAt(i);
    if (separator === DIGIT ? c < 48 || c > 57 : c !== separator) return undefined;
  }
  return [
    numberAt(text, 0, 4),
    numberAt(text, 5, 2),
    numberAt(text, 8, 2),
    numberAt(text, 11, 2),
    numberAt(text, 14, 2),
    numberAt(text, 17, 2),
  ];
}
type DateTimeFields = [number, number, number, number, number, number];

/** The number written by the `count` ASCII digits at `at`. */
function numberAt(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) value = value * 10 + text.charCodeAt(i) - 48;
  return value;
}
const DATE_TIME_SHAPE = '0000-00-00T00:00:00';
const DIGIT = 48; // '0' in DATE_TIME_SHAPE stands for any digit

/**
 * True if the fields name a real calendar day and time of day (proleptic Gregorian, as `Date` counts, no leap
 * seconds). Years before 100 are refused by the callers first: `Date` would read them as 19xx.
 */
function realDateTime(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo) && h <= 23 && mi <= 59 && s <= 59;
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return leap ? 29 : 28;
}

/** True for a real date-time at the start of `text` with a year of at least 100 (meters are not that old). */
function startsWithRealDateTime(text: string): boolean {
  const t = readDateTime(text);
  return t !== undefined && t[0] >= 100 && realDateTime(...t);
}

/** The meter's clock: local time without zone, `YYYY-MM-DDTHH:mm:ss`, a real date. */
export function meterTime(obj: JsonObject, key: string, base: string): string {
  const value = string(obj, key, base);
  if (value.length !== 19 || !startsWithRealDateTime(value)) {
    fail(join(base, key), `must be a local date-time YYYY-MM-DDTHH:mm:ss, got ${show(value)}`);
  }
  return value;
}

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** An instant: ISO 8601 with `Z` or an offset, as `Date#toISOString()` writes it. */
export function isoInstant(obj: JsonObject, key: string, base: string): string {
  const value = string(obj, key, base);
  const ok = isToIsoStringForm(value)
    ? startsWithRealDateTime(value)
    : ISO_INSTANT.test(value) && startsWithRealDateTime(value) && Number.isFinite(Date.parse(value));
  if (!ok) fail(join(base, key), `must be an ISO 8601 date-time with Z or an offset, got ${show(value)}`);
  return value;
}

/**
 * True when the text after the date-time is `.sssZ`, the `Date#toISOString()` form every meterlab peer writes.
 * `Date.parse` reads every real date-time of that form from year 100 on, so it need not be asked.
 */
function isToIsoStringForm(text: string): boolean {
  return (
    text.length === 24 &&
    text.charCodeAt(19) === 0x2e && // '.'
    isDigitAt(text, 20) &&
    isDigitAt(text, 21) &&
    isDigitAt(text, 22) &&
    text.charCodeAt(23) === 0x5a // 'Z'
  );
}

function isDigitAt(text: string, at: number): boolean {
  const c = text.charCodeAt(at);
  return c >= 48 && c <= 57;
}
