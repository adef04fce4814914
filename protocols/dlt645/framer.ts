import { FramerStream, type FramerStreamOptions } from '../framer.ts';
import {
  DLT645_DEFAULT_MAX_BUFFERED_BYTES,
  DLT645_MAX_FRAME_LENGTH,
  DLT645_MAX_PREAMBLE,
} from './constants.ts';
import { decodeDlt645 } from './decode.ts';
import type { Dlt645Frame } from './frame.ts';

/** Options of {@link Dlt645Framer}. */
export interface Dlt645FramerOptions extends FramerStreamOptions {
  /**
   * Most bytes held while waiting for the rest of a frame. At least the longest frame with the longest
   * preamble (244), so that a legal frame is never cut.
   * @defaultValue 512 ({@link DLT645_DEFAULT_MAX_BUFFERED_BYTES})
   */
  maxBufferedBytes?: number;
}

/** Smallest `maxBufferedBytes` accepted: the longest legal frame plus the longest counted preamble. */
export const DLT645_MIN_BUFFERED_BYTES = DLT645_MAX_FRAME_LENGTH + DLT645_MAX_PREAMBLE;

/**
 * Streaming DL/T 645 framer: a Node `Transform` that turns any chunking of a byte stream (serial port,
 * socket) into `{ kind: 'frame', frame, raw, offset }` objects. It skips FE preambles and junk, resynchronises
 * after a bad frame (see {@link decodeDlt645} for the skip rule) and reports every dropped run as a
 * `'dropped'` event with its ProtocolError. `_flush`: a partial frame at end of stream is reported as
 * TRUNCATED. Throws TypeError when `maxBufferedBytes` is below {@link DLT645_MIN_BUFFERED_BYTES}.
 */
export class Dlt645Framer extends FramerStream<Dlt645Frame> {
  constructor(options: Dlt645FramerOptions = {}) {
    const max = options.maxBufferedBytes ?? DLT645_DEFAULT_MAX_BUFFERED_BYTES;
    if (!Number.isInteger(max) || max < DLT645_MIN_BUFFERED_BYTES) {
      throw new TypeError(
        `"maxBufferedBytes" must be an integer of at least ${DLT645_MIN_BUFFERED_BYTES} (the longest DL/T 645 frame with preamble), got ${String(max)}`,
      );
    }
    super(decodeDlt645, { ...options, maxBufferedBytes: max });
  }
}
