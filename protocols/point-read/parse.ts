import { ProtocolError } from '../errors.ts';
import type { AnyPointReadMessage } from './types.ts';
import { validatePointReadMessage } from './validate.ts';

/**
 * The non-throwing answer of {@link decodePointReadMessage}. On failure, `id` is the request id when the text
 * was a JSON object with a string `id`, so a server can still answer `{"type":"error","id":…}`.
 */
export type PointReadDecodeResult =
  | { ok: true; message: AnyPointReadMessage }
  | { ok: false; error: ProtocolError; id?: string };

/**
 * Parses one point-read message (v1 or legacy) from JSON text.
 *
 * @throws ProtocolError `BAD_JSON` when the text is not JSON; its `offset` is the parser's position as a
 * character index into `text` (V8 gives one for most errors; "unexpected end" is placed at the end).
 * @throws ProtocolError `BAD_MESSAGE` when it is JSON but not a valid message; the message names the JSON
 * path and the problem, e.g. `"meter" must be 1–14 decimal digits, got "10x"`.
 */
export function parsePointReadMessage(text: string): AnyPointReadMessage {
  return validatePointReadMessage(parseJson(text));
}

/** {@link parsePointReadMessage} without throwing, and with the request id when one could be found. */
export function decodePointReadMessage(text: string): PointReadDecodeResult {
  let value: unknown;
  try {
    value = parseJson(text);
    return { ok: true, message: validatePointReadMessage(value) };
  } catch (error) {
    // Only ProtocolErrors are expected here; anything else is a bug and must not be disguised as bad input.
    if (!(error instanceof ProtocolError)) throw error;
    const id = findId(value);
    return id === undefined ? { ok: false, error } : { ok: false, error, id };
  }
}

function findId(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || !Object.hasOwn(value, 'id')) return undefined;
  const id: unknown = (value as { id: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const position = jsonErrorPosition(reason, text);
    const where = position === undefined ? '' : ` at character ${position}`;
    throw new ProtocolError('BAD_JSON', `not valid JSON${where}: ${reason}`, position);
  }
}

/** V8 says "… in JSON at position N" for most errors and "Unexpected end of JSON input" at the end. */
function jsonErrorPosition(reason: string, text: string): number | undefined {
  const at = /at position (\d+)/.exec(reason);
  if (at) return Number(at[1]);
  if (/Unexpected end of JSON input/.test(reason)) return text.length;
  return undefined;
}
