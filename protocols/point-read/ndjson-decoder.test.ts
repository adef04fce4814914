import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../bytes.ts';
import { anyPointReadMessageArb } from './arbitraries.ts';
import { encodeLine } from './encode-line.ts';
import { NdjsonDecoder, type NdjsonEvent } from './ndjson-decoder.ts';
import type { TextEncodingName } from './text-encoding.ts';
import type { ReadError } from './types.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);
const read = { type: 'read', id: 'r1', concentrator: '101', meter: '101001' } as const;
const messages = (events: NdjsonEvent[]) => events.flatMap((e) => (e.kind === 'message' ? [e.message] : []));
const codes = (events: NdjsonEvent[]) => events.map((e) => (e.kind === 'message' ? 'ok' : e.error.code));
const charsetArb = fc.constantFrom<TextEncodingName>('utf8', 'gb2312');

/** Feeds `stream` cut at `cuts` (any numbers; reduced into range) and flushes. */
function feed(decoder: NdjsonDecoder, stream: Uint8Array, cuts: number[]): NdjsonEvent[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const events: NdjsonEvent[] = [];
  let from = 0;
  for (const p of [...points, stream.length]) {
    events.push(...decoder.push(stream.subarray(from, p)));
    from = p;
  }
  return [...events, ...decoder.flush()];
}

describe('encodeLine', () => {
  it('writes GB2312 Chinese byte-exact, then \\n', () => {
    const err: ReadError = { type: 'error', id: 'r1', code: 'BUSY', message: '不要重复发送' };
    const line = encodeLine(err, 'gb2312');
    const prefix = utf8('{"type":"error","id":"r1","code":"BUSY","message":"');
    const chinese = [0xb2, 0xbb, 0xd2, 0xaa, 0xd6, 0xd8, 0xb8, 0xb4, 0xb7, 0xa2, 0xcb, 0xcd];
    expect([...line]).toEqual([...prefix, ...chinese, ...utf8('"}\n')]);
  });
  it('escapes a character GB2312 lacks as \\uXXXX, which parses back to it', () => {
    const err: ReadError = { type: 'error', code: 'BUSY', message: '忙😀' };
    const line = encodeLine(err, 'gb2312');
    expect(new TextDecoder('latin1').decode(line)).toContain('\\ud83d\\ude00');
    expect(messages(new NdjsonDecoder({ charset: 'gb2312' }).push(line))).toEqual([err]);
  });
  it('defaults to UTF-8', () => {
    expect(new TextDecoder().decode(encodeLine(read))).toBe(`${JSON.stringify(read)}\n`);
  });
});

describe('NdjsonDecoder', () => {
  it('reads messages in the given charset', () => {
    const err: ReadError = { type: 'error', id: 'r1', code: 'BUSY', message: '不要重复发送' };
    const gb = new NdjsonDecoder({ charset: 'gb2312' });
    expect(messages(gb.push(concatBytes([encodeLine(read, 'gb2312'), encodeLine(err, 'gb2312')])))).toEqual([
      read,
      err,
    ]);
  });
  it('reports each bad line and reads the next one as usual', () => {
    const d = new NdjsonDecoder({ maxLineLength: 200 });
    const stream = concatBytes([
      utf8('{"type":\n'),
      utf8(`${JSON.stringify({ ...read, meter: '10x' })}\n`),
      Uint8Array.from([0xff, 0x0a]),
      utf8(`${'x'.repeat(300)}\n`),
      encodeLine(read),
      utf8('{"type":"read"'),
    ]);
    expect(codes([...d.push(stream), ...d.flush()])).toEqual([
      'BAD_JSON',
      'BAD_MESSAGE',
      'BAD_ENCODING',
      'TOO_LONG',
      'ok',
      'TRUNCATED',
    ]);
  });
  it('gives the id of a bad request with its line and offset', () => {
    const first = encodeLine(read);
    const bad = utf8(`${JSON.stringify({ ...read, port: 99 })}\r\n`);
    const [, event] = new NdjsonDecoder().push(concatBytes([first, bad]));
    expect(event).toMatchObject({
      kind: 'bad-line',
      id: 'r1',
      offset: first.length,
      error: { code: 'BAD_MESSAGE' },
    });
  });
  it('rejects an unknown charset', () => {
    expect(() => new NdjsonDecoder({ charset: 'big5' as TextEncodingName })).toThrow(
      expect.objectContaining({ code: 'BAD_ENCODING' }),
    );
  });
  it('yields the same messages for any chunking of the stream, in either charset', () => {
    fc.assert(
      fc.property(
        fc.array(anyPointReadMessageArb, { maxLength: 8 }),
        charsetArb,
        fc.array(fc.nat(), { maxLength: 20 }),
        (msgs, charset, cuts) => {
          const stream = concatBytes(msgs.map((m) => encodeLine(m, charset)));
          const events = feed(new NdjsonDecoder({ charset }), stream, cuts);
          expect(codes(events).every((c) => c === 'ok')).toBe(true);
          expect(messages(events)).toEqual(msgs);
        },
      ),
    );
  });
  it('never throws on arbitrary bytes and never holds more than maxLineLength', () => {
    // Bias towards newlines and JSON-ish bytes, so short lines, long lines and near-messages all occur.
    const byteArb = fc.oneof(
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(...utf8('\n\r{}":,[]0123 type read')),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 128 }),
        charsetArb,
        fc.array(fc.array(byteArb, { maxLength: 300 }), { maxLength: 10 }),
        (max, charset, chunks) => {
          const d = new NdjsonDecoder({ maxLineLength: max, charset });
          for (const chunk of chunks) {
            for (const e of d.push(Uint8Array.from(chunk))) expect(e.bytes.length).toBeLessThanOrEqual(max);
            expect(d.buffered).toBeLessThanOrEqual(max);
          }
          d.flush();
          expect(d.buffered).toBe(0);
        },
      ),
    );
  });
  it('reports an over-long line without keeping it, and still reads the messages around it', () => {
    fc.assert(
      fc.property(
        anyPointReadMessageArb,
        fc.integer({ min: 1, max: 5000 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (msg, extra, cuts) => {
          const line = encodeLine(msg);
          const max = line.length; // the good lines fit (their \n is not counted)
          const long = utf8(`${'y'.repeat(max + extra)}\n`);
          const d = new NdjsonDecoder({ maxLineLength: max });
          const events = feed(d, concatBytes([line, long, line]), cuts);
          expect(codes(events)).toEqual(['ok', 'TOO_LONG', 'ok']);
          expect(events[1]).toMatchObject({ offset: line.length });
          expect(events[1].bytes.length).toBe(max);
        },
      ),
    );
  });
});
