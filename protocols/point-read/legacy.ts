import { randomUUID } from 'node:crypto';
import type {
  LegacyAnswer,
  LegacyClickToCopy,
  LegacyFailure,
  LegacyModelRequest,
  ReadError,
  ReadErrorCode,
  Reading,
  ReadRequest,
} from './types.ts';

/**
 * Converters between the legacy forms and v1 (README "Legacy point-read shapes"). The legacy forms have no
 * request id and no unit: `AccumVal` is the accumulated volume in m³, as the old page displayed it.
 *
 * The original system (a Fleck "webserver" in front of a TCP "clientserver") answered the browser with the flat
 * `ClickToCopyModel` the clientserver had filled in — the request's two fields, `AccumVal` and
 * `IsDownCommand: true`, at the top level — not with the envelope the browser's request came in; an old page reads
 * `AccumVal` from the top level. So every legacy answer meterlab writes is flat, to the browser and to a
 * webserver of the original kind alike.
 */

/**
 * Legacy request → v1 `read`. The legacy form has no id, so one is made up (`legacy-<uuid>`) unless given.
 * Fields are copied as written (no padding): the master pads meter addresses. Takes the browser's envelope or
 * the flat request the original webserver sent to its clientserver.
 */
export function fromLegacyRequest(
  legacy: LegacyClickToCopy | LegacyModelRequest,
  id: string = `legacy-${randomUUID()}`,
): ReadRequest {
  const fields = 'Content' in legacy ? legacy.Content : legacy;
  return {
    type: 'read',
    id,
    concentrator: fields.ConcentratorNo,
    meter: fields.WaterMtrAddress,
  };
}

/** v1 `read` → legacy request, to drive an old webserver. `id`, `protocol` and `port` have no legacy field. */
export function toLegacyRequest(read: ReadRequest): LegacyClickToCopy {
  return {
    ModuleName: 'ClickToCopy',
    Content: { ConcentratorNo: read.concentrator, WaterMtrAddress: read.meter },
  };
}

/**
 * v1 `read` → the flat request the original webserver wrote to its clientserver
 * (`{"ConcentratorNo","WaterMtrAddress","IsDownCommand":false}`), to drive a clientserver of that kind.
 */
export function toLegacyModelRequest(read: ReadRequest): LegacyModelRequest {
  return { ConcentratorNo: read.concentrator, WaterMtrAddress: read.meter, IsDownCommand: false };
}

/**
 * v1 answer → the flat legacy answer for the request it answers. The request's fields are echoed exactly as the
 * legacy client sent them (the original webserver matched answers to requests on `WaterMtrAddress`). A reading
 * in litres is converted to m³; other units are passed through as they are, since the legacy form has no way to
 * say what they are. An error becomes `AccumVal: null` with `ErrorCode` (its v1 code) and `ErrorMsg` (its
 * text); the failure `detail` has no room in this form.
 */
export function toLegacyAnswer(
  answer: Reading | ReadError,
  request: LegacyClickToCopy | LegacyModelRequest,
): LegacyAnswer {
  const { ConcentratorNo, WaterMtrAddress } = 'Content' in request ? request.Content : request;
  if (answer.type === 'reading') {
    const value = answer.unit === 'L' ? answer.value / 1000 : answer.value;
    const AccumVal = value === 0 ? 0 : value; // a tiny negative number of litres underflows to -0 m³
    return { ConcentratorNo, WaterMtrAddress, AccumVal, IsDownCommand: true };
  }
  return {
    ConcentratorNo,
    WaterMtrAddress,
    AccumVal: null,
    IsDownCommand: true,
    ErrorCode: answer.code,
    ErrorMsg: answer.message,
  };
}

/**
 * Flat legacy answer → v1 answer with the given id (the caller's correlation). `AccumVal` becomes a reading in
 * m³. A failure without `ErrorCode` (a clientserver of the original kind has no failure form) becomes
 * `BAD_REPLY`.
 */
export function fromLegacyAnswer(answer: LegacyAnswer, id: string): Reading | ReadError {
  if (answer.AccumVal !== null) {
    return {
      type: 'reading',
      id,
      concentrator: answer.ConcentratorNo,
      meter: answer.WaterMtrAddress,
      value: answer.AccumVal,
      unit: 'm3',
    };
  }
  const failure: LegacyFailure = answer;
  const code: ReadErrorCode = failure.ErrorCode ?? 'BAD_REPLY';
  return {
    type: 'error',
    id,
    code,
    message: failure.ErrorMsg ?? 'the legacy answer has no AccumVal',
    concentrator: failure.ConcentratorNo,
    meter: failure.WaterMtrAddress,
  };
}
