import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.ts';
import { decodePointReadMessage } from './parse.ts';
import { readErrorFromProtocolError } from './read-error.ts';

describe('readErrorFromProtocolError', () => {
  it('keeps BAD_JSON and has no id', () => {
    const result = decodePointReadMessage('{');
    if (result.ok) throw new Error('expected a failure');
    expect(readErrorFromProtocolError(result.error, result.id)).toEqual({
      type: 'error',
      code: 'BAD_JSON',
      message: result.error.message,
    });
  });
  it('turns other request problems into BAD_REQUEST with the id', () => {
    const error = new ProtocolError('BAD_MESSAGE', '"meter" must be 1–14 decimal digits, got "10x"');
    expect(readErrorFromProtocolError(error, 'r1')).toEqual({
      type: 'error',
      id: 'r1',
      code: 'BAD_REQUEST',
      message: error.message,
    });
    expect(readErrorFromProtocolError(new ProtocolError('TOO_LONG', 'x')).code).toBe('BAD_REQUEST');
  });
});
