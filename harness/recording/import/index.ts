import { readFileSync, statSync } from 'node:fs';
import { RecordingError } from '../errors.ts';
import type { Framing } from '../format.ts';
import { fileSink } from '../writer.ts';
import { type ImportedSession, writeImported } from './imported.ts';
import { importPcap } from './pcap.ts';
import { importHex, importSocat, importSscom } from './text-logs.ts';

export type ImportFormat = 'socat' | 'sscom' | 'hex' | 'pcap';
export const IMPORT_FORMATS: readonly ImportFormat[] = ['socat', 'sscom', 'hex', 'pcap'];

/** Reads a field artefact of the given format into a session (nothing written yet). */
export function readImport(format: ImportFormat, file: string): ImportedSession {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new RecordingError('BAD_IMPORT', `${file}: cannot read (${(error as Error).message})`);
  }
  if (format === 'pcap') return importPcap(bytes, file);
  // Serial-assistant logs are often saved in GB2312 by Chinese Windows; UTF-8 is tried first, and a file
  // that is not UTF-8 is decoded as GB18030 (a superset of GB2312) so 发/收 are found either way.
  const utf8 = bytes.toString('utf8');
  const text = utf8.includes('\uFFFD') ? new TextDecoder('gb18030').decode(bytes) : utf8;
  const day = statSync(file).mtime;
  switch (format) {
    case 'socat':
      return importSocat(text, file);
    case 'sscom':
      return importSscom(text, file, day);
    case 'hex':
      return importHex(text, file, day);
  }
}

/** `meterlab import`: reads `file` and writes the recording `out`. Returns the session read. */
export function importToFile(
  format: ImportFormat,
  file: string,
  out: string,
  framing?: Framing,
): ImportedSession {
  const session = readImport(format, file);
  writeImported(session, fileSink(out), framing);
  return session;
}

export { type ImportedSession, writeImported } from './imported.ts';
