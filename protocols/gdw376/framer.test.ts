import { Readable } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, hexToBytes } from '../bytes.ts';
import { FrameAccumulator, type FramedFrame, type FramerEvent } from '../framer.ts';
import { gdw376FrameArb, gdw376NoiseArb } from './arbitraries.ts';
import { buildForwardRequest } from './builders.ts';
import { decodeGdw376, encodeGdw376, GDW376_MAX_FRAME_LENGTH } from './frame.ts';
import { GDW376_DEFAULT_MAX_BUFFERED_BYTES, Gdw376Framer } from './framer.ts';
import type { Gdw376Frame } from './types.ts';

const frames = (events: FramerEvent<Gdw376Frame>[]) =>
  events.flatMap((e) => (e.kind === 'frame' ? [e.frame] : []));

function feed(chunks: Uint8Array[], maxBufferedBytes = GDW376_DEFAULT_MAX_BUFFERED_BYTES) {
  const acc = new FrameAccumulator(decodeGdw376, { maxBufferedBytes });
  const events: FramerEvent<Gdw376Frame>[] = [];
  for (const c of chunks) {
    events.push(...acc.push(c));
    expect(acc.buffered).toBeLessThanOrEqual(maxBufferedBytes);
  }
  events.push(...acc.flush());
  return events;
}

function split(stream: Uint8Array, cuts: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const c of cuts) {
    const end = Math.min(stream.length, at + (c % 40));
    chunks.push(stream.subarray(at, end));
    at = end;
  }
  chunks.push(stream.subarray(at));
  return chunks;
}

const Q1 = hexToBytes('68 32 00 32 00 68 C9 71 01 22 08 00 02 78 00 00 01 00 E0 16');
const Q22 = hexToBytes('68 32 00 32 00 68 C9 00 50 41 14 00 02 77 00 00 04 00 31 09 14 14 B2 18 EB 16');

describe('Gdw376Framer', () => {
  it('bounds its buffer by default at the longest legal frame, 16383 + 8 bytes', () => {
    expect(GDW376_DEFAULT_MAX_BUFFERED_BYTES).toBe(16391);
    expect(GDW376_MAX_FRAME_LENGTH).toBe(16391);
    expect(new Gdw376Framer().accumulator.maxBufferedBytes).toBe(16391);
  });

  it('frames the longest legal frame', () => {
    const frame: Gdw376Frame = {
      ...(frames(feed([Q1]))[0] as Gdw376Frame),
      afn: 0x0e,
      units: [{ pn: [0], fn: [1], body: { kind: 'opaque', data: '' } }],
    };
    const data = new Uint8Array(16383 - 12);
    frame.units[0].body = { kind: 'opaque', data: Array.from(data, () => '00').join(' ') };
    const bytes = encodeGdw376(frame);
    expect(bytes.length).toBe(16391);
    expect(frames(feed(split(bytes, [1000, 5000, 9000])))).toHaveLength(1);
  });

  it('reports junk before a frame and resynchronises after Q22 to find the next frame', () => {
    const events = feed([concatBytes([hexToBytes('01 02 03'), Q22, Q1])]);
    expect(events.map((e) => (e.kind === 'frame' ? 'frame' : e.error.code))).toEqual([
      'NO_START',
      'BAD_LENGTH',
      'frame',
    ]);
    const dropped = events.filter((e) => e.kind === 'dropped');
    expect(dropped.reduce((n, e) => n + (e.kind === 'dropped' ? e.bytes.length : 0), 0)).toBe(3 + Q22.length);
  });

  it('finds a frame that starts inside a rejected frame', () => {
    // A bad header 68 32 00 4A 00 whose L copies differ, immediately followed by a whole frame.
    const stream = concatBytes([hexToBytes('68 32 00 4A 00'), Q1]);
    expect(frames(feed([stream]))).toHaveLength(1);
  });

  it('finds a frame carried inside a frame whose checksum is bad', () => {
    const inner = encodeGdw376(frames(feed([Q1]))[0] as Gdw376Frame);
    const outer = encodeGdw376(
      buildForwardRequest({ a1: '0200', a2: 0x1234, seq: 1, port: 31, content: inner }),
    );
    outer[outer.length - 2] ^= 0xff;
    const events = feed([outer]);
    expect(events.find((e) => e.kind === 'dropped')?.error.code).toBe('BAD_CHECKSUM');
    expect(frames(events)).toEqual([frames(feed([Q1]))[0]]);
  });

  it('drops a frame longer than a small bound as BUFFER_FULL and keeps the bound', () => {
    const big = encodeGdw376(
      buildForwardRequest({ a1: '0200', a2: 0x1234, seq: 1, port: 31, content: new Uint8Array(100) }),
    );
    const events = feed([concatBytes([big, Q1])], 64);
    expect(events.some((e) => e.kind === 'dropped' && e.error.code === 'BUFFER_FULL')).toBe(true);
    expect(frames(events)).toHaveLength(1);
    expect(() => new Gdw376Framer({ maxBufferedBytes: 8 })).toThrow(/maxBufferedBytes/);
  });

  it('yields the same frames for any chunking', () => {
    fc.assert(
      fc.property(fc.array(gdw376FrameArb, { maxLength: 5 }), fc.array(fc.nat()), (list, cuts) => {
        const stream = concatBytes(list.map(encodeGdw376));
        expect(frames(feed(split(stream, cuts)))).toEqual(list);
      }),
    );
  });

  it('never loses a valid frame to junk between frames', () => {
    const junkArb = fc.uint8Array({ maxLength: 30 }).filter((j) => !j.includes(0x68));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(junkArb, gdw376FrameArb), { maxLength: 5 }),
        fc.array(fc.nat()),
        (pairs, cuts) => {
          const stream = concatBytes(pairs.flatMap(([junk, f]) => [junk, encodeGdw376(f)]));
          const events = feed(split(stream, cuts));
          expect(frames(events)).toEqual(pairs.map(([, f]) => f));
          const dropped = events.reduce((n, e) => n + (e.kind === 'dropped' ? e.bytes.length : 0), 0);
          expect(dropped).toBe(pairs.reduce((n, [j]) => n + j.length, 0));
        },
      ),
    );
  });

  it('never loses a valid frame to noise that looks like a frame start', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(gdw376NoiseArb, gdw376FrameArb), { maxLength: 4 }), (pairs) => {
        // Noise is followed by enough frames that a false header's length is always covered before the end.
        const tail = Array.from({ length: 20 }, () => Q1);
        const stream = concatBytes([...pairs.flatMap(([n, f]) => [n, encodeGdw376(f)]), ...tail]);
        const got = frames(feed([stream]));
        // Every real frame is found in order (noise may contain extra frames by chance).
        let at = 0;
        for (const want of [...pairs.map(([, f]) => f), ...tail.map(() => frames(feed([Q1]))[0])]) {
          while (at < got.length && !isDeepStrictEqual(got[at], want)) at++;
          expect(at).toBeLessThan(got.length);
          at++;
        }
      }),
    );
  });

  it('stays within its bound on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.array(gdw376NoiseArb, { maxLength: 10 }), (chunks) => {
        feed(chunks, 64);
      }),
    );
  });

  it('pipes as a Node Transform and emits dropped runs as events', async () => {
    const framer = new Gdw376Framer();
    const dropped: string[] = [];
    framer.on('dropped', (e: { error: { code: string } }) => dropped.push(e.error.code));
    Readable.from([hexToBytes('00 00'), Q1.subarray(0, 7), Q1.subarray(7)].map((b) => Buffer.from(b))).pipe(
      framer,
    );
    const out: FramedFrame<Gdw376Frame>[] = [];
    for await (const f of framer) out.push(f as FramedFrame<Gdw376Frame>);
    expect(out.map((f) => f.offset)).toEqual([2]);
    expect(out[0].frame).toMatchObject({ a1: '0171', units: [{ body: { kind: 'login' } }] });
    expect(dropped).toEqual(['NO_START']);
  });
});
