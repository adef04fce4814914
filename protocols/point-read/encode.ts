import type { AnyPointReadMessage } from './types.ts';
import { validatePointReadMessage } from './validate.ts';

/**
 * Writes a message as one line of JSON (no newline, no spaces), keys in the canonical order, absent optional
 * fields left out. The message is validated first, so whatever this returns parses back to an equal message.
 * @throws ProtocolError `BAD_MESSAGE` if `msg` is not a valid message (e.g. built with a bad meter address).
 */
export function encodePointReadMessage(msg: AnyPointReadMessage): string {
  // JSON.stringify escapes U+000A and U+000D inside strings, so the output is always a single line.
  return JSON.stringify(validatePointReadMessage(msg));
}
