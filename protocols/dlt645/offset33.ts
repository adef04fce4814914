import { DLT645_DATA_OFFSET } from './constants.ts';

/**
 * Adds 33H (mod 256) to every byte: DATA as it goes on the wire (docs/dlt645.md §2.1, RSDLT, NGGW). Returns a
 * copy.
 */
export function addOffset33(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = (data[i] + DLT645_DATA_OFFSET) & 0xff;
  return out;
}

/** Subtracts 33H (mod 256) from every byte: wire DATA back to its values. Returns a copy. */
export function removeOffset33(wire: Uint8Array): Uint8Array {
  const out = new Uint8Array(wire.length);
  for (let i = 0; i < wire.length; i++) out[i] = (wire[i] - DLT645_DATA_OFFSET) & 0xff;
  return out;
}
