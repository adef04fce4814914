import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../bytes.ts';
import { knownDis, lookupDi } from './di-table.ts';
import { addOffset33, removeOffset33 } from './offset33.ts';
import { decodeValue, encodeValue } from './value.ts';

describe('DL/T 645 DI table', () => {
  it('knows the energy DIs with tariffs and settlement days', () => {
    expect(lookupDi('00010000')).toMatchObject({ format: 'XXXXXX.XX', length: 4, decimals: 2, unit: 'kWh' });
    expect(lookupDi('00010300')).toMatchObject({ name: 'forward active energy tariff 3', unit: 'kWh' });
    expect(lookupDi('00020001')).toMatchObject({ name: 'reverse active energy total, settlement 1 ago' });
    expect(lookupDi('00030000')).toMatchObject({ unit: 'kvarh' });
    expect(lookupDi('0001FF00')).toBeUndefined();
    expect(lookupDi('00014000')).toBeUndefined();
  });
  it('knows the instantaneous variables with their scale and sign', () => {
    expect(lookupDi('02010100')).toMatchObject({ format: 'XXX.X', length: 2, signed: false, unit: 'V' });
    expect(lookupDi('02020300')).toMatchObject({ format: 'XXX.XXX', length: 3, signed: true, unit: 'A' });
    expect(lookupDi('02030000')).toMatchObject({ format: 'XX.XXXX', length: 3, signed: true, unit: 'kW' });
    expect(lookupDi('02060000')).toMatchObject({ format: 'X.XXX', length: 2, unit: '' });
    expect(lookupDi('02800002')).toMatchObject({ format: 'XX.XX', unit: 'Hz' });
    expect(lookupDi('04000101')).toMatchObject({ type: 'date', length: 4 });
    expect(lookupDi('04000102')).toMatchObject({ type: 'time', length: 3 });
    expect(lookupDi('028022FF')).toBeUndefined();
  });
  it('knows the 1997 DIs', () => {
    expect(lookupDi('9010')).toMatchObject({ version: '1997', format: 'XXXXXX.XX', unit: 'kWh' });
    expect(lookupDi('b611')).toMatchObject({ di: 'B611', format: 'XXX', length: 2, unit: 'V' });
    expect(lookupDi('B621')).toMatchObject({ format: 'XX.XX', length: 2, unit: 'A' });
    expect(lookupDi('B630')).toMatchObject({ format: 'XX.XXXX', length: 3, unit: 'kW' });
  });
  it('encodes and decodes every known DI value at the top of its range', () => {
    for (const di of knownDis()) {
      const layout = lookupDi(di);
      if (layout?.type !== 'number') continue;
      const max = ((layout.signed ? 80 : 100) * 100 ** (layout.length - 1) - 1) / 10 ** layout.decimals;
      expect(decodeValue(layout, encodeValue(layout, max))?.value).toBe(max);
      if (layout.signed) expect(decodeValue(layout, encodeValue(layout, -max))?.value).toBe(-max);
    }
  });
  it('scales D5 and D18 values', () => {
    const energy = lookupDi('00010000');
    if (!energy) throw new Error('missing');
    expect(decodeValue(energy, hexToBytes('56 34 12 00'))).toEqual({ value: 1234.56 });
    expect(decodeValue(energy, hexToBytes('01 00 00 00'))).toEqual({ value: 0.01 });
    expect(decodeValue(energy, hexToBytes('01 00 00'))).toBeUndefined();
  });
});

describe('DL/T 645 +33H transform', () => {
  it('adds and removes 33H modulo 256', () => {
    expect(addOffset33(hexToBytes('00 CD FF'))).toEqual(hexToBytes('33 00 32'));
    expect(removeOffset33(hexToBytes('33 00 32'))).toEqual(hexToBytes('00 CD FF'));
  });
});
