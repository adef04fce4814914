import { randomUUID } from 'node:crypto';
import type {
  LegacyAnswer,
  LegacyClickToCopy,
  ReadError,
  ReadErrorCode,
  Reading,
  ReadRequest,
} from './types.ts';

/**
 * Converters between the legacy `ClickToCopy` form and v1. The legacy form has no request id and no unit:
 * `AccumVal` is the accumulated volume in m³, as the old page displayed it.
 */

/**
 * Legacy request → v1 `read`. The legacy form has no id, so one is made up (`legacy-<uuid>`) unless given.
 * Fields are copied as written (no padding): the master pads meter addresses.
 */
export function fromLegacyRequest(
  legacy: LegacyClickToCopy,
  id: string = `legacy-${randomUUID()}`,
): ReadRequest {
  return {
    type: 'read',
    id,
    concentrator: legacy.Content.ConcentratorNo,
    meter: legacy.Content.WaterMtrAddress,
  };
}

/** v1 `read` → legacy request, to drive an old clientserver. `id`, `protocol` and `port` have no legacy field. */
export function toLegacyRequest(read: ReadRequest): LegacyClickToCopy {
  return {
    ModuleName: 'ClickToCopy',
    Content: { ConcentratorNo: read.concentrator, WaterMtrAddress: read.meter },
  };
}

/**
 * v1 answer → legacy answer for the request it answers. The request's fields are echoed exactly as the legacy
 * client sent them (it matches answers on them). A reading in litres is converted to m³; other units are
 * passed through as they are, since the legacy form has no way to say what they are. An error becomes
 * `Error` (its text) and `ErrorCode` (its code).
 */
export function toLegacyAnswer(answer: Reading | ReadError, request: LegacyClickToCopy): LegacyAnswer {
  const { ConcentratorNo, WaterMtrAddress } = request.Content;
  if (answer.type === 'reading') {
    const value = answer.unit === 'L' ? answer.value / 1000 : answer.value;
    const AccumVal = value === 0 ? 0 : value; // a tiny negative number of litres underflows to -0 m³
    return { ModuleName: 'ClickToCopy', Content: { ConcentratorNo, WaterMtrAddress, AccumVal } };
  }
  return {
    ModuleName: 'ClickToCopy',
    Content: { ConcentratorNo, WaterMtrAddress, Error: answer.message, ErrorCode: answer.code },
  };
}

/**
 * Legacy answer → v1 answer with the given id (the caller's correlation). `AccumVal` becomes a reading in m³.
 * A failure without `ErrorCode` (an old clientserver never sends one) becomes `BAD_REPLY`.
 */
export function fromLegacyAnswer(answer: LegacyAnswer, id: string): Reading | ReadError {
  const c = answer.Content;
  if ('AccumVal' in c) {
    return {
      type: 'reading',
      id,
      concentrator: c.ConcentratorNo,
      meter: c.WaterMtrAddress,
      value: c.AccumVal,
      unit: 'm3',
    };
  }
  const code: ReadErrorCode = c.ErrorCode ?? 'BAD_REPLY';
  return {
    type: 'error',
    id,
    code,
    message: c.Error,
    concentrator: c.ConcentratorNo,
    meter: c.WaterMtrAddress,
  };
}
