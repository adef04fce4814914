/**
 * The point-read (点抄) messages: a browser or script asks for one meter's reading now, through the relay, and
 * the master station answers. Two dialects share this module:
 *
 * - **v1**, keyed on `type`: `read` and `cancel` (requests), `reading` and `error` (answers), correlated by `id`. The
 *   relay forwards these to the master station as newline-delimited JSON over TCP.
 * - **legacy**, the forms of the C#/Fleck system this product replaces: the browser's request
 *   `{"ModuleName":"ClickToCopy","Content":{ConcentratorNo, WaterMtrAddress}}`, and the flat `ClickToCopyModel`
 *   `{ConcentratorNo, WaterMtrAddress, AccumVal, IsDownCommand}` that went to the clientserver and came back as
 *   the answer. It has no request id; the relay converts it to and from v1 (see `legacy.ts`).
 */

import { type MeterProtocolName, meterProtocolNames } from '../registry.ts';

/** Meter protocols a read can name. The master picks one from its archive when the request names none. */
export const METER_PROTOCOLS: readonly MeterProtocolName[] = meterProtocolNames;
export type MeterProtocol = (typeof METER_PROTOCOLS)[number];

/**
 * Units a reading can carry: volume (`m3`, `L`) for water meters, energy for heat meters (CJ/T 188 type 2xH)
 * and DL/T 645 meters.
 */
export const READING_UNITS = ['m3', 'L', 'kWh', 'MWh', 'GJ'] as const;
export type ReadingUnit = (typeof READING_UNITS)[number];

/** Valve state as the meter reports it (CJ/T 188 ST bits D1–D0: 00 open, 01 closed, 11 abnormal). */
export const VALVE_STATES = ['open', 'closed', 'abnormal'] as const;
export type ValveState = (typeof VALVE_STATES)[number];

/**
 * Error codes the rest of meterlab sends in an `error` answer. Decoding also accepts any other UPPER_SNAKE
 * code (see {@link ReadErrorCode}), so an older peer does not reject a newer one's errors.
 *
 * | code                 | meaning                                                            |
 * | -------------------- | ------------------------------------------------------------------ |
 * | CONCENTRATOR_OFFLINE | the concentrator is known but has no session with the master       |
 * | METER_TIMEOUT        | the concentrator answered but the meter did not                    |
 * | BAD_REPLY            | a reply came back but could not be decoded or did not match        |
 * | UNKNOWN_METER        | the meter is not in the concentrator's archive                     |
 * | UNKNOWN_CONCENTRATOR | no concentrator with that address or alias                         |
 * | BUSY                 | the concentrator or bus is serving another read                    |
 * | MASTER_UNAVAILABLE   | the relay cannot reach the master station                          |
 * | TIMEOUT              | the whole read took longer than the caller's or relay's limit      |
 * | BAD_REQUEST          | the request is valid JSON but not a valid `read` message           |
 * | BAD_JSON             | the request is not JSON                                            |
 * | UNAUTHORIZED         | missing or wrong auth token                                        |
 * | QUEUE_FULL           | too many pending reads; try again later                            |
 * | CANCELLED            | the client sent `cancel` for the read while it still waited; never sent to the field |
 */
export const READ_ERROR_CODES = [
  'CONCENTRATOR_OFFLINE',
  'METER_TIMEOUT',
  'BAD_REPLY',
  'UNKNOWN_METER',
  'UNKNOWN_CONCENTRATOR',
  'BUSY',
  'MASTER_UNAVAILABLE',
  'TIMEOUT',
  'BAD_REQUEST',
  'BAD_JSON',
  'UNAUTHORIZED',
  'QUEUE_FULL',
  'CANCELLED',
] as const;
export type KnownReadErrorCode = (typeof READ_ERROR_CODES)[number];
/**
 * A known code, or any other UPPER_SNAKE string (`/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/`, at most 64 characters).
 * The `string & {}` keeps editor completion for the known codes.
 */
export type ReadErrorCode = KnownReadErrorCode | (string & {});

/**
 * The precise reasons a field read fails, one name per failure across the master station, the relay, the
 * client library and the poller (issue 9; the registry's judge of a meter reply, `protocols/meter-protocol.ts`
 * `ReadFailureCode`, gives the same names). They travel in `detail.reason` of an `error` answer; the top-level
 * `code` stays METER_TIMEOUT (silence) or BAD_REPLY (anything else) so older peers keep working.
 *
 * | reason           | meaning                                                                        |
 * | ---------------- | ------------------------------------------------------------------------------ |
 * | METER_TIMEOUT    | the meter stayed silent                                                        |
 * | ADDRESS_MISMATCH | a meter answered, but from another address than the one asked                  |
 * | ABNORMAL_REPLY   | the meter answered with its abnormal-reply form (with its status/error word)   |
 * | BAD_CHECKSUM     | a frame came back whose checksum does not add up                               |
 * | BAD_REPLY        | anything else unusable: truncated, garbled, only an echo, another kind of reply |
 */
export const READ_FAILURE_REASONS = [
  'METER_TIMEOUT',
  'ADDRESS_MISMATCH',
  'ABNORMAL_REPLY',
  'BAD_CHECKSUM',
  'BAD_REPLY',
] as const;
export type ReadFailureReason = (typeof READ_FAILURE_REASONS)[number];

/**
 * Most bytes of a meter reply a `detail.reply` carries: 512 bytes, written as spaced hex (`"68 10 01 …"`,
 * at most 1535 characters). A CJ/T 188 or DL/T 645 frame is far shorter (length byte ≤ 255 plus header).
 */
export const MAX_DETAIL_REPLY_BYTES = 512;
/** Most characters of any other `detail` field (a text such as `meaning`, an address, a protocol name). */
export const MAX_DETAIL_TEXT_LENGTH = 256;

/**
 * Why a read failed, in more detail than the `code` (an `error` answer's optional `detail`). Every field is a
 * string; only the ones that apply are present.
 *
 * - `reason`: one of {@link READ_FAILURE_REASONS}; decoding also accepts any other UPPER_SNAKE reason of at most
 *   64 characters, so an older peer does not reject a newer one's.
 * - `protocol`: the meter protocol's registry name (`"cjt188"`, `"dlt645"`).
 * - `expected` / `got`: e.g. the address asked for and the address that answered (ADDRESS_MISMATCH).
 * - `statusWord`: CJ/T 188 status word ST as 4 hex digits, when the meter sent one.
 * - `errorWord`: DL/T 645 error byte ERR as 2 hex digits, when the meter sent one.
 * - `meaning`: the words for the status/error word ("valve abnormal", "no data requested").
 * - `reply`: the meter's reply bytes as spaced upper-case hex, when there were some, at most
 *   {@link MAX_DETAIL_REPLY_BYTES} bytes.
 *
 * Text fields are 1–{@link MAX_DETAIL_TEXT_LENGTH} characters without control characters.
 */
export interface ReadErrorDetail {
  reason: ReadFailureReason | (string & {});
  protocol?: string;
  expected?: string;
  got?: string;
  statusWord?: string;
  errorWord?: string;
  meaning?: string;
  reply?: string;
}

/** Meter state bits that come with a reading. */
export interface MeterStatus {
  valve: ValveState;
  batteryLow: boolean;
}

/**
 * v1 request: read one meter now.
 *
 * - `id`: 1–128 characters, no control characters; the answer carries the same id.
 * - `concentrator`: A1 (4 digits) + A2 (5 decimal digits, 00001–65535), e.g. `"017102082"`, or an alias of
 *   1–32 characters `[0-9A-Za-z_.-]` such as `"101"` (see `concentrator-id.ts`).
 * - `meter`: 1–14 decimal digits, kept as given; the master left-pads it (14 digits for CJ/T 188, 12 for
 *   DL/T 645).
 * - `protocol`: optional; the master's archive decides when absent.
 * - `port`: optional concentrator port (Q/GDW 1376.1 AFN 10H F1 "终端通信端口号", 1–31).
 * - `origin`: optional, who the read is for behind the connection that sends it, 1–{@link MAX_ORIGIN_LENGTH}
 *   characters without control characters. A relay brings every browser's reads over one connection and sets it
 *   to its own id of the browser; the master station then queues reads fairly per (connection, origin) rather
 *   than per connection (issue 13 item 5). It is not echoed in the answer.
 */
export interface ReadRequest {
  type: 'read';
  id: string;
  concentrator: string;
  meter: string;
  protocol?: MeterProtocol;
  port?: number;
  origin?: string;
}

/** Longest `origin` of a `read`, in characters (a relay's client id such as `"ws-12345"` is far shorter). */
export const MAX_ORIGIN_LENGTH = 64;

/**
 * v1 request: withdraw the read with this `id` sent earlier on the same connection (issue 13 item 5). If the read
 * still waits for its turn at the master (not yet sent to the concentrator), it is dropped and answered, as its one
 * answer, `error` CANCELLED. A read already sent to the field, already answered, or unknown is not affected, and the
 * cancel itself is never answered: every read keeps exactly one answer whatever cancels cross it. The relay sends it
 * when the last browser interested in a read has left; the legacy master protocol has no such message.
 */
export interface CancelRequest {
  type: 'cancel';
  id: string;
}

/**
 * v1 answer: the meter's reading.
 *
 * - `value`: accumulated volume (or energy) in `unit`; any finite number.
 * - `meterTime`: the meter's own clock, local time without zone, `YYYY-MM-DDTHH:mm:ss`.
 * - `latencyMs`: how long the field read took, ≥ 0.
 * - `readAt`: when the master got the reply, ISO 8601 with `Z` or an offset (`Date#toISOString()` form).
 */
export interface Reading {
  type: 'reading';
  id: string;
  concentrator: string;
  meter: string;
  value: number;
  unit: ReadingUnit;
  meterTime?: string;
  status?: MeterStatus;
  protocol?: MeterProtocol;
  latencyMs?: number;
  readAt?: string;
}

/**
 * v1 answer: the read failed. `id` is absent only when the request could not be read far enough to find one
 * (BAD_JSON, or a request whose `id` is missing). `concentrator` and `meter` may echo the request. `detail`
 * says precisely why a field read failed (see {@link ReadErrorDetail}); a peer that does not know it may ignore
 * it, and the legacy form has no room for it.
 */
export interface ReadError {
  type: 'error';
  id?: string;
  code: ReadErrorCode;
  message: string;
  concentrator?: string;
  meter?: string;
  detail?: ReadErrorDetail;
}

/** Every v1 message, discriminated on `type`. */
export type PointReadMessage = ReadRequest | CancelRequest | Reading | ReadError;

/** The legacy request, exactly as the old browser page sent it. */
export interface LegacyClickToCopy {
  ModuleName: 'ClickToCopy';
  Content: { ConcentratorNo: string; WaterMtrAddress: string };
}

/**
 * The original system's `ClickToCopyModel`, serialised flat (Json.NET, fields in declaration order): what its
 * webserver wrote to the clientserver, what the clientserver filled in and wrote back, and what the webserver
 * then sent on to the browser unchanged (README "Legacy point-read shapes"). Flat means the fields are at the top level,
 * with no `ModuleName`/`Content` envelope.
 */
interface LegacyModelBase {
  ConcentratorNo: string;
  WaterMtrAddress: string;
}

/**
 * Flat request, as the original webserver sent it to the clientserver: `IsDownCommand` false (not yet
 * answered). `AccumVal` (0 or absent on the wire) is not kept.
 */
export interface LegacyModelRequest extends LegacyModelBase {
  IsDownCommand: false;
}

/** Flat success answer: `{"ConcentratorNo","WaterMtrAddress","AccumVal":123.45,"IsDownCommand":true}`; m³. */
export interface LegacyReading extends LegacyModelBase {
  AccumVal: number;
  IsDownCommand: true;
}

/**
 * Flat failure answer: `AccumVal` null and, from meterlab, `ErrorCode` (a v1 code) and `ErrorMsg` (a human
 * text). The original clientserver had no failure form; a peer of its kind may leave both out.
 */
export interface LegacyFailure extends LegacyModelBase {
  AccumVal: null;
  IsDownCommand: true;
  ErrorCode?: string;
  ErrorMsg?: string;
}

/** A legacy answer, flat: a reading (`AccumVal` a number) or a failure (`AccumVal` null). */
export type LegacyAnswer = LegacyReading | LegacyFailure;

/**
 * The answer shape meterlab's relay and master sent before issue 14 (the request's envelope with `AccumVal`, or
 * `Error` and `ErrorCode`, inside `Content`). No original peer sent or read it; it is still parsed, so recordings
 * made with those versions read back, but nothing writes it any more.
 */
export type LegacyEnvelopeAnswer =
  | { ModuleName: 'ClickToCopy'; Content: LegacyModelBase & { AccumVal: number } }
  | { ModuleName: 'ClickToCopy'; Content: LegacyModelBase & { Error: string; ErrorCode?: string } };

/** Every legacy message. */
export type LegacyMessage = LegacyClickToCopy | LegacyModelRequest | LegacyAnswer | LegacyEnvelopeAnswer;

/** Anything {@link parsePointReadMessage} accepts. */
export type AnyPointReadMessage = PointReadMessage | LegacyMessage;

/** True for the legacy dialect (v1 messages have `type`, legacy ones never do). */
export function isLegacyMessage(msg: AnyPointReadMessage): msg is LegacyMessage {
  return !('type' in msg);
}

/** True for the legacy ClickToCopy request (the browser's form, with its envelope and no answer fields). */
export function isLegacyClickToCopy(msg: AnyPointReadMessage): msg is LegacyClickToCopy {
  return 'ModuleName' in msg && !('AccumVal' in msg.Content) && !('Error' in msg.Content);
}

/** True for a legacy request: the browser's ClickToCopy envelope or the flat model with `IsDownCommand` false. */
export function isLegacyRequest(msg: AnyPointReadMessage): msg is LegacyClickToCopy | LegacyModelRequest {
  return isLegacyClickToCopy(msg) || ('IsDownCommand' in msg && !msg.IsDownCommand);
}

/** True for a flat legacy answer (`IsDownCommand` true). */
export function isLegacyAnswer(msg: AnyPointReadMessage): msg is LegacyAnswer {
  return 'IsDownCommand' in msg && msg.IsDownCommand;
}
