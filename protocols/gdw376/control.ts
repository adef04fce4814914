import { ProtocolError } from '../errors.ts';
import type { Gdw376Control } from './types.ts';

/** The fields of a C byte, without `raw`: what a builder knows. */
export type Gdw376ControlFields =
  | { dir: 'down'; prm: boolean; fcb?: boolean; fcv?: boolean; fn: number }
  | { dir: 'up'; prm: boolean; acd?: boolean; fcv?: boolean; fn: number };

/**
 * Reads the C byte (docs/gdw376.md §3.2; TMNL `getDIR/getPRM/getACD`, KSY): D7 DIR, D6 PRM, D5 FCB (down) or
 * ACD (up), D4 FCV (down; reserved up), D3–D0 function code.
 */
export function decodeControl(byte: number): Gdw376Control {
  const prm = (byte & 0x40) !== 0;
  const bit5 = (byte & 0x20) !== 0;
  const fcv = (byte & 0x10) !== 0;
  const fn = byte & 0x0f;
  return byte & 0x80
    ? { dir: 'up', prm, acd: bit5, fcv, fn, raw: byte }
    : { dir: 'down', prm, fcb: bit5, fcv, fn, raw: byte };
}

/** Builds a full {@link Gdw376Control} (with `raw`) from its fields; flags left out are 0. */
export function makeControl(fields: Gdw376ControlFields): Gdw376Control {
  const byte = controlByte(fields);
  return decodeControl(byte);
}

/**
 * The C byte of a control. Throws BAD_FIELD when the function code is out of range or when `raw` (if given)
 * disagrees with the flags.
 */
export function encodeControl(control: Gdw376Control | Gdw376ControlFields): number {
  const byte = controlByte(control);
  if ('raw' in control && control.raw !== byte) {
    throw new ProtocolError(
      'BAD_FIELD',
      `control.raw 0x${hex2(control.raw)} disagrees with its fields, which make 0x${hex2(byte)}`,
    );
  }
  return byte;
}

function controlByte(c: Gdw376ControlFields): number {
  if (!Number.isInteger(c.fn) || c.fn < 0 || c.fn > 15) {
    throw new ProtocolError('BAD_FIELD', `control.fn ${c.fn} is not a function code 0–15`);
  }
  const bit5 = c.dir === 'down' ? c.fcb : c.acd;
  return (c.dir === 'up' ? 0x80 : 0) | (c.prm ? 0x40 : 0) | (bit5 ? 0x20 : 0) | (c.fcv ? 0x10 : 0) | c.fn;
}

/** @internal Two upper-case hex digits. */
export function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}
