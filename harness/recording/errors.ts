/**
 * One error class for recordings: reading, writing, importing, replaying and diffing them. The `code` is stable;
 * the message names the file and line (`s.jsonl:12: …`) whenever the problem sits in a file.
 *
 * | code                | meaning                                                                              |
 * | ------------------- | ------------------------------------------------------------------------------------ |
 * | NOT_A_RECORDING     | the first line is not a meterlab recording header (empty file, another format)        |
 * | NEWER_VERSION       | the header names a format version this meterlab does not know (upgrade meterlab)      |
 * | BAD_LINE            | a line is not JSON, or lacks or mistypes a field; the message names the field         |
 * | TRUNCATED_LAST_LINE | (warning) the last line stops mid-record: the writer was killed while writing it       |
 * | UNKNOWN_LINK        | a chunk or frame names a link that no header or link line declared                    |
 * | RECORDING_FULL      | the writer reached its size bound; later records are counted, not written              |
 * | RECORDING_CLOSED    | a record was written after `close()`                                                  |
 * | BAD_IMPORT          | an imported file (socat dump, serial-assistant log, hex, pcap) has a line it cannot read |
 * | BAD_PCAP            | a capture is not pcap/pcapng, is cut short, or uses a link type without TCP/IP         |
 * | BAD_ENDPOINT        | an endpoint text (`serial:PATH@2400-8E1`, `tcp:HOST:PORT` …) cannot be read           |
 * | NOTHING_TO_REPLAY   | the recording holds no frame of the side asked for                                    |
 * | BAD_RULES           | an `--ignore` word or a rules file is not understood                                  |
 */
export type RecordingErrorCode =
  | 'NOT_A_RECORDING'
  | 'NEWER_VERSION'
  | 'BAD_LINE'
  | 'TRUNCATED_LAST_LINE'
  | 'UNKNOWN_LINK'
  | 'RECORDING_FULL'
  | 'RECORDING_CLOSED'
  | 'BAD_IMPORT'
  | 'BAD_PCAP'
  | 'BAD_ENDPOINT'
  | 'NOTHING_TO_REPLAY'
  | 'BAD_RULES';

/** An error about a recording or a file imported into one. */
export class RecordingError extends Error {
  override readonly name = 'RecordingError';
  constructor(
    readonly code: RecordingErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toJSON(): { code: RecordingErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}
