import { type DecodeContext, FramerStream, type FramerStreamOptions, withStartFinder } from '../framer.ts';
import {
  CJT188_DEFAULT_MAX_BUFFERED_BYTES,
  CJT188_MAX_DATA_LENGTH,
  CJT188_MAX_PREAMBLE,
  CJT188_MIN_FRAME_LENGTH,
} from './constants.ts';
import { type Cjt188DecodeOptions, cjt188StartFinder, decodeCjt188 } from './decode.ts';
import type { Cjt188Frame } from './frame.ts';

/** Options of {@link Cjt188Framer}: stream options, the buffer bound and the decoder's options. */
export interface Cjt188FramerOptions extends FramerStreamOptions, Cjt188DecodeOptions {
  /**
   * Most bytes held while waiting for the rest of a frame; at least the longest frame the decoder accepts
   * (preamble limit + 13 + `maxDataLength`), or the constructor throws a TypeError.
   * @defaultValue {@link CJT188_DEFAULT_MAX_BUFFERED_BYTES} (256)
   */
  maxBufferedBytes?: number;
}

/**
 * CJ/T 188 streaming framer: a Node `Transform` that takes bytes in any chunking (serial port, socket) and
 * pushes one {@link FramedFrame} per frame; skipped junk, FE runs and bad frames are `'dropped'` events with
 * the ProtocolError that explains them. See {@link decodeCjt188} for the resynchronisation rules and
 * {@link FramerStream} for the `_flush` policy.
 */
export class Cjt188Framer extends FramerStream<Cjt188Frame> {
  constructor(options: Cjt188FramerOptions = {}) {
    const { maxDataLength, strict, ...rest } = options;
    const decode = (buf: Uint8Array, context?: DecodeContext) =>
      decodeCjt188(buf, { maxDataLength, strict, sum8: context?.sum8 });
    super(withStartFinder(decode, cjt188StartFinder(maxDataLength)), {
      ...rest,
      maxBufferedBytes: checkBound(options),
    });
  }
}

function checkBound(options: Cjt188FramerOptions): number {
  const max = options.maxBufferedBytes ?? CJT188_DEFAULT_MAX_BUFFERED_BYTES;
  const maxData = options.maxDataLength ?? CJT188_MAX_DATA_LENGTH;
  if (!Number.isInteger(maxData) || maxData < 0 || maxData > 255) {
    throw new TypeError(`"maxDataLength" must be an integer 0..255, got ${String(options.maxDataLength)}`);
  }
  const longest = CJT188_MAX_PREAMBLE + CJT188_MIN_FRAME_LENGTH + maxData;
  if (!Number.isInteger(max) || max < longest) {
    throw new TypeError(
      `"maxBufferedBytes" must be an integer of at least ${longest} (the longest CJ/T 188 frame), got ${String(max)}`,
    );
  }
  return max;
}
