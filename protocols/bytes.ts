import { ProtocolError } from './errors.ts';

/** The value of each ASCII hex digit by character code; -1 for every other character. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE['0123456789ABCDEF'.charCodeAt(i)] = i;
  HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
}

/** 1 for the ASCII separators hex text may hold between digits: white space, comma, colon, semicolon, hyphen. */
const HEX_SEPARATOR = new Uint8Array(128);
for (const c of ' \t\n\v\f\r,:;-') HEX_SEPARATOR[c.charCodeAt(0)] = 1;

/** Upper-case two-digit hex of every byte value. */
const HEX_PAIRS: readonly string[] = Array.from({ length: 256 }, (_, b) =>
  b.toString(16).toUpperCase().padStart(2, '0'),
);

/** Parses hex text such as "68 10 44 33" or "681044" (spaces, colons, commas and 0x prefixes allowed). */
export function hexToBytes(text: string): Uint8Array {
  // Clean text, which is what codecs and frames carry, takes one of two fast paths; anything else goes the
  // general way, which also words the error.
  if (typeof text !== 'string') return parseHexText(text);
  return parseSpacedHex(text) ?? parseCleanHex(text) ?? parseHexText(text);
}

/**
 * `XX XX XX`, the form bytesToHex writes and so the form frames carry their meter frames in, in one pass;
 * undefined for any other text.
 */
function parseSpacedHex(text: string): Uint8Array | undefined {
  if (text.length % 3 !== 2) return undefined;
  const out = new Uint8Array((text.length + 1) / 3);
  for (let at = 0, i = 0; at < out.length; at++, i += 3) {
    const high = hexValue(text.charCodeAt(i));
    const low = hexValue(text.charCodeAt(i + 1));
    if (high < 0 || low < 0 || (i + 2 < text.length && text.charCodeAt(i + 2) !== 0x20)) return undefined;
    out[at] = (high << 4) | low;
  }
  return out;
}

/**
 * Hex digits with or without ASCII separators, in one pass to check and count the digits and one to fill
 * the bytes; undefined for anything else (a 0x prefix, another character, an odd number of digits).
 */
function parseCleanHex(text: string): Uint8Array | undefined {
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (hexValue(c) >= 0) digits++;
    else if (c >= 128 || HEX_SEPARATOR[c] === 0) return undefined;
  }
  if (digits % 2 !== 0) return undefined;
  const out = new Uint8Array(digits / 2);
  let high = -1;
  for (let i = 0, at = 0; i < text.length; i++) {
    const value = hexValue(text.charCodeAt(i));
    if (value < 0) continue;
    if (high < 0) {
      high = value;
    } else {
      out[at++] = (high << 4) | value;
      high = -1;
    }
  }
  return out;
}

/** The value of a hex digit's character code, -1 for any other character. */
function hexValue(c: number): number {
  return c < 128 ? HEX_VALUE[c] : -1;
}

/** The general form of {@link hexToBytes}: strips 0x prefixes and separators, then checks what is left. */
function parseHexText(text: string): Uint8Array {
  const clean = text.replace(/0x/gi, '').replace(/[\s,:;-]+/g, '');
  if (clean.length % 2 !== 0) {
    throw new ProtocolError('BAD_FIELD', `hex text has an odd number of digits (${clean.length})`);
  }
  const bad = clean.search(/[^0-9a-fA-F]/);
  if (bad >= 0) {
    throw new ProtocolError('BAD_FIELD', `"${clean[bad]}" at position ${bad} is not a hex digit`, bad);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * Two upper-case hex digits of a byte ("0A"). Numbers that are not bytes are written as their hex, padded to
 * two digits, as `toString(16)` would.
 */
export function byteToHex(byte: number): string {
  return HEX_PAIRS[byte] ?? byte.toString(16).toUpperCase().padStart(2, '0');
}

/** Formats bytes as upper-case hex pairs separated by spaces, the way the standards and vectors write frames. */
export function bytesToHex(bytes: Uint8Array, separator = ' '): string {
  // join makes one flat string; appending piece by piece makes a rope that V8 flattens at its first read,
  // which costs more than the appending (and hexToBytes reads every frame's hex).
  const pairs = new Array<string>(bytes.length);
  for (let i = 0; i < bytes.length; i++) pairs[i] = HEX_PAIRS[bytes[i]];
  return pairs.join(separator);
}

/** 8-bit arithmetic sum of `bytes[from..to)`, the checksum of CJ/T 188, DL/T 645 and Q/GDW 376.1. */
export function sum8(bytes: Uint8Array, from = 0, to = bytes.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += bytes[i];
  return sum & 0xff;
}

/** The value 0..99 of each byte that is packed BCD; -1 for a byte with a nibble above 9. */
const BCD_VALUE = new Int8Array(256).fill(-1);
/** The two decimal digits of each byte that is packed BCD ("00".."99"). */
const BCD_TEXT: string[] = [];
for (let value = 0; value < 100; value++) {
  const byte = ((value / 10) << 4) | (value % 10);
  BCD_VALUE[byte] = value;
  BCD_TEXT[byte] = String(value).padStart(2, '0');
}

/** One byte of packed BCD to 0..99; throws BAD_BCD (naming `what`) on a nibble above 9. */
export function bcdByteToNumber(byte: number, what = 'BCD byte'): number {
  const value = BCD_VALUE[byte];
  if (value >= 0) return value;
  // Not a BCD byte, or not a byte at all (a value past the end of an array): the nibble test decides.
  const hi = byte >> 4;
  const lo = byte & 0x0f;
  if (hi > 9 || lo > 9) {
    throw new ProtocolError(
      'BAD_BCD',
      `${what}: ${byte.toString(16).toUpperCase().padStart(2, '0')} is not BCD`,
    );
  }
  return hi * 10 + lo;
}

/** 0..99 to one byte of packed BCD. */
export function numberToBcdByte(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 99) {
    throw new ProtocolError('BAD_FIELD', `${value} does not fit in one BCD byte (0..99)`);
  }
  return ((value / 10) << 4) | (value % 10);
}

/**
 * Little-endian packed BCD (least significant byte first, as on every meter bus here) to a digit string in
 * human order: bytes `44 33 22 11` → "11223344". Throws BAD_BCD naming `what`.
 */
export function bcdToDigits(bytes: Uint8Array, what = 'BCD field'): string {
  let out = '';
  for (let i = bytes.length - 1; i >= 0; i--) {
    const text = BCD_TEXT[bytes[i]];
    if (text !== undefined) {
      out += text;
    } else {
      bcdByteToNumber(bytes[i], what); // throws BAD_BCD
      out += bytes[i].toString(16).padStart(2, '0');
    }
  }
  return out;
}

/** A digit string in human order to little-endian packed BCD of `length` bytes, left-padding with zeros. */
export function digitsToBcd(digits: string, length: number, what = 'BCD field'): Uint8Array {
  if (!isDecimal(digits)) throw new ProtocolError('BAD_FIELD', `${what} "${digits}" must be decimal digits`);
  if (digits.length > length * 2) {
    throw new ProtocolError('BAD_FIELD', `${what} "${digits}" has more than ${length * 2} digits`);
  }
  // Byte i holds the digits at 2i and 2i + 1 counted from the right; digits beyond the text are zeros.
  const out = new Uint8Array(length);
  for (let i = 0, right = digits.length - 1; i < length && right >= 0; i++, right -= 2) {
    const low = digits.charCodeAt(right) - 48;
    const high = right > 0 ? digits.charCodeAt(right - 1) - 48 : 0;
    out[i] = (high << 4) | low;
  }
  return out;
}

/** True for a string of ASCII decimal digits only (the empty string included). */
function isDecimal(text: string): boolean {
  if (typeof text !== 'string') return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Little-endian packed BCD to a number with `decimals` implied decimal places: `56 34 12 00` with 2 decimals
 * → 1234.56. Throws BAD_BCD naming `what`.
 */
export function bcdToNumber(bytes: Uint8Array, decimals = 0, what = 'BCD value'): number {
  // Up to 7 bytes (14 digits) the integer is exact in a double, so it can be summed byte by byte; longer
  // fields (and the empty one, NaN) go through the digit string as the reading of the digits.
  if (bytes.length === 0 || bytes.length > 7) {
    return Number.parseInt(bcdToDigits(bytes, what), 10) / 10 ** decimals;
  }
  let value = 0;
  for (let i = bytes.length - 1; i >= 0; i--) value = value * 100 + bcdByteToNumber(bytes[i], what);
  return value / 10 ** decimals;
}

/** A non-negative number to little-endian packed BCD of `length` bytes with `decimals` implied decimals. */
export function numberToBcd(value: number, length: number, decimals = 0, what = 'BCD value'): Uint8Array {
  const scaled = Math.round(value * 10 ** decimals);
  if (!Number.isFinite(scaled) || scaled < 0 || scaled >= 10 ** (length * 2)) {
    throw new ProtocolError(
      'BAD_FIELD',
      `${what} ${value} does not fit in ${length} BCD bytes with ${decimals} decimals`,
    );
  }
  return digitsToBcd(String(scaled), length, what);
}

/** Index of the first byte at or after `from` that is one of `starts`, or `buf.length` when there is none. */
export function indexOfAny(buf: Uint8Array, starts: readonly number[], from = 0): number {
  for (let i = from; i < buf.length; i++) if (starts.includes(buf[i])) return i;
  return buf.length;
}

/** Concatenates byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
