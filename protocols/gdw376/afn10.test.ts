import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeForwardControl, encodeForwardControl, serialText } from './afn10.ts';
import { serialArb } from './arbitraries.ts';

describe('forward control word (docs/gdw376.md §3.4)', () => {
  it('reads 6B as 2400 8E1', () => {
    expect(decodeForwardControl(0x6b)).toEqual({ baud: 2400, parity: 'even', dataBits: 8, stopBits: 1 });
    expect(serialText(decodeForwardControl(0x6b))).toBe('2400 8E1');
  });

  it('writes 2400 8E1 as 6B and 9600 8N1 as C3', () => {
    expect(encodeForwardControl({ baud: 2400, parity: 'even', dataBits: 8, stopBits: 1 })).toBe(0x6b);
    expect(encodeForwardControl({ baud: 9600, parity: 'none', dataBits: 8, stopBits: 1 })).toBe(0xc3);
  });

  it('packs bits as TMNL does: bits | parity<<2 | check<<3 | stop<<4 | baud<<5', () => {
    expect(encodeForwardControl({ baud: 19200, parity: 'odd', dataBits: 7, stopBits: 2 })).toBe(
      2 | (1 << 2) | (1 << 3) | (1 << 4) | (7 << 5),
    );
  });

  it('round-trips every setting the word can hold', () => {
    fc.assert(
      fc.property(serialArb, (s) => {
        expect(decodeForwardControl(encodeForwardControl(s))).toEqual(s);
      }),
    );
  });

  it('gives BAD_FIELD for a baud rate or bit count the word cannot hold', () => {
    const s = { baud: 2400, parity: 'even' as const, dataBits: 8, stopBits: 1 };
    expect(() => encodeForwardControl({ ...s, baud: 115200 })).toThrow(/baud 115200/);
    expect(() => encodeForwardControl({ ...s, dataBits: 9 })).toThrow(/dataBits 9/);
    expect(() => encodeForwardControl({ ...s, stopBits: 3 })).toThrow(/stopBits 3/);
  });
});
