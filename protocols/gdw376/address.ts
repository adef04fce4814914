import { bcdToDigits, digitsToBcd } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';
import type { Gdw376A3 } from './types.ts';

/** The address field A1 A2 A3 (5 bytes, docs/gdw376.md §3.1). */
export interface Gdw376Address {
  a1: string;
  a2: number;
  a3: Gdw376A3;
}

/**
 * Reads A1 (area code, BCD, low byte first: `71 01` → "0171"; KSY `a1`, TMNL `getA1`), A2 (terminal address,
 * binary LE; KSY, TMNL `getA2`) and A3 (D0 group flag, D7–D1 MSA; KSY `msa = a3 >> 1`) from 5 bytes.
 * Throws BAD_BCD when A1 is not BCD. A2 = 0 is invalid per the standard but reported, not rejected, so a
 * tester can see what a device sent.
 */
export function decodeAddress(bytes: Uint8Array): Gdw376Address {
  const a1 = bcdToDigits(bytes.subarray(0, 2), 'A1 (area code)');
  const a2 = bytes[2] | (bytes[3] << 8);
  return { a1, a2, a3: { group: (bytes[4] & 1) !== 0, msa: bytes[4] >> 1 } };
}

/** Writes A1 A2 A3 as 5 bytes. Throws BAD_FIELD naming the field that does not fit. */
export function encodeAddress(address: Gdw376Address): Uint8Array {
  const { a1, a2, a3 } = address;
  if (!/^[0-9]{4}$/.test(a1)) {
    throw new ProtocolError('BAD_FIELD', `a1 "${a1}" must be exactly 4 decimal digits`);
  }
  if (!Number.isInteger(a2) || a2 < 0 || a2 > 0xffff) {
    throw new ProtocolError('BAD_FIELD', `a2 ${a2} is not a terminal address 0–65535`);
  }
  if (!Number.isInteger(a3.msa) || a3.msa < 0 || a3.msa > 127) {
    throw new ProtocolError('BAD_FIELD', `a3.msa ${a3.msa} is not a master station address 0–127`);
  }
  const out = new Uint8Array(5);
  out.set(digitsToBcd(a1, 2, 'a1'), 0);
  out[2] = a2 & 0xff;
  out[3] = a2 >> 8;
  out[4] = (a3.msa << 1) | (a3.group ? 1 : 0);
  return out;
}
