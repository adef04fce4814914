import { ProtocolError } from './errors.ts';

/** Parses hex text such as "68 10 44 33" or "681044" (spaces, colons, commas and 0x prefixes allowed). */
export function hexToBytes(text: string): Uint8Array {
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

/** Formats bytes as upper-case hex pairs separated by spaces, the way the standards and vectors write frames. */
export function bytesToHex(bytes: Uint8Array, separator = ' '): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0) out += separator;
    out += bytes[i].toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** 8-bit arithmetic sum of `bytes[from..to)`, the checksum of CJ/T 188, DL/T 645 and Q/GDW 376.1. */
export function sum8(bytes: Uint8Array, from = 0, to = bytes.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += bytes[i];
  return sum & 0xff;
}

/** One byte of packed BCD to 0..99; throws BAD_BCD (naming `what`) on a nibble above 9. */
export function bcdByteToNumber(byte: number, what = 'BCD byte'): number {
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
    bcdByteToNumber(bytes[i], what);
    out += bytes[i].toString(16).padStart(2, '0');
  }
  return out;
}

/** A digit string in human order to little-endian packed BCD of `length` bytes, left-padding with zeros. */
export function digitsToBcd(digits: string, length: number, what = 'BCD field'): Uint8Array {
  if (!/^[0-9]*$/.test(digits))
    throw new ProtocolError('BAD_FIELD', `${what} "${digits}" must be decimal digits`);
  if (digits.length > length * 2) {
    throw new ProtocolError('BAD_FIELD', `${what} "${digits}" has more than ${length * 2} digits`);
  }
  const padded = digits.padStart(length * 2, '0');
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const pos = (length - 1 - i) * 2;
    out[i] = Number.parseInt(padded.slice(pos, pos + 2), 16);
  }
  return out;
}

/**
 * Little-endian packed BCD to a number with `decimals` implied decimal places: `56 34 12 00` with 2 decimals
 * → 1234.56. Throws BAD_BCD naming `what`.
 */
export function bcdToNumber(bytes: Uint8Array, decimals = 0, what = 'BCD value'): number {
  const digits = bcdToDigits(bytes, what);
  return Number.parseInt(digits, 10) / 10 ** decimals;
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
