import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { encodeLine } from './encode-line.ts';
import type { BadLine } from './line-splitter.ts';
import { NdjsonFramer } from './ndjson-framer.ts';
import type { AnyPointReadMessage, ReadError } from './types.ts';

const read = { type: 'read', id: 'r1', concentrator: '017102082', meter: '00000000101001' } as const;
const err: ReadError = { type: 'error', id: 'r1', code: 'METER_TIMEOUT', message: '表计无应答' };

async function run(chunks: Uint8Array[], framer: NdjsonFramer) {
  const out: AnyPointReadMessage[] = [];
  const bad: BadLine[] = [];
  framer.on('bad-line', (line: BadLine) => bad.push(line));
  await pipeline(Readable.from(chunks.map((c) => Buffer.from(c))), framer, async (source) => {
    for await (const msg of source) out.push(msg as AnyPointReadMessage);
  });
  return { out, bad };
}

describe('NdjsonFramer', () => {
  it('pushes one parsed message per line, split across chunks', async () => {
    const bytes = Buffer.concat([encodeLine(read, 'gb2312'), encodeLine(err, 'gb2312')]);
    const chunks = [
      bytes.subarray(0, 5),
      bytes.subarray(5, bytes.length - 3),
      bytes.subarray(bytes.length - 3),
    ];
    const { out, bad } = await run(chunks, new NdjsonFramer({ charset: 'gb2312' }));
    expect(out).toEqual([read, err]);
    expect(bad).toEqual([]);
  });
  it('emits bad lines as events and keeps going; a partial last line is TRUNCATED', async () => {
    const chunks = [
      Buffer.from('not json\n'),
      Buffer.from(`${'z'.repeat(100)}\n`),
      encodeLine(read),
      Buffer.from('{"type":"read"'),
    ];
    const { out, bad } = await run(chunks, new NdjsonFramer({ maxLineLength: 90 }));
    expect(out).toEqual([read]);
    expect(bad.map((b) => b.error.code)).toEqual(['BAD_JSON', 'TOO_LONG', 'TRUNCATED']);
  });
  it('validates its options', () => {
    expect(() => new NdjsonFramer({ maxLineLength: 0 })).toThrow(TypeError);
  });
});
