import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.ts';
import { readErrorArb, readErrorDetailArb } from './arbitraries.ts';
import { encodePointReadMessage } from './encode.ts';
import { encodeLine } from './encode-line.ts';
import { toLegacyAnswer } from './legacy.ts';
import { NdjsonDecoder } from './ndjson-decoder.ts';
import { decodePointReadMessage, parsePointReadMessage } from './parse.ts';
import { MAX_DETAIL_REPLY_BYTES, MAX_DETAIL_TEXT_LENGTH, type ReadError } from './types.ts';

const base = { type: 'error', id: 'r1', code: 'BAD_REPLY', message: 'meter 1 answered from 2' } as const;
const j = (v: unknown) => JSON.stringify(v);
const hex = (n: number) =>
  Array.from({ length: n }, (_, i) => (i & 0xff).toString(16).padStart(2, '0'))
    .join(' ')
    .toUpperCase();

describe('error detail: valid', () => {
  const rows: [string, ReadError['detail']][] = [
    ['a reason alone', { reason: 'METER_TIMEOUT' }],
    [
      'an address mismatch',
      { reason: 'ADDRESS_MISMATCH', protocol: 'cjt188', expected: '00000000101001', got: '00000000999999' },
    ],
    [
      'a CJ/T 188 abnormal reply with its status word',
      { reason: 'ABNORMAL_REPLY', protocol: 'cjt188', statusWord: '0003', meaning: 'valve abnormal' },
    ],
    [
      'a DL/T 645 abnormal reply with its error word and reply',
      { reason: 'ABNORMAL_REPLY', errorWord: '02', meaning: '无请求数据', reply: 'D1 01 35' },
    ],
    ['an unknown newer reason', { reason: 'VALVE_JAMMED' }],
    ['the longest reply', { reason: 'BAD_CHECKSUM', reply: hex(MAX_DETAIL_REPLY_BYTES) }],
    ['the longest text', { reason: 'BAD_REPLY', meaning: 'x'.repeat(MAX_DETAIL_TEXT_LENGTH) }],
  ];
  for (const [name, detail] of rows) {
    it(`parses ${name}`, () => {
      expect(parsePointReadMessage(j({ ...base, detail }))).toEqual({ ...base, detail });
    });
  }

  it('writes the detail last and its keys in the canonical order', () => {
    const msg: ReadError = {
      detail: { got: '2', reason: 'ADDRESS_MISMATCH', expected: '1' },
      ...base,
      meter: '1',
    };
    expect(encodePointReadMessage(msg)).toBe(
      '{"type":"error","id":"r1","code":"BAD_REPLY","message":"meter 1 answered from 2","meter":"1",' +
        '"detail":{"reason":"ADDRESS_MISMATCH","expected":"1","got":"2"}}',
    );
  });

  it('an error without detail is unchanged (older peers)', () => {
    expect(parsePointReadMessage(j(base))).toEqual(base);
    expect(encodePointReadMessage(base)).not.toContain('detail');
  });

  it('the legacy answer carries code and text only, as the old page expects', () => {
    const request = {
      ModuleName: 'ClickToCopy',
      Content: { ConcentratorNo: '101', WaterMtrAddress: '101001' },
    } as const;
    const answer = toLegacyAnswer({ ...base, detail: { reason: 'ADDRESS_MISMATCH' } }, request);
    // Issue 14 item 1: the flat legacy shape (ErrorMsg/ErrorCode at the top level); still no detail.
    expect(answer).toEqual({
      ConcentratorNo: '101',
      WaterMtrAddress: '101001',
      AccumVal: null,
      IsDownCommand: true,
      ErrorCode: 'BAD_REPLY',
      ErrorMsg: base.message,
    });
  });
});

describe('error detail: invalid', () => {
  const rows: [string, unknown, string][] = [
    ['not an object', 'ADDRESS_MISMATCH', '"detail" must be an object, got "ADDRESS_MISMATCH"'],
    ['an array', ['x'], '"detail" must be an object, got an array'],
    ['no reason', { got: '1' }, 'missing "detail.reason"'],
    ['a lower-case reason', { reason: 'address mismatch' }, '"detail.reason" must be an UPPER_SNAKE code'],
    ['an unknown key', { reason: 'BAD_REPLY', status: '0003' }, 'unknown field "detail.status" in "detail"'],
    ['a numeric value', { reason: 'BAD_REPLY', got: 101 }, '"detail.got" must be a string, got 101'],
    ['an empty text', { reason: 'BAD_REPLY', meaning: '' }, '"detail.meaning" must be 1–256 characters'],
    [
      'a text too long',
      { reason: 'BAD_REPLY', meaning: 'x'.repeat(MAX_DETAIL_TEXT_LENGTH + 1) },
      '"detail.meaning" must be 1–256 characters',
    ],
    ['a control character', { reason: 'BAD_REPLY', got: 'a\nb' }, 'without control characters'],
    ['a short status word', { reason: 'ABNORMAL_REPLY', statusWord: '03' }, '"detail.statusWord" must be 4'],
    [
      'a lower-case error word',
      { reason: 'ABNORMAL_REPLY', errorWord: '0a' },
      '"detail.errorWord" must be 2',
    ],
    ['unspaced reply bytes', { reason: 'BAD_REPLY', reply: '6810' }, '"detail.reply" must be 1–512 bytes'],
    [
      'a reply too long',
      { reason: 'BAD_REPLY', reply: hex(MAX_DETAIL_REPLY_BYTES + 1) },
      '"detail.reply" must be 1–512 bytes',
    ],
  ];
  for (const [name, detail, problem] of rows) {
    it(`refuses ${name}`, () => {
      expect(() => parsePointReadMessage(j({ ...base, detail }))).toThrow(problem);
      expect(() => parsePointReadMessage(j({ ...base, detail }))).toThrow(ProtocolError);
    });
  }

  it('refuses to encode an error with a bad detail', () => {
    const bad = { ...base, detail: { reason: 'BAD_REPLY', reply: 'zz' } };
    expect(() => encodePointReadMessage(bad)).toThrow(expect.objectContaining({ code: 'BAD_MESSAGE' }));
  });
});

describe('error detail: properties', () => {
  it('round-trips any error with any detail through an NDJSON line in UTF-8 and GB2312', () => {
    fc.assert(
      fc.property(readErrorArb, fc.constantFrom('utf8' as const, 'gb2312' as const), (msg, charset) => {
        const events = new NdjsonDecoder({ charset }).push(encodeLine(msg, charset));
        expect(events).toEqual([expect.objectContaining({ kind: 'message', message: msg })]);
      }),
    );
  });

  it('keeps every detail within its bounds when written', () => {
    fc.assert(
      fc.property(readErrorDetailArb, (detail) => {
        const text = encodePointReadMessage({ ...base, detail });
        // 8 keys of at most 256 characters and a reply of at most 1535: a bounded line whatever the meter sent.
        expect(text.length).toBeLessThan(j(base).length + 16_000);
      }),
    );
  });

  it('never throws on any JSON value as a detail: a valid detail or BAD_MESSAGE', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.dictionary(
            fc.constantFrom('reason', 'protocol', 'got', 'statusWord', 'errorWord', 'reply', 'other'),
            fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
          ),
        ),
        (detail) => {
          const result = decodePointReadMessage(j({ ...base, detail }));
          if (result.ok) {
            const got = (result.message as ReadError).detail;
            if (detail === null) return; // JSON null counts as absent, like any optional field
            expect(got).toEqual(detail);
            for (const value of Object.values(got ?? {})) expect(typeof value).toBe('string');
          } else {
            expect(result.error.code).toBe('BAD_MESSAGE');
            expect(result.id).toBe('r1');
          }
        },
      ),
    );
  });
});
