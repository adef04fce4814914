import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.ts';
import { decodePointReadMessage, parsePointReadMessage } from './parse.ts';

const read = { type: 'read', id: 'r1', concentrator: '017102082', meter: '00000000101001' };
const reading = {
  type: 'reading',
  id: 'r1',
  concentrator: '101',
  meter: '101001',
  value: 123.45,
  unit: 'm3',
};
const legacy = { ModuleName: 'ClickToCopy', Content: { ConcentratorNo: '101', WaterMtrAddress: '101001' } };
const j = (v: unknown) => JSON.stringify(v);

describe('parsePointReadMessage: valid messages', () => {
  const rows: [string, string, unknown][] = [
    ['a minimal read', j(read), read],
    [
      'a read with protocol and port',
      j({ ...read, protocol: 'cjt188', port: 1 }),
      { ...read, protocol: 'cjt188', port: 1 },
    ],
    ['a read with an alias and a short meter', j({ ...read, concentrator: 'lab-1', meter: '1' }), null],
    ['a minimal reading', j(reading), reading],
    [
      'a full reading',
      j({
        ...reading,
        meterTime: '2024-02-29T23:59:59',
        status: { valve: 'closed', batteryLow: true },
        protocol: 'dlt645',
        latencyMs: 812.5,
        readAt: '2024-03-01T00:00:01.123Z',
      }),
      null,
    ],
    ['a reading at an offset time', j({ ...reading, readAt: '2024-03-01T08:00:01+08:00' }), null],
    ['an error with id', j({ type: 'error', id: 'r1', code: 'METER_TIMEOUT', message: '表计无应答' }), null],
    ['an error without id', j({ type: 'error', code: 'BAD_JSON', message: 'x' }), null],
    [
      'an error with an unknown upper-snake code',
      j({ type: 'error', code: 'VALVE_JAMMED_2', message: '' }),
      null,
    ],
    ['the legacy request', j(legacy), legacy],
    [
      'a legacy reading',
      j({ ...legacy, Content: { ...legacy.Content, AccumVal: 123.45 } }),
      { ...legacy, Content: { ...legacy.Content, AccumVal: 123.45 } },
    ],
    [
      'a legacy failure',
      j({ ...legacy, Content: { ...legacy.Content, Error: '不要重复发送', ErrorCode: 'BUSY' } }),
      null,
    ],
    ['whitespace around JSON', ` ${j(read)}\t`, read],
    ['a read with an origin', j({ ...read, origin: 'ws-12' }), { ...read, origin: 'ws-12' }],
    [
      'a read with an origin of 64 characters',
      j({ ...read, origin: 'o'.repeat(64) }),
      { ...read, origin: 'o'.repeat(64) },
    ],
    ['a cancel', j({ type: 'cancel', id: 'r1' }), { type: 'cancel', id: 'r1' }],
  ];
  for (const [name, text, expected] of rows) {
    it(`parses ${name}`, () => {
      expect(parsePointReadMessage(text)).toEqual(expected ?? JSON.parse(text));
    });
  }

  it('ignores unknown legacy Content fields and drops them', () => {
    const text = j({ ...legacy, Content: { ...legacy.Content, Extra: 1 } });
    expect(parsePointReadMessage(text)).toEqual(legacy);
  });
  it('drops -0 to 0', () => {
    expect(parsePointReadMessage(j(reading).replace('123.45', '-0'))).toMatchObject({ value: 0 });
    expect(
      Object.is((parsePointReadMessage(j(reading).replace('123.45', '-0')) as { value: number }).value, 0),
    ).toBe(true);
  });
});

describe('parsePointReadMessage: invalid messages', () => {
  const rows: [string, string, 'BAD_JSON' | 'BAD_MESSAGE', string][] = [
    ['empty text', '', 'BAD_JSON', 'at character 0'],
    ['a cut-off object', '{"type":"read"', 'BAD_JSON', 'at character 14'],
    ['trailing junk', `${j(read)}x`, 'BAD_JSON', `at character ${j(read).length}`],
    ['a bare token', '{"a":}', 'BAD_JSON', 'not valid JSON'],
    ['an array', '[1]', 'BAD_MESSAGE', 'must be a JSON object, got an array'],
    ['null', 'null', 'BAD_MESSAGE', 'must be a JSON object, got null'],
    ['a string', '"read"', 'BAD_MESSAGE', 'must be a JSON object, got "read"'],
    ['no type', '{"id":"r1"}', 'BAD_MESSAGE', 'missing "type"'],
    ['a numeric type', '{"type":1}', 'BAD_MESSAGE', '"type" must be a string, got 1'],
    ['an unknown type', j({ ...read, type: 'reed' }), 'BAD_MESSAGE', 'unknown "type": "reed"'],
    ['no id', j({ ...read, id: undefined }), 'BAD_MESSAGE', 'missing "id"'],
    ['an empty origin', j({ ...read, origin: '' }), 'BAD_MESSAGE', '"origin" must be 1–64 characters'],
    ['an origin too long', j({ ...read, origin: 'o'.repeat(65) }), 'BAD_MESSAGE', '"origin" must be 1–64'],
    ['an origin with a newline', j({ ...read, origin: 'a\nb' }), 'BAD_MESSAGE', 'without control characters'],
    ['a numeric origin', j({ ...read, origin: 12 }), 'BAD_MESSAGE', '"origin" must be a string, got 12'],
    ['a cancel without id', j({ type: 'cancel' }), 'BAD_MESSAGE', 'missing "id"'],
    ['a cancel with an empty id', j({ type: 'cancel', id: '' }), 'BAD_MESSAGE', '"id" must be 1–128'],
    ['a cancel with another field', j({ type: 'cancel', id: 'r1', meter: '1' }), 'BAD_MESSAGE', '"meter"'],
    ['an empty id', j({ ...read, id: '' }), 'BAD_MESSAGE', '"id" must be 1–128 characters'],
    ['an id too long', j({ ...read, id: 'x'.repeat(129) }), 'BAD_MESSAGE', '"id" must be 1–128 characters'],
    ['an id with a newline', j({ ...read, id: 'a\nb' }), 'BAD_MESSAGE', 'without control characters'],
    ['a numeric id', j({ ...read, id: 7 }), 'BAD_MESSAGE', '"id" must be a string, got 7'],
    ['no meter', j({ ...read, meter: undefined }), 'BAD_MESSAGE', 'missing "meter"'],
    [
      'a bad meter',
      j({ ...read, meter: '10x' }),
      'BAD_MESSAGE',
      '"meter" must be 1–14 decimal digits, got "10x"',
    ],
    [
      'an empty meter',
      j({ ...read, meter: '' }),
      'BAD_MESSAGE',
      '"meter" must be 1–14 decimal digits, got ""',
    ],
    ['a 15-digit meter', j({ ...read, meter: '1'.repeat(15) }), 'BAD_MESSAGE', '"meter" must be 1–14'],
    ['a numeric meter', j({ ...read, meter: 101001 }), 'BAD_MESSAGE', '"meter" must be a string, got 101001'],
    [
      'a concentrator with A2 0',
      j({ ...read, concentrator: '017100000' }),
      'BAD_MESSAGE',
      'A2 (digits 5–9) 00000',
    ],
    [
      'a concentrator with A2 > 65535',
      j({ ...read, concentrator: '017165536' }),
      'BAD_MESSAGE',
      '00001–65535',
    ],
    [
      'a concentrator with a space',
      j({ ...read, concentrator: '1 01' }),
      'BAD_MESSAGE',
      '"concentrator" must be A1+A2',
    ],
    [
      'an unknown protocol',
      j({ ...read, protocol: 'mbus' }),
      'BAD_MESSAGE',
      '"protocol" must be one of "cjt188"',
    ],
    ['port 0', j({ ...read, port: 0 }), 'BAD_MESSAGE', '"port" must be an integer 1–31, got 0'],
    ['port 1.5', j({ ...read, port: 1.5 }), 'BAD_MESSAGE', '"port" must be an integer 1–31, got 1.5'],
    [
      'a misspelt field',
      j({ ...read, prtocol: 'cjt188' }),
      'BAD_MESSAGE',
      'unknown field "prtocol" in a "read"',
    ],
    ['a reading without value', j({ ...reading, value: undefined }), 'BAD_MESSAGE', 'missing "value"'],
    [
      'a string value',
      j({ ...reading, value: '1.5' }),
      'BAD_MESSAGE',
      '"value" must be a finite number, got "1.5"',
    ],
    ['an unknown unit', j({ ...reading, unit: 'm³' }), 'BAD_MESSAGE', '"unit" must be one of "m3", "L"'],
    [
      'a bad valve',
      j({ ...reading, status: { valve: 'opn', batteryLow: false } }),
      'BAD_MESSAGE',
      '"status.valve"',
    ],
    [
      'no batteryLow',
      j({ ...reading, status: { valve: 'open' } }),
      'BAD_MESSAGE',
      'missing "status.batteryLow"',
    ],
    [
      'a status array',
      j({ ...reading, status: [] }),
      'BAD_MESSAGE',
      '"status" must be an object, got an array',
    ],
    [
      'extra status field',
      j({ ...reading, status: { valve: 'open', batteryLow: false, x: 1 } }),
      'BAD_MESSAGE',
      'unknown field "status.x"',
    ],
    [
      'meterTime with a zone',
      j({ ...reading, meterTime: '2024-01-01T00:00:00Z' }),
      'BAD_MESSAGE',
      '"meterTime" must be a local date-time',
    ],
    [
      'meterTime on 30 February',
      j({ ...reading, meterTime: '2024-02-30T00:00:00' }),
      'BAD_MESSAGE',
      '"meterTime"',
    ],
    [
      'readAt without zone',
      j({ ...reading, readAt: '2024-01-01T00:00:00' }),
      'BAD_MESSAGE',
      '"readAt" must be an ISO 8601',
    ],
    ['readAt at hour 24', j({ ...reading, readAt: '2024-01-01T24:00:00Z' }), 'BAD_MESSAGE', '"readAt"'],
    ['negative latency', j({ ...reading, latencyMs: -1 }), 'BAD_MESSAGE', '"latencyMs" must be ≥ 0, got -1'],
    ['an error without code', j({ type: 'error', id: 'r1', message: 'm' }), 'BAD_MESSAGE', 'missing "code"'],
    [
      'a lower-case code',
      j({ type: 'error', code: 'timeout', message: 'm' }),
      'BAD_MESSAGE',
      '"code" must be an UPPER_SNAKE',
    ],
    ['an error without message', j({ type: 'error', code: 'BUSY' }), 'BAD_MESSAGE', 'missing "message"'],
    [
      'an unknown ModuleName',
      j({ ...legacy, ModuleName: 'Other' }),
      'BAD_MESSAGE',
      'unknown "ModuleName": "Other"',
    ],
    ['legacy without Content', j({ ModuleName: 'ClickToCopy' }), 'BAD_MESSAGE', 'missing "Content"'],
    [
      'legacy with a bad address',
      j({ ...legacy, Content: { ConcentratorNo: '101', WaterMtrAddress: '10x' } }),
      'BAD_MESSAGE',
      '"Content.WaterMtrAddress" must be 1–14 decimal digits, got "10x"',
    ],
    [
      'legacy without ConcentratorNo',
      j({ ...legacy, Content: { WaterMtrAddress: '1' } }),
      'BAD_MESSAGE',
      'missing "Content.ConcentratorNo"',
    ],
    [
      'legacy with both AccumVal and Error',
      j({ ...legacy, Content: { ...legacy.Content, AccumVal: 1, Error: 'x' } }),
      'BAD_MESSAGE',
      'has both "AccumVal" and "Error"',
    ],
    [
      'legacy with a string AccumVal',
      j({ ...legacy, Content: { ...legacy.Content, AccumVal: '1' } }),
      'BAD_MESSAGE',
      '"Content.AccumVal" must be a finite number',
    ],
    [
      'both type and ModuleName',
      j({ ...read, ModuleName: 'ClickToCopy' }),
      'BAD_MESSAGE',
      'unknown field "ModuleName"',
    ],
  ];
  for (const [name, text, code, fragment] of rows) {
    it(`gives ${code} for ${name}`, () => {
      let caught: unknown;
      try {
        parsePointReadMessage(text);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ProtocolError);
      expect((caught as ProtocolError).code).toBe(code);
      expect((caught as ProtocolError).message).toContain(fragment);
    });
  }

  it('gives BAD_JSON the parser position as offset', () => {
    expect(() => parsePointReadMessage('{"type":"read"')).toThrow(
      expect.objectContaining({ code: 'BAD_JSON', offset: 14 }),
    );
  });
});

describe('decodePointReadMessage', () => {
  it('returns the message when valid', () => {
    expect(decodePointReadMessage(j(read))).toEqual({ ok: true, message: read });
  });
  it('returns the id of an invalid request so it can be answered', () => {
    const result = decodePointReadMessage(j({ ...read, meter: '10x' }));
    expect(result).toMatchObject({ ok: false, id: 'r1', error: { code: 'BAD_MESSAGE' } });
  });
  it('returns no id for bad JSON', () => {
    const result = decodePointReadMessage('{"id":"r1"');
    expect(result.ok).toBe(false);
    expect(result).not.toHaveProperty('id');
  });
});
