import { describe, expect, it } from 'vitest';
import { decodeLegacyFlatAnswer, encodeLegacyFlatRequest } from './legacy-flat.ts';
import { decodeText } from './text-encoding.ts';

describe('legacy flat ClickToCopyModel', () => {
  it('encodes the request as the original webserver wrote it', () => {
    const bytes = encodeLegacyFlatRequest({ concentrator: '101', meter: '101001' }, 'gb2312');
    expect(decodeText(bytes, 'gb2312')).toBe(
      '{"ConcentratorNo":"101","WaterMtrAddress":"101001","IsDownCommand":false}',
    );
  });

  it('reads a filled-in answer, a failure with ErrorCode, and an old failure without one', () => {
    expect(
      decodeLegacyFlatAnswer({
        ConcentratorNo: '101',
        WaterMtrAddress: '101001',
        AccumVal: 123.45,
        IsDownCommand: true,
      }),
    ).toEqual({
      concentrator: '101',
      meter: '101001',
      answer: { type: 'reading', concentrator: '101', meter: '101001', value: 123.45, unit: 'm3' },
    });
    expect(
      decodeLegacyFlatAnswer({
        ConcentratorNo: 101,
        WaterMtrAddress: '7',
        AccumVal: null,
        IsDownCommand: true,
        ErrorCode: 'METER_TIMEOUT',
        ErrorMsg: '表计无应答',
      }).answer,
    ).toMatchObject({ type: 'error', code: 'METER_TIMEOUT', message: '表计无应答', concentrator: '101' });
    expect(
      decodeLegacyFlatAnswer({
        ConcentratorNo: '101',
        WaterMtrAddress: '7',
        AccumVal: null,
        IsDownCommand: true,
      }).answer,
    ).toMatchObject({ type: 'error', code: 'BAD_REPLY' });
  });

  it('refuses what is not an answer, naming the field', () => {
    expect(() => decodeLegacyFlatAnswer([])).toThrow(/JSON object/);
    expect(() => decodeLegacyFlatAnswer({ WaterMtrAddress: '1' })).toThrow(/"ConcentratorNo"/);
    expect(() =>
      decodeLegacyFlatAnswer({ ConcentratorNo: '1', WaterMtrAddress: '1', IsDownCommand: false }),
    ).toThrow(/a request/);
    expect(() =>
      decodeLegacyFlatAnswer({
        ConcentratorNo: '1',
        WaterMtrAddress: '1',
        AccumVal: '12',
        IsDownCommand: true,
      }),
    ).toThrow(/"AccumVal"/);
    expect(() =>
      decodeLegacyFlatAnswer({
        ConcentratorNo: '1',
        WaterMtrAddress: '1',
        ErrorCode: 'oops',
        IsDownCommand: true,
      }),
    ).toThrow(/"ErrorCode"/);
  });
});
