import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../bytes.ts';
import type { DroppedBytes, FramedFrame } from '../framer.ts';
import { CJT188_DEFAULT_MAX_BUFFERED_BYTES } from './constants.ts';
import type { Cjt188Frame } from './frame.ts';
import { Cjt188Framer } from './framer.ts';

const C1 = 'FE FE FE FE 68 10 44 33 22 11 00 33 78 01 03 1F 90 00 80 16';
const C2 =
  'FE FE FE FE 68 10 44 33 22 11 00 33 78 81 16 1F 90 00 00 77 66 55 2C 00 77 66 55 2C 31 01 22 11 05 15 20 21 84 08 16';
const C8 = '68 10 12 00 00 00 00 00 00 01 03 90 1F 00 3D 16';

async function run(chunks: Uint8Array[], framer = new Cjt188Framer()) {
  const dropped: DroppedBytes[] = [];
  framer.on('dropped', (d: DroppedBytes) => dropped.push(d));
  const frames: FramedFrame<Cjt188Frame>[] = [];
  for await (const f of Readable.from(chunks.map((c) => Buffer.from(c))).pipe(framer)) frames.push(f);
  return { frames, dropped };
}

describe('Cjt188Framer', () => {
  it('pipes like a serialport parser: frames out, junk and bad frames reported as dropped', async () => {
    const stream = hexToBytes(`FF 00 ${C1} ${C2} ${C8}`);
    const chunks = [stream.subarray(0, 7), stream.subarray(7, 30), stream.subarray(30)];
    const { frames, dropped } = await run(chunks);
    expect(frames.map((f) => f.frame.body.kind)).toEqual(['read', 'read']);
    expect(frames[0].offset).toBe(2);
    expect(dropped.map((d) => d.error.code)).toEqual(['NO_START', 'BAD_CHECKSUM']);
    expect(dropped[0].bytes).toEqual(Uint8Array.of(0xff, 0x00));
  });

  it('finds a frame that starts inside the bytes of a bad one', async () => {
    // A header whose L reaches into the next frame: the bad candidate is dropped, C8 is still found.
    const { frames } = await run([hexToBytes(`68 10 12 00 00 00 00 00 00 01 08 ${C8}`)]);
    expect(frames.map((f) => f.frame.address)).toEqual(['00000000000012']);
  });

  it('validates its options with TypeErrors that name them', () => {
    expect(new Cjt188Framer().accumulator.maxBufferedBytes).toBe(CJT188_DEFAULT_MAX_BUFFERED_BYTES);
    expect(() => new Cjt188Framer({ maxBufferedBytes: 100 })).toThrow(
      /"maxBufferedBytes" must be an integer of at least 144/,
    );
    expect(() => new Cjt188Framer({ maxDataLength: 300 })).toThrow(/"maxDataLength"/);
    expect(new Cjt188Framer({ maxDataLength: 46, maxBufferedBytes: 75 }).accumulator.maxBufferedBytes).toBe(
      75,
    );
  });

  it('applies maxDataLength and strict to the frames it decodes', async () => {
    const { frames, dropped } = await run(
      [hexToBytes('68 10 12 00 00 00 00 00 00 01 03 90 7F 00 9D 16')],
      new Cjt188Framer({ strict: true }),
    );
    expect(frames).toEqual([]);
    expect(dropped[0].error.code).toBe('UNKNOWN_DI');
  });
});
