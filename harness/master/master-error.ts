import {
  MAX_DETAIL_REPLY_BYTES,
  MAX_DETAIL_TEXT_LENGTH,
  READ_FAILURE_REASONS,
  type ReadErrorDetail,
  type ReadFailureReason,
} from '../../protocols/point-read/index.ts';

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
 * | CANCELLED             | the client withdrew the read (v1 `cancel`) while it waited; it was never sent      |
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
  | 'STOPPED'
  | 'CANCELLED';

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
  'CANCELLED',
];

/**
 * What a field read failure says beyond its code: the precise reason and the facts the judge of the meter's
 * reply found (addresses, status/error word, reply bytes) — the `detail` of the point-read `error` message
 * (`protocols/point-read/types.ts`, `ReadErrorDetail`). {@link MasterStation.pointRead} and the client API give
 * one of the five shared reason names ({@link failureReasonOf}); a reply decoder may give an older, finer name
 * (TRUNCATED, NO_REPLY, …), which they fold into BAD_REPLY.
 */
export type MasterFailureDetail = ReadErrorDetail;

/**
 * The precise reason for a reason name the master's reply decoding gave before issue 9 (a `ProtocolError` code
 * such as TRUNCATED, or NO_REPLY, UNEXPECTED_REPLY, …): the four named failures keep their names, everything
 * else unusable is BAD_REPLY — one name per failure.
 */
export function failureReasonOf(name: string): ReadFailureReason {
  return (READ_FAILURE_REASONS as readonly string[]).includes(name)
    ? (name as ReadFailureReason)
    : 'BAD_REPLY';
}

/** A master-station failure with a stable {@link MasterErrorCode}. */
export class MasterError extends Error {
  override readonly name = 'MasterError';
  /**
   * For METER_TIMEOUT and BAD_REPLY from a field read: why precisely, so a report can say which way the meter's
   * answer was bad (ADDRESS_MISMATCH with both addresses, ABNORMAL_REPLY with the meter's status word, …).
   * The client API sends it as the `detail` of its `error` message.
   */
  readonly detail?: MasterFailureDetail;

  /** @param detail the failure's detail; a bare reason name (the form before issue 9) is taken as `{ reason }`. */
  constructor(
    readonly code: MasterErrorCode,
    message: string,
    detail?: MasterFailureDetail | string,
  ) {
    super(message);
    if (detail !== undefined) {
      this.detail = typeof detail === 'string' ? { reason: detail } : detail;
    }
  }

  /** The `{code, message, detail}` the client API sends. */
  toJSON(): { code: MasterErrorCode; message: string; detail?: MasterFailureDetail } {
    return this.detail === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, detail: this.detail };
  }
}

const TEXT_KEYS = ['protocol', 'expected', 'got', 'meaning'] as const;
// biome-ignore lint/suspicious/noControlCharactersInRegex: replacing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/g;

/**
 * The detail as the point-read codec accepts it (`protocols/point-read/validate.ts`): texts cut to
 * {@link MAX_DETAIL_TEXT_LENGTH} characters with control characters made spaces, the reply cut to
 * {@link MAX_DETAIL_REPLY_BYTES} bytes, a status/error word not in its hex form left out. Whatever a meter sent,
 * the answer still goes out with its reason rather than failing to encode.
 */
export function wireDetail(detail: MasterFailureDetail): ReadErrorDetail {
  const out: ReadErrorDetail = { reason: failureReasonOf(detail.reason) };
  for (const key of TEXT_KEYS) {
    const value = detail[key];
    if (value !== undefined && value !== '') {
      out[key] = value.replace(CONTROL, ' ').slice(0, MAX_DETAIL_TEXT_LENGTH);
    }
  }
  if (detail.statusWord !== undefined && /^[0-9A-F]{4}$/.test(detail.statusWord)) {
    out.statusWord = detail.statusWord;
  }
  if (detail.errorWord !== undefined && /^[0-9A-F]{2}$/.test(detail.errorWord)) {
    out.errorWord = detail.errorWord;
  }
  if (detail.reply !== undefined && /^[0-9A-F]{2}( [0-9A-F]{2})*$/.test(detail.reply)) {
    out.reply = detail.reply.slice(0, MAX_DETAIL_REPLY_BYTES * 3 - 1);
  }
  return out;
}
