import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../bytes.ts';
import { dayOfWeek, decodeClockA1, encodeClockA1 } from './afn02.ts';

describe('heartbeat clock, data format A.1', () => {
  it('reads Q22 31 09 14 14 B2 18 as 2018-12-14 14:09:31, Friday', () => {
    expect(decodeClockA1(hexToBytes('31 09 14 14 B2 18'))).toEqual({ clock: '2018-12-14 14:09:31', week: 5 });
  });

  it('writes the clock back, computing the day of week when left out', () => {
    expect(bytesToHex(encodeClockA1('2018-12-14 14:09:31'))).toBe('31 09 14 14 B2 18');
    expect(bytesToHex(encodeClockA1('2018-12-14 14:09:31', 0))).toBe('31 09 14 14 12 18');
  });

  it('counts Sunday as 7 and gives 0 for a date that does not exist', () => {
    expect(dayOfWeek(2018, 12, 16)).toBe(7);
    expect(dayOfWeek(2018, 2, 30)).toBe(0);
  });

  it('gives BAD_BCD for a month or second that is not BCD', () => {
    expect(() => decodeClockA1(hexToBytes('31 09 14 14 BA 18'))).toThrow(
      expect.objectContaining({ code: 'BAD_BCD' }),
    );
    expect(() => decodeClockA1(hexToBytes('3A 09 14 14 B2 18'))).toThrow(
      expect.objectContaining({ code: 'BAD_BCD' }),
    );
  });

  it('gives BAD_FIELD for a malformed clock text or week', () => {
    expect(() => encodeClockA1('18-12-14 14:09:31')).toThrow(expect.objectContaining({ code: 'BAD_FIELD' }));
    expect(() => encodeClockA1('2018-12-14 14:09:31', 8)).toThrow(/week 8/);
  });
});
