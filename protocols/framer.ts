import { Transform, type TransformCallback, type TransformOptions } from 'node:stream';
import type { DecodeResult, FrameDecoder } from './decode-result.ts';
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

/**
 * Where the next frame of a protocol could start: the smallest offset `i ≥ from` of `buf` at which the decoder
 * would not reject the bytes at once (a frame, a valid beginning of one, or a candidate this function cannot
 * disprove), or `buf.length` when there is none. Pure; it must never pass over a real frame start. It lets a
 * framer skip a run of junk — bytes that only look like start bytes included — in one step instead of one
 * decoder call (and one error) per byte. With `limit`, only offsets below it are looked at (`limit` is returned
 * when none of them can start a frame), so that the first of several finders bounds the others' scans.
 */
export type StartFinder = (buf: Uint8Array, from: number, context?: DecodeContext, limit?: number) => number;

/**
 * What a {@link FrameAccumulator} offers the decoder it drives, besides the bytes: `sum8(from, to)` is the sum of
 * `buf[from..to)` modulo 256 in constant time (the accumulator keeps running sums of its buffer). All three
 * protocols' checksums are such sums, so a decoder that uses it checks a candidate of any length in O(1): a
 * stream of headers that each claim 16 KB (issue 13, item 1) no longer costs 16 KB of additions per header.
 */
export interface DecodeContext {
  sum8?(from: number, to: number): number;
  /**
   * No more bytes will come (the stream ended, or the bytes are a whole container such as a forward's
   * content): a decoder that would wait for a candidate that needs more gives its verdict now instead.
   */
  streamEnded?: boolean;
}

/** A decoder that takes a {@link DecodeContext} as its second argument. */
export type ContextDecoder<T> = (buf: Uint8Array, context?: DecodeContext) => DecodeResult<T>;

/**
 * A decoder, optionally with a {@link StartFinder} (`nextStart`) and `takesContext: true` when its second
 * argument is a {@link DecodeContext} (a decoder whose second argument is something else must not set it).
 */
export type ResynchronisingDecoder<T> = FrameDecoder<T> & {
  readonly nextStart?: StartFinder;
  readonly takesContext?: boolean;
};

/** A decoder with a {@link StartFinder} attached, for {@link FrameAccumulator} to use after every error. */
export function withStartFinder<T>(
  decode: ContextDecoder<T>,
  nextStart: StartFinder,
): ResynchronisingDecoder<T> {
  return Object.assign((buf: Uint8Array, context?: DecodeContext) => decode(buf, context), {
    nextStart,
    takesContext: true,
  });
}

export interface FrameAccumulatorOptions {
  /**
   * Most bytes held while waiting for the rest of a frame. Must be at least the protocol's longest frame.
   * When a partial frame fills it, its first byte and everything up to the next place a frame could start are
   * dropped (reported as BUFFER_FULL).
   * @defaultValue 4096
   */
  maxBufferedBytes?: number;
}

export const DEFAULT_MAX_BUFFERED_BYTES = 4096;

/** Counts of what a framer has seen since it was created, for callers that cap junk per connection. */
export interface FramerCounts {
  /** Whole frames handed out. */
  frames: number;
  /** Bytes in those frames (preambles included). */
  frameBytes: number;
  /** Bytes dropped, for any reason (junk, bad frames, truncation). */
  droppedBytes: number;
  /**
   * Bytes dropped since the last whole frame (all dropped bytes when there has been none): what a peer that
   * only ever sends junk drives up, and what a cap on junk per connection should watch.
   */
  droppedSinceFrame: number;
}

/**
 * The plain core of every streaming framer: feed it chunks of any size, get back whole frames and reports of
 * dropped bytes.
 *
 * Cost: a small constant per input byte whatever the bytes (issue 13, item 1). After every rejected candidate
 * the accumulator asks the decoder's {@link StartFinder} (when it has one) where the next frame could start and
 * drops everything before it with the same report, so a run of junk — even one made of start bytes — costs one
 * decoder call, not one per byte; checksums of any length cost O(1) (see {@link DecodeContext}); and runs of
 * dropped bytes are copied once into one growing buffer.
 *
 * Memory: the bytes of the current candidate frame (never more than `maxBufferedBytes`, in a buffer of at most
 * twice that, so compaction copies each byte O(1) times) plus the run of dropped bytes being built, which is
 * handed out once it reaches `max(maxBufferedBytes, 4096)` bytes (a long run is reported as several adjacent
 * runs with the same reason).
 */
export class FrameAccumulator<T> {
  readonly maxBufferedBytes: number;
  readonly #decode: ContextDecoder<T>;
  readonly #nextStart: StartFinder | undefined;
  readonly #maxDropRun: number;
  #buf: Uint8Array;
  /** `#sums[k]` = sum of `#buf[0..k)` modulo 256, kept for every held byte (see {@link DecodeContext}). */
  #sums: Uint8Array;
  /** The context handed to the decoder: sums relative to the current view (`#start`). */
  readonly #context: DecodeContext = {
    sum8: (from, to) => (this.#sums[this.#start + to] - this.#sums[this.#start + from]) & 0xff,
  };
  #start = 0;
  #end = 0;
  /** Stream position of `#buf[#start]`. */
  #position = 0;
  #run: DropRun | undefined;
  /** Runs of dropped bytes that are complete but not yet handed out. */
  #completedDrops: DroppedBytes[] = [];
  readonly #counts: FramerCounts = { frames: 0, frameBytes: 0, droppedBytes: 0, droppedSinceFrame: 0 };

  constructor(decode: ResynchronisingDecoder<T>, options: FrameAccumulatorOptions = {}) {
    const max = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    if (!Number.isInteger(max) || max < 16) {
      throw new TypeError(`"maxBufferedBytes" must be an integer of at least 16, got ${String(max)}`);
    }
    this.maxBufferedBytes = max;
    this.#decode = decode.takesContext === true ? decode : (buf) => decode(buf);
    this.#nextStart = decode.nextStart;
    this.#maxDropRun = Math.max(max, 4096);
    this.#buf = new Uint8Array(Math.min(max, 1024));
    this.#sums = new Uint8Array(this.#buf.length + 1);
  }

  /** Bytes currently held (a partial frame or undecided junk). */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** What this framer has framed and dropped so far (a copy). */
  get counts(): FramerCounts {
    return { ...this.#counts };
  }

  /** Adds a chunk and returns every frame and drop it completes, in stream order. */
  push(chunk: Uint8Array): FramerEvent<T>[] {
    const events: FramerEvent<T>[] = [];
    let at = 0;
    const limit = quietErrors();
    try {
      while (at < chunk.length) {
        const room = this.#makeRoom(chunk.length - at);
        const n = Math.min(room, chunk.length - at);
        this.#buf.set(chunk.subarray(at, at + n), this.#end);
        const sums = this.#sums;
        let sum = sums[this.#end];
        for (let i = this.#end, to = this.#end + n; i < to; i++) {
          sum = (sum + this.#buf[i]) & 0xff;
          sums[i + 1] = sum;
        }
        this.#end += n;
        at += n;
        this.#drain(events, false);
      }
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.#flushDrop(events);
    return events;
  }

  /** End of stream: whatever is still held is decoded if it can be, else reported as TRUNCATED. */
  flush(): FramerEvent<T>[] {
    const events: FramerEvent<T>[] = [];
    const limit = quietErrors();
    try {
      this.#drain(events, true);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.#flushDrop(events);
    return events;
  }

  #drain(events: FramerEvent<T>[], atEnd: boolean): void {
    while (this.#end > this.#start) {
      const view = this.#buf.subarray(this.#start, this.#end);
      const result = this.#decodeAt(view, atEnd);
      if (result.kind === 'frame') {
        this.#flushDrop(events);
        const raw = view.slice(0, result.consumed);
        events.push({ kind: 'frame', frame: result.frame, raw, offset: this.#position });
        this.#counts.frames++;
        this.#counts.frameBytes += result.consumed;
        this.#counts.droppedSinceFrame = 0;
        this.#advance(result.consumed);
      } else if (result.kind === 'error') {
        const skip = Math.max(1, Math.min(result.skip, view.length));
        this.#drop(view.subarray(0, skip), result.error);
        this.#dropJunk();
      } else if (atEnd) {
        // The held bytes look like the start of a frame that never finished. A real frame may still sit
        // behind them (junk that happened to look like a header with a large length), so drop only up to
        // the first later offset where a whole frame decodes.
        const next = this.#nextWholeFrame(view);
        const error = new ProtocolError('TRUNCATED', `stream ended inside a frame (${next} bytes held)`);
        this.#drop(view.subarray(0, next), error);
      } else if (view.length >= this.maxBufferedBytes) {
        // The candidate cannot fit: drop its first byte and, in the same step, everything up to the next place a
        // frame could start. (Rejecting a too-long L as soon as it is read would be quicker still, but a stream
        // that simply ends there must keep reporting the frame as TRUNCATED, as callers sizing the bound to a
        // whole message rely on.)
        const why = `a partial frame filled the ${this.maxBufferedBytes}-byte buffer`;
        this.#drop(view.subarray(0, 1), new ProtocolError('BUFFER_FULL', `${why}; dropped to resynchronise`));
        this.#dropJunk();
      } else {
        return;
      }
    }
  }

  /** Calls the decoder; a throw that is not a ProtocolError is a bug and is rethrown with its stack. */
  #decodeAt(view: Uint8Array, atEnd: boolean): DecodeResult<T> {
    const context = atEnd ? { ...this.#context, streamEnded: true } : this.#context;
    try {
      return this.#decode(view, context);
    } catch {
      Error.stackTraceLimit = DEFAULT_STACK_TRACE_LIMIT;
      return this.#decode(view, context);
    }
  }

  /**
   * After a drop: the bytes up to the next place a frame could start join that drop, with its
   * reason (junk after junk, or the rest of a bad candidate), at the cost of one pass and no new error.
   */
  #dropJunk(): void {
    const run = this.#run;
    if (!this.#nextStart || !run || this.#end === this.#start) return;
    const rest = this.#buf.subarray(this.#start, this.#end);
    const next = Math.min(rest.length, this.#nextStart(rest, 0, this.#context));
    if (next > 0) this.#drop(rest.subarray(0, next), run.error);
  }

  /** Offset of the first whole frame after byte 0 of `view`, or `view.length` when there is none. */
  #nextWholeFrame(view: Uint8Array): number {
    for (let at = 1; at < view.length; at++) {
      if (this.#nextStart) {
        at = this.#nextStart(view, at, this.#context);
        if (at >= view.length) break;
      }
      if (this.#decode(view.subarray(at)).kind === 'frame') return at;
    }
    return view.length;
  }

  /** Drops `bytes` with `error`, joining the open run when it has the same reason; runs stay within the cap. */
  #drop(bytes: Uint8Array, error: ProtocolError): void {
    for (let at = 0; at < bytes.length; ) {
      const run = this.#run;
      const joins =
        run !== undefined &&
        run.error.code === error.code &&
        run.offset + run.length === this.#position &&
        run.length < this.#maxDropRun;
      const piece = bytes.subarray(at, at + this.#maxDropRun - (joins ? run.length : 0));
      if (joins) {
        run.append(piece);
      } else {
        this.#closeDropRun();
        this.#run = new DropRun(piece, run?.error.code === error.code ? run.error : error, this.#position);
      }
      this.#counts.droppedBytes += piece.length;
      this.#counts.droppedSinceFrame += piece.length;
      this.#advance(piece.length);
      at += piece.length;
    }
  }

  /** Ends the current run of dropped bytes: adjacent drops with the same reason are reported as one run. */
  #closeDropRun(): void {
    if (this.#run) this.#completedDrops.push(this.#run.toEvent());
    this.#run = undefined;
  }

  #flushDrop(events: FramerEvent<T>[]): void {
    this.#closeDropRun();
    if (this.#completedDrops.length === 0) return; // the usual case: nothing dropped
    // Completed runs precede any frame pushed after them; frames are pushed only after #flushDrop.
    for (const drop of this.#completedDrops) events.push(drop);
    this.#completedDrops = [];
  }

  #advance(n: number): void {
    this.#start += n;
    this.#position += n;
    if (this.#start === this.#end) {
      // Running sums are only ever compared as differences, so the base can restart anywhere.
      this.#sums[0] = this.#sums[this.#end];
      this.#start = 0;
      this.#end = 0;
    }
  }

  /**
   * Free space after `#end`, compacting or growing first. The buffer grows (up to twice the bound) while the
   * bytes waiting to come in do not fit, so that a big chunk is decoded in big views: the end of a view is where
   * a candidate waits for more bytes, so few views means few waits. A compaction copies the held bytes (at most
   * the bound) only once at least as many were consumed, so each byte is copied a constant number of times.
   */
  #makeRoom(wanted: number): number {
    if (this.#end < this.#buf.length) return this.#buf.length - this.#end;
    const held = this.#end - this.#start;
    const cap = 2 * this.maxBufferedBytes;
    if (this.#buf.length < cap && (held + wanted > this.#buf.length || this.#start < held)) {
      const size = Math.min(cap, Math.max(this.#buf.length * 2, held + wanted));
      const grown = new Uint8Array(size);
      grown.set(this.#buf.subarray(this.#start, this.#end));
      const sums = new Uint8Array(size + 1);
      sums.set(this.#sums.subarray(this.#start, this.#end + 1));
      this.#buf = grown;
      this.#sums = sums;
    } else {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#sums.copyWithin(0, this.#start, this.#end + 1);
    }
    this.#start = 0;
    this.#end = held;
    return this.#buf.length - this.#end;
  }
}

/** A run of dropped bytes being built: copied once into a buffer that doubles as it fills. */
class DropRun {
  #bytes: Uint8Array;
  length = 0;
  constructor(
    first: Uint8Array,
    readonly error: ProtocolError,
    readonly offset: number,
  ) {
    this.#bytes = new Uint8Array(Math.max(16, first.length));
    this.append(first);
  }

  append(bytes: Uint8Array): void {
    if (this.length + bytes.length > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(this.length + bytes.length, this.#bytes.length * 2));
      grown.set(this.#bytes.subarray(0, this.length));
      this.#bytes = grown;
    }
    this.#bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  toEvent(): DroppedBytes {
    return {
      kind: 'dropped',
      bytes: this.#bytes.slice(0, this.length),
      error: this.error,
      offset: this.offset,
    };
  }
}

const DEFAULT_STACK_TRACE_LIMIT = Error.stackTraceLimit;

/**
 * Turns off stack capture while a framer decodes, and returns the limit to restore. Every rejected candidate
 * makes a ProtocolError that ends up as data in a {@link DroppedBytes} report, never thrown; capturing its
 * stack cost about 90 % of the time per junk byte (measured: 9–15 µs → ~1 µs per byte of a 68H run).
 */
function quietErrors(): number {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  return limit;
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

  constructor(decode: ResynchronisingDecoder<T>, options: FramerStreamOptions = {}) {
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
