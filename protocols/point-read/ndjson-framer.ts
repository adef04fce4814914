import { Transform, type TransformCallback, type TransformOptions } from 'node:stream';
import { NdjsonDecoder, type NdjsonDecoderOptions, type NdjsonEvent } from './ndjson-decoder.ts';

export interface NdjsonFramerOptions extends TransformOptions, NdjsonDecoderOptions {}

/**
 * Newline-delimited point-read messages as a Node stream, to pipe from a TCP socket:
 * `socket.pipe(new NdjsonFramer())`.
 *
 * - Readable side (object mode): one parsed message (`AnyPointReadMessage`) per good line.
 * - `'bad-line'` event: a `BadLine` for every line that is over-long (TOO_LONG), not in the encoding
 *   (BAD_ENCODING), not JSON (BAD_JSON) or not a message (BAD_MESSAGE). Bad lines are never stream errors:
 *   the next line is read as usual, and the owner decides whether to answer or hang up.
 * - `_flush` policy: a last line without its newline is reported as a TRUNCATED bad line, not parsed.
 */
export class NdjsonFramer extends Transform {
  readonly decoder: NdjsonDecoder;

  /** @throws TypeError for a bad `maxLineLength`; ProtocolError BAD_ENCODING for an unknown `charset`. */
  constructor(options: NdjsonFramerOptions = {}) {
    const { maxLineLength, charset, ...streamOptions } = options;
    super({ ...streamOptions, readableObjectMode: true, writableObjectMode: false });
    this.decoder = new NdjsonDecoder({ maxLineLength, charset });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#run(() => this.decoder.push(chunk), callback);
  }

  override _flush(callback: TransformCallback): void {
    this.#run(() => this.decoder.flush(), callback);
  }

  /** The decoder never throws on input; if a bug makes it throw, it becomes a stream error, not a crash. */
  #run(step: () => NdjsonEvent[], callback: TransformCallback): void {
    let events: NdjsonEvent[];
    try {
      events = step();
    } catch (error) {
      callback(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.#emit(events);
    callback();
  }

  #emit(events: NdjsonEvent[]): void {
    for (const event of events) {
      if (event.kind === 'message') this.push(event.message);
      else this.emit('bad-line', event);
    }
  }
}
