import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodePointReadMessage } from '../../protocols/point-read/index.ts';
import { failureReasonOf, MasterError, wireDetail } from './master-error.ts';

describe('MasterError detail', () => {
  it('takes a detail object, or a bare reason name as before issue 9', () => {
    const detail = { reason: 'ADDRESS_MISMATCH', expected: '1', got: '2' };
    expect(new MasterError('BAD_REPLY', 'x', detail).toJSON()).toEqual({
      code: 'BAD_REPLY',
      message: 'x',
      detail,
    });
    expect(new MasterError('BAD_REPLY', 'x', 'BAD_CHECKSUM').detail).toEqual({ reason: 'BAD_CHECKSUM' });
    expect(new MasterError('BUSY', 'x').toJSON()).toEqual({ code: 'BUSY', message: 'x' });
  });

  it('folds every other reason into BAD_REPLY: one name per failure', () => {
    expect(
      ['METER_TIMEOUT', 'ADDRESS_MISMATCH', 'ABNORMAL_REPLY', 'BAD_CHECKSUM', 'BAD_REPLY'].map(
        failureReasonOf,
      ),
    ).toEqual(['METER_TIMEOUT', 'ADDRESS_MISMATCH', 'ABNORMAL_REPLY', 'BAD_CHECKSUM', 'BAD_REPLY']);
    expect(['TRUNCATED', 'NO_REPLY', 'UNEXPECTED_REPLY', 'PORT_MISMATCH'].map(failureReasonOf)).toEqual([
      'BAD_REPLY',
      'BAD_REPLY',
      'BAD_REPLY',
      'BAD_REPLY',
    ]);
  });

  it('bounds what goes on the wire: long replies cut, control characters blanked, malformed words left out', () => {
    const reply = Array.from({ length: 600 }, () => 'AB').join(' ');
    const out = wireDetail({
      reason: 'TRUNCATED',
      meaning: `a\nb${'x'.repeat(300)}`,
      statusWord: '3',
      errorWord: '0A',
      reply,
    });
    expect(out.reason).toBe('BAD_REPLY');
    expect(out.meaning).toHaveLength(256);
    expect(out.meaning?.startsWith('a b')).toBe(true);
    expect(out.statusWord).toBeUndefined();
    expect(out.errorWord).toBe('0A');
    expect(out.reply?.split(' ')).toHaveLength(512);
  });

  it('always gives a detail the point-read codec accepts', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            reason: fc.string(),
            protocol: fc.string(),
            expected: fc.string(),
            got: fc.string(),
            statusWord: fc.string(),
            errorWord: fc.string(),
            meaning: fc.string({ maxLength: 400 }),
            reply: fc.oneof(
              fc.string(),
              fc.uint8Array({ maxLength: 700 }).map((b) =>
                Buffer.from(b)
                  .toString('hex')
                  .toUpperCase()
                  .replace(/(..)(?!$)/g, '$1 '),
              ),
            ),
          },
          { requiredKeys: ['reason'] },
        ),
        (detail) => {
          const message = {
            type: 'error' as const,
            code: 'BAD_REPLY',
            message: 'm',
            detail: wireDetail(detail),
          };
          expect(() => encodePointReadMessage(message)).not.toThrow();
        },
      ),
    );
  });
});
