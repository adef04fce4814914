import { ProtocolError } from '../errors.ts';
import { decodeText, encodeText, type TextEncodingName } from './text-encoding.ts';

/**
 * The seed system's clientserver link (issue 14 item 3; the README's "The master's client API: limits and the
 * seed system's framing" says the same for users): the original webserver wrote each point-read request to
 * the clientserver's TCP port as one JSON object, back to back with no newline or other delimiter, in GB2312
 * (`Encoding.Default` on a Chinese Windows), and read JSON objects back the same way. The objects are the flat
 * `ClickToCopyModel`:
 *
 * - request: `{"ConcentratorNo":"101","WaterMtrAddress":"101001","AccumVal":0.0,"IsDownCommand":false}`
 *   (`AccumVal` may be absent, 0 or null; `IsDownCommand` absent or false);
 * - answer: the same object with `AccumVal` (m³) and `"IsDownCommand":true`; a failure has `"AccumVal":null`
 *   and adds `ErrorCode` and `ErrorMsg`.
 *
 * This module is pure: a splitter of concatenated JSON objects for any chunking of the byte stream, a sniffer
 * that tells this framing from NDJSON on a connection's first bytes, and the flat model's decoder and encoder.
 */

/** ASCII bytes the splitter cares about. */
const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const NEWLINE = 0x0a;

/** Bytes allowed between objects: JSON whitespace, and NUL (a .NET reader/writer of fixed buffers pads with 0). */
function isGap(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x00;
}

/**
 * A GBK lead byte (0x81–0xFE). Its trail byte may be 0x40–0x7E, which includes `\`, `{` and `}` (GBK's
 * extension of GB2312, and what Windows code page 936 writes), so in GB2312/GBK text the byte after a lead byte
 * is never taken for JSON syntax. In UTF-8 every byte of a multi-byte character is ≥ 0x80 and never looks like
 * syntax, so nothing is skipped.
 */
function isGbkLead(b: number): boolean {
  return b >= 0x81 && b <= 0xfe;
}

export interface LegacyStreamSplitterOptions {
  /**
   * Longest object, bytes. A longer one is reported (TOO_LONG) and skipped to its closing brace without being
   * held. @defaultValue 65536
   */
  maxObjectBytes?: number;
  /** Character set of the stream; decides how multi-byte characters are stepped over. @defaultValue 'gb2312' */
  charset?: TextEncodingName;
  /**
   * Told about every run of bytes that is not an object: NO_START (bytes between objects that are neither an
   * object nor white space), TOO_LONG, TRUNCATED (the stream ended inside an object, from `flush`).
   * @defaultValue ignore them
   */
  onDropped?: (dropped: LegacyStreamDrop) => void;
}

/** Bytes the splitter dropped, and why. */
export interface LegacyStreamDrop {
  error: ProtocolError;
  /** How many bytes were dropped. */
  length: number;
  /** Stream position of the first of them. */
  offset: number;
}

export interface LegacyStreamSplitter {
  readonly maxObjectBytes: number;
  /** Adds a chunk; returns the bytes of every object it completes, in order (`{` … `}`, nothing around them). */
  push(chunk: Uint8Array): Uint8Array[];
  /** End of stream: reports an unfinished object (TRUNCATED) or trailing junk (NO_START). */
  flush(): void;
  /** Bytes held for an unfinished object; never more than `maxObjectBytes`. */
  readonly buffered: number;
}

type State = 'between' | 'object' | 'skipping';

/**
 * Splits a stream of JSON objects written back to back (the seed clientserver link) into one byte array per
 * object, whatever the chunking: it tracks brace depth outside strings, with `\` escapes inside them and GBK
 * trail bytes stepped over. Constant work per input byte, never more than `maxObjectBytes` held. Never throws on
 * any input; the only errors are for bad options.
 * @throws TypeError when `maxObjectBytes` is not a positive integer or `charset` is unknown.
 */
export function createLegacyStreamSplitter(options: LegacyStreamSplitterOptions = {}): LegacyStreamSplitter {
  const maxObjectBytes = options.maxObjectBytes ?? 65536;
  if (!Number.isInteger(maxObjectBytes) || maxObjectBytes < 1) {
    throw new TypeError(`"maxObjectBytes" must be a positive integer, got ${String(options.maxObjectBytes)}`);
  }
  const charset = options.charset ?? 'gb2312';
  if (charset !== 'gb2312' && charset !== 'utf8') {
    throw new TypeError(`"charset" must be 'gb2312' or 'utf8', got ${String(charset)}`);
  }
  const gbk = charset === 'gb2312';
  const onDropped = options.onDropped ?? (() => {});

  let state: State = 'between';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let trail = false;
  /** Stream position of the next byte. */
  let position = 0;
  /** Start of the current object, or of the current junk run. */
  let start = 0;
  let junk = 0;
  /** The current object's bytes so far, as copied pieces. */
  let parts: Uint8Array[] = [];
  let held = 0;

  const reportJunk = (): void => {
    if (junk === 0) return;
    const error = new ProtocolError(
      'NO_START',
      `${junk} byte(s) outside a JSON object skipped (expected "{" or white space)`,
      start,
    );
    onDropped({ error, length: junk, offset: start });
    junk = 0;
  };

  const take = (): Uint8Array => {
    const out = parts.length === 1 ? parts[0] : concat(parts, held);
    parts = [];
    held = 0;
    return out;
  };

  /** Scans one byte of an object (or of one being skipped); true when it closed the object. */
  const step = (b: number): boolean => {
    if (trail) {
      trail = false;
      return false;
    }
    if (gbk && isGbkLead(b)) {
      trail = true;
      escaped = false;
      return false;
    }
    if (inString) {
      if (escaped) escaped = false;
      else if (b === BACKSLASH) escaped = true;
      else if (b === QUOTE) inString = false;
      return false;
    }
    if (b === QUOTE) inString = true;
    else if (b === OPEN) depth++;
    else if (b === CLOSE) depth--;
    return depth === 0;
  };

  const push = (chunk: Uint8Array): Uint8Array[] => {
    const out: Uint8Array[] = [];
    let i = 0;
    // Where the held piece of the current object starts in this chunk.
    let pieceFrom = 0;
    while (i < chunk.length) {
      if (state === 'between') {
        const b = chunk[i];
        if (b === OPEN) {
          reportJunk();
          state = 'object';
          depth = 1;
          inString = escaped = trail = false;
          start = position + i;
          pieceFrom = i;
          i++;
        } else {
          if (!isGap(b)) {
            if (junk === 0) start = position + i;
            junk++;
          }
          i++;
          continue;
        }
      }
      // Inside an object (held or skipped): scan to its end or the end of the chunk.
      let closedAt = -1;
      for (; i < chunk.length; i++) {
        if (step(chunk[i])) {
          closedAt = i;
          i++;
          break;
        }
      }
      if (state === 'skipping') {
        if (closedAt >= 0) state = 'between';
        continue;
      }
      const end = closedAt >= 0 ? closedAt + 1 : chunk.length;
      const piece = chunk.subarray(pieceFrom, end);
      if (held + piece.length > maxObjectBytes) {
        const error = new ProtocolError(
          'TOO_LONG',
          `JSON object longer than maxObjectBytes (${maxObjectBytes} bytes); skipped to its closing brace`,
          start,
        );
        onDropped({ error, length: held + piece.length, offset: start });
        parts = [];
        held = 0;
        state = closedAt >= 0 ? 'between' : 'skipping';
        continue;
      }
      parts.push(piece.slice());
      held += piece.length;
      if (closedAt >= 0) {
        out.push(take());
        state = 'between';
      }
    }
    position += chunk.length;
    return out;
  };

  const flush = (): void => {
    if (state === 'object' && held > 0) {
      const error = new ProtocolError(
        'TRUNCATED',
        `stream ended inside a JSON object (${held} bytes without its closing brace)`,
        start,
      );
      onDropped({ error, length: held, offset: start });
    }
    reportJunk();
    parts = [];
    held = 0;
    state = 'between';
  };

  return {
    maxObjectBytes,
    push,
    flush,
    get buffered() {
      return held;
    },
  };
}

/** A connection's framing as far as its first bytes tell: see {@link createFramingSniffer}. */
export type ClientFraming = 'legacy' | 'ndjson' | 'need-more';

/**
 * Tells which framing a client-API connection speaks, from its first bytes, incrementally (each byte is looked at
 * once): `legacy` when they begin (after white space) with one whole JSON object, with no newline inside it,
 * that is a flat ClickToCopyModel request (it has `ConcentratorNo` and neither `type` nor `ModuleName`);
 * `ndjson` for anything else — a first byte other than `{`, a newline inside the first object, a first object of
 * another shape or more than `maxObjectBytes` of it; `need-more` until then. The caller keeps the bytes and hands
 * them to the decoder of the framing decided.
 */
export function createFramingSniffer(options: { charset?: TextEncodingName; maxObjectBytes?: number } = {}): {
  push(chunk: Uint8Array): ClientFraming;
} {
  const charset = options.charset ?? 'gb2312';
  let tooLong = false;
  const splitter = createLegacyStreamSplitter({
    charset,
    maxObjectBytes: options.maxObjectBytes,
    onDropped: (d) => {
      if (d.error.code === 'TOO_LONG') tooLong = true;
    },
  });
  let started = false;
  let decided: ClientFraming = 'need-more';
  const decide = (chunk: Uint8Array): ClientFraming => {
    let rest = chunk;
    if (!started) {
      let i = 0;
      while (i < rest.length && isGap(rest[i])) i++;
      if (i === rest.length) return 'need-more';
      if (rest[i] !== OPEN) return 'ndjson';
      started = true;
      rest = rest.subarray(i);
    }
    const [first] = splitter.push(rest);
    if (!first) {
      // Still inside the first object: a newline there is NDJSON's framing (a bad line), never this one's.
      return tooLong || rest.includes(NEWLINE) ? 'ndjson' : 'need-more';
    }
    if (first.includes(NEWLINE)) return 'ndjson';
    let value: unknown;
    try {
      value = JSON.parse(decodeText(first, charset));
    } catch {
      return 'ndjson';
    }
    return isFlatModel(value) ? 'legacy' : 'ndjson';
  };
  return {
    push(chunk: Uint8Array): ClientFraming {
      if (decided === 'need-more') decided = decide(chunk);
      return decided;
    },
  };
}

function isFlatModel(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.hasOwn(value, 'ConcentratorNo') &&
    !Object.hasOwn(value, 'type') &&
    !Object.hasOwn(value, 'ModuleName')
  );
}

/** The flat ClickToCopyModel request, as the original webserver sent it. */
export interface ClickToCopyRequest {
  ConcentratorNo: string;
  WaterMtrAddress: string;
}

/** The flat answer: the request's two fields echoed, the reading, and on failure the error's code and text. */
export type ClickToCopyAnswer =
  | { ConcentratorNo: string; WaterMtrAddress: string; AccumVal: number; IsDownCommand: true }
  | {
      ConcentratorNo: string;
      WaterMtrAddress: string;
      AccumVal: null;
      IsDownCommand: true;
      ErrorCode: string;
      ErrorMsg: string;
    };

/**
 * A flat ClickToCopyModel request from one object's text. `ConcentratorNo` and `WaterMtrAddress` must be
 * strings (a number is taken as its decimal text, as Json.NET would bind it to a string property); other fields
 * are ignored as Json.NET ignores unknown members.
 * @throws ProtocolError BAD_JSON when the text is not JSON; BAD_MESSAGE (naming the field) when it is not a
 * request — an answer (`IsDownCommand` true) included.
 */
export function decodeClickToCopyRequest(text: string): ClickToCopyRequest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ProtocolError('BAD_JSON', `not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('BAD_MESSAGE', 'expected a ClickToCopyModel object');
  }
  const o = value as Record<string, unknown>;
  const field = (name: 'ConcentratorNo' | 'WaterMtrAddress'): string => {
    const v = o[name];
    if (typeof v === 'string') return v;
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
    throw new ProtocolError(
      'BAD_MESSAGE',
      `"${name}" must be a string, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`,
    );
  };
  const request = { ConcentratorNo: field('ConcentratorNo'), WaterMtrAddress: field('WaterMtrAddress') };
  if (o.IsDownCommand === true) {
    throw new ProtocolError('BAD_MESSAGE', '"IsDownCommand" is true: this is an answer, not a request');
  }
  if (o.IsDownCommand !== undefined && o.IsDownCommand !== false) {
    throw new ProtocolError(
      'BAD_MESSAGE',
      `"IsDownCommand" must be false, got ${JSON.stringify(o.IsDownCommand)}`,
    );
  }
  return request;
}

/**
 * Most bytes of one encoded answer: 1024, the receive buffer the original webserver read each answer into
 * (seed 002, `new byte[1024]`); an `ErrorMsg` is shortened (ending in `…`) to fit.
 */
export const MAX_LEGACY_ANSWER_BYTES = 1024;

/**
 * Encodes a flat answer as one JSON object (no newline) in `charset`. Characters GB2312 cannot encode are written
 * as `\uXXXX` escapes; an `ErrorMsg` too long for {@link MAX_LEGACY_ANSWER_BYTES} is shortened.
 */
export function encodeClickToCopyAnswer(
  answer: ClickToCopyAnswer,
  charset: TextEncodingName = 'gb2312',
): Uint8Array {
  let bytes = encodeObject(answer, charset);
  if (bytes.length <= MAX_LEGACY_ANSWER_BYTES || !('ErrorMsg' in answer)) return bytes;
  let msg = answer.ErrorMsg;
  while (bytes.length > MAX_LEGACY_ANSWER_BYTES && msg.length > 0) {
    msg = msg.slice(
      0,
      Math.max(0, msg.length - Math.max(1, Math.ceil((bytes.length - MAX_LEGACY_ANSWER_BYTES) / 2))),
    );
    bytes = encodeObject({ ...answer, ErrorMsg: `${msg}…` }, charset);
  }
  return bytes;
}

function encodeObject(value: object, charset: TextEncodingName): Uint8Array {
  const json = JSON.stringify(value);
  if (charset === 'utf8') return encodeText(json, charset);
  try {
    return encodeText(json, charset);
  } catch {
    let out = '';
    for (const char of json) {
      let ok = char.charCodeAt(0) < 0x80;
      if (!ok) {
        try {
          encodeText(char, charset);
          ok = true;
        } catch {
          ok = false;
        }
      }
      if (ok) out += char;
      else
        for (let i = 0; i < char.length; i++) out += `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`;
    }
    return encodeText(out, charset);
  }
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
