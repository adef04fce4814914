import { indexOfAny, sum8 } from '../bytes.ts';
import type { DecodeResult } from '../decode-result.ts';
import { ProtocolError, type ProtocolErrorCode } from '../errors.ts';
import type { DecodeContext } from '../framer.ts';
import { addressFromBytes, badAddressByte } from './address.ts';
import { decodeBody } from './body.ts';
import {
  DLT645_END,
  DLT645_MAX_DATA_LENGTH,
  DLT645_MAX_PREAMBLE,
  DLT645_OVERHEAD,
  DLT645_PREAMBLE_BYTE,
  DLT645_START,
} from './constants.ts';
import { controlFlags, versionOfControl } from './control.ts';
import type { Dlt645Frame } from './frame.ts';
import { removeOffset33 } from './offset33.ts';

/** Bytes a frame can start with: the preamble FE or the first 68H. */
const CANDIDATE_STARTS = [DLT645_START, DLT645_PREAMBLE_BYTE] as const;

const hex = (b: number): string => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`;

/**
 * Layout of a frame starting at preamble length `p` (docs/dlt645.md §2.1):
 * p: 68 · p+1…p+6: address · p+7: 68 · p+8: C · p+9: L · p+10…: DATA · p+10+L: CS · p+11+L: 16.
 */
const AT = { address: 1, secondStart: 7, control: 8, length: 9, data: 10 } as const;

function fail(
  code: ProtocolErrorCode,
  message: string,
  offset: number,
  skip: number,
): DecodeResult<Dlt645Frame> {
  return { kind: 'error', error: new ProtocolError(code, message, offset), skip: Math.max(1, skip) };
}

/**
 * Decodes the DL/T 645 frame (2007 or 1997) at the start of `buf`. Pure and total: never throws.
 *
 * - Leading FE bytes belong to the frame and are counted in `preamble` (up to {@link DLT645_MAX_PREAMBLE};
 *   more are dropped as NO_START, after which the frame still decodes).
 * - `need-more` only while the bytes seen so far could still become a valid frame; every byte is checked as
 *   soon as it is present (address digits, second 68H, L ≤ 200, CS, 16H).
 * - On an error, `skip` reaches the next FE or 68H after the failed candidate's start, so that a valid frame
 *   beginning inside bad bytes is never lost.
 *
 * Error codes: NO_START (junk before a start, or too many FE), BAD_BCD (address nibble B–F), BAD_START (second
 * 68H missing), BAD_LENGTH (L above 200), BAD_CHECKSUM, BAD_END.
 */
export function decodeDlt645(buf: Uint8Array, context?: DecodeContext): DecodeResult<Dlt645Frame> {
  let p = 0;
  while (p < buf.length && buf[p] === DLT645_PREAMBLE_BYTE) p++;
  if (p > DLT645_MAX_PREAMBLE) {
    return fail(
      'NO_START',
      `${p} FE bytes before a DL/T 645 frame; only the last ${DLT645_MAX_PREAMBLE} are kept as its preamble`,
      0,
      p - DLT645_MAX_PREAMBLE,
    );
  }
  if (p === buf.length)
    return p === 0 ? { kind: 'need-more' } : { kind: 'need-more', atLeast: p + DLT645_OVERHEAD };
  // Past the candidate's own 68H (or the junk byte), the next FE/68 is where a frame could start.
  const next = indexOfAny(buf, CANDIDATE_STARTS, p + 1);
  if (buf[p] !== DLT645_START) {
    const what = p === 0 ? 'before any 68H start' : `after ${p} FE preamble bytes instead of the 68H start`;
    return fail('NO_START', `DL/T 645: byte ${hex(buf[p])} at offset ${p} ${what}`, p, next);
  }

  const addressEnd = Math.min(buf.length, p + AT.secondStart);
  const bad = badAddressByte(buf, p + AT.address, addressEnd);
  if (bad >= 0) {
    return fail(
      'BAD_BCD',
      `DL/T 645 address byte A${bad - p - AT.address} at offset ${bad} is ${hex(buf[bad])}: not BCD or the wildcard A`,
      bad,
      next,
    );
  }
  const minimum = p + DLT645_OVERHEAD;
  if (buf.length <= p + AT.secondStart) return { kind: 'need-more', atLeast: minimum };
  if (buf[p + AT.secondStart] !== DLT645_START) {
    const at = p + AT.secondStart;
    return fail(
      'BAD_START',
      `DL/T 645 second start at offset ${at} is ${hex(buf[at])}, expected 0x68`,
      at,
      next,
    );
  }
  if (buf.length <= p + AT.length) return { kind: 'need-more', atLeast: minimum };

  const length = buf[p + AT.length];
  if (length > DLT645_MAX_DATA_LENGTH) {
    const at = p + AT.length;
    return fail(
      'BAD_LENGTH',
      `DL/T 645 L at offset ${at} is ${length}, above the ${DLT645_MAX_DATA_LENGTH}-byte maximum`,
      at,
      next,
    );
  }
  const csAt = p + AT.data + length;
  const total = csAt + 2;
  if (buf.length <= csAt) return { kind: 'need-more', atLeast: total };
  const computed = context?.sum8 ? context.sum8(p, csAt) : sum8(buf, p, csAt);
  if (buf[csAt] !== computed) {
    // With the end byte already where L puts it, the frame is sound but for its checksum: one frame, dropped
    // whole (issue 14, item 6), unless a whole frame starts inside it. Before the end byte arrives the error is
    // reported at once and the skip stays at the next start.
    const sound = buf.length > csAt + 1 && buf[csAt + 1] === DLT645_END;
    return fail(
      'BAD_CHECKSUM',
      `DL/T 645 checksum ${hex(buf[csAt])} at offset ${csAt}, computed ${hex(computed)}`,
      csAt,
      sound ? firstFrameWithin(buf.subarray(0, total), p + 1) : next,
    );
  }
  if (buf.length < total) return { kind: 'need-more', atLeast: total };
  if (buf[csAt + 1] !== DLT645_END) {
    return fail(
      'BAD_END',
      `DL/T 645 end byte at offset ${csAt + 1} is ${hex(buf[csAt + 1])}, expected 0x16 (L = ${length})`,
      csAt + 1,
      next,
    );
  }

  const control = buf[p + AT.control];
  const data = removeOffset33(buf.subarray(p + AT.data, csAt));
  const flags = controlFlags(control); // listed, not spread: see docs/performance.md
  const frame: Dlt645Frame = {
    protocol: 'dlt645',
    version: versionOfControl(control),
    preamble: p,
    address: addressFromBytes(buf.subarray(p + AT.address, p + AT.secondStart)),
    control,
    direction: flags.direction,
    abnormal: flags.abnormal,
    followUp: flags.followUp,
    body: decodeBody(control, data),
  };
  return { kind: 'frame', frame, consumed: total };
}

/**
 * Where the next DL/T 645 frame could start in `buf`, from `from` on (see StartFinder in ../framer.ts): an FE
 * preamble (at most its last 32 bytes) leading to such a 68H, or a 68H whose address bytes, second 68H and L are
 * valid as far as they go and, when the whole frame is there, whose checksum or end byte is right (a candidate
 * the decoder reports as a bad frame rather than junk). `buf.length` when there is none. Allocates nothing, so a run of junk (68H included) costs one pass.
 */
export function nextDlt645Start(
  buf: Uint8Array,
  from: number,
  context?: DecodeContext,
  limit = buf.length,
): number {
  const n = buf.length;
  const end = Math.min(limit, n);
  let i = from;
  while (i < end) {
    const b = buf[i];
    if (b === DLT645_PREAMBLE_BYTE) {
      let j = i;
      while (j < n && buf[j] === DLT645_PREAMBLE_BYTE) j++;
      if (j === n || (buf[j] === DLT645_START && couldStartAt(buf, j, context)))
        return Math.max(i, j - DLT645_MAX_PREAMBLE);
      i = j;
    } else if (b === DLT645_START) {
      if (couldStartAt(buf, i, context)) return i;
      i++;
    } else {
      i++;
    }
  }
  return end;
}

decodeDlt645.nextStart = nextDlt645Start;
decodeDlt645.takesContext = true;

/** Whether a frame could start at the 68H at `p`; only the bytes present are judged. */
function couldStartAt(buf: Uint8Array, p: number, context?: DecodeContext): boolean {
  const n = buf.length;
  if (badAddressByte(buf, p + AT.address, Math.min(n, p + AT.secondStart)) >= 0) return false;
  if (p + AT.secondStart >= n) return true;
  if (buf[p + AT.secondStart] !== DLT645_START) return false;
  if (p + AT.length >= n) return true;
  const length = buf[p + AT.length];
  if (length > DLT645_MAX_DATA_LENGTH) return false;
  const csAt = p + AT.data + length;
  if (csAt + 1 >= n) return true;
  // The header alone is weak evidence (a run of 68H passes it): a whole candidate is a frame worth reporting
  // only when its end byte or its checksum is right; with both wrong it is junk.
  if (buf[csAt + 1] === DLT645_END) return true;
  return (context?.sum8 ? context.sum8(p, csAt) : sum8(buf, p, csAt)) === buf[csAt];
}

/** Offset of the first whole frame starting in `frame` at or after `from` and ending within it; else its length. */
function firstFrameWithin(frame: Uint8Array, from: number): number {
  for (let i = nextDlt645Start(frame, from); i < frame.length; i = nextDlt645Start(frame, i + 1)) {
    if (decodeDlt645(frame.subarray(i)).kind === 'frame') return i;
  }
  return frame.length;
}

/**
 * Decodes exactly one whole frame (preamble allowed). Throws the decoder's ProtocolError, TRUNCATED when the
 * bytes end inside the frame, or BAD_LENGTH when bytes follow the frame's end.
 */
export function decodeDlt645Frame(buf: Uint8Array): Dlt645Frame {
  const result = decodeDlt645(buf);
  if (result.kind === 'error') throw result.error;
  if (result.kind === 'need-more') {
    const need = result.atLeast === undefined ? '' : `, need at least ${result.atLeast}`;
    throw new ProtocolError('TRUNCATED', `DL/T 645 frame cut short: ${buf.length} bytes${need}`, buf.length);
  }
  if (result.consumed !== buf.length) {
    throw new ProtocolError(
      'BAD_LENGTH',
      `${buf.length - result.consumed} bytes after the end of the DL/T 645 frame (its L makes it ${result.consumed} bytes)`,
      result.consumed,
    );
  }
  return result.frame;
}
