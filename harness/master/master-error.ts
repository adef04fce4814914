/**
 * Why a point-read (or another master-station operation) failed. The `code` is stable and machine-readable and
 * is what the client API puts in its `error` message; the message names the concentrator and meter.
 *
 * | code                  | meaning                                                                           |
 * | --------------------- | --------------------------------------------------------------------------------- |
 * | CONCENTRATOR_OFFLINE  | the concentrator is known (archive or earlier login) but has no live session      |
 * | UNKNOWN_CONCENTRATOR  | the id is neither a logged-in A1/A2, an archived concentrator nor an alias         |
 * | UNKNOWN_METER         | no protocol/port in the request and the archive has no entry for the meter        |
 * | METER_TIMEOUT         | the concentrator answered with empty content (meter silent), or never answered    |
 * | BAD_REPLY             | the meter's answer is unusable: wrong address, bad checksum, abnormal reply, …    |
 * | DENIED                | the concentrator denied the forward request (AFN 00 F2)                            |
 * | BUSY                  | too many requests in flight on that concentrator or client connection             |
 * | BAD_REQUEST           | the request itself is malformed (bad JSON, missing field, bad address, …)          |
 * | STOPPED               | the master station stopped (or the connection closed) before the answer came       |
 */
export type MasterErrorCode =
  | 'CONCENTRATOR_OFFLINE'
  | 'UNKNOWN_CONCENTRATOR'
  | 'UNKNOWN_METER'
  | 'METER_TIMEOUT'
  | 'BAD_REPLY'
  | 'DENIED'
  | 'BUSY'
  | 'BAD_REQUEST'
  | 'STOPPED';

/** Every {@link MasterErrorCode}, for validation and documentation. */
export const MASTER_ERROR_CODES: readonly MasterErrorCode[] = [
  'CONCENTRATOR_OFFLINE',
  'UNKNOWN_CONCENTRATOR',
  'UNKNOWN_METER',
  'METER_TIMEOUT',
  'BAD_REPLY',
  'DENIED',
  'BUSY',
  'BAD_REQUEST',
  'STOPPED',
];

/** A master-station failure with a stable {@link MasterErrorCode}. */
export class MasterError extends Error {
  override readonly name = 'MasterError';
  constructor(
    readonly code: MasterErrorCode,
    message: string,
    /**
     * For BAD_REPLY: the more precise reason (`ADDRESS_MISMATCH`, `ABNORMAL_REPLY`, a `ProtocolError` code such as
     * `BAD_CHECKSUM`, …), so a report can say which way the meter's answer was bad.
     */
    readonly detail?: string,
  ) {
    super(message);
  }

  /** The `{code, message}` pair the client API sends. */
  toJSON(): { code: MasterErrorCode; message: string; detail?: string } {
    return this.detail === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, detail: this.detail };
  }
}
