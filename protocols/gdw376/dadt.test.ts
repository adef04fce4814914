import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../bytes.ts';
import { fnListArb, pnListArb } from './arbitraries.ts';
import { decodeDaDt, encodeDaDt } from './dadt.ts';

describe('DA/DT (docs/gdw376.md §3.3)', () => {
  const examples: [string, number[], number[]][] = [
    ['00 00 01 00', [0], [1]],
    ['00 00 02 00', [0], [2]],
    ['00 00 04 00', [0], [3]],
    ['01 01 01 03', [1], [25]],
    ['01 01 01 04', [1], [33]],
    ['01 01 02 04', [1], [34]],
    ['01 01 40 14', [1], [167]],
    ['01 01 80 14', [1], [168]],
    ['01 01 01 10', [1], [129]],
    ['01 01 01 02', [1], [17]],
  ];
  for (const [hex, pn, fn] of examples) {
    it(`reads ${hex} as p${pn.join('+')} F${fn.join('+')} and writes it back`, () => {
      expect(decodeDaDt(hexToBytes(hex))).toEqual({ pn, fn });
      expect(bytesToHex(encodeDaDt(pn, fn))).toBe(hex);
    });
  }

  it('reads several bits as several points and functions', () => {
    expect(decodeDaDt(hexToBytes('81 02 03 00'))).toEqual({ pn: [9, 16], fn: [1, 2] });
  });

  it('round-trips any list one DA/DT can name', () => {
    fc.assert(
      fc.property(pnListArb, fnListArb, (pn, fn) => {
        expect(decodeDaDt(encodeDaDt(pn, fn))).toEqual({ pn, fn });
      }),
    );
  });

  it('gives BAD_FIELD for points in two groups, p0 mixed with points, or empty lists', () => {
    expect(() => encodeDaDt([1, 9], [1])).toThrow(/different groups/);
    expect(() => encodeDaDt([0, 1], [1])).toThrow(/mixes p0/);
    expect(() => encodeDaDt([], [1])).toThrow(expect.objectContaining({ code: 'BAD_FIELD' }));
    expect(() => encodeDaDt([0], [0])).toThrow(/outside/);
  });

  it('gives BAD_FIELD for a DA or DT that names nothing', () => {
    expect(() => decodeDaDt(hexToBytes('00 01 01 00'))).toThrow(
      expect.objectContaining({ code: 'BAD_FIELD' }),
    );
    expect(() => decodeDaDt(hexToBytes('FF 00 01 00'))).toThrow(/names no measuring point/);
    expect(() => decodeDaDt(hexToBytes('00 00 00 01'))).toThrow(/names no function/);
  });

  it('gives TRUNCATED for fewer than 4 bytes', () => {
    expect(() => decodeDaDt(hexToBytes('00 00 01'))).toThrow(expect.objectContaining({ code: 'TRUNCATED' }));
  });
});
