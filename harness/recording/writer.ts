import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { RecordingError } from './errors.ts';
import {
  type BodyRecord,
  type HeaderRecord,
  RECORDING_FORMAT,
  RECORDING_VERSION,
  type RecordedLink,
  serializeRecord,
} from './format.ts';

/** Where recording lines go: a file, or memory in tests. Each call gets one whole line with its newline. */
export interface RecordingSink {
  write(line: string): void;
  close(): void;
}

/**
 * A file written one line per `writeSync`, so a crash or a kill loses at most the line being written (the
 * reader reports such a cut last line as a warning). `O_APPEND` is not used: a recording is one writer's.
 * @throws RecordingError BAD_LINE-free: errors from `open` (EEXIST with `exclusive`, EACCES…) as thrown by node.
 */
export function fileSink(path: string, options: { exclusive?: boolean } = {}): RecordingSink {
  const fd = openSync(path, options.exclusive ? 'wx' : 'w');
  let open = true;
  return {
    write(line: string): void {
      writeSync(fd, line);
    },
    close(): void {
      if (!open) return;
      open = false;
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    },
  };
}

/** Lines kept in an array (tests, and building a recording in memory before writing it). */
export function memorySink(): RecordingSink & { lines: string[]; text(): string } {
  const lines: string[] = [];
  return {
    lines,
    write(line: string): void {
      lines.push(line);
    },
    close(): void {},
    text(): string {
      return lines.join('');
    },
  };
}

export interface RecordingWriterOptions {
  /**
   * Most bytes written to the sink. The record that would pass it is replaced by one `limit` event and every
   * later record is counted in {@link RecordingWriter.dropped} instead of written — a tap left running for a
   * week must not fill the disk. The `end` event written by `close()` is always allowed.
   * @defaultValue 1 GiB
   */
  maxBytes?: number;
}

export const DEFAULT_MAX_RECORDING_BYTES = 1024 ** 3;

/**
 * Appends records to a sink, one serialised line each, after writing the header. Bounded by `maxBytes`.
 * Never buffers: each record reaches the sink (and for a file, the OS) before `write` returns.
 */
export class RecordingWriter {
  readonly maxBytes: number;
  readonly #sink: RecordingSink;
  #bytes = 0;
  #dropped = 0;
  #full = false;
  #closed = false;

  /** @throws TypeError for a bad `maxBytes`. */
  constructor(
    sink: RecordingSink,
    header: { start: string; source: string; links: RecordedLink[] },
    options: RecordingWriterOptions = {},
  ) {
    const max = options.maxBytes ?? DEFAULT_MAX_RECORDING_BYTES;
    if (!Number.isInteger(max) || max < 1024) {
      throw new TypeError(`"maxBytes" must be an integer of at least 1024, got ${String(max)}`);
    }
    this.maxBytes = max;
    this.#sink = sink;
    const record: HeaderRecord = {
      type: 'header',
      format: RECORDING_FORMAT,
      version: RECORDING_VERSION,
      start: header.start,
      source: header.source,
      links: header.links,
    };
    this.#put(`${serializeRecord(record)}\n`);
  }

  /** Bytes written so far, header included. */
  get bytesWritten(): number {
    return this.#bytes;
  }

  /** Records refused because the size bound was reached. */
  get dropped(): number {
    return this.#dropped;
  }

  /** `true` once the size bound was reached. */
  get full(): boolean {
    return this.#full;
  }

  /**
   * Writes one record. Returns `false` when the bound refused it (counted in `dropped`).
   * @throws RecordingError RECORDING_CLOSED after `close()`.
   */
  write(record: BodyRecord): boolean {
    if (this.#closed) throw new RecordingError('RECORDING_CLOSED', 'the recording is already closed');
    if (this.#full) {
      this.#dropped++;
      return false;
    }
    const line = `${serializeRecord(record)}\n`;
    // Room is kept for the limit line and the end line, so the file always says why it stops.
    if (this.#bytes + Buffer.byteLength(line) > this.maxBytes - 512) {
      this.#full = true;
      this.#dropped++;
      const t = 't' in record ? record.t : 0;
      this.#put(
        `${serializeRecord({ type: 'event', t, link: '', event: 'limit', detail: `recording reached ${this.maxBytes} bytes; later records are not written` })}\n`,
      );
      return false;
    }
    this.#put(line);
    return true;
  }

  /** Writes the `end` event (with the count of refused records, if any) and closes the sink. Harmless twice. */
  close(t: number): void {
    if (this.#closed) return;
    const detail = this.#dropped > 0 ? `${this.#dropped} records not written (size bound)` : '';
    this.#put(`${serializeRecord({ type: 'event', t, link: '', event: 'end', detail })}\n`);
    this.#closed = true;
    this.#sink.close();
  }

  #put(line: string): void {
    this.#sink.write(line);
    this.#bytes += Buffer.byteLength(line);
  }
}
