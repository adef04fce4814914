import { ProtocolError } from '../errors.ts';
import { type BadLine, type LineEvent, LineSplitter, type LineSplitterOptions } from './line-splitter.ts';
import { decodePointReadMessage } from './parse.ts';
import { decodeText, type TextEncodingName } from './text-encoding.ts';
import type { AnyPointReadMessage } from './types.ts';

export interface NdjsonDecoderOptions extends LineSplitterOptions {
  /**
   * Character set of the lines (named `charset` because Node stream options already have an `encoding`).
   * @defaultValue 'utf8'
   */
  charset?: TextEncodingName;
}

/** One line that held a valid message. */
export interface NdjsonMessage {
  kind: 'message';
  message: AnyPointReadMessage;
  /** The line's bytes, without its newline. */
  bytes: Uint8Array;
  /** Stream position of the line's first byte. */
  offset: number;
}

export type NdjsonEvent = NdjsonMessage | BadLine;

/**
 * The plain core of {@link NdjsonFramer}: newline-delimited point-read messages from any chunking of a byte
 * stream. Each line becomes a message or a `bad-line` event (TOO_LONG, TRUNCATED, BAD_ENCODING, BAD_JSON or
 * BAD_MESSAGE); a bad line never affects the next one. Never throws on any input.
 */
export class NdjsonDecoder {
  readonly charset: TextEncodingName;
  readonly #lines: LineSplitter;

  /** @throws TypeError for a bad `maxLineLength`; ProtocolError BAD_ENCODING for an unknown `charset`. */
  constructor(options: NdjsonDecoderOptions = {}) {
    this.#lines = new LineSplitter(options);
    this.charset = options.charset ?? 'utf8';
    decodeText(new Uint8Array(0), this.charset); // checks the name now rather than on the first line
  }

  get maxLineLength(): number {
    return this.#lines.maxLineLength;
  }

  /** Bytes held for an unfinished line; never more than `maxLineLength`. */
  get buffered(): number {
    return this.#lines.buffered;
  }

  /** Adds a chunk; returns a message or bad-line event for every line it completes, in order. */
  push(chunk: Uint8Array): NdjsonEvent[] {
    return this.#lines.push(chunk).map((event) => this.#decode(event));
  }

  /** End of stream: reports a last line without a newline as TRUNCATED. */
  flush(): NdjsonEvent[] {
    return this.#lines.flush().map((event) => this.#decode(event));
  }

  #decode(event: LineEvent): NdjsonEvent {
    if (event.kind === 'bad-line') return event;
    const { bytes, offset } = event;
    let text: string;
    try {
      text = decodeText(bytes, this.charset);
    } catch (error) {
      if (error instanceof ProtocolError) return badLine(bytes, offset, error);
      throw error;
    }
    const result = decodePointReadMessage(text);
    return result.ok
      ? { kind: 'message', message: result.message, bytes, offset }
      : badLine(bytes, offset, result.error, result.id);
  }
}

/** The event for a whole line that held no message. */
function badLine(bytes: Uint8Array, offset: number, error: ProtocolError, id?: string): BadLine {
  const line: BadLine = { kind: 'bad-line', error, bytes, length: bytes.length, offset };
  return id === undefined ? line : { ...line, id };
}
