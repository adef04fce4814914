import type { Cjt188DiOrder } from '../../protocols/cjt188/index.ts';
import type { MeterKind, ReadFailureDetail, ReplyJudgement } from '../../protocols/meter-protocol.ts';
import {
  type MeterProtocol,
  type MeterStatus,
  READING_UNITS,
  type ReadingUnit,
} from '../../protocols/point-read/index.ts';
import { METER_PROTOCOLS, meterProtocol } from '../../protocols/registry.ts';
import { MasterError, type MasterErrorCode } from './master-error.ts';

/**
 * The meter side of a point-read, as pure functions over the meter-protocol registry (protocols/registry.ts):
 * the meter frame to forward (the descriptor's read request for the archived meter's address and kind), and the
 * reading judged from what the concentrator brought back (the descriptor's judgeReply). No I/O.
 */

/** Address width of each meter protocol, from the registry (CJ/T 188 14 digits, DL/T 645 12). */
export const ADDRESS_DIGITS: Readonly<Record<MeterProtocol, number>> = Object.fromEntries(
  METER_PROTOCOLS.map((p) => [p.name, p.addressDigits]),
) as Record<MeterProtocol, number>;

/** CJ/T 188 DI of current metering data (docs/cjt188.md §1.7). */
export const CJT188_READ_DI = meterProtocol('cjt188').readDi;
/** DL/T 645-2007 DI of forward active total energy (docs/dlt645.md §2.3). */
export const DLT645_READ_DI = meterProtocol('dlt645').readDi;

export interface MeterRequestOptions {
  /**
   * CJ/T 188 DI byte order on the wire (docs/cjt188.md §1.6: both are in the field). Low byte first (`1F 90`)
   * is what the SC meter, TMNL's water forwarding and the simulator's meters use by default.
   * @defaultValue 'low-first'
   */
  cjt188DiOrder?: Cjt188DiOrder;
  /**
   * The meter's kind (from the archive): decides the CJ/T 188 meter type T (docs/cjt188.md §1.3), which a
   * meter must see as its own to answer. @defaultValue the protocol's default kind (cold water for CJ/T 188)
   */
  kind?: MeterKind;
  /** CJ/T 188 SER (docs/cjt188.md §1.6); the meter echoes it. @defaultValue 0 */
  ser?: number;
}

/** The part of a reading that comes from the meter's own reply. */
export interface MeterValue {
  /** The address the meter answered from, padded (14 or 12 digits). */
  meter: string;
  value: number;
  unit: ReadingUnit;
  /** `YYYY-MM-DDTHH:mm:ss`, the meter's clock (CJ/T 188 901F), when it has one set. */
  meterTime?: string;
  status?: MeterStatus;
}

/**
 * The meter's address padded to its protocol's width: "101001" → "00000000101001" (CJ/T 188). Leading zeros
 * beyond the width are dropped. Throws BAD_REQUEST when it is not digits or has too many significant digits.
 */
export function meterAddressFor(protocol: MeterProtocol, meter: string): string {
  if (!/^\d{1,14}$/.test(meter)) {
    throw new MasterError('BAD_REQUEST', `meter address "${meter}" must be 1–14 decimal digits`);
  }
  try {
    return meterProtocol(protocol).normaliseAddress(meter);
  } catch (error) {
    throw new MasterError('BAD_REQUEST', (error as Error).message);
  }
}

/**
 * The read request for the meter at `address` (already padded), as bytes to forward. Throws BAD_REQUEST for a
 * kind the protocol does not cover.
 */
export function buildMeterRequest(
  protocol: MeterProtocol,
  address: string,
  options: MeterRequestOptions = {},
): Uint8Array {
  try {
    return meterProtocol(protocol).buildReadRequest({
      address,
      kind: options.kind,
      diOrder: options.cjt188DiOrder ?? 'low-first',
      ser: options.ser,
    });
  } catch (error) {
    if (error instanceof TypeError) throw new MasterError('BAD_REQUEST', error.message);
    throw error;
  }
}

/**
 * A point-read that failed at the meter: the {@link MasterError} the client API sends (code METER_TIMEOUT for
 * silence, BAD_REPLY for anything else; `detail` the finer cause as a string, as before) plus `failure`, the
 * structured {@link ReadFailureDetail} of protocols/meter-protocol.ts.
 * MASTER (issue 9, interfaces D): when MasterError's `detail` becomes the object, build it from `failure`.
 */
export class MeterReadError extends MasterError {
  constructor(
    code: MasterErrorCode,
    message: string,
    readonly failure: ReadFailureDetail,
    detail?: string,
  ) {
    // The wire detail carries the judged failure (address that answered, status/error word, reply bytes); the
    // finer cause (TRUNCATED, NO_REPLY …) stays its reason in-process and is folded to the five names on the
    // wire by `wireDetail`.
    super(code, message, { ...failure, reason: detail ?? failure.reason });
  }
}

/**
 * Judges the forward content the concentrator returned for a read of the meter at `address`, with the
 * registry's one rule (protocols/meter-protocol.ts `judgeReplyBytes`):
 *
 * - Empty content: the meter stayed silent → METER_TIMEOUT (docs/gdw376.md §3.4: the terminal answers with k
 * = 0).
 * - Junk around the frame, echoes of the request (some RS-485 adapters echo) and stale replies are skipped.
 * - Anything else unusable → BAD_REPLY, with `detail` the finer cause (ADDRESS_MISMATCH, ABNORMAL_REPLY,
 *   UNEXPECTED_REPLY, NO_REPLY, a ProtocolError code such as BAD_CHECKSUM or TRUNCATED; UNSUPPORTED_UNIT for a
 *   unit a reading cannot carry) and `failure` the structured detail ({@link MeterReadError}).
 * `what` names the read in messages ("meter 00000000101001 on 017102082"); `request` is the request that was
 * forwarded (rebuilt for the address when not given: SER 0, the DI of the current reading).
 */
export function decodeMeterReply(
  protocol: MeterProtocol,
  address: string,
  content: Uint8Array,
  what: string,
  request: Uint8Array = buildMeterRequest(protocol, address),
): MeterValue {
  const judged = meterProtocol(protocol).judgeReply(request, content) as ReplyJudgement;
  if (!judged.ok) {
    const code: MasterErrorCode = judged.failure.reason === 'METER_TIMEOUT' ? 'METER_TIMEOUT' : 'BAD_REPLY';
    const message =
      judged.cause === 'SILENCE'
        ? `${what} did not answer (the concentrator forwarded no reply)`
        : `${what}: ${judged.message}`;
    throw new MeterReadError(
      code,
      message,
      judged.failure,
      judged.cause === 'SILENCE' ? undefined : judged.cause,
    );
  }
  const r = judged.reading;
  if (typeof r.value !== 'number') {
    throw new MeterReadError(
      'BAD_REPLY',
      `${what} answered without a numeric reading for DI ${r.di}`,
      { reason: 'BAD_REPLY', protocol, expected: address, got: r.address },
      'UNEXPECTED_REPLY',
    );
  }
  if (!(READING_UNITS as readonly string[]).includes(r.unit)) {
    throw new MeterReadError(
      'BAD_REPLY',
      `${what} reported its reading in "${r.unit}", which a reading cannot carry`,
      { reason: 'BAD_REPLY', protocol, expected: address, got: r.address },
      'UNSUPPORTED_UNIT',
    );
  }
  const out: MeterValue = { meter: r.address, value: r.value, unit: r.unit as ReadingUnit };
  if (r.meterTime !== undefined) out.meterTime = r.meterTime.replace(' ', 'T');
  if (r.status !== undefined) out.status = r.status;
  return out;
}
