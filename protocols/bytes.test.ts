import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bcdByteToNumber,
  bcdToDigits,
  bcdToNumber,
  bytesToHex,
  digitsToBcd,
  hexToBytes,
  numberToBcd,
  sum8,
} from './bytes.ts';
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
  it('reads addresses low byte first (CJ/T 188, docs/cjt188.md §1.4: 44 33 22 11 00 33 78 → 78330011223344)', () => {
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

// The straightforward implementations the table-driven ones replaced: every answer, including every error's
// code, message and offset, must be the same.
const reference = {
  hexToBytes(text: string): Uint8Array {
    const clean = text.replace(/0x/gi, '').replace(/[\s,:;-]+/g, '');
    if (clean.length % 2 !== 0) {
      throw new ProtocolError('BAD_FIELD', `hex text has an odd number of digits (${clean.length})`);
    }
    const bad = clean.search(/[^0-9a-fA-F]/);
    if (bad >= 0) {
      throw new ProtocolError('BAD_FIELD', `"${clean[bad]}" at position ${bad} is not a hex digit`, bad);
    }
    const out = new Uint8Array(clean.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
    return out;
  },
  bytesToHex(bytes: Uint8Array, separator = ' '): string {
    let out = '';
    for (let i = 0; i < bytes.length; i++) {
      if (i > 0) out += separator;
      out += bytes[i].toString(16).toUpperCase().padStart(2, '0');
    }
    return out;
  },
  bcdByteToNumber(byte: number, what = 'BCD byte'): number {
    const hi = byte >> 4;
    const lo = byte & 0x0f;
    if (hi > 9 || lo > 9) {
      throw new ProtocolError(
        'BAD_BCD',
        `${what}: ${byte.toString(16).toUpperCase().padStart(2, '0')} is not BCD`,
      );
    }
    return hi * 10 + lo;
  },
  bcdToDigits(bytes: Uint8Array, what = 'BCD field'): string {
    let out = '';
    for (let i = bytes.length - 1; i >= 0; i--) {
      reference.bcdByteToNumber(bytes[i], what);
      out += bytes[i].toString(16).padStart(2, '0');
    }
    return out;
  },
  digitsToBcd(digits: string, length: number, what = 'BCD field'): Uint8Array {
    if (!/^[0-9]*$/.test(digits))
      throw new ProtocolError('BAD_FIELD', `${what} "${digits}" must be decimal digits`);
    if (digits.length > length * 2) {
      throw new ProtocolError('BAD_FIELD', `${what} "${digits}" has more than ${length * 2} digits`);
    }
    const padded = digits.padStart(length * 2, '0');
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const pos = (length - 1 - i) * 2;
      out[i] = Number.parseInt(padded.slice(pos, pos + 2), 16);
    }
    return out;
  },
  bcdToNumber(bytes: Uint8Array, decimals = 0, what = 'BCD value'): number {
    return Number.parseInt(reference.bcdToDigits(bytes, what), 10) / 10 ** decimals;
  },
};

/** What a call gives: its value, or its error as class, code, message and offset. */
function outcome(call: () => unknown): unknown {
  try {
    return { value: call() };
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    return { error: e.name, code: e.code, message: e.message, offset: e.offset };
  }
}

/** Text made mostly of what hex text holds (digits, separators, 0x) with some of anything else. */
const hexishText = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...'0123456789abcdefABCDEF') },
      { weight: 2, arbitrary: fc.constantFrom(' ', ' ', ',', ':', ';', '-', '\t', '\n', '\r', '\v', '\f') },
      {
        weight: 1,
        arbitrary: fc.constantFrom('0x', '0X', 'x', 'X', 'g', 'G', '\u00a0', '\u2028', '\ufeff', 'é'),
      },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 2 }) },
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

describe('fast paths agree with the straightforward implementations', () => {
  it('hexToBytes, on hex-like and arbitrary text (same bytes, or the same error)', () => {
    fc.assert(
      fc.property(fc.oneof(hexishText, fc.string({ unit: 'binary' })), (text) => {
        expect(outcome(() => hexToBytes(text))).toEqual(outcome(() => reference.hexToBytes(text)));
      }),
      { numRuns: 2000 },
    );
  });
  it('hexToBytes, on what bytesToHex writes with any separator, and on that text with one character changed', () => {
    const written = fc
      .tuple(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(' ', '', ':', ', ', ' - ', '\n'))
      .map(([b, sep]) => reference.bytesToHex(b, sep));
    const changed = fc
      .tuple(
        written,
        fc.nat(),
        fc.oneof(fc.constantFrom(...' x0Ag\u00a0\u0130-'), fc.string({ maxLength: 1 })),
      )
      .map(
        ([text, at, c]) =>
          text.slice(0, at % (text.length + 1)) + c + text.slice((at % (text.length + 1)) + 1),
      );
    fc.assert(
      fc.property(fc.oneof(written, changed), (text) => {
        expect(outcome(() => hexToBytes(text))).toEqual(outcome(() => reference.hexToBytes(text)));
      }),
      { numRuns: 2000 },
    );
  });
  it('bytesToHex, with any separator', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.string({ maxLength: 3 }), (b, sep) => {
        expect(bytesToHex(b, sep)).toBe(reference.bytesToHex(b, sep));
        expect(bytesToHex(b)).toBe(reference.bytesToHex(b));
      }),
    );
  });
  it('bcdByteToNumber, on bytes and on numbers that are not bytes', () => {
    for (let byte = -300; byte < 600; byte++) {
      expect(outcome(() => bcdByteToNumber(byte, 'x'))).toEqual(
        outcome(() => reference.bcdByteToNumber(byte, 'x')),
      );
    }
  });
  it('bcdToDigits and bcdToNumber, on BCD and non-BCD bytes of any length', () => {
    const bcdish = fc.array(
      fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 0, max: 99 }).map((v) => ((v / 10) << 4) | (v % 10)) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
      ),
      { maxLength: 10 },
    );
    fc.assert(
      fc.property(bcdish, fc.integer({ min: 0, max: 6 }), (list, decimals) => {
        const b = Uint8Array.from(list);
        expect(outcome(() => bcdToDigits(b, 'f'))).toEqual(outcome(() => reference.bcdToDigits(b, 'f')));
        expect(outcome(() => bcdToNumber(b, decimals, 'v'))).toEqual(
          outcome(() => reference.bcdToNumber(b, decimals, 'v')),
        );
      }),
      { numRuns: 2000 },
    );
  });
  it('digitsToBcd, on digit strings and other text', () => {
    const digitish = fc.oneof(fc.stringMatching(/^[0-9]{0,16}$/), fc.string({ maxLength: 16 }));
    fc.assert(
      fc.property(digitish, fc.integer({ min: 0, max: 8 }), (digits, length) => {
        expect(outcome(() => digitsToBcd(digits, length, 'd'))).toEqual(
          outcome(() => reference.digitsToBcd(digits, length, 'd')),
        );
      }),
      { numRuns: 2000 },
    );
  });
});
