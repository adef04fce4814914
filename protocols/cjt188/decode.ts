import { indexOfAny, sum8 } from '../bytes.ts';
import type { DecodeResult } from '../decode-result.ts';
import { ProtocolError } from '../errors.ts';
import type { DecodeContext, StartFinder } from '../framer.ts';
import { checkAddressByte, decodeAddress } from './address.ts';
import { type Cjt188BodyOptions, decodeBody } from './body.ts';
import {
  CJT188_END,
  CJT188_HEADER_LENGTH,
  CJT188_MAX_DATA_LENGTH,
  CJT188_MAX_PREAMBLE,
  CJT188_MIN_FRAME_LENGTH,
  CJT188_PREAMBLE_BYTE,
  CJT188_START,
} from './constants.ts';
import { controlAbnormal, controlDirection } from './control.ts';
import type { Cjt188Frame } from './frame.ts';
import { meterTypeName } from './meter-type.ts';
import { hex2 } from './units.ts';

/**
 * The pure CJ/T 188 frame decoder (docs/cjt188.md §1.1–§1.2).
 * @packageDocumentation
 */

/** Options of {@link decodeCjt188}. */
export interface Cjt188DecodeOptions extends Cjt188BodyOptions, DecodeContext {
  /**
   * Largest L accepted; a larger one is BAD_LENGTH (so a stray `68` in noise is rejected at once).
   * @defaultValue {@link CJT188_MAX_DATA_LENGTH} (115)
   */
  maxDataLength?: number;
}

const RESYNC = [CJT188_START, CJT188_PREAMBLE_BYTE];

/**
 * Decodes one frame at the start of `buf`. Pure, never throws.
 *
 * - Leading `FE` bytes are the frame's preamble (counted in `preamble` and `consumed`).
 * - Bytes before a start byte give NO_START with `skip` up to the next `68`/`FE`.
 * - `need-more` only while the bytes so far could still be a valid frame: header bytes are checked as they
 *   arrive (address BCD, L bound), the checksum and end byte once the frame is complete.
 * - After a framing error (BAD_BCD in the address, BAD_LENGTH, BAD_CHECKSUM, BAD_END) `skip` goes to the next
 *   `68`/`FE` after the start byte, so a valid frame that begins inside the bad bytes is never lost. A frame
 *   whose checksum and end byte are right but whose DATA does not fit its layout is still a frame: the body is
 *   opaque with the DI, SER and a warning (or, with `strict`, the error, skipping the whole frame). A frame whose
 *   L and end byte agree but whose checksum is wrong is one BAD_CHECKSUM over the whole frame (issue 14, item 6).
 */
export function decodeCjt188(buf: Uint8Array, options: Cjt188DecodeOptions = {}): DecodeResult<Cjt188Frame> {
  const maxData = options.maxDataLength ?? CJT188_MAX_DATA_LENGTH;
  const n = buf.length;
  let p = 0;
  while (p < n && buf[p] === CJT188_PREAMBLE_BYTE) p++;
  if (p > CJT188_MAX_PREAMBLE) {
    // Keep the last CJT188_MAX_PREAMBLE bytes: they may be the preamble of a frame that follows.
    return fail(
      'NO_START',
      `${p} FE bytes exceed the ${CJT188_MAX_PREAMBLE}-byte preamble limit`,
      0,
      p - CJT188_MAX_PREAMBLE,
    );
  }
  if (p === n) return { kind: 'need-more', atLeast: p + CJT188_MIN_FRAME_LENGTH };
  if (buf[p] !== CJT188_START) {
    return fail(
      'NO_START',
      `CJ/T 188 start byte 68 expected at offset ${p}, found ${hex2(buf[p])}`,
      p,
      indexOfAny(buf, RESYNC, p + 1),
    );
  }
  const h = p;
  const addressEnd = Math.min(n, h + 9);
  for (let i = h + 2; i < addressEnd; i++) {
    try {
      checkAddressByte(buf[i], i - h - 2, i);
    } catch (error) {
      return { kind: 'error', error: error as ProtocolError, skip: indexOfAny(buf, RESYNC, h + 1) };
    }
  }
  if (n < h + CJT188_HEADER_LENGTH) return { kind: 'need-more', atLeast: h + CJT188_MIN_FRAME_LENGTH };
  const length = buf[h + 10];
  if (length > maxData) {
    return fail(
      'BAD_LENGTH',
      `CJ/T 188 L=0x${hex2(length)} exceeds the ${maxData}-byte maximum data length`,
      h + 10,
      indexOfAny(buf, RESYNC, h + 1),
    );
  }
  const total = h + CJT188_MIN_FRAME_LENGTH + length;
  if (n < total) return { kind: 'need-more', atLeast: total };
  const csAt = h + CJT188_HEADER_LENGTH + length;
  const computed = options.sum8 ? options.sum8(h, csAt) : sum8(buf, h, csAt);
  if (buf[csAt] !== computed) {
    // With the end byte where L puts it, the frame is sound but for its checksum: one frame, dropped whole
    // (issue 14, item 6), unless a whole frame starts inside it.
    const sound = buf[csAt + 1] === CJT188_END;
    return fail(
      'BAD_CHECKSUM',
      `CJ/T 188 checksum 0x${hex2(buf[csAt])}, computed 0x${hex2(computed)}`,
      csAt,
      sound ? firstFrameWithin(buf.subarray(0, total), h + 1, maxData) : indexOfAny(buf, RESYNC, h + 1),
    );
  }
  if (buf[csAt + 1] !== CJT188_END) {
    return fail(
      'BAD_END',
      `CJ/T 188 end byte 16 expected at offset ${csAt + 1}, found ${hex2(buf[csAt + 1])}`,
      csAt + 1,
      indexOfAny(buf, RESYNC, h + 1),
    );
  }
  const control = buf[h + 9];
  try {
    const body = decodeBody(control, buf.subarray(h + CJT188_HEADER_LENGTH, csAt), options);
    const frame: Cjt188Frame = {
      protocol: 'cjt188',
      preamble: p,
      meterType: buf[h + 1],
      meterTypeName: meterTypeName(buf[h + 1]),
      address: decodeAddress(buf.subarray(h + 2, h + 9)),
      control,
      direction: controlDirection(control),
      abnormal: controlAbnormal(control),
      body,
    };
    return { kind: 'frame', frame, consumed: total };
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    // The checksum and end byte vouch for the framing: drop the whole frame, reported with its reason.
    const offset = error.offset ?? h + CJT188_HEADER_LENGTH;
    return { kind: 'error', error: new ProtocolError(error.code, error.message, offset), skip: total };
  }
}

/**
 * A {@link StartFinder} for CJ/T 188 frames with data up to `maxData` bytes: the next `FE` or `68` at which a frame
 * could start — a preamble (at most the last 16 FE of a run) leading to such a 68, or a 68 whose address bytes
 * are BCD (or AA) and whose L is in bounds as far as they go and, when the whole frame is there, whose checksum
 * or end byte is right (a candidate the decoder reports as a bad frame rather than junk). Allocates nothing, so
 * a run of junk (68H included) costs one pass.
 */
export function cjt188StartFinder(maxData: number = CJT188_MAX_DATA_LENGTH): StartFinder {
  return (buf, from, context, limit = buf.length) => {
    const n = buf.length;
    const end = Math.min(limit, n);
    let i = from;
    while (i < end) {
      const b = buf[i];
      if (b === CJT188_PREAMBLE_BYTE) {
        let j = i;
        while (j < n && buf[j] === CJT188_PREAMBLE_BYTE) j++;
        if (j === n || (buf[j] === CJT188_START && couldStartAt(buf, j, maxData, context))) {
          return Math.max(i, j - CJT188_MAX_PREAMBLE);
        }
        i = j;
      } else if (b === CJT188_START) {
        if (couldStartAt(buf, i, maxData, context)) return i;
        i++;
      } else {
        i++;
      }
    }
    return end;
  };
}

const nextDefaultStart = cjt188StartFinder();

/** The default {@link StartFinder} (data up to 115 bytes), also attached to {@link decodeCjt188}. */
export function nextCjt188Start(
  buf: Uint8Array,
  from: number,
  context?: DecodeContext,
  limit?: number,
): number {
  return nextDefaultStart(buf, from, context, limit);
}

decodeCjt188.nextStart = nextCjt188Start;
// The options argument doubles as the context: a FrameAccumulator's context only carries `sum8`.
decodeCjt188.takesContext = true;

/** Whether a frame could start at the 68 at `h`; only the bytes present are judged. */
function couldStartAt(buf: Uint8Array, h: number, maxData: number, context?: DecodeContext): boolean {
  const n = buf.length;
  const addressEnd = Math.min(n, h + 9);
  for (let i = h + 2; i < addressEnd; i++) {
    const b = buf[i];
    if (b !== 0xaa && (b > 0x99 || (b & 0x0f) > 9)) return false;
  }
  if (h + 10 >= n) return true;
  const length = buf[h + 10];
  if (length > maxData) return false;
  const csAt = h + CJT188_HEADER_LENGTH + length;
  if (csAt + 1 >= n) return true;
  // The header alone is weak evidence (a run of 68H passes it): a whole candidate is a frame worth reporting
  // only when its end byte or its checksum is right; with both wrong it is junk.
  if (buf[csAt + 1] === CJT188_END) return true;
  return (context?.sum8 ? context.sum8(h, csAt) : sum8(buf, h, csAt)) === buf[csAt];
}

/** Offset of the first whole frame starting in `frame` at or after `from` and ending within it; else its length. */
function firstFrameWithin(frame: Uint8Array, from: number, maxData: number): number {
  const next = cjt188StartFinder(maxData);
  for (let i = next(frame, from); i < frame.length; i = next(frame, i + 1)) {
    if (decodeCjt188(frame.subarray(i), { maxDataLength: maxData }).kind === 'frame') return i;
  }
  return frame.length;
}

function fail(
  code: ProtocolError['code'],
  message: string,
  offset: number,
  skip: number,
): DecodeResult<Cjt188Frame> {
  return { kind: 'error', error: new ProtocolError(code, message, offset), skip: Math.max(1, skip) };
}

/**
 * Decodes exactly one whole frame (preamble allowed). Throws ProtocolError: TRUNCATED when `buf` ends inside
 * the frame, BAD_LENGTH when bytes follow its end byte, or the decoder's error.
 */
export function decodeCjt188Frame(buf: Uint8Array, options: Cjt188DecodeOptions = {}): Cjt188Frame {
  const result = decodeCjt188(buf, options);
  if (result.kind === 'error') throw result.error;
  if (result.kind === 'need-more') {
    throw new ProtocolError(
      'TRUNCATED',
      `CJ/T 188 frame is truncated: ${buf.length} bytes, at least ${result.atLeast ?? buf.length + 1} needed`,
      buf.length,
    );
  }
  if (result.consumed !== buf.length) {
    throw new ProtocolError(
      'BAD_LENGTH',
      `CJ/T 188 frame ends at byte ${result.consumed} but ${buf.length - result.consumed} more bytes follow`,
      result.consumed,
    );
  }
  return result.frame;
}
