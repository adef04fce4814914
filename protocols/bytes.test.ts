import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bcdToDigits, bcdToNumber, bytesToHex, digitsToBcd, hexToBytes, numberToBcd, sum8 } from './bytes.ts';
import { ProtocolError } from './errors.ts';

describe('hex', () => {
  it('parses spaced, packed and 0x-prefixed hex', () => {
    expect(bytesToHex(hexToBytes('68 10 0x44,33'))).toBe('68 10 44 33');
  });
  it('names the first bad digit', () => {
    expect(() => hexToBytes('68 1G')).toThrow(/"G" at position 3/);
  });
  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array(), (b) => {
        expect(hexToBytes(bytesToHex(b))).toEqual(b);
      }),
    );
  });
});

describe('BCD', () => {
  it('reads addresses low byte first (CJ/T 188 §1.4: 44 33 22 11 00 33 78 → 78330011223344)', () => {
    expect(bcdToDigits(hexToBytes('44 33 22 11 00 33 78'))).toBe('78330011223344');
    expect(bytesToHex(digitsToBcd('101001', 7))).toBe('01 10 10 00 00 00 00');
  });
  it('reads values with implied decimals (00 77 66 55 → 556677.00)', () => {
    expect(bcdToNumber(hexToBytes('00 77 66 55'), 2)).toBe(556677);
    expect(bytesToHex(numberToBcd(1234.56, 4, 2))).toBe('56 34 12 00');
  });
  it('rejects a nibble above 9 with BAD_BCD', () => {
    const err = (() => {
      try {
        bcdToDigits(hexToBytes('1A'), 'meter address');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe('BAD_BCD');
    expect((err as ProtocolError).message).toMatch(/meter address/);
  });
  it('round-trips numbers with two decimals', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99_999_999 }), (n) => {
        expect(bcdToNumber(numberToBcd(n / 100, 4, 2), 2)).toBe(n / 100);
      }),
    );
  });
  it('sums mod 256', () => {
    expect(sum8(hexToBytes('68 10 44 33 22 11 00 33 78 01 03 1F 90 00'))).toBe(0x80);
  });
});
