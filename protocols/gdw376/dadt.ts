import { ProtocolError } from '../errors.ts';
import { hex2 } from './control.ts';

/** Highest point number a DA can name: group DA2 = 255, bit 7. */
export const GDW376_MAX_PN = 2040;
/** Highest function number a DT can name: group DT2 = 255, bit 7. */
export const GDW376_MAX_FN = 2048;

/** The points and functions one `DA1 DA2 DT1 DT2` names. */
export interface Gdw376DaDt {
  /** Ascending; `[0]` is p0 (the terminal itself). */
  pn: number[];
  /** Ascending. */
  fn: number[];
}

/**
 * Reads `DA1 DA2 DT1 DT2` (docs/gdw376.md §3.3, checked against KSY `packet-sample/` names):
 * pn = (DA2 − 1)·8 + bit + 1 for each bit set in DA1, `00 00` = p0; Fn = DT2·8 + bit + 1 for each bit set in
 * DT1. Throws BAD_FIELD when the DA or DT names nothing or cannot be a list of points (DA1 set with DA2 0,
 * which 2013 uses for "all points" and this codec does not model; DA2 set with DA1 0; DT1 0).
 */
export function decodeDaDt(bytes: Uint8Array, offset = 0): Gdw376DaDt {
  if (bytes.length < offset + 4) {
    throw new ProtocolError('TRUNCATED', `DA/DT needs 4 bytes, have ${bytes.length - offset}`, offset);
  }
  const da1 = bytes[offset];
  const da2 = bytes[offset + 1];
  const dt1 = bytes[offset + 2];
  const dt2 = bytes[offset + 3];
  let pn: number[];
  if (da1 === 0 && da2 === 0) pn = [0];
  else if (da1 === 0 || da2 === 0) {
    throw new ProtocolError(
      'BAD_FIELD',
      `DA ${hex2(da1)} ${hex2(da2)} names no measuring point (DA1 and DA2 must both be 0 for p0 or both set)`,
      offset,
    );
  } else pn = bitsOf(da1).map((bit) => (da2 - 1) * 8 + bit + 1);
  if (dt1 === 0) {
    throw new ProtocolError(
      'BAD_FIELD',
      `DT ${hex2(dt1)} ${hex2(dt2)} names no function (DT1 is 0)`,
      offset + 2,
    );
  }
  const fn = bitsOf(dt1).map((bit) => dt2 * 8 + bit + 1);
  return { pn, fn };
}

/**
 * Writes `DA1 DA2 DT1 DT2` for a list of points and functions. All points must share one DA2 group of 8
 * (or be exactly `[0]`), all functions one DT2 group. Throws BAD_FIELD naming the offending number.
 */
export function encodeDaDt(pn: readonly number[], fn: readonly number[]): Uint8Array {
  const out = new Uint8Array(4);
  if (pn.length === 0) throw new ProtocolError('BAD_FIELD', 'pn list is empty (use [0] for p0)');
  if (pn.includes(0)) {
    if (pn.some((p) => p !== 0)) {
      throw new ProtocolError('BAD_FIELD', `pn list [${pn.join(', ')}] mixes p0 with other points`);
    }
  } else {
    const group = groupOf(pn, 1, GDW376_MAX_PN, 'pn');
    out[0] = maskOf(pn, (group - 1) * 8 + 1);
    out[1] = group;
  }
  if (fn.length === 0) throw new ProtocolError('BAD_FIELD', 'fn list is empty');
  const group = groupOf(fn, 1, GDW376_MAX_FN, 'fn') - 1;
  out[2] = maskOf(fn, group * 8 + 1);
  out[3] = group;
  return out;
}

function bitsOf(mask: number): number[] {
  const bits: number[] = [];
  for (let bit = 0; bit < 8; bit++) if (mask & (1 << bit)) bits.push(bit);
  return bits;
}

/** The 1-based group of 8 all numbers share; throws when one is out of range or groups differ. */
function groupOf(list: readonly number[], min: number, max: number, what: string): number {
  for (const n of list) {
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new ProtocolError('BAD_FIELD', `${what} ${n} is outside ${min}–${max}`);
    }
  }
  const group = Math.floor((list[0] - 1) / 8) + 1;
  const other = list.find((n) => Math.floor((n - 1) / 8) + 1 !== group);
  if (other !== undefined) {
    throw new ProtocolError(
      'BAD_FIELD',
      `${what} ${list[0]} and ${other} are in different groups of 8; one DA/DT names one group`,
    );
  }
  return group;
}

function maskOf(list: readonly number[], first: number): number {
  let mask = 0;
  for (const n of list) mask |= 1 << (n - first);
  return mask;
}
