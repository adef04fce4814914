import { RecordingError } from './errors.ts';

/**
 * The recording format: JSON Lines, one record per line, readable with `jq`. The first line is a header;
 * every later line is a link declaration, a chunk of bytes as it arrived, a frame found in those chunks, a
 * drop (bytes that formed no frame, with the reason) or an event (connect, disconnect, limit, end).
 * The README section "Recordings" documents each field; this file is the one place that reads and writes them.
 *
 * Records are written with their keys in a fixed order and times rounded to the microsecond, so a recording
 * read and written again is the same bytes (tested in format.test.ts).
 */
export const RECORDING_FORMAT = 'meterlab-recording';
/** Bumped when a field changes meaning or a reader of this version would misread a new record. */
export const RECORDING_VERSION = 1;

/**
 * Which way bytes went on a link: `ab` from end `a` to end `b`, `ba` back. For a tap `a` is the first endpoint
 * given on the command line; for a process recording its own link `a` is the process and `b` the device or peer;
 * for an import `a` is the side that sent first (socat `>`, a serial assistant's 发, a TCP client).
 */
export type Direction = 'ab' | 'ba';
export const DIRECTIONS: readonly Direction[] = ['ab', 'ba'];

/** What carried the bytes. */
export type RecordedLinkKind = 'serial' | 'tcp' | 'memory' | 'unknown';
export const LINK_KINDS: readonly RecordedLinkKind[] = ['serial', 'tcp', 'memory', 'unknown'];

/**
 * How a link's byte streams are cut into frames: one of the binary protocols, NDJSON point-read messages, or
 * `auto` — NDJSON when a stream's first non-blank byte is `{`, otherwise any of CJ/T 188, DL/T 645, 376.1.
 */
export type Framing = 'auto' | 'cjt188' | 'dlt645' | 'gdw376' | 'ndjson';
export const FRAMINGS: readonly Framing[] = ['auto', 'cjt188', 'dlt645', 'gdw376', 'ndjson'];

/** A link as the header (or a later `link` line) declares it. */
export interface RecordedLink {
  /** Short unique name used by every record of this link ("bus", "conn1"). */
  name: string;
  kind: RecordedLinkKind;
  /** Line settings as field engineers write them ("2400 8E1") or the TCP addresses ("tcp 127.0.0.1:9093"). */
  settings: string;
  /** What end `a` is (a device path, `host:port`, "meterlab poll"). */
  a: string;
  /** What end `b` is. */
  b: string;
  framing: Framing;
}

export interface HeaderRecord {
  type: 'header';
  format: typeof RECORDING_FORMAT;
  version: number;
  /** When t = 0 was, as local time with its UTC offset: "2026-12-05T17:07:03.123+08:00". */
  start: string;
  /** What made the recording: "tap", "import socat", "meterlab poll" … */
  source: string;
  links: RecordedLink[];
}

/** A link that appeared after the header (a TCP connection accepted by a tap). */
export interface LinkRecord {
  type: 'link';
  t: number;
  link: RecordedLink;
}

/** Bytes exactly as one read delivered them: chunk boundaries are kept so partial reads replay faithfully. */
export interface ChunkRecord {
  type: 'chunk';
  /** Milliseconds since `start`, to the microsecond. */
  t: number;
  link: string;
  dir: Direction;
  /** The bytes as hex, upper case, no spaces. */
  hex: string;
}

/** A whole frame found in a link's stream, at the time of the chunk that completed it. */
export interface FrameRecord {
  type: 'frame';
  t: number;
  link: string;
  dir: Direction;
  /** "cjt188", "dlt645", "gdw376" or "point-read". */
  protocol: string;
  /** One human line: what the frame says. */
  summary: string;
  hex: string;
}

/** Bytes that formed no frame, with the framer's reason (ProtocolError code and message). */
export interface DropRecord {
  type: 'drop';
  t: number;
  link: string;
  dir: Direction;
  code: string;
  reason: string;
  hex: string;
}

/** Something that happened besides bytes: `connect`, `disconnect`, `error`, `limit`, `end`. */
export interface EventRecord {
  type: 'event';
  t: number;
  /** The link concerned, or "" for the whole recording. */
  link: string;
  event: string;
  detail: string;
}

export type BodyRecord = LinkRecord | ChunkRecord | FrameRecord | DropRecord | EventRecord;
export type RecordingRecord = HeaderRecord | BodyRecord;

/** Rounds a time to the microsecond, the precision the format keeps. */
export function roundTime(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Serialises one record as its line (without the newline), keys in the documented order. */
export function serializeRecord(record: RecordingRecord): string {
  switch (record.type) {
    case 'header':
      return JSON.stringify({
        type: 'header',
        format: record.format,
        version: record.version,
        start: record.start,
        source: record.source,
        links: record.links.map(linkFields),
      });
    case 'link':
      return JSON.stringify({ type: 'link', t: roundTime(record.t), link: linkFields(record.link) });
    case 'chunk':
      return JSON.stringify({
        type: 'chunk',
        t: roundTime(record.t),
        link: record.link,
        dir: record.dir,
        hex: record.hex,
      });
    case 'frame':
      return JSON.stringify({
        type: 'frame',
        t: roundTime(record.t),
        link: record.link,
        dir: record.dir,
        protocol: record.protocol,
        summary: record.summary,
        hex: record.hex,
      });
    case 'drop':
      return JSON.stringify({
        type: 'drop',
        t: roundTime(record.t),
        link: record.link,
        dir: record.dir,
        code: record.code,
        reason: record.reason,
        hex: record.hex,
      });
    case 'event':
      return JSON.stringify({
        type: 'event',
        t: roundTime(record.t),
        link: record.link,
        event: record.event,
        detail: record.detail,
      });
  }
}

function linkFields(link: RecordedLink): RecordedLink {
  return {
    name: link.name,
    kind: link.kind,
    settings: link.settings,
    a: link.a,
    b: link.b,
    framing: link.framing,
  };
}

/** Where a line came from, for messages: "s.jsonl:12". */
export interface LinePlace {
  file: string;
  line: number;
}

/**
 * Parses one line. The first line of a file must be a header (`first: true`).
 * @throws RecordingError BAD_LINE naming the file, line and field; NOT_A_RECORDING for a first line that is
 *   not a header; NEWER_VERSION for a header of a later format version.
 */
export function parseRecordLine(text: string, place: LinePlace, first: boolean): RecordingRecord {
  const at = `${place.file}:${place.line}`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (first) {
      throw new RecordingError(
        'NOT_A_RECORDING',
        `${at}: not a meterlab recording (the first line is not JSON: ${(error as Error).message})`,
      );
    }
    throw new RecordingError('BAD_LINE', `${at}: not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RecordingError(first ? 'NOT_A_RECORDING' : 'BAD_LINE', `${at}: a record must be a JSON object`);
  }
  const o = value as Record<string, unknown>;
  const field = new Fields(o, at);
  if (first) {
    if (o.type !== 'header' || o.format !== RECORDING_FORMAT) {
      throw new RecordingError(
        'NOT_A_RECORDING',
        `${at}: not a meterlab recording (the first line must be {"type":"header","format":"${RECORDING_FORMAT}",…})`,
      );
    }
    const version = field.integer('version');
    if (version > RECORDING_VERSION) {
      throw new RecordingError(
        'NEWER_VERSION',
        `${at}: recording format version ${version} is newer than this meterlab reads (${RECORDING_VERSION}); upgrade meterlab`,
      );
    }
    if (version < 1)
      throw new RecordingError('BAD_LINE', `${at}: "version" must be 1 or more, got ${version}`);
    const links = field.array('links').map((l, i) => parseLink(l, `${at}: links[${i}]`));
    return {
      type: 'header',
      format: RECORDING_FORMAT,
      version,
      start: field.string('start'),
      source: field.string('source'),
      links,
    };
  }
  switch (o.type) {
    case 'header':
      throw new RecordingError('BAD_LINE', `${at}: a second header (only the first line may be one)`);
    case 'link':
      return { type: 'link', t: field.time(), link: parseLink(o.link, `${at}: link`) };
    case 'chunk':
      return {
        type: 'chunk',
        t: field.time(),
        link: field.string('link'),
        dir: field.dir(),
        hex: field.hex('hex'),
      };
    case 'frame':
      return {
        type: 'frame',
        t: field.time(),
        link: field.string('link'),
        dir: field.dir(),
        protocol: field.string('protocol'),
        summary: field.string('summary'),
        hex: field.hex('hex'),
      };
    case 'drop':
      return {
        type: 'drop',
        t: field.time(),
        link: field.string('link'),
        dir: field.dir(),
        code: field.string('code'),
        reason: field.string('reason'),
        hex: field.hex('hex'),
      };
    case 'event':
      return {
        type: 'event',
        t: field.time(),
        link: field.string('link'),
        event: field.string('event'),
        detail: field.string('detail'),
      };
    default:
      throw new RecordingError(
        'BAD_LINE',
        `${at}: unknown record type ${JSON.stringify(o.type)} (expected link, chunk, frame, drop or event)`,
      );
  }
}

function parseLink(value: unknown, at: string): RecordedLink {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RecordingError('BAD_LINE', `${at} must be an object`);
  }
  const f = new Fields(value as Record<string, unknown>, at);
  const kind = f.string('kind');
  if (!LINK_KINDS.includes(kind as RecordedLinkKind)) {
    throw new RecordingError(
      'BAD_LINE',
      `${at}: "kind" must be one of ${LINK_KINDS.join(', ')}, got "${kind}"`,
    );
  }
  const framing = f.string('framing');
  if (!FRAMINGS.includes(framing as Framing)) {
    throw new RecordingError(
      'BAD_LINE',
      `${at}: "framing" must be one of ${FRAMINGS.join(', ')}, got "${framing}"`,
    );
  }
  const name = f.string('name');
  if (name.length === 0) throw new RecordingError('BAD_LINE', `${at}: "name" must not be empty`);
  return {
    name,
    kind: kind as RecordedLinkKind,
    settings: f.string('settings'),
    a: f.string('a'),
    b: f.string('b'),
    framing: framing as Framing,
  };
}

/** Typed field access that names the field and line on failure. */
class Fields {
  constructor(
    readonly o: Record<string, unknown>,
    readonly at: string,
  ) {}

  #fail(name: string, what: string): never {
    const got = this.o[name];
    throw new RecordingError(
      'BAD_LINE',
      `${this.at}: "${name}" must be ${what}, got ${got === undefined ? 'nothing' : JSON.stringify(got)}`,
    );
  }

  string(name: string): string {
    const v = this.o[name];
    return typeof v === 'string' ? v : this.#fail(name, 'a string');
  }

  integer(name: string): number {
    const v = this.o[name];
    return typeof v === 'number' && Number.isInteger(v) ? v : this.#fail(name, 'an integer');
  }

  array(name: string): unknown[] {
    const v = this.o[name];
    return Array.isArray(v) ? v : this.#fail(name, 'an array');
  }

  time(): number {
    const v = this.o.t;
    return typeof v === 'number' && Number.isFinite(v) && v >= 0
      ? v
      : this.#fail('t', 'milliseconds since start (a number ≥ 0)');
  }

  dir(): Direction {
    const v = this.o.dir;
    return v === 'ab' || v === 'ba' ? v : this.#fail('dir', '"ab" or "ba"');
  }

  hex(name: string): string {
    const v = this.o[name];
    return typeof v === 'string' && /^(?:[0-9A-F]{2})*$/.test(v)
      ? v
      : this.#fail(name, 'bytes as upper-case hex without spaces');
  }
}

/** Upper-case hex without spaces, the format's byte notation. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex').toUpperCase();
}

/** The bytes of a format hex string (already validated by the reader). */
export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** Local time with its UTC offset, the way the header's `start` is written: "2026-12-05T17:07:03.123+08:00". */
export function formatStart(epochMs: number): string {
  const date = new Date(epochMs);
  const offset = -date.getTimezoneOffset();
  const local = new Date(epochMs + offset * 60_000).toISOString().slice(0, 23);
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return `${local}${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

/** Epoch milliseconds of a header's `start`, or NaN when it is not a time. */
export function parseStart(start: string): number {
  return Date.parse(start);
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
