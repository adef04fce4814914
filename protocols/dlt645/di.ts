import { byteToHex } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';
import type { Dlt645Version } from './control.ts';

/**
 * Data identifiers are written in the standard's order, most significant byte first ("00010000", "9010") and
 * sent least significant byte first, DI0 first (docs/dlt645.md §2.3): `00010000` → `00 00 01 00` before the
 * +33H.
 */

/** Wire bytes (DI0 first, after −33H) to the DI string in the standard's order, upper-case hex. */
export function diFromBytes(bytes: Uint8Array): string {
  let out = '';
  for (let i = bytes.length - 1; i >= 0; i--) out += byteToHex(bytes[i]);
  return out;
}

/** The edition a DI string belongs to by its length: 8 hex digits → 2007, 4 → 1997; undefined otherwise. */
export function versionOfDi(di: string): Dlt645Version | undefined {
  if (/^[0-9A-Fa-f]{8}$/.test(di)) return '2007';
  if (/^[0-9A-Fa-f]{4}$/.test(di)) return '1997';
  return undefined;
}

/** Normalises a DI string to upper case; throws BAD_FIELD unless it has 8 (2007) or 4 (1997) hex digits. */
export function normaliseDi(di: string, version?: Dlt645Version): string {
  const found = typeof di === 'string' ? versionOfDi(di) : undefined;
  if (!found) {
    throw new ProtocolError(
      'BAD_FIELD',
      `DL/T 645 DI "${String(di)}" must be 8 hex digits (2007) or 4 hex digits (1997)`,
    );
  }
  if (version && found !== version) {
    throw new ProtocolError(
      'BAD_FIELD',
      `DL/T 645 DI "${di}" is a ${found} identifier but the frame is DL/T 645-${version} (${version === '2007' ? 8 : 4} hex digits)`,
    );
  }
  return di.toUpperCase();
}

/** A DI string to its wire bytes, DI0 first (before +33H). Throws BAD_FIELD as {@link normaliseDi}. */
export function diToBytes(di: string, version?: Dlt645Version): Uint8Array {
  const clean = normaliseDi(di, version);
  const n = clean.length / 2;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const pos = (n - 1 - i) * 2;
    out[i] = Number.parseInt(clean.slice(pos, pos + 2), 16);
  }
  return out;
}
