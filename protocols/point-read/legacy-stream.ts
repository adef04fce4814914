/**
 * The original clientserver link's framing: JSON objects written back to back on a TCP stream, with no
 * delimiter between them (the webserver wrote each `ClickToCopyModel` with `Encoding.Default`, GB2312 on a
 * Chinese Windows, and read answers the same way); see harness/relay/README.md "Master protocol".
 *
 * Splitting needs no decoding: GB2312 (EUC-CN) and UTF-8 both encode every non-ASCII character with bytes of
 * 80H and above, so the structural ASCII bytes `{` `}` `"` `\` never occur inside a multi-byte character, and
 * an object's extent is found by counting brace depth on the raw bytes, outside strings, honouring `\"`.
 *
 * Bounds: an object longer than `maxObjectBytes` is an error (TOO_LONG) and the splitter drops what it holds;
 * the splitter never holds more than `maxObjectBytes` plus one chunk. Work per byte is constant: the scan resumes
 * where it stopped when more bytes arrive.
 */
import { ProtocolError } from '../errors.ts';

/** Default longest object: an answer is ~120 bytes; 64 KiB is the same bound as an NDJSON line's. */
export const DEFAULT_MAX_LEGACY_OBJECT_BYTES = 64 * 1024;

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/** White space JSON allows between values (RFC 8259 §2): space, tab, LF, CR. */
function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/** Where a scan of one object stands, so a later call resumes instead of starting over. */
export interface LegacyScanState {
  /** Index of the object's `{` in the buffer, or -1 before it is found. */
  start: number;
  /** Index of the next byte to look at. */
  pos: number;
  depth: number;
  inString: boolean;
  escaped: boolean;
}

/** A fresh scan. */
export function newLegacyScan(): LegacyScanState {
  return { start: -1, pos: 0, depth: 0, inString: false, escaped: false };
}

/**
 * One step of splitting `buf` (three-way, STYLE.md habit 1):
 * - `object`: `buf.subarray(start, end)` is one whole object (from `{` to its `}`); drop `end` bytes;
 * - `need-more`: no whole object yet; `skip` leading bytes (white space) may be dropped now;
 * - `error`: NO_START (bytes that cannot start an object: drop `skip` bytes, up to the next `{`) or TOO_LONG
 *   (the object exceeds `maxObjectBytes`: drop `skip` bytes, all of it held so far).
 * `state` carries the scan across calls on the same (growing) buffer; after `object` or `error` pass a new one.
 */
export type LegacySplitResult =
  | { kind: 'object'; start: number; end: number }
  | { kind: 'need-more'; skip: number }
  | { kind: 'error'; error: ProtocolError; skip: number };

export function splitLegacyObject(
  buf: Uint8Array,
  state: LegacyScanState = newLegacyScan(),
  maxObjectBytes: number = DEFAULT_MAX_LEGACY_OBJECT_BYTES,
): LegacySplitResult {
  if (state.start < 0) {
    let i = state.pos;
    while (i < buf.length && isSpace(buf[i])) i++;
    if (i === buf.length) {
      state.pos = 0;
      return { kind: 'need-more', skip: i };
    }
    if (buf[i] !== OPEN) {
      const next = buf.indexOf(OPEN, i + 1);
      const skip = next < 0 ? buf.length : next;
      return {
        kind: 'error',
        error: new ProtocolError(
          'NO_START',
          `${skip - i} byte(s) that do not start a JSON object (expected "{", got ${hexByte(buf[i])})`,
          i,
        ),
        skip,
      };
    }
    state.start = i;
    state.pos = i;
  }
  let { pos, depth, inString, escaped } = state;
  const limit = Math.min(buf.length, state.start + maxObjectBytes);
  for (; pos < limit; pos++) {
    const byte = buf[pos];
    if (inString) {
      if (escaped) escaped = false;
      else if (byte === BACKSLASH) escaped = true;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    if (byte === QUOTE) inString = true;
    else if (byte === OPEN) depth++;
    else if (byte === CLOSE) {
      depth--;
      if (depth === 0) return { kind: 'object', start: state.start, end: pos + 1 };
    }
  }
  Object.assign(state, { pos, depth, inString, escaped });
  if (pos - state.start >= maxObjectBytes) {
    return {
      kind: 'error',
      error: new ProtocolError(
        'TOO_LONG',
        `a JSON object longer than ${maxObjectBytes} bytes (maxObjectBytes) without its closing "}"`,
        state.start,
      ),
      skip: pos,
    };
  }
  return { kind: 'need-more', skip: 0 };
}

function hexByte(byte: number): string {
  return `${byte.toString(16).toUpperCase().padStart(2, '0')}H`;
}

/** One event of {@link LegacyStreamSplitter.push}: an object's bytes, or an error (the splitter resyncs). */
export type LegacyStreamEvent =
  | { kind: 'object'; bytes: Uint8Array }
  | { kind: 'error'; error: ProtocolError };

/**
 * The stateful wrapper for a stream: `push(chunk)` returns the whole objects (as bytes, still in their
 * character set) and errors in order. Holds at most `maxObjectBytes` plus one chunk.
 */
export class LegacyStreamSplitter {
  readonly maxObjectBytes: number;
  #buf: Uint8Array = new Uint8Array(0);
  #scan = newLegacyScan();

  /** @throws TypeError when `maxObjectBytes` is not a positive integer. */
  constructor(options: { maxObjectBytes?: number } = {}) {
    const max = options.maxObjectBytes ?? DEFAULT_MAX_LEGACY_OBJECT_BYTES;
    if (!Number.isInteger(max) || max < 2) {
      throw new TypeError(`"maxObjectBytes" must be an integer ≥ 2, got ${String(max)}`);
    }
    this.maxObjectBytes = max;
  }

  /** Bytes held (part of an object not yet complete). */
  get buffered(): number {
    return this.#buf.length;
  }

  push(chunk: Uint8Array): LegacyStreamEvent[] {
    const events: LegacyStreamEvent[] = [];
    if (chunk.length === 0) return events;
    let buf: Uint8Array;
    if (this.#buf.length === 0) buf = chunk;
    else {
      buf = new Uint8Array(this.#buf.length + chunk.length);
      buf.set(this.#buf);
      buf.set(chunk, this.#buf.length);
    }
    for (;;) {
      const result = splitLegacyObject(buf, this.#scan, this.maxObjectBytes);
      if (result.kind === 'need-more') {
        buf = buf.subarray(result.skip);
        if (result.skip > 0) this.#scan.pos = 0;
        // Rebase the scan on the kept bytes.
        if (this.#scan.start > 0) {
          buf = buf.subarray(this.#scan.start);
          this.#scan.pos -= this.#scan.start;
          this.#scan.start = 0;
        }
        this.#buf = buf.slice(); // own copy: the caller's chunk may be reused
        return events;
      }
      if (result.kind === 'object')
        events.push({ kind: 'object', bytes: buf.slice(result.start, result.end) });
      else events.push({ kind: 'error', error: result.error });
      buf = buf.subarray(result.kind === 'object' ? result.end : result.skip);
      this.#scan = newLegacyScan();
      if (buf.length === 0) {
        this.#buf = new Uint8Array(0);
        return events;
      }
    }
  }
}
