import { encodePointReadMessage } from './encode.ts';
import { encodeText, gbEncodable, type TextEncodingName } from './text-encoding.ts';
import type { AnyPointReadMessage } from './types.ts';

/**
 * One NDJSON line: the message's JSON (see `encodePointReadMessage`) in `encoding`, then `\n`.
 *
 * In GB2312, a character GB2312/GBK has no code for (an emoji in an error text, say) is written as a JSON
 * `\uXXXX` escape instead of failing or becoming `?`: it can only occur inside a JSON string, where the
 * escape means the same character, so every message can be sent in either encoding.
 * @throws ProtocolError `BAD_MESSAGE` if `msg` is not valid; `BAD_ENCODING` for an unknown encoding name.
 */
export function encodeLine(msg: AnyPointReadMessage, encoding: TextEncodingName = 'utf8'): Uint8Array {
  let json = encodePointReadMessage(msg);
  if (encoding === 'gb2312') json = escapeUnencodable(json);
  return encodeText(`${json}\n`, encoding);
}

/** Replaces every non-ASCII character GB2312/GBK cannot encode with `\uXXXX` escapes (UTF-16 units). */
function escapeUnencodable(json: string): string {
  if (gbEncodable(json)) return json; // the usual case: ASCII and Chinese only
  let out = '';
  for (const char of json) {
    if (char.charCodeAt(0) < 0x80 || gbEncodable(char)) {
      out += char;
    } else {
      for (let i = 0; i < char.length; i++) out += `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`;
    }
  }
  return out;
}
