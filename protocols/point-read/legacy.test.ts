import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { legacyAnswerArb, legacyRequestArb, readingArb, readRequestArb } from './arbitraries.ts';
import { fromLegacyAnswer, fromLegacyRequest, toLegacyAnswer, toLegacyRequest } from './legacy.ts';
import { parsePointReadMessage } from './parse.ts';
import type { LegacyClickToCopy } from './types.ts';

const legacy: LegacyClickToCopy = {
  ModuleName: 'ClickToCopy',
  Content: { ConcentratorNo: '101', WaterMtrAddress: '101001' },
};

describe('legacy ↔ v1', () => {
  it('turns the legacy request into a read with the given id', () => {
    expect(fromLegacyRequest(legacy, 'r1')).toEqual({
      type: 'read',
      id: 'r1',
      concentrator: '101',
      meter: '101001',
    });
  });
  it('makes up distinct valid ids when none is given', () => {
    const a = fromLegacyRequest(legacy);
    const b = fromLegacyRequest(legacy);
    expect(a.id).toMatch(/^legacy-[0-9a-f-]{36}$/);
    expect(a.id).not.toBe(b.id);
    expect(parsePointReadMessage(JSON.stringify(a))).toEqual(a);
  });
  it('answers a reading with the request fields plus AccumVal', () => {
    const answer = toLegacyAnswer(
      { type: 'reading', id: 'r1', concentrator: '101', meter: '00000000101001', value: 123.45, unit: 'm3' },
      legacy,
    );
    expect(answer).toEqual({
      ModuleName: 'ClickToCopy',
      Content: { ConcentratorNo: '101', WaterMtrAddress: '101001', AccumVal: 123.45 },
    });
  });
  it('converts litres to m³ for AccumVal', () => {
    const answer = toLegacyAnswer(
      { type: 'reading', id: 'r1', concentrator: '101', meter: '101001', value: 123450, unit: 'L' },
      legacy,
    );
    expect(answer.Content).toMatchObject({ AccumVal: 123.45 });
  });
  it('answers an error with the request fields plus Error and ErrorCode', () => {
    const answer = toLegacyAnswer({ type: 'error', id: 'r1', code: 'BUSY', message: '不要重复发送' }, legacy);
    expect(answer).toEqual({
      ModuleName: 'ClickToCopy',
      Content: { ConcentratorNo: '101', WaterMtrAddress: '101001', Error: '不要重复发送', ErrorCode: 'BUSY' },
    });
  });
  it('reads a legacy failure without ErrorCode as BAD_REPLY', () => {
    const v1 = fromLegacyAnswer({ ...legacy, Content: { ...legacy.Content, Error: '超时' } }, 'r9');
    expect(v1).toEqual({
      type: 'error',
      id: 'r9',
      code: 'BAD_REPLY',
      message: '超时',
      concentrator: '101',
      meter: '101001',
    });
  });
  it('round-trips read → legacy request → read', () => {
    fc.assert(
      fc.property(readRequestArb, (read) => {
        const back = fromLegacyRequest(toLegacyRequest(read), read.id);
        expect(back).toEqual({
          type: 'read',
          id: read.id,
          concentrator: read.concentrator,
          meter: read.meter,
        });
      }),
    );
  });
  it('gives valid messages in every direction', () => {
    fc.assert(
      fc.property(legacyRequestArb, readingArb, legacyAnswerArb, (request, reading, answer) => {
        const toLegacy = toLegacyAnswer(reading, request);
        expect(parsePointReadMessage(JSON.stringify(toLegacy))).toEqual(toLegacy);
        const toV1 = fromLegacyAnswer(answer, 'r1');
        expect(parsePointReadMessage(JSON.stringify(toV1))).toEqual(toV1);
        expect(toLegacyAnswer(toV1, request).Content).toMatchObject(request.Content);
      }),
    );
  });
});
