import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../bytes.ts';
import type { DroppedBytes, FramedFrame } from '../framer.ts';
import { DLT645_DEFAULT_MAX_BUFFERED_BYTES } from './constants.ts';
import type { Dlt645Frame } from './frame.ts';
import { DLT645_MIN_BUFFERED_BYTES, Dlt645Framer } from './framer.ts';

const D5 = '68 12 90 78 56 34 12 68 91 08 33 33 34 33 89 67 45 33 54 16';
const D9 = '68 12 90 78 56 34 12 68 91 08 33 33 34 33 89 67 45 33 55 16';
const D7 = 'FE FE FE FE FE FE FE 68 12 90 78 56 34 12 68 93 06 45 C3 AB 89 67 45 07 16';

async function run(chunks: string[], options = {}) {
  const framer = new Dlt645Framer(options);
  const dropped: DroppedBytes[] = [];
  framer.on('dropped', (d: DroppedBytes) => dropped.push(d));
  const frames: FramedFrame<Dlt645Frame>[] = [];
  await new Promise<void>((resolve, reject) => {
    Readable.from(chunks.map((c) => Buffer.from(hexToBytes(c))))
      .pipe(framer)
      .on('data', (f: FramedFrame<Dlt645Frame>) => frames.push(f))
      .on('end', resolve)
      .on('error', reject);
  });
  return { frames, dropped };
}

describe('Dlt645Framer', () => {
  it('frames a reply split across chunks with its preamble', async () => {
    const { frames, dropped } = await run([D7.slice(0, 9), D7.slice(9, 39), D7.slice(39)]);
    expect(frames).toHaveLength(1);
    expect(frames[0].frame).toMatchObject({ preamble: 7, body: { kind: 'read-address-reply' } });
    expect(dropped).toEqual([]);
  });
  it('reports junk, a bad-checksum frame and a truncated tail, and still finds the good frames', async () => {
    const { frames, dropped } = await run([`01 02 ${D5} ${D9}`, `${D5} 68 12`]);
    expect(frames.map((f) => f.offset)).toEqual([2, 42]);
    // D9's L and end byte agree, so its bad checksum is one drop over the whole frame (issue 14, item 6); this
    // assertion listed a second error (BAD_START) on D9's tail before that fix.
    expect(dropped.map((d) => d.error.code)).toEqual(['NO_START', 'BAD_CHECKSUM', 'TRUNCATED']);
    expect(dropped[1]).toMatchObject({ offset: 22, bytes: hexToBytes(D9) });
    expect(dropped[0]).toMatchObject({ offset: 0, bytes: Uint8Array.from([1, 2]) });
  });
  it('finds a frame that starts inside a bad frame', async () => {
    // A header whose L promises 8 bytes, but a whole frame starts 3 bytes after its second 68H.
    const { frames } = await run([`68 12 90 78 56 34 12 68 91 08 00 00 00 ${D5}`]);
    expect(frames).toHaveLength(1);
    expect(frames[0].frame.body).toMatchObject({ value: 1234.56 });
  });
  it('defaults to a 512-byte bound and rejects a bound below the longest frame', () => {
    expect(new Dlt645Framer().accumulator.maxBufferedBytes).toBe(DLT645_DEFAULT_MAX_BUFFERED_BYTES);
    expect(DLT645_MIN_BUFFERED_BYTES).toBe(244);
    expect(() => new Dlt645Framer({ maxBufferedBytes: 100 })).toThrow(TypeError);
    expect(() => new Dlt645Framer({ maxBufferedBytes: 100 })).toThrow(/maxBufferedBytes/);
    expect(new Dlt645Framer({ maxBufferedBytes: 244 }).accumulator.maxBufferedBytes).toBe(244);
  });
  it('never holds more than its bound, even on endless FE', async () => {
    const framer = new Dlt645Framer({ maxBufferedBytes: 244 });
    const events = framer.accumulator.push(new Uint8Array(5000).fill(0xfe));
    expect(framer.accumulator.buffered).toBeLessThanOrEqual(244);
    expect(events.every((e) => e.kind === 'dropped' && e.error.code === 'NO_START')).toBe(true);
  });
  it('finds a frame behind a false start at the very end of the stream', async () => {
    // A read-address request to 680000000000 behind one stray 68H: the stray byte starts a header whose C is
    // 68H and L is 13H, a frame that never completes (found by the junk property).
    const { frames, dropped } = await run(['68 68 00 00 00 00 00 68 68 13 00 4B 16']);
    expect(frames.map((f) => f.frame)).toMatchObject([
      { address: '680000000000', body: { kind: 'read-address' } },
    ]);
    expect(dropped.map((d) => d.error.code)).toEqual(['TRUNCATED']);
  });
});
