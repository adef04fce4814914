import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { legacyAnswerArb, legacyRequestArb, readingArb, readRequestArb } from './arbitraries.ts';
import { encodePointReadMessage } from './encode.ts';
import {
  fromLegacyAnswer,
  fromLegacyRequest,
  toLegacyAnswer,
  toLegacyModelRequest,
  toLegacyRequest,
} from './legacy.ts';
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
  // Issue 14 item 1 changed this answer's shape: flat, as the original clientserver filled the model in (it
  // was `{"ModuleName":"ClickToCopy","Content":{…,"AccumVal":123.45}}`, which an old page cannot read).
  it('answers a reading with the request fields plus AccumVal, flat, as the original system did', () => {
    const answer = toLegacyAnswer(
      { type: 'reading', id: 'r1', concentrator: '101', meter: '00000000101001', value: 123.45, unit: 'm3' },
      legacy,
    );
    expect(answer).toEqual({
      ConcentratorNo: '101',
      WaterMtrAddress: '101001',
      AccumVal: 123.45,
      IsDownCommand: true,
    });
    // Field order as Json.NET wrote the model (the interface agreed in README "Legacy point-read shapes").
    expect(encodePointReadMessage(answer)).toBe(
      '{"ConcentratorNo":"101","WaterMtrAddress":"101001","AccumVal":123.45,"IsDownCommand":true}',
    );
  });
  it('converts litres to m³ for AccumVal', () => {
    const answer = toLegacyAnswer(
      { type: 'reading', id: 'r1', concentrator: '101', meter: '101001', value: 123450, unit: 'L' },
      legacy,
    );
    expect(answer).toMatchObject({ AccumVal: 123.45 });
  });
  // Issue 14 item 1: errors in the same flat shape, AccumVal null, with ErrorCode and ErrorMsg.
  it('answers an error with the request fields plus AccumVal null, ErrorCode and ErrorMsg, flat', () => {
    const answer = toLegacyAnswer({ type: 'error', id: 'r1', code: 'BUSY', message: '不要重复发送' }, legacy);
    expect(answer).toEqual({
      ConcentratorNo: '101',
      WaterMtrAddress: '101001',
      AccumVal: null,
      IsDownCommand: true,
      ErrorCode: 'BUSY',
      ErrorMsg: '不要重复发送',
    });
    expect(encodePointReadMessage(answer)).toBe(
      '{"ConcentratorNo":"101","WaterMtrAddress":"101001","AccumVal":null,"IsDownCommand":true,"ErrorCode":"BUSY","ErrorMsg":"不要重复发送"}',
    );
  });
  it('reads a legacy failure without ErrorCode as BAD_REPLY', () => {
    const v1 = fromLegacyAnswer(
      {
        ConcentratorNo: '101',
        WaterMtrAddress: '101001',
        AccumVal: null,
        IsDownCommand: true,
        ErrorMsg: '超时',
      },
      'r9',
    );
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
        expect(toLegacyAnswer(toV1, request)).toMatchObject(request.Content);
      }),
    );
  });
});

describe('the flat ClickToCopyModel (the clientserver link, and the answer to the browser)', () => {
  const flat = { ConcentratorNo: '101', WaterMtrAddress: '101001' };
  it('writes the flat request as the original webserver did, and reads it back as a read', () => {
    const read = fromLegacyRequest(legacy, 'r1');
    const request = toLegacyModelRequest(read);
    expect(encodePointReadMessage(request)).toBe(
      '{"ConcentratorNo":"101","WaterMtrAddress":"101001","IsDownCommand":false}',
    );
    expect(fromLegacyRequest(request, 'r1')).toEqual(read);
  });
  it('parses the flat forms: request (AccumVal 0 or absent), reading, failure', () => {
    const j = JSON.stringify;
    expect(parsePointReadMessage(j({ ...flat, AccumVal: 0, IsDownCommand: false }))).toEqual({
      ...flat,
      IsDownCommand: false,
    });
    expect(parsePointReadMessage(j(flat))).toEqual({ ...flat, IsDownCommand: false });
    expect(parsePointReadMessage(j({ ...flat, AccumVal: 1.5, IsDownCommand: true, Extra: 1 }))).toEqual({
      ...flat,
      AccumVal: 1.5,
      IsDownCommand: true,
    });
    // A clientserver of the original kind echoes IsDownCommand as it came: a filled-in AccumVal still makes
    // it an answer.
    expect(parsePointReadMessage(j({ ...flat, AccumVal: 7, IsDownCommand: false }))).toMatchObject({
      AccumVal: 7,
      IsDownCommand: true,
    });
    expect(
      parsePointReadMessage(
        j({ ...flat, AccumVal: null, IsDownCommand: true, ErrorCode: 'METER_TIMEOUT', ErrorMsg: 'x' }),
      ),
    ).toEqual({ ...flat, AccumVal: null, IsDownCommand: true, ErrorCode: 'METER_TIMEOUT', ErrorMsg: 'x' });
  });
  it('refuses a flat answer with both a reading and an error, and bad fields, naming them', () => {
    const j = JSON.stringify;
    expect(() =>
      parsePointReadMessage(j({ ...flat, AccumVal: 1, IsDownCommand: true, ErrorCode: 'BUSY' })),
    ).toThrow(/both a number "AccumVal" and "ErrorCode"/);
    expect(() => parsePointReadMessage(j({ ...flat, AccumVal: '1' }))).toThrow(
      /"AccumVal" must be a finite number/,
    );
    expect(() => parsePointReadMessage(j({ ...flat, WaterMtrAddress: '10x' }))).toThrow(/"WaterMtrAddress"/);
    expect(() => parsePointReadMessage(j({ ...flat, IsDownCommand: 'yes' }))).toThrow(/"IsDownCommand"/);
  });
  it('still parses the enveloped answer earlier meterlab versions wrote', () => {
    const old = { ...legacy, Content: { ...legacy.Content, AccumVal: 1 } };
    expect(parsePointReadMessage(JSON.stringify(old))).toEqual(old);
  });
  it('round-trips every flat answer through v1 and back', () => {
    fc.assert(
      fc.property(legacyAnswerArb, (answer) => {
        expect(parsePointReadMessage(encodePointReadMessage(answer))).toEqual(answer);
        const back = toLegacyAnswer(
          fromLegacyAnswer(answer, 'r1'),
          answer.AccumVal === null ? legacy : legacy,
        );
        expect(back.AccumVal).toEqual(answer.AccumVal);
      }),
    );
  });
});
