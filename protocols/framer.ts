import { Transform, type TransformCallback, type TransformOptions } from 'node:stream';
import type { FrameDecoder } from './decode-result.ts';
import { ProtocolError } from './errors.ts';

/** A whole frame found in a byte stream: the decoded frame, its exact bytes and where it began. */
export interface FramedFrame<T> {
  kind: 'frame';
  frame: T;
  raw: Uint8Array;
  /** Stream position (bytes since the framer was created) of the frame's first byte. */
  offset: number;
}

/** A run of bytes the framer threw away, with the reason. Nothing is dropped without one of these. */
export interface DroppedBytes {
  kind: 'dropped';
  bytes: Uint8Array;
  error: ProtocolError;
  /** Stream position of the first dropped byte. */
  offset: number;
}

export type FramerEvent<T> = FramedFrame<T> | DroppedBytes;

export interface FrameAccumulatorOptions {
  /**
   * Most bytes held while waiting for the rest of a frame. Must be at least the protocol's longest frame.
   * When a partial frame would need more, its first byte is dropped (reported as BUFFER_FULL).
   * @defaultValue 4096
   */
  maxBufferedBytes?: number;
}

export const DEFAULT_MAX_BUFFERED_BYTES = 4096;

/**
 * The plain core of every streaming framer: feed it chunks of any size, get back whole frames and reports of
 * dropped bytes. It keeps one contiguous buffer (never more than `maxBufferedBytes`) so the pure decoder
 * always sees the bytes from the current candidate frame start onwards.
 */
export class FrameAccumulator<T> {
  readonly maxBufferedBytes: number;
  readonly #decode: FrameDecoder<T>;
  #buf: Uint8Array;
  #start = 0;
  #end = 0;
  /** Stream position of `#buf[#start]`. */
  #position = 0;
  #pendingDrop: { parts: Uint8Array[]; length: number; error: ProtocolError; offset: number } | undefined;

  constructor(decode: FrameDecoder<T>, options: FrameAccumulatorOptions = {}) {
    const max = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    if (!Number.isInteger(max) || max < 16) {
      throw new TypeError(`"maxBufferedBytes" must be an integer of at least 16, got ${String(max)}`);
    }
    this.maxBufferedBytes = max;
    this.#decode = decode;
    this.#buf = new Uint8Array(Math.min(max, 1024));
  }

  /** Bytes currently held (a partial frame or undecided junk). */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Adds a chunk and returns every frame and drop it completes, in stream order. */
  push(chunk: Uint8Array): FramerEvent<T>[] {
    const events: FramerEvent<T>[] = [];
    let at = 0;
    while (at < chunk.length) {
      const room = this.#makeRoom();
      const n = Math.min(room, chunk.length - at);
      this.#buf.set(chunk.subarray(at, at + n), this.#end);
      this.#end += n;
      at += n;
      this.#drain(events, false);
    }
    this.#flushDrop(events);
    return events;
  }

  /** End of stream: whatever is still held is decoded if it can be, else reported as TRUNCATED. */
  flush(): FramerEvent<T>[] {
    const events: FramerEvent<T>[] = [];
    this.#drain(events, true);
    this.#flushDrop(events);
    return events;
  }

  #drain(events: FramerEvent<T>[], atEnd: boolean): void {
    while (this.#end > this.#start) {
      const view = this.#buf.subarray(this.#start, this.#end);
      const result = this.#decode(view);
      if (result.kind === 'frame') {
        this.#flushDrop(events);
        const raw = view.slice(0, result.consumed);
        events.push({ kind: 'frame', frame: result.frame, raw, offset: this.#position });
        this.#advance(result.consumed);
      } else if (result.kind === 'error') {
        this.#drop(view.subarray(0, Math.max(1, Math.min(result.skip, view.length))), result.error);
      } else if (atEnd) {
        // The held bytes look like the start of a frame that never finished. A real frame may still sit
        // behind them (junk that happened to look like a header with a large length), so drop only up to
        // the first later offset where a whole frame decodes.
        const next = this.#nextWholeFrame(view);
        const error = new ProtocolError('TRUNCATED', `stream ended inside a frame (${next} bytes held)`);
        this.#drop(view.subarray(0, next), error);
      } else if (view.length >= this.maxBufferedBytes) {
        const error = new ProtocolError(
          'BUFFER_FULL',
          `a partial frame filled the ${this.maxBufferedBytes}-byte buffer; dropping its first byte to resynchronise`,
        );
        this.#drop(view.subarray(0, 1), error);
      } else {
        return;
      }
    }
  }

  /** Offset of the first whole frame after byte 0 of `view`, or `view.length` when there is none. */
  #nextWholeFrame(view: Uint8Array): number {
    for (let at = 1; at < view.length; at++) {
      if (this.#decode(view.subarray(at)).kind === 'frame') return at;
    }
    return view.length;
  }

  #drop(bytes: Uint8Array, error: ProtocolError): void {
    const pending = this.#pendingDrop;
    if (pending && pending.error.code === error.code && pending.offset + pending.length === this.#position) {
      pending.parts.push(bytes.slice());
      pending.length += bytes.length;
    } else {
      this.#closeDropRun();
      this.#pendingDrop = { parts: [bytes.slice()], length: bytes.length, error, offset: this.#position };
    }
    this.#advance(bytes.length);
  }

  /** Runs of dropped bytes that are complete but not yet handed out. */
  #completedDrops: DroppedBytes[] = [];

  /** Ends the current run of dropped bytes: adjacent drops with the same reason are reported as one run. */
  #closeDropRun(): void {
    if (this.#pendingDrop) this.#completedDrops.push(this.#materialise(this.#pendingDrop));
    this.#pendingDrop = undefined;
  }

  #flushDrop(events: FramerEvent<T>[]): void {
    this.#closeDropRun();
    if (this.#completedDrops.length === 0) return; // the usual case: nothing dropped
    // Completed runs precede any frame pushed after them; frames are pushed only after #flushDrop.
    events.push(...this.#completedDrops);
    this.#completedDrops = [];
  }

  #materialise(run: {
    parts: Uint8Array[];
    length: number;
    error: ProtocolError;
    offset: number;
  }): DroppedBytes {
    const bytes = new Uint8Array(run.length);
    let at = 0;
    for (const p of run.parts) {
      bytes.set(p, at);
      at += p.length;
    }
    return { kind: 'dropped', bytes, error: run.error, offset: run.offset };
  }

  #advance(n: number): void {
    this.#start += n;
    this.#position += n;
    if (this.#start === this.#end) {
      this.#start = 0;
      this.#end = 0;
    }
  }

  /** Free space after `#end`, compacting or growing (up to the bound) first. */
  #makeRoom(): number {
    const held = this.#end - this.#start;
    if (this.#end < this.#buf.length) return this.#buf.length - this.#end;
    if (this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#start = 0;
      this.#end = held;
      return this.#buf.length - this.#end;
    }
    const size = Math.min(this.maxBufferedBytes, this.#buf.length * 2);
    const grown = new Uint8Array(size);
    grown.set(this.#buf.subarray(0, this.#end));
    this.#buf = grown;
    return this.#buf.length - this.#end;
  }
}

export interface FramerStreamOptions extends TransformOptions, FrameAccumulatorOptions {}

/**
 * The Node stream form of a framer, to pipe from a serial port or a socket like `@serialport/parser-*`.
 * Readable side: one {@link FramedFrame} object per frame. Dropped byte runs are emitted as `'dropped'`
 * events ({@link DroppedBytes}); they never become stream errors, because line noise is normal on a bus.
 * `_flush` policy: a frame completed by end of stream is pushed; a partial one is reported as dropped.
 */
export class FramerStream<T> extends Transform {
  readonly accumulator: FrameAccumulator<T>;

  constructor(decode: FrameDecoder<T>, options: FramerStreamOptions = {}) {
    const { maxBufferedBytes, ...streamOptions } = options;
    super({ ...streamOptions, readableObjectMode: true });
    this.accumulator = new FrameAccumulator(decode, { maxBufferedBytes });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#emit(this.accumulator.push(chunk));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.#emit(this.accumulator.flush());
    callback();
  }

  #emit(events: FramerEvent<T>[]): void {
    for (const event of events) {
      if (event.kind === 'frame') this.push(event);
      else this.emit('dropped', event);
    }
  }
}
