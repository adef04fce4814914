import { ProtocolError } from '../errors.ts';
import * as f from './fields.ts';
import {
  type AnyPointReadMessage,
  type CancelRequest,
  type LegacyAnswer,
  type LegacyClickToCopy,
  type LegacyEnvelopeAnswer,
  type LegacyFailure,
  type LegacyModelRequest,
  MAX_DETAIL_REPLY_BYTES,
  MAX_DETAIL_TEXT_LENGTH,
  MAX_ORIGIN_LENGTH,
  METER_PROTOCOLS,
  type MeterStatus,
  READING_UNITS,
  type ReadError,
  type ReadErrorDetail,
  type Reading,
  type ReadRequest,
  VALVE_STATES,
} from './types.ts';

const protocol = f.oneOf(METER_PROTOCOLS);
const unit = f.oneOf(READING_UNITS);
const valve = f.oneOf(VALVE_STATES);

const READ_KEYS = ['type', 'id', 'concentrator', 'meter', 'protocol', 'port', 'origin'] as const;
const CANCEL_KEYS = ['type', 'id'] as const;
const origin = f.boundedText(MAX_ORIGIN_LENGTH);
const READING_KEYS = [
  'type',
  'id',
  'concentrator',
  'meter',
  'value',
  'unit',
  'meterTime',
  'status',
  'protocol',
  'latencyMs',
  'readAt',
] as const;
const ERROR_KEYS = ['type', 'id', 'code', 'message', 'concentrator', 'meter', 'detail'] as const;
/** The keys of {@link ReadErrorDetail}, in their canonical order. */
const DETAIL_KEYS = [
  'reason',
  'protocol',
  'expected',
  'got',
  'statusWord',
  'errorWord',
  'meaning',
  'reply',
] as const;

/**
 * Checks a parsed JSON value and returns the message it is, rebuilt with its keys in the canonical order and
 * absent optional fields left out (so `JSON.stringify` of the result is the one encoding of it).
 *
 * v1 messages must not carry unknown fields: a misspelt optional field would otherwise vanish silently.
 * Legacy messages may: the old system's peers are not ours, so unknown `Content` fields are ignored (and
 * dropped from the result).
 * @throws ProtocolError BAD_MESSAGE naming the JSON path and the problem.
 */
export function validatePointReadMessage(value: unknown): AnyPointReadMessage {
  if (!f.isObject(value)) {
    throw new ProtocolError(
      'BAD_MESSAGE',
      `a point-read message must be a JSON object, got ${f.show(value)}`,
    );
  }
  if (Object.hasOwn(value, 'ModuleName') && !Object.hasOwn(value, 'type')) return validateLegacy(value);
  // The flat ClickToCopyModel; the original clientserver told it apart the same way (it looked for
  // "ConcentratorNo"), README "Legacy point-read shapes".
  if (Object.hasOwn(value, 'ConcentratorNo') && !Object.hasOwn(value, 'type')) {
    return validateLegacyModel(value);
  }
  const type = f.string(value, 'type', '');
  switch (type) {
    case 'read':
      return validateRead(value);
    case 'cancel':
      return validateCancel(value);
    case 'reading':
      return validateReading(value);
    case 'error':
      return validateError(value);
    default:
      throw new ProtocolError(
        'BAD_MESSAGE',
        `unknown "type": ${f.show(type)} (expected "read", "cancel", "reading" or "error")`,
      );
  }
}

/** Sets an optional field only when it has a value, so absent optional fields stay absent. */
function setDefined<T extends object, K extends keyof T>(obj: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) obj[key] = value;
}

// The validators check the fields in the canonical order and add them in that order, so the first problem
// reported is the first in that order and the result's keys come out canonical.

function validateRead(o: f.JsonObject): ReadRequest {
  f.rejectUnknownKeys(o, '', READ_KEYS, 'a "read" message');
  const msg: ReadRequest = {
    type: 'read',
    id: f.requestId(o, 'id', ''),
    concentrator: f.concentrator(o, 'concentrator', ''),
    meter: f.meter(o, 'meter', ''),
  };
  setDefined(msg, 'protocol', f.optional(o, 'protocol', '', protocol));
  setDefined(msg, 'port', f.optional(o, 'port', '', f.port));
  setDefined(msg, 'origin', f.optional(o, 'origin', '', origin));
  return msg;
}

function validateCancel(o: f.JsonObject): CancelRequest {
  f.rejectUnknownKeys(o, '', CANCEL_KEYS, 'a "cancel" message');
  return { type: 'cancel', id: f.requestId(o, 'id', '') };
}

function validateStatus(o: f.JsonObject, key: string, base: string): MeterStatus {
  const status = f.object(o, key, base);
  f.rejectUnknownKeys(status, key, ['valve', 'batteryLow'], '"status"');
  return { valve: valve(status, 'valve', key), batteryLow: f.boolean(status, 'batteryLow', key) };
}

function validateReading(o: f.JsonObject): Reading {
  f.rejectUnknownKeys(o, '', READING_KEYS, 'a "reading" message');
  const msg: Reading = {
    type: 'reading',
    id: f.requestId(o, 'id', ''),
    concentrator: f.concentrator(o, 'concentrator', ''),
    meter: f.meter(o, 'meter', ''),
    value: f.finiteNumber(o, 'value', ''),
    unit: unit(o, 'unit', ''),
  };
  setDefined(msg, 'meterTime', f.optional(o, 'meterTime', '', f.meterTime));
  setDefined(msg, 'status', f.optional(o, 'status', '', validateStatus));
  setDefined(msg, 'protocol', f.optional(o, 'protocol', '', protocol));
  setDefined(msg, 'latencyMs', f.optional(o, 'latencyMs', '', f.nonNegative));
  setDefined(msg, 'readAt', f.optional(o, 'readAt', '', f.isoInstant));
  return msg;
}

function validateError(o: f.JsonObject): ReadError {
  f.rejectUnknownKeys(o, '', ERROR_KEYS, 'an "error" message');
  const id = f.optional(o, 'id', '', f.requestId);
  const msg: ReadError =
    id === undefined
      ? { type: 'error', code: f.errorCode(o, 'code', ''), message: f.string(o, 'message', '') }
      : { type: 'error', id, code: f.errorCode(o, 'code', ''), message: f.string(o, 'message', '') };
  setDefined(msg, 'concentrator', f.optional(o, 'concentrator', '', f.concentrator));
  setDefined(msg, 'meter', f.optional(o, 'meter', '', f.meter));
  setDefined(msg, 'detail', f.optional(o, 'detail', '', validateDetail));
  return msg;
}

const text = f.boundedText(MAX_DETAIL_TEXT_LENGTH);

/**
 * The `detail` of an `error`: known keys only (a misspelt one is refused like any v1 field), every value a
 * string of bounded length, the words and reply bytes in their hex forms.
 */
function validateDetail(o: f.JsonObject, key: string, base: string): ReadErrorDetail {
  const detail = f.object(o, key, base);
  const path = f.join(base, key);
  f.rejectUnknownKeys(detail, path, DETAIL_KEYS, '"detail"');
  const out: ReadErrorDetail = { reason: f.errorCode(detail, 'reason', path) };
  setDefined(out, 'protocol', f.optional(detail, 'protocol', path, text));
  setDefined(out, 'expected', f.optional(detail, 'expected', path, text));
  setDefined(out, 'got', f.optional(detail, 'got', path, text));
  setDefined(out, 'statusWord', f.optional(detail, 'statusWord', path, f.hexWord(4)));
  setDefined(out, 'errorWord', f.optional(detail, 'errorWord', path, f.hexWord(2)));
  setDefined(out, 'meaning', f.optional(detail, 'meaning', path, text));
  setDefined(out, 'reply', f.optional(detail, 'reply', path, f.spacedHex(MAX_DETAIL_REPLY_BYTES)));
  return out;
}

function validateLegacy(o: f.JsonObject): LegacyClickToCopy | LegacyEnvelopeAnswer {
  const moduleName = f.string(o, 'ModuleName', '');
  if (moduleName !== 'ClickToCopy') {
    throw new ProtocolError(
      'BAD_MESSAGE',
      `unknown "ModuleName": ${f.show(moduleName)} (expected "ClickToCopy")`,
    );
  }
  const c = f.object(o, 'Content', '');
  const ConcentratorNo = f.concentrator(c, 'ConcentratorNo', 'Content');
  const WaterMtrAddress = f.meter(c, 'WaterMtrAddress', 'Content');
  const AccumVal = f.optional(c, 'AccumVal', 'Content', f.finiteNumber);
  const error = f.optional(c, 'Error', 'Content', f.string);
  if (AccumVal !== undefined && error !== undefined) {
    f.fail('Content', 'has both "AccumVal" and "Error"; an answer is one or the other');
  }
  const ErrorCode = f.optional(c, 'ErrorCode', 'Content', f.errorCode);
  if (ErrorCode !== undefined && error === undefined) f.fail('Content', 'has "ErrorCode" without "Error"');
  if (AccumVal !== undefined) {
    return { ModuleName: 'ClickToCopy', Content: { ConcentratorNo, WaterMtrAddress, AccumVal } };
  }
  if (error !== undefined) {
    const Content: { ConcentratorNo: string; WaterMtrAddress: string; Error: string; ErrorCode?: string } = {
      ConcentratorNo,
      WaterMtrAddress,
      Error: error,
    };
    setDefined(Content, 'ErrorCode', ErrorCode);
    return { ModuleName: 'ClickToCopy', Content };
  }
  return { ModuleName: 'ClickToCopy', Content: { ConcentratorNo, WaterMtrAddress } };
}

/**
 * The flat ClickToCopyModel (README "Legacy point-read shapes"). Unknown fields are ignored, as in the envelope.
 * It is an answer when `IsDownCommand` is true, when it carries `ErrorCode`/`ErrorMsg`, or when `AccumVal` is a
 * number other than 0 (a clientserver of the original kind filled `AccumVal` in and echoed `IsDownCommand` as it
 * came); otherwise it is a request (`AccumVal` 0 or absent, `IsDownCommand` false or absent).
 */
function validateLegacyModel(o: f.JsonObject): LegacyModelRequest | LegacyAnswer {
  const ConcentratorNo = f.concentrator(o, 'ConcentratorNo', '');
  const WaterMtrAddress = f.meter(o, 'WaterMtrAddress', '');
  const AccumVal = o.AccumVal === null ? null : f.optional(o, 'AccumVal', '', f.finiteNumber);
  const IsDownCommand = f.optional(o, 'IsDownCommand', '', f.boolean);
  const ErrorCode = f.optional(o, 'ErrorCode', '', f.errorCode);
  const ErrorMsg = f.optional(o, 'ErrorMsg', '', f.string);
  const failed = ErrorCode !== undefined || ErrorMsg !== undefined;
  const answered = IsDownCommand === true || failed || (typeof AccumVal === 'number' && AccumVal !== 0);
  if (!answered) return { ConcentratorNo, WaterMtrAddress, IsDownCommand: false };
  if (typeof AccumVal === 'number') {
    if (failed) {
      throw new ProtocolError(
        'BAD_MESSAGE',
        'a legacy answer has both a number "AccumVal" and "ErrorCode"/"ErrorMsg"; it is one or the other',
      );
    }
    return { ConcentratorNo, WaterMtrAddress, AccumVal, IsDownCommand: true };
  }
  const failure: LegacyFailure = { ConcentratorNo, WaterMtrAddress, AccumVal: null, IsDownCommand: true };
  setDefined(failure, 'ErrorCode', ErrorCode);
  setDefined(failure, 'ErrorMsg', ErrorMsg);
  return failure;
}
