import iconv from 'iconv-lite';
import { ProtocolError } from '../errors.ts';

/**
 * Character sets a point-read line can be written in. `gb2312` is what the legacy C# system used
 * (`Encoding.GetEncoding("GB2312")`, which Windows implements as code page 936, i.e. GBK); iconv-lite does the
 * same, so `gb2312` here reads and writes the GBK superset.
 */
export const TEXT_ENCODINGS = ['utf8', 'gb2312'] as const;
export type TextEncodingName = (typeof TEXT_ENCODINGS)[number];

const ALIASES: Record<string, TextEncodingName> = {
  utf8: 'utf8',
  'utf-8': 'utf8',
  gb2312: 'gb2312',
  gbk: 'gb2312',
  cp936: 'gb2312',
};

/**
 * Reads an encoding name from a flag or a config file: `utf8`/`utf-8`, or `gb2312`/`gbk`/`cp936`, any case.
 * @throws ProtocolError `BAD_ENCODING` for any other name.
 */
export function parseTextEncodingName(name: string): TextEncodingName {
  const found = Object.hasOwn(ALIASES, name.toLowerCase()) ? ALIASES[name.toLowerCase()] : undefined;
  if (!found) {
    throw new ProtocolError(
      'BAD_ENCODING',
      `unsupported text encoding "${name}" (expected "utf8" or "gb2312")`,
    );
  }
  return found;
}

const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const utf8Encoder = new TextEncoder();
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Encodes text, strictly: a character the encoding cannot represent is an error, never a silent `?`.
 * (For JSON lines, `encodeLine` escapes such characters as `\uXXXX` instead.)
 * @throws ProtocolError `BAD_ENCODING` for an unsupported encoding name, a lone surrogate, or a character
 * GB2312/GBK has no code for (the message names it and its index).
 */
export function encodeText(text: string, encoding: TextEncodingName): Uint8Array {
  const enc = checked(encoding);
  const lone = LONE_SURROGATE.exec(text);
  if (lone) throw unencodable(text, lone.index, enc);
  if (enc === 'utf8') return utf8Encoder.encode(text);
  const bytes = gbEncode(text);
  if (gbDecode(bytes) === text) return bytes;
  throw unencodable(text, firstUnencodable(text), enc);
}

/**
 * Decodes bytes, strictly: an invalid or truncated sequence is an error, never a silent U+FFFD. A UTF-8 BOM
 * is kept (as U+FEFF), so decoding never changes the byte count it reports.
 * @throws ProtocolError `BAD_ENCODING` for an unsupported encoding name or an invalid byte sequence; `offset`
 * is the index of the first bad byte.
 */
export function decodeText(bytes: Uint8Array, encoding: TextEncodingName): string {
  const enc = checked(encoding);
  const text = enc === 'utf8' ? utf8Decoder.decode(bytes) : gbDecode(bytes);
  // Both decoders replace bad input with U+FFFD. GBK has no code for U+FFFD, so in GB2312 every one is an
  // error; in UTF-8 it may be a real EF BF BD, which the loop skips.
  let from = 0;
  for (;;) {
    const at = text.indexOf('\uFFFD', from);
    if (at < 0) return text;
    // The text before `at` was decoded from valid bytes, so re-encoding it gives the byte offset of `at`.
    const offset =
      enc === 'utf8' ? utf8Encoder.encode(text.slice(0, at)).length : gbEncode(text.slice(0, at)).length;
    const isRealReplacementChar =
      enc === 'utf8' && bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd;
    if (!isRealReplacementChar) {
      const name = enc === 'utf8' ? 'UTF-8' : 'GB2312';
      const hex = bytes[offset]?.toString(16).toUpperCase().padStart(2, '0') ?? '';
      throw new ProtocolError(
        'BAD_ENCODING',
        `invalid ${name} byte sequence at byte ${offset} (${hex}H)`,
        offset,
      );
    }
    from = at + 1;
  }
}

function checked(encoding: string): TextEncodingName {
  // Callers in plain JS or with a cast can pass anything; say so instead of failing inside iconv.
  if ((TEXT_ENCODINGS as readonly string[]).includes(encoding)) return encoding as TextEncodingName;
  return parseTextEncodingName(encoding);
}

function gbEncode(text: string): Uint8Array {
  const buf = iconv.encode(text, 'gb2312');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

function gbDecode(bytes: Uint8Array): string {
  return iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), 'gb2312');
}

/** True if GB2312/GBK has a code for this character (a whole code point). @internal */
export function gbEncodable(char: string): boolean {
  return gbDecode(gbEncode(char)) === char;
}

function firstUnencodable(text: string): number {
  let index = 0;
  for (const char of text) {
    if (!gbEncodable(char)) return index;
    index += char.length;
  }
  return index;
}

function unencodable(text: string, index: number, enc: TextEncodingName): ProtocolError {
  const code = text.codePointAt(index) ?? 0;
  const hex = code.toString(16).toUpperCase().padStart(4, '0');
  const what = code >= 0xd800 && code <= 0xdfff ? 'a lone surrogate' : `"${String.fromCodePoint(code)}"`;
  const name = enc === 'utf8' ? 'UTF-8' : 'GB2312';
  return new ProtocolError(
    'BAD_ENCODING',
    `${what} (U+${hex}) at index ${index} cannot be encoded in ${name}`,
  );
}
