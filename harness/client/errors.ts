/**
 * The one error type a {@link PointReadClient} read rejects with. `code` is stable and machine-readable.
 *
 * Codes that come from the relay or the master station (`source: 'remote'`) are the point-read error codes
 * (`protocols/point-read/types.ts`): METER_TIMEOUT, CONCENTRATOR_OFFLINE, BAD_REPLY, UNKNOWN_METER,
 * UNKNOWN_CONCENTRATOR, BUSY, MASTER_UNAVAILABLE, TIMEOUT (the relay's limit), QUEUE_FULL, BAD_REQUEST, …
 *
 * Codes the client makes itself (`source: 'local'`):
 *
 * | code           | meaning                                                                    |
 * | -------------- | -------------------------------------------------------------------------- |
 * | TIMEOUT        | no answer within the read's `timeoutMs`                                    |
 * | DISCONNECTED   | not connected to the relay (reconnecting), or the connection dropped while |
 * |                | the read was in flight (it may or may not have been done)                  |
 * | CLOSED         | `close()` was called                                                       |
 * | CANCELLED      | the read's `signal` aborted (the relay was told with a `cancel`)           |
 * | QUEUE_FULL     | `maxInFlight` reads already waiting in this client                         |
 * | BAD_REQUEST    | the arguments do not make a valid read (bad meter address …)               |
 * | CONNECT_FAILED | `connect()` could not open the WebSocket                                   |
 * | UNAUTHORIZED   | the relay refused the connection (HTTP 401 or 403)                         |
 *
 * A remote METER_TIMEOUT or BAD_REPLY carries `detail` (`protocols/point-read/types.ts`, `ReadErrorDetail`):
 * `detail.reason` is the precise failure, one of METER_TIMEOUT, ADDRESS_MISMATCH, ABNORMAL_REPLY, BAD_CHECKSUM,
 * BAD_REPLY, with the addresses, the meter's status/error word and its reply bytes where there are some.
 */
import type { ReadErrorCode, ReadErrorDetail } from '../../protocols/point-read/index.ts';

/** A point-read error code, or one of the client's own. */
export type PointReadErrorCode = ReadErrorCode | 'DISCONNECTED' | 'CLOSED' | 'CONNECT_FAILED';

export class PointReadError extends Error {
  override readonly name = 'PointReadError';
  readonly code: PointReadErrorCode;
  /** `remote`: the relay or master answered with this error; `local`: the client decided. */
  readonly source: 'remote' | 'local';
  /** The read this error answers, when it answers one. */
  readonly concentrator?: string;
  readonly meter?: string;
  /** Why precisely the field read failed, when the master said (remote METER_TIMEOUT and BAD_REPLY). */
  readonly detail?: ReadErrorDetail;

  constructor(
    code: PointReadErrorCode,
    message: string,
    details: {
      source?: 'remote' | 'local';
      concentrator?: string;
      meter?: string;
      detail?: ReadErrorDetail;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.source = details.source ?? 'local';
    if (details.concentrator !== undefined) this.concentrator = details.concentrator;
    if (details.meter !== undefined) this.meter = details.meter;
    if (details.detail !== undefined) this.detail = details.detail;
  }
}
