import { bcdByteToNumber, byteToHex, digitsToBcd } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';

/**
 * Address A0…A6 (docs/cjt188.md §1.4): 7 BCD bytes, A0 (lowest two digits) first on the wire; written in
 * human order A6…A0, so wire `44 33 22 11 00 33 78` is "78330011223344". A byte `AA` is a wildcard and is
 * written "AA" (the all-`AA` broadcast address is "AAAAAAAAAAAAAA"; AIXI, KINGDA).
 * @packageDocumentation
 */

/** The broadcast address used to read the address of the only meter on a bus (AIXI; C7, C11). */
export const CJT188_WILDCARD_ADDRESS = 'AAAAAAAAAAAAAA';

const WILDCARD_BYTE = 0xaa;
const ALL_DIGITS = /^[0-9]{1,14}$/;

/**
 * Checks one address byte as it arrives: BCD or the `AA` wildcard. Throws BAD_BCD naming the byte (A0…A6).
 * @internal
 */
export function checkAddressByte(byte: number, index: number, offset?: number): void {
  if (byte === WILDCARD_BYTE) return;
  try {
    bcdByteToNumber(byte, `CJ/T 188 address byte A${index}`);
  } catch (error) {
    if (error instanceof ProtocolError) throw new ProtocolError(error.code, error.message, offset);
    throw error;
  }
}

/** Wire bytes A0…A6 to the human-order string. Throws BAD_BCD on a byte that is neither BCD nor `AA`. */
export function decodeAddress(bytes: Uint8Array): string {
  let out = '';
  for (let i = bytes.length - 1; i >= 0; i--) {
    checkAddressByte(bytes[i], i);
    out += byteToHex(bytes[i]);
  }
  return out;
}

/**
 * A human-order address to wire bytes A0…A6. Accepts up to 14 digits (left-padded with zeros) or 14
 * characters where each byte pair is two digits or "AA". Throws BAD_FIELD naming `what`.
 */
export function encodeAddress(address: string, what = 'address'): Uint8Array {
  // The usual address, all digits, is plain BCD; wildcard bytes need the pair-by-pair reading below.
  if (typeof address === 'string' && ALL_DIGITS.test(address)) return digitsToBcd(address, 7, what);
  const text = /^[0-9]{1,13}$/.test(address) ? address.padStart(14, '0') : address.toUpperCase();
  if (!/^([0-9]{2}|AA){7}$/.test(text)) {
    throw new ProtocolError(
      'BAD_FIELD',
      `CJ/T 188 ${what} "${address}" must be 14 decimal digits, each byte pair optionally the wildcard "AA"`,
    );
  }
  const out = new Uint8Array(7);
  for (let i = 0; i < 7; i++) {
    const pair = text.slice((6 - i) * 2, (6 - i) * 2 + 2);
    out[i] = Number.parseInt(pair, 16);
  }
  return out;
}
