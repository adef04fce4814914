import { describe, expect, it } from 'vitest';
import { parseConcentratorId } from './concentrator-id.ts';

describe('parseConcentratorId', () => {
  it('reads nine digits as A1 + A2', () => {
    expect(parseConcentratorId('017102082')).toEqual({ kind: 'address', a1: '0171', a2: 2082 });
    expect(parseConcentratorId('999965535')).toEqual({ kind: 'address', a1: '9999', a2: 65535 });
  });
  it('reads other short ids as aliases', () => {
    expect(parseConcentratorId('101')).toEqual({ kind: 'alias', alias: '101' });
    expect(parseConcentratorId('0171020820')).toEqual({ kind: 'alias', alias: '0171020820' });
  });
  it('explains what is wrong', () => {
    expect(parseConcentratorId('017165536')).toMatchObject({
      kind: 'invalid',
      problem: expect.stringContaining('A2'),
    });
    expect(parseConcentratorId('')).toMatchObject({ kind: 'invalid' });
    expect(parseConcentratorId('x'.repeat(33))).toMatchObject({ kind: 'invalid' });
    expect(parseConcentratorId('集中器1')).toMatchObject({ kind: 'invalid' });
  });
});
