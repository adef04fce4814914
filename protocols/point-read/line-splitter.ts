import { ProtocolError } from '../errors.ts';

/** Default longest line, in bytes: far above any point-read message (a few hundred bytes), far below harm. */
export const DEFAULT_MAX_LINE_LENGTH = 64 * 1024;

export interface LineSplitterOptions {
  /**
   * Most bytes in one line, not counting its `\n` (a `\r` before the `\n` does count). A longer line is
   * reported as TOO_LONG as soon as it passes the limit, and the rest of it is skipped without being held.
   * @defaultValue 65536 ({@link DEFAULT_MAX_LINE_LENGTH})
   */
  maxLineLength?: number;
}

/** A whole line, without its `\n` or `\r\n`. Empty lines are not reported. */
export interface SplitLine {
  kind: 'line';
  bytes: Uint8Array;
  /** Stream position (bytes since the splitter was created) of the line's first byte. */
  offset: number;
}

/**
 * A line that could not be used. From the splitter: TOO_LONG (`bytes` holds the first `maxLineLength` bytes;
 * `length` is how many were seen when the limit tripped) or TRUNCATED (the stream ended without a final
 * `\n`; `bytes` is that last partial line). From the NDJSON decoder also BAD_ENCODING, BAD_JSON, BAD_MESSAGE.
 */
export interface BadLine {
  kind: 'bad-line';
  error: ProtocolError;
  bytes: Uint8Array;
  length: number;
  offset: number;
  /** The request id, when the line was a JSON object with a string `id` (NDJSON decoder only). */
  id?: string;
}

export type LineEvent = SplitLine | BadLine;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream on `\n` (0x0A), whatever the chunking, holding at most `maxLineLength` bytes.
 *
 * Splitting before decoding is safe for both encodings this module speaks: in UTF-8 every byte of a multi-byte
 * character is ≥ 0x80, and in GB2312/GBK the lead byte is 0x81–0xFE and the trail byte 0x40–0xFE, so 0x0A
 * is always a newline and never part of a character.
 *
 * States: `line` (collecting a line in `#parts`) and `skipping` (inside an over-long line, already reported,
 * discarding until the next `\n`).
 */
export class LineSplitter {
  readonly maxLineLength: number;
  #state: 'line' | 'skipping' = 'line';
  #parts: Uint8Array[] = [];
  #held = 0;
  /** Stream position of the next byte pushed. */
  #position = 0;
  /** Stream position of the current line's first byte. */
  #lineStart = 0;

  /** @throws TypeError if `maxLineLength` is not a positive integer. */
  constructor(options: LineSplitterOptions = {}) {
    const max = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    if (!Number.isInteger(max) || max < 1) {
      throw new TypeError(`"maxLineLength" must be a positive integer, got ${String(max)}`);
    }
    this.maxLineLength = max;
  }

  /** Bytes currently held for an unfinished line; never more than `maxLineLength`. */
  get buffered(): number {
    return this.#held;
  }

  /** Adds a chunk (copied where kept, so the caller may reuse it) and returns the events it completes. */
  push(chunk: Uint8Array): LineEvent[] {
    const events: LineEvent[] = [];
    let at = 0;
    while (at < chunk.length) {
      const nl = chunk.indexOf(LF, at);
      const end = nl < 0 ? chunk.length : nl;
      if (this.#state === 'line') this.#collect(chunk.subarray(at, end), events);
      this.#position += end - at;
      if (nl < 0) break;
      this.#position += 1;
      if (this.#state === 'line') this.#endLine(events);
      this.#state = 'line';
      this.#lineStart = this.#position;
      at = nl + 1;
    }
    return events;
  }

  /**
   * End of stream. A partial last line is reported as TRUNCATED (never parsed: without its `\n` it may be cut
   * anywhere). An over-long line already reported is not reported again.
   */
  flush(): LineEvent[] {
    const events: LineEvent[] = [];
    if (this.#state === 'line' && this.#held > 0) {
      const bytes = this.#take();
      const error = new ProtocolError(
        'TRUNCATED',
        `stream ended inside a line (${bytes.length} bytes without a final newline)`,
        this.#lineStart,
      );
      events.push({ kind: 'bad-line', error, bytes, length: bytes.length, offset: this.#lineStart });
    }
    this.#state = 'line';
    this.#lineStart = this.#position;
    return events;
  }

  /** Keeps `piece` as part of the current line, or trips the limit. */
  #collect(piece: Uint8Array, events: LineEvent[]): void {
    if (piece.length === 0) return;
    const room = this.maxLineLength - this.#held;
    if (piece.length <= room) {
      this.#parts.push(piece.slice());
      this.#held += piece.length;
      return;
    }
    this.#parts.push(piece.slice(0, room));
    this.#held += room;
    const bytes = this.#take();
    const length = bytes.length + piece.length - room;
    const error = new ProtocolError(
      'TOO_LONG',
      `line longer than maxLineLength (${this.maxLineLength} bytes); skipping to the next newline`,
      this.#lineStart,
    );
    events.push({ kind: 'bad-line', error, bytes, length, offset: this.#lineStart });
    this.#state = 'skipping';
  }

  #endLine(events: LineEvent[]): void {
    let bytes = this.#take();
    if (bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
    if (bytes.length > 0) events.push({ kind: 'line', bytes, offset: this.#lineStart });
  }

  /** Hands out the held line as one array and empties the buffer. */
  #take(): Uint8Array {
    const bytes = this.#parts.length === 1 ? this.#parts[0] : new Uint8Array(this.#held);
    if (this.#parts.length > 1) {
      let at = 0;
      for (const part of this.#parts) {
        bytes.set(part, at);
        at += part.length;
      }
    }
    this.#parts = [];
    this.#held = 0;
    return bytes;
  }
}
