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

const METER_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;

/** True if the fields name a real calendar day and time of day. */
function realDateTime(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return (
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === mo - 1 &&
    date.getUTCDate() === d &&
    date.getUTCHours() === h &&
    date.getUTCMinutes() === mi &&
    date.getUTCSeconds() === s
  );
}

/** The meter's clock: local time without zone, `YYYY-MM-DDTHH:mm:ss`, a real date. */
export function meterTime(obj: JsonObject, key: string, base: string): string {
  const value = string(obj, key, base);
  const m = METER_TIME.exec(value);
  // Years before 100 would need setUTCFullYear; meters are not that old.
  if (!m || Number(m[1]) < 100 || !realDateTime(...(m.slice(1, 7).map(Number) as Tuple6))) {
    fail(join(base, key), `must be a local date-time YYYY-MM-DDTHH:mm:ss, got ${show(value)}`);
  }
  return value;
}
type Tuple6 = [number, number, number, number, number, number];

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** An instant: ISO 8601 with `Z` or an offset, as `Date#toISOString()` writes it. */
export function isoInstant(obj: JsonObject, key: string, base: string): string {
  const value = string(obj, key, base);
  const m = ISO_INSTANT.exec(value);
  if (
    !m ||
    Number(m[1]) < 100 ||
    !realDateTime(...(m.slice(1, 7).map(Number) as Tuple6)) ||
    !Number.isFinite(Date.parse(value))
  ) {
    fail(join(base, key), `must be an ISO 8601 date-time with Z or an offset, got ${show(value)}`);
  }
  return value;
}
