import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../bytes.ts';
import { decodeText, encodeText, parseTextEncodingName, type TextEncodingName } from './text-encoding.ts';

// GB2312 codes from the GB 2312-80 table: 不 B2BB, 要 D2AA, 重 D6D8, 复 B8B4, 发 B7A2, 送 CBCD.
const DUPLICATE_GB2312 = 'B2BBD2AAD6D8B8B4B7A2CBCD';

describe('encodeText / decodeText', () => {
  it('encodes 不要重复发送 in GB2312 byte-exact', () => {
    expect(bytesToHex(encodeText('不要重复发送', 'gb2312')).toUpperCase().replace(/\s/g, '')).toBe(
      DUPLICATE_GB2312,
    );
  });
  it('decodes the GB2312 bytes back', () => {
    const bytes = Uint8Array.from(DUPLICATE_GB2312.match(/../g)!.map((h) => Number.parseInt(h, 16)));
    expect(decodeText(bytes, 'gb2312')).toBe('不要重复发送');
  });
  it('encodes UTF-8 byte-exact', () => {
    expect([...encodeText('不', 'utf8')]).toEqual([0xe4, 0xb8, 0x8d]);
  });
  it('refuses a character GB2312 cannot encode, naming it', () => {
    expect(() => encodeText('ok😀', 'gb2312')).toThrow(
      expect.objectContaining({
        code: 'BAD_ENCODING',
        message: expect.stringContaining('U+1F600) at index 2'),
      }),
    );
  });
  it('refuses a lone surrogate in either encoding', () => {
    for (const enc of ['utf8', 'gb2312'] as const) {
      expect(() => encodeText('a\uD800', enc)).toThrow(
        expect.objectContaining({ code: 'BAD_ENCODING', message: expect.stringContaining('lone surrogate') }),
      );
    }
  });
  it('refuses invalid GB2312 bytes with the offset of the first bad byte', () => {
    expect(() => decodeText(Uint8Array.from([0x41, 0xb2, 0xbb, 0xff, 0x41]), 'gb2312')).toThrow(
      expect.objectContaining({ code: 'BAD_ENCODING', offset: 3 }),
    );
    expect(() => decodeText(Uint8Array.from([0x41, 0xb2]), 'gb2312')).toThrow(
      expect.objectContaining({ code: 'BAD_ENCODING', offset: 1 }),
    );
  });
  it('refuses invalid UTF-8 with the offset, but keeps a real U+FFFD', () => {
    expect(() => decodeText(Uint8Array.from([0xef, 0xbf, 0xbd, 0x41, 0xc3]), 'utf8')).toThrow(
      expect.objectContaining({ code: 'BAD_ENCODING', offset: 4 }),
    );
    expect(decodeText(Uint8Array.from([0xef, 0xbf, 0xbd]), 'utf8')).toBe('\uFFFD');
  });
  it('keeps a UTF-8 BOM as U+FEFF', () => {
    expect(decodeText(Uint8Array.from([0xef, 0xbb, 0xbf, 0x41]), 'utf8')).toBe('\uFEFFA');
  });
  it('gives BAD_ENCODING for an unsupported name', () => {
    expect(() => encodeText('a', 'latin1' as TextEncodingName)).toThrow(
      expect.objectContaining({ code: 'BAD_ENCODING', message: expect.stringContaining('"latin1"') }),
    );
    expect(() => parseTextEncodingName('big5')).toThrow(expect.objectContaining({ code: 'BAD_ENCODING' }));
  });
  it('accepts common spellings of the names', () => {
    expect(['UTF-8', 'utf8', 'GB2312', 'gbk', 'CP936'].map(parseTextEncodingName)).toEqual([
      'utf8',
      'utf8',
      'gb2312',
      'gb2312',
      'gb2312',
    ]);
  });
  it('round-trips any well-formed text in UTF-8', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        expect(decodeText(encodeText(text, 'utf8'), 'utf8')).toBe(text);
      }),
    );
  });
  it('round-trips ASCII and common Chinese text in GB2312', () => {
    const chars = fc.constantFrom(...'不要重复发送表计集中器抄读成功失败阀门电池欠压 abc123{}":,'.split(''));
    fc.assert(
      fc.property(fc.string({ unit: chars }), (text) => {
        expect(decodeText(encodeText(text, 'gb2312'), 'gb2312')).toBe(text);
      }),
    );
  });
  it('never throws anything but BAD_ENCODING on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array(), fc.constantFrom('utf8', 'gb2312' as const), (bytes, enc) => {
        try {
          decodeText(bytes, enc);
        } catch (error) {
          expect(error).toMatchObject({ code: 'BAD_ENCODING' });
        }
      }),
    );
  });
});
