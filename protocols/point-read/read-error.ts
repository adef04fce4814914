import type { ProtocolError } from '../errors.ts';
import type { ReadError } from './types.ts';

/**
 * The `error` answer for a request that could not be read: BAD_JSON stays BAD_JSON; anything else wrong with
 * the request (BAD_MESSAGE, BAD_ENCODING, TOO_LONG, TRUNCATED) is BAD_REQUEST. The message is the
 * ProtocolError's, which names the field and the problem.
 */
export function readErrorFromProtocolError(error: ProtocolError, id?: string): ReadError {
  const code = error.code === 'BAD_JSON' ? 'BAD_JSON' : 'BAD_REQUEST';
  return id === undefined
    ? { type: 'error', code, message: error.message }
    : { type: 'error', id, code, message: error.message };
}
