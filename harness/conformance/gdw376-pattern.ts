import { sum8 } from '../../protocols/bytes.ts';
import { type Bad, type HexToken, hexToken, matchHex } from './data-cases.ts';

/**
 * Spaced-hex patterns of whole Q/GDW 376.1 frames, shared by the master and concentrator roles' data cases
 * (the meter role's patterns are in meter/data-cases.ts, over meter frames).
 *
 * Tokens (beyond a hex byte, `*` and `...`, data-cases.ts): `{L}` the two L bytes of this frame with protocol
 * id 2, `{L1}` the same with protocol id 1 (Q/GDW 130-2005, docs/field-notes.md §8); `{A}` A1 A2 of the
 * terminal (4 bytes, wire order: docs/gdw376.md §3.1; A3, the master's address byte, is the next byte); `{SEQ:x}` the SEQ byte with high nibble x and the case's
 * PSEQ (in an answer, `{SEQ:6}` is the single-frame echo RSEQ = PSEQ); `{CS}` the checksum from C to the byte
 * before it (computed in a frame to send, checked in an answer). The concentrator role adds `{PORT}` the
 * forward's port byte, `{ADDR}` the forwarded meter's address in its protocol's wire order, `{K}` the two bytes
 * of the AFN 10H F1 length k (checked: the bytes after it up to the AUX — EC when ACD = 1, Tp when TpV = 1 —
 * docs/gdw376.md §3.1, §3.4) and `{MCS}` the embedded meter frame's checksum (from its first 68H after `{K}`).
 * @packageDocumentation
 */

export type Gdw376Token =
  | HexToken
  | { kind: 'l'; id: 1 | 2 }
  | { kind: 'a' }
  | { kind: 'seq'; high: number }
  | { kind: 'cs' }
  | { kind: 'port' }
  | { kind: 'addr' }
  | { kind: 'k' }
  | { kind: 'mcs' };

type OwnToken = Exclude<Gdw376Token, HexToken>;

/** The tokens a role allows beyond the master's. */
export type Gdw376Extra = 'port' | 'addr' | 'k' | 'mcs';

/** Values the placeholders stand for in one run of one case. */
export interface Gdw376Values {
  /** A1 A2 as on the wire. */
  a: number[];
  pseq: number;
  port?: number;
  addr?: Uint8Array;
}

const EXTRA_WORDS: Record<string, Gdw376Extra> = {
  '{PORT}': 'port',
  '{ADDR}': 'addr',
  '{K}': 'k',
  '{MCS}': 'mcs',
};

/**
 * Compiles a pattern; `extras` are the role's own tokens beyond the master's. `send`: a frame to send, which
 * must say every byte. @throws via `bad` naming the token.
 */
export function compileGdw376(
  pattern: string,
  where: string,
  bad: Bad,
  options: { extras?: readonly Gdw376Extra[]; send?: boolean } = {},
): Gdw376Token[] {
  const extras = options.extras ?? [];
  const tokens: Gdw376Token[] = [];
  for (const word of pattern.trim().split(/\s+/)) {
    const common = hexToken(word);
    const extra = Object.hasOwn(EXTRA_WORDS, word) ? EXTRA_WORDS[word] : undefined;
    if (common) tokens.push(common);
    else if (word === '{L}' || word === '{L1}') tokens.push({ kind: 'l', id: word === '{L}' ? 2 : 1 });
    else if (word === '{A}') tokens.push({ kind: 'a' });
    else if (word === '{CS}') tokens.push({ kind: 'cs' });
    else if (/^\{SEQ:[0-9A-Fa-f]\}$/.test(word))
      tokens.push({ kind: 'seq', high: Number.parseInt(word[5], 16) });
    else if (extra && extras.includes(extra)) tokens.push({ kind: extra });
    else {
      const words = ['{L}', '{L1}', '{A}', '{SEQ:x}', '{CS}', ...extras.map((e) => `{${e.toUpperCase()}}`)];
      throw bad(where, `"${word}" is not a hex byte, *, ..., ${words.join(', ')}`);
    }
  }
  if (options.send) {
    if (tokens.some((t) => t.kind === 'any' || t.kind === 'rest')) {
      throw bad(where, '"*" and "..." match bytes; a frame to send cannot contain them');
    }
    if (tokens.some((t) => t.kind === 'k' || t.kind === 'mcs')) {
      throw bad(where, '{K} and {MCS} are checked in an answer; a frame to send gives those bytes');
    }
  }
  const k = tokens.findIndex((t) => t.kind === 'k');
  const mcs = tokens.findIndex((t) => t.kind === 'mcs');
  if (mcs >= 0 && (k < 0 || k > mcs))
    throw bad(where, '{MCS} needs a {K} before it (where the meter frame starts)');
  return tokens;
}

/** The bytes of a frame to send: L from the frame's length, CS over C … the byte before CS. */
export function gdw376Bytes(tokens: readonly Gdw376Token[], v: Gdw376Values): Uint8Array {
  const out: number[] = [];
  const lAt: { at: number; id: 1 | 2 }[] = [];
  let csAt = -1;
  for (const t of tokens) {
    if (t.kind === 'byte') out.push(t.value);
    else if (t.kind === 'a') out.push(...v.a);
    else if (t.kind === 'seq') out.push((t.high << 4) | v.pseq);
    else if (t.kind === 'port') out.push((v.port ?? 0) & 0xff);
    else if (t.kind === 'addr') out.push(...(v.addr ?? []));
    else if (t.kind === 'l') {
      lAt.push({ at: out.length, id: t.id });
      out.push(0, 0);
    } else if (t.kind === 'cs') {
      csAt = out.length;
      out.push(0);
    }
  }
  const userEnd = csAt >= 0 ? csAt : out.length - 2;
  const l = ((Math.max(0, userEnd - 6) << 2) >>> 0) & 0xffff;
  for (const { at, id } of lAt) {
    out[at] = (l | id) & 0xff;
    out[at + 1] = (l >> 8) & 0xff;
  }
  const bytes = Uint8Array.from(out);
  if (csAt >= 0) bytes[csAt] = sum8(bytes, 6, csAt);
  return bytes;
}

/** Where the embedded meter frame starts (after `{K}`), carried through a match. */
interface MatchState {
  kEnd: number;
}

/** Whether `bytes` (one whole frame) matches the pattern. */
export function matchesGdw376(tokens: readonly Gdw376Token[], bytes: Uint8Array, v: Gdw376Values): boolean {
  const l = (bytes.length - 8) << 2;
  // AUX of an uplink frame: EC (2) when ACD (C D5) is set, Tp (6) when TpV (SEQ D7) is (docs/gdw376.md §3.1).
  const aux = ((bytes[6] ?? 0) & 0x20 ? 2 : 0) + ((bytes[13] ?? 0) & 0x80 ? 6 : 0);
  const one = (ok: boolean, s: MatchState) => (ok ? { length: 1, state: s } : undefined);
  return matchHex<OwnToken, MatchState>(tokens, bytes, { kEnd: -1 }, (t, b, at, s) => {
    switch (t.kind) {
      case 'seq':
        return one(b[at] === ((t.high << 4) | v.pseq), s);
      case 'port':
        return one(b[at] === v.port, s);
      case 'a':
      case 'addr': {
        const want = t.kind === 'a' ? v.a : [...(v.addr ?? [])];
        return want.every((x, i) => b[at + i] === x) ? { length: want.length, state: s } : undefined;
      }
      case 'l':
        return b[at] === ((l | t.id) & 0xff) && b[at + 1] === ((l >> 8) & 0xff)
          ? { length: 2, state: s }
          : undefined;
      case 'cs':
        return one(at >= 6 && b[at] === sum8(b, 6, at), s);
      case 'k': {
        const k = b.length - 2 - aux - (at + 2);
        return k >= 0 && b[at] === (k & 0xff) && b[at + 1] === k >> 8
          ? { length: 2, state: { kEnd: at + 2 } }
          : undefined;
      }
      case 'mcs': {
        const start = b.indexOf(0x68, s.kEnd);
        return one(start >= 0 && start < at && b[at] === sum8(b, start, at), s);
      }
    }
  });
}

/** A1 (BCD, low byte first) and A2 (binary, low byte first) as on the wire (docs/gdw376.md §3.1). */
export function terminalBytes(a1: string, a2: number): number[] {
  const bcd = (two: string) => Number.parseInt(two, 16);
  return [bcd(a1.slice(2, 4)), bcd(a1.slice(0, 2)), a2 & 0xff, (a2 >> 8) & 0xff];
}
