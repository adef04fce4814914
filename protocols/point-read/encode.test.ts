import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anyPointReadMessageArb } from './arbitraries.ts';
import { encodePointReadMessage } from './encode.ts';
import { parsePointReadMessage } from './parse.ts';
import type { ReadRequest } from './types.ts';

describe('encodePointReadMessage', () => {
  it('writes the canonical key order without absent fields', () => {
    const msg: ReadRequest = {
      meter: '101001',
      id: 'r1',
      type: 'read',
      concentrator: '101',
      port: undefined,
    };
    expect(encodePointReadMessage(msg)).toBe(
      '{"type":"read","id":"r1","concentrator":"101","meter":"101001"}',
    );
  });
  it('writes the legacy form as the old page did', () => {
    const text = '{"ModuleName":"ClickToCopy","Content":{"ConcentratorNo":"101","WaterMtrAddress":"101001"}}';
    expect(encodePointReadMessage(parsePointReadMessage(text))).toBe(text);
  });
  it('refuses to encode an invalid message', () => {
    const bad = { type: 'read', id: 'r1', concentrator: '101', meter: '10x' } as const;
    expect(() => encodePointReadMessage(bad)).toThrow(expect.objectContaining({ code: 'BAD_MESSAGE' }));
  });
  it('escapes newlines in strings, so a message is one line', () => {
    const text = encodePointReadMessage({ type: 'error', code: 'BAD_REPLY', message: 'a\nb\r\u2028' });
    expect(text).not.toMatch(/[\n\r]/);
  });
  it('round-trips any valid message through parse', () => {
    fc.assert(
      fc.property(anyPointReadMessageArb, (msg) => {
        const text = encodePointReadMessage(msg);
        expect(text).not.toContain('\n');
        expect(parsePointReadMessage(text)).toEqual(msg);
      }),
    );
  });
  it('is a fixed point: encode(parse(encode(m))) = encode(m)', () => {
    fc.assert(
      fc.property(anyPointReadMessageArb, (msg) => {
        const text = encodePointReadMessage(msg);
        expect(encodePointReadMessage(parsePointReadMessage(text))).toBe(text);
      }),
    );
  });
});
