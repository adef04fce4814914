/**
 * The original clientserver's message on its TCP link (issue 14 item 3): the flat `ClickToCopyModel`, one JSON
 * object per message, objects back to back (split by `legacy-stream.ts`), GB2312.
 *
 * - request (webserver → clientserver): `{"ConcentratorNo":"101","WaterMtrAddress":"101001","IsDownCommand":false}`
 * - answer (the same object filled in): `{"ConcentratorNo":"101","WaterMtrAddress":"101001","AccumVal":123.45,"IsDownCommand":true}`
 * - failure, as meterlab's master answers it: `"AccumVal":null` plus `"ErrorCode":"METER_TIMEOUT","ErrorMsg":"…"`.
 *
 * `AccumVal` is the accumulated volume in m³. The model has no request id and no meter protocol or port: a
 * reader pairs answers with requests by concentrator and meter (see harness/relay/master-link.ts).
 */
import { ProtocolError } from '../errors.ts';
import { encodeText, type TextEncodingName } from './text-encoding.ts';
import type { ReadError, Reading } from './types.ts';

/** The flat request for one meter. */
export function encodeLegacyFlatRequest(
  read: { concentrator: string; meter: string },
  encoding: TextEncodingName,
): Uint8Array {
  const text = JSON.stringify({
    ConcentratorNo: read.concentrator,
    WaterMtrAddress: read.meter,
    IsDownCommand: false,
  });
  return encodeText(text, encoding);
}

/** A decoded flat answer: which meter it is for, and the v1 answer it means (its `id` left to the caller). */
export interface LegacyFlatAnswer {
  concentrator: string;
  meter: string;
  answer: Omit<Reading, 'id'> | Omit<ReadError, 'id'>;
}

const UPPER_SNAKE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** A C# model may serialize the numbers as strings or numbers; both become the digits as a string. */
function idText(value: unknown, key: string): string {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value === 'string' && value.length >= 1 && value.length <= 32) return value;
  throw new ProtocolError(
    'BAD_MESSAGE',
    `"${key}" must be the concentrator or meter number, got ${show(value)}`,
  );
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/**
 * Reads one flat answer object (already parsed JSON).
 * @throws ProtocolError BAD_MESSAGE naming the field when it is not a ClickToCopyModel answer.
 */
export function decodeLegacyFlatAnswer(value: unknown): LegacyFlatAnswer {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError(
      'BAD_MESSAGE',
      `a ClickToCopyModel answer must be a JSON object, got ${show(value)}`,
    );
  }
  const o = value as Record<string, unknown>;
  const concentrator = idText(o.ConcentratorNo, 'ConcentratorNo');
  const meter = idText(o.WaterMtrAddress, 'WaterMtrAddress');
  if (o.IsDownCommand === false) {
    throw new ProtocolError('BAD_MESSAGE', 'a request ("IsDownCommand":false) where an answer was expected');
  }
  const errorCode = o.ErrorCode;
  const errorMsg = o.ErrorMsg;
  if (errorCode !== undefined && errorCode !== null) {
    if (typeof errorCode !== 'string' || !UPPER_SNAKE.test(errorCode)) {
      throw new ProtocolError(
        'BAD_MESSAGE',
        `"ErrorCode" must be an UPPER_SNAKE code, got ${show(errorCode)}`,
      );
    }
    const message = typeof errorMsg === 'string' && errorMsg !== '' ? errorMsg : errorCode;
    return { concentrator, meter, answer: { type: 'error', code: errorCode, message, concentrator, meter } };
  }
  const accum = o.AccumVal;
  if (typeof accum === 'number' && Number.isFinite(accum)) {
    return {
      concentrator,
      meter,
      answer: { type: 'reading', concentrator, meter, value: accum, unit: 'm3' },
    };
  }
  if (accum === null || accum === undefined) {
    // An old clientserver signalled a failed read with no value and no words for it.
    const message =
      typeof errorMsg === 'string' && errorMsg !== ''
        ? errorMsg
        : 'the clientserver answered without a value (AccumVal) and without an ErrorCode';
    return {
      concentrator,
      meter,
      answer: { type: 'error', code: 'BAD_REPLY', message, concentrator, meter },
    };
  }
  throw new ProtocolError('BAD_MESSAGE', `"AccumVal" must be a number or null, got ${show(accum)}`);
}
