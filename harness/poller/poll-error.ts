import type { ReadFailureCode, ReadFailureDetail } from '../../protocols/meter-protocol.ts';

/**
 * Errors of a meter read. The `code` is stable and machine-readable; the message names the meter, what was
 * sent (hex) and what came back.
 *
 * | code            | meaning                                                                                   |
 * | --------------- | ----------------------------------------------------------------------------------------- |
 * | METER_TIMEOUT   | no reply to the request within the timeout, on every attempt                              |
 * | BAD_CHECKSUM    | a reply arrived but its checksum was wrong                                                |
 * | BAD_REPLY       | a reply arrived but was cut short, malformed, or answers another DI                        |
 * | ADDRESS_MISMATCH | a reply to the request came from another address (called WRONG_ADDRESS before issue 9)   |
 * | ABNORMAL_REPLY  | the meter refused: CJ/T 188 error reply (ST word), DL/T 645 abnormal reply (error word)    |
 * | UNSUPPORTED     | the protocol has no such operation (DL/T 645 valve control)                                 |
 * | BUSY            | `maxQueued` exchanges already wait for the bus: refused at once, nothing sent              |
 */
export type PollErrorCode = ReadFailureCode | 'UNSUPPORTED' | 'BUSY';

/** Details a {@link PollError} carries besides its message. */
export interface PollErrorDetails {
  /** The request bytes of the last attempt, hex. */
  sent?: string;
  /** Bytes received that explain the error (the bad or abnormal reply), hex. */
  received?: string;
  /** The ProtocolError code behind BAD_CHECKSUM / BAD_REPLY (BAD_CHECKSUM, TRUNCATED, BAD_END …). */
  protocolCode?: string;
  /** How many requests were sent. */
  attempts?: number;
  /** The decoded reply, for ADDRESS_MISMATCH and ABNORMAL_REPLY. */
  frame?: unknown;
  /** The structured detail every read failure carries (protocols/meter-protocol.ts). */
  detail?: ReadFailureDetail;
}

/** A meter read that failed. */
export class PollError extends Error {
  override readonly name = 'PollError';
  readonly sent?: string;
  readonly received?: string;
  readonly protocolCode?: string;
  readonly attempts: number;
  readonly frame?: unknown;
  readonly detail?: ReadFailureDetail;

  constructor(
    readonly code: PollErrorCode,
    message: string,
    details: PollErrorDetails = {},
  ) {
    super(message);
    this.sent = details.sent;
    this.received = details.received;
    this.protocolCode = details.protocolCode;
    this.attempts = details.attempts ?? 1;
    this.frame = details.frame;
    this.detail = details.detail;
  }

  /** True for failures a retry may cure (not an abnormal reply, which is the meter's answer). */
  get retryable(): boolean {
    return this.code !== 'ABNORMAL_REPLY' && this.code !== 'UNSUPPORTED' && this.code !== 'BUSY';
  }

  /** The shape `meterlab poll --json` prints. */
  toJSON(): {
    code: PollErrorCode;
    message: string;
    sent?: string;
    received?: string;
    attempts: number;
    detail?: ReadFailureDetail;
  } {
    return {
      code: this.code,
      message: this.message,
      ...(this.sent === undefined ? {} : { sent: this.sent }),
      ...(this.received === undefined ? {} : { received: this.received }),
      attempts: this.attempts,
      ...(this.detail === undefined ? {} : { detail: this.detail }),
    };
  }
}
