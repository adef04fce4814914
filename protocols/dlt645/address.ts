import { byteToHex } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';

/**
 * The 6-byte address A0…A5: 12 BCD digits sent low byte first (docs/dlt645.md §2.1, RSDLT “地址域传输时低字节在前”),
 * written here as a string in human order: `12 90 78 56 34 12` ↔ "123456789012". A nibble `A` is allowed
 * anywhere: it is the wildcard (`AA…AA`) and the padding of compressed addresses (PEACE `89 67 45 23 A1 AA`).
 */

const ADDRESS_PATTERN = /^[0-9A]{12}$/;

/**
 * Offset (0–5) of the first address byte with a nibble B–F, or -1 when all are digits or the wildcard `A`.
 * @internal
 */
export function badAddressByte(bytes: Uint8Array, from = 0, to = bytes.length): number {
  for (let i = from; i < to; i++) {
    if (bytes[i] >> 4 > 0xa || (bytes[i] & 0x0f) > 0xa) return i;
  }
  return -1;
}

/** Wire bytes (low byte first) to the address string. Call only on bytes that passed {@link badAddressByte}. */
export function addressFromBytes(bytes: Uint8Array): string {
  let out = '';
  for (let i = bytes.length - 1; i >= 0; i--) out += byteToHex(bytes[i]);
  return out;
}

/** An address string ("123456789012", "AAAAAAAAAAAA") to its 6 wire bytes; throws BAD_FIELD naming `what`. */
export function addressToBytes(address: string, what = 'DL/T 645 address'): Uint8Array {
  if (typeof address !== 'string' || !ADDRESS_PATTERN.test(address)) {
    throw new ProtocolError(
      'BAD_FIELD',
      `${what} "${String(address)}" must be 12 characters, each a digit or the wildcard A`,
    );
  }
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    const pos = (5 - i) * 2;
    out[i] = Number.parseInt(address.slice(pos, pos + 2), 16);
  }
  return out;
}
