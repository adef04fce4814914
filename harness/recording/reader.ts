import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { RecordingError } from './errors.ts';
import {
  type BodyRecord,
  type HeaderRecord,
  parseRecordLine,
  type RecordedLink,
  type RecordingRecord,
} from './format.ts';

/** A recording read whole. */
export interface Recording {
  file: string;
  header: HeaderRecord;
  /** Every line after the header, in file order. */
  records: BodyRecord[];
  /** Links by name: the header's and those declared by later `link` lines. */
  links: Map<string, RecordedLink>;
  /** Problems that did not stop the reading: a cut last line (TRUNCATED_LAST_LINE). */
  warnings: RecordingError[];
}

/**
 * Turns text into records line by line, whatever pieces the text arrives in. Checks the header first and that
 * every record names a declared link; a bad line throws a RecordingError naming the file and line. A last line
 * without its newline is held until {@link end}, which reports it as a warning if it is cut mid-record.
 */
export class RecordingLineReader {
  header: HeaderRecord | undefined;
  readonly links = new Map<string, RecordedLink>();
  readonly warnings: RecordingError[] = [];
  #partial = '';
  #line = 0;

  constructor(readonly file: string) {}

  /** Adds text; returns the records of the lines it completes. */
  push(text: string): RecordingRecord[] {
    const out: RecordingRecord[] = [];
    let from = 0;
    for (;;) {
      const nl = text.indexOf('\n', from);
      if (nl < 0) break;
      const line = this.#partial + text.slice(from, nl);
      this.#partial = '';
      from = nl + 1;
      const record = this.#parse(line);
      if (record) out.push(record);
    }
    this.#partial += text.slice(from);
    return out;
  }

  /**
   * End of the text. A last line without a newline is used when it is a whole record; when it is cut (the
   * writer died mid-line) it is dropped with a TRUNCATED_LAST_LINE warning. An empty text is NOT_A_RECORDING.
   */
  end(): RecordingRecord[] {
    const out: RecordingRecord[] = [];
    const rest = this.#partial;
    this.#partial = '';
    if (rest.trim().length > 0) {
      try {
        const record = this.#parse(rest);
        if (record) out.push(record);
      } catch (error) {
        if (!(error instanceof RecordingError) || error.code !== 'BAD_LINE') throw error;
        this.warnings.push(
          new RecordingError(
            'TRUNCATED_LAST_LINE',
            `${this.file}:${this.#line}: the last line is cut short (the recorder stopped while writing it); ignored`,
          ),
        );
      }
    }
    if (!this.header) {
      throw new RecordingError('NOT_A_RECORDING', `${this.file}: empty file, not a meterlab recording`);
    }
    return out;
  }

  /** Lines read so far. */
  get lineNumber(): number {
    return this.#line;
  }

  #parse(text: string): RecordingRecord | undefined {
    this.#line++;
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (line.trim().length === 0) {
      if (!this.header) return undefined;
      throw new RecordingError('BAD_LINE', `${this.file}:${this.#line}: empty line`);
    }
    const place = { file: this.file, line: this.#line };
    const record = parseRecordLine(line, place, this.header === undefined);
    if (record.type === 'header') {
      this.header = record;
      for (const link of record.links) this.#declare(link);
    } else if (record.type === 'link') {
      this.#declare(record.link);
    } else if (record.link !== '' || record.type !== 'event') {
      if (!this.links.has(record.link)) {
        throw new RecordingError(
          'UNKNOWN_LINK',
          `${this.file}:${this.#line}: link "${record.link}" is not declared by the header or an earlier link line`,
        );
      }
    }
    return record;
  }

  #declare(link: RecordedLink): void {
    if (this.links.has(link.name)) {
      throw new RecordingError('BAD_LINE', `${this.file}:${this.#line}: link "${link.name}" declared twice`);
    }
    this.links.set(link.name, link);
  }
}

/** Parses a recording held in memory. `file` names it in messages. */
export function parseRecording(text: string, file: string): Recording {
  const reader = new RecordingLineReader(file);
  const all = [...reader.push(text), ...reader.end()];
  return finish(reader, all);
}

/** Reads a recording file whole (streamed, so a large file is not held twice as bytes and text). */
export async function readRecording(file: string): Promise<Recording> {
  const reader = new RecordingLineReader(file);
  const all: RecordingRecord[] = [];
  for await (const batch of readBatches(file, reader)) all.push(...batch);
  return finish(reader, all);
}

/** The records of a file in batches, for files too large to hold (`decode --recording` on a long tap). */
export async function* readBatches(
  file: string,
  reader = new RecordingLineReader(file),
): AsyncGenerator<RecordingRecord[]> {
  const decoder = new StringDecoder('utf8');
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) yield reader.push(decoder.write(chunk as Buffer));
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new RecordingError('NOT_A_RECORDING', `${file}: no such file`);
    throw error;
  }
  yield [...reader.push(decoder.end()), ...reader.end()];
}

function finish(reader: RecordingLineReader, all: RecordingRecord[]): Recording {
  const [header, ...rest] = all;
  if (header?.type !== 'header') {
    throw new RecordingError('NOT_A_RECORDING', `${reader.file}: not a meterlab recording`);
  }
  return {
    file: reader.file,
    header,
    records: rest as BodyRecord[],
    links: reader.links,
    warnings: reader.warnings,
  };
}

/**
 * Follows a recording being written (`tail -f`): yields records as lines complete, polling the file's size
 * every `pollMs`, until `signal` aborts or an `end` event is read. A last line without its newline is waited
 * for, not reported, since the writer may be in the middle of it.
 */
export async function* followRecording(
  file: string,
  options: { signal?: AbortSignal; pollMs?: number } = {},
): AsyncGenerator<RecordingRecord[]> {
  const { signal, pollMs = 100 } = options;
  const reader = new RecordingLineReader(file);
  const decoder = new StringDecoder('utf8');
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new RecordingError('NOT_A_RECORDING', `${file}: no such file`);
    }
    throw error;
  }
  const buffer = Buffer.alloc(1 << 20);
  let position = 0;
  try {
    while (!signal?.aborted) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead > 0) {
        position += bytesRead;
        const records = reader.push(decoder.write(buffer.subarray(0, bytesRead)));
        if (records.length > 0) yield records;
        if (records.some((r) => r.type === 'event' && r.event === 'end' && r.link === '')) return;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollMs);
        function done(): void {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        }
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  } finally {
    await handle.close();
  }
}
