import { FramerStream, type FramerStreamOptions } from '../framer.ts';
import { decodeGdw376, GDW376_MAX_FRAME_LENGTH } from './frame.ts';
import type { Gdw376Frame } from './types.ts';

/** Default bound of the framer's buffer: the longest legal frame (16383 user-data bytes + 8). */
export const GDW376_DEFAULT_MAX_BUFFERED_BYTES = GDW376_MAX_FRAME_LENGTH;

/** Options of {@link Gdw376Framer}. */
export interface Gdw376FramerOptions extends FramerStreamOptions {
  /**
   * Most bytes held while waiting for the rest of a frame; below the longest legal frame, long frames are lost.
   * @defaultValue 16391 ({@link GDW376_DEFAULT_MAX_BUFFERED_BYTES})
   */
  maxBufferedBytes?: number;
}

/**
 * Splits a Q/GDW 376.1 byte stream (a TCP socket from a concentrator, say) into frames: object-mode
 * {@link FramedFrame} per frame, `'dropped'` events for junk and bad frames with their reason. Splitting uses
 * L (total = user-data length + 8), never a search for 16. After a bad frame it resumes at the next 68 after
 * the bad frame's first byte, so a frame starting inside rejected bytes is still found.
 */
export class Gdw376Framer extends FramerStream<Gdw376Frame> {
  constructor(options: Gdw376FramerOptions = {}) {
    super(decodeGdw376, {
      ...options,
      maxBufferedBytes: options.maxBufferedBytes ?? GDW376_DEFAULT_MAX_BUFFERED_BYTES,
    });
  }
}
