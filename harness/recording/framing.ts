import { type AnyFrame, decodeAuto, describeFrame, type ProtocolName } from '../../protocols/auto.ts';
import { type DecodeContext, FrameAccumulator, type FramerEvent } from '../../protocols/framer.ts';
import { GDW376_MAX_FRAME_LENGTH } from '../../protocols/gdw376/index.ts';
import { NdjsonDecoder } from '../../protocols/point-read/index.ts';
import type { Framing } from './format.ts';
import { summarizeFrame, summarizeMessage } from './summary.ts';

/** A frame found in one direction of a link, decoded for printing and comparing. */
export interface StreamFrame {
  kind: 'frame';
  /** "cjt188", "dlt645", "gdw376" or "point-read". */
  protocol: string;
  summary: string;
  /** The frame's bytes as they were on the wire (an NDJSON line with its newline). */
  bytes: Uint8Array;
  /** The decoded frame ({@link describeFrame} form for binary protocols, the message for NDJSON). */
  decoded: Record<string, unknown>;
}

/** Bytes that formed no frame, with the framer's reason. */
export interface StreamDrop {
  kind: 'drop';
  code: string;
  reason: string;
  bytes: Uint8Array;
}

export type StreamEvent = StreamFrame | StreamDrop;

/**
 * Bounded like the protocol framers: the longest 376.1 frame (the longest of the three) plus room for a
 * preamble, so any frame fits and a run of junk that looks like a header is dropped, not held forever.
 */
const MAX_BUFFERED_BYTES = GDW376_MAX_FRAME_LENGTH + 64;
/** An NDJSON line longer than this is reported TOO_LONG (the point-read messages are a few hundred bytes). */
const MAX_LINE_LENGTH = 64 * 1024;

const BLANK = new Set([0x20, 0x09, 0x0d, 0x0a]);

/**
 * Cuts one direction of one link into frames with today's framers: protocols/framer.ts `FrameAccumulator`
 * over `decodeAuto` for the binary protocols, the point-read `NdjsonDecoder` for NDJSON. For `auto` the
 * choice is made on the stream's first non-blank byte: `{` is NDJSON (the client API and the master's
 * front-end link), anything else binary (a 68H frame, FE preamble or line noise).
 * Any chunking of the same bytes gives the same events (framing.test.ts).
 */
export class StreamFramer {
  #binary: FrameAccumulator<AnyFrame> | undefined;
  #ndjson: NdjsonDecoder | undefined;
  /** Blank bytes seen before the choice was made, replayed into the chosen framer. */
  #pending: Uint8Array[] = [];

  constructor(readonly framing: Framing) {
    if (framing === 'ndjson') this.#ndjson = new NdjsonDecoder({ maxLineLength: MAX_LINE_LENGTH });
    else if (framing !== 'auto') this.#binary = binaryAccumulator([framing]);
  }

  /** The framing chosen so far: `auto` until the first non-blank byte. */
  get chosen(): Framing | 'binary' {
    if (this.#ndjson) return 'ndjson';
    if (this.#binary) return this.framing === 'auto' ? 'binary' : this.framing;
    return 'auto';
  }

  push(chunk: Uint8Array): StreamEvent[] {
    if (!this.#binary && !this.#ndjson) {
      const first = chunk.findIndex((b) => !BLANK.has(b));
      if (first < 0) {
        this.#pending.push(chunk.slice());
        return [];
      }
      if (chunk[first] === 0x7b) this.#ndjson = new NdjsonDecoder({ maxLineLength: MAX_LINE_LENGTH });
      else this.#binary = binaryAccumulator(['gdw376', 'dlt645', 'cjt188']);
      const events: StreamEvent[] = [];
      for (const p of this.#pending) events.push(...this.#feed(p));
      this.#pending = [];
      events.push(...this.#feed(chunk));
      return events;
    }
    return this.#feed(chunk);
  }

  /** End of stream: a partial frame is reported as a drop (TRUNCATED), as the framers' `_flush` does. */
  flush(): StreamEvent[] {
    if (this.#binary) return this.#binary.flush().map(binaryEvent);
    if (this.#ndjson) return this.#ndjson.flush().map(ndjsonEvent);
    return [];
  }

  #feed(chunk: Uint8Array): StreamEvent[] {
    if (this.#binary) return this.#binary.push(chunk).map(binaryEvent);
    return this.#ndjson!.push(chunk).map(ndjsonEvent);
  }
}

function binaryAccumulator(only: ProtocolName[]): FrameAccumulator<AnyFrame> {
  // decodeAuto waits while any protocol could still complete a frame from the held bytes (protocols/auto.ts), so
  // no meter frame that happens to look like a 376.1 header or a corrupt DL/T 645 frame is lost from a
  // recording; at the end of the stream (`streamEnded`) it gives its verdict. The buffer bound still applies.
  const decode = Object.assign((buf: Uint8Array, context?: DecodeContext) => decodeAuto(buf, only, context), {
    takesContext: true as const,
  });
  return new FrameAccumulator<AnyFrame>(decode, { maxBufferedBytes: MAX_BUFFERED_BYTES });
}

function binaryEvent(event: FramerEvent<AnyFrame>): StreamEvent {
  if (event.kind === 'dropped') {
    return { kind: 'drop', code: event.error.code, reason: event.error.message, bytes: event.bytes };
  }
  return {
    kind: 'frame',
    protocol: event.frame.protocol,
    summary: summarizeFrame(event.frame),
    bytes: event.raw,
    decoded: describeFrame(event.frame),
  };
}

function ndjsonEvent(event: ReturnType<NdjsonDecoder['push']>[number]): StreamEvent {
  const line = new Uint8Array(event.bytes.length + 1);
  line.set(event.bytes);
  line[event.bytes.length] = 0x0a;
  if (event.kind === 'bad-line') {
    // A line cut by the end of the stream has no newline on the wire: keep its bytes as they were.
    const bytes = event.error.code === 'TRUNCATED' ? event.bytes : line;
    return { kind: 'drop', code: event.error.code, reason: event.error.message, bytes };
  }
  const decoded = event.message as unknown as Record<string, unknown>;
  return { kind: 'frame', protocol: 'point-read', summary: summarizeMessage(decoded), bytes: line, decoded };
}

/** Decodes a frame's bytes again (a frame line's hex), for comparing two recordings field by field. */
export function decodeFrameBytes(bytes: Uint8Array, framing: Framing = 'auto'): StreamFrame | undefined {
  const framer = new StreamFramer(framing);
  const events = [...framer.push(bytes), ...framer.flush()];
  const frame = events.find((e): e is StreamFrame => e.kind === 'frame');
  return frame;
}
