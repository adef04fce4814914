import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, hexToBytes } from './bytes.ts';
import { decodeCjt188 } from './cjt188/decode.ts';
import type { DecodeResult } from './decode-result.ts';
import { decodeDlt645 } from './dlt645/decode.ts';
import {
  type DecodeContext,
  FrameAccumulator,
  type FramerEvent,
  type ResynchronisingDecoder,
} from './framer.ts';
import { decodeGdw376 } from './gdw376/frame.ts';

// Public frames (fixtures/vectors/*.json): C8 from AIXI's `encode_cjt188` self-test, D5/D9 from IDX-70837828970,
// Q1 from KSY `packet-sample/login.3761`.
const C8 = hexToBytes('68 10 12 00 00 00 00 00 00 01 03 90 1F 00 3D 16');
const D5 = hexToBytes('68 12 90 78 56 34 12 68 91 08 33 33 34 33 89 67 45 33 54 16');
const Q1 = hexToBytes('68 32 00 32 00 68 C9 71 01 22 08 00 02 78 00 00 01 00 E0 16');

type AnyDecoder = ResynchronisingDecoder<unknown>;
const DECODERS: [string, AnyDecoder, Uint8Array][] = [
  ['gdw376', decodeGdw376 as AnyDecoder, Q1],
  ['dlt645', decodeDlt645 as AnyDecoder, D5],
  ['cjt188', decodeCjt188 as AnyDecoder, C8],
];

/** The decoder with its start finder, counting its calls. */
function counted(decode: AnyDecoder): { decode: AnyDecoder; calls: () => number } {
  let calls = 0;
  const wrapped = Object.assign(
    (buf: Uint8Array, context?: DecodeContext) => {
      calls++;
      return (decode as (b: Uint8Array, c?: DecodeContext) => DecodeResult<unknown>)(buf, context);
    },
    { nextStart: decode.nextStart, takesContext: decode.takesContext },
  );
  return { decode: wrapped, calls: () => calls };
}

function pushAll(acc: FrameAccumulator<unknown>, stream: Uint8Array, chunk = 4096): FramerEvent<unknown>[] {
  const events: FramerEvent<unknown>[] = [];
  for (let at = 0; at < stream.length; at += chunk) events.push(...acc.push(stream.subarray(at, at + chunk)));
  events.push(...acc.flush());
  return events;
}

const flipChecksum = (frame: Uint8Array) => {
  const bad = frame.slice();
  bad[bad.length - 2] ^= 0x01;
  return bad;
};

describe('framers spend a small constant per input byte (issue 13, item 1)', () => {
  for (const [name, decode, frame] of DECODERS) {
    it(`${name}: 64 KB of 68H take a few decoder calls per chunk, not one per byte, and the frame after them is found`, () => {
      const { decode: spy, calls } = counted(decode);
      const acc = new FrameAccumulator(spy, { maxBufferedBytes: 16391 });
      const events = pushAll(acc, concatBytes([new Uint8Array(65536).fill(0x68), frame]));
      expect(events.filter((e) => e.kind === 'frame')).toHaveLength(1);
      expect(calls()).toBeLessThan(1000);
    });
  }

  it('gdw376: headers that each claim 16383 bytes cost one decoder call each, and their checksums O(1)', () => {
    // 68 FD FF FD FF 68: a sound header (protocol id 01, L = 16383) every 6 bytes, never a whole frame.
    const attack = new Uint8Array(6 * 20000);
    for (let i = 0; i < attack.length; i += 6) attack.set([0x68, 0xfd, 0xff, 0xfd, 0xff, 0x68], i);
    const { decode: spy, calls } = counted(decodeGdw376 as AnyDecoder);
    const acc = new FrameAccumulator(spy, { maxBufferedBytes: 16391 });
    const events = pushAll(acc, concatBytes([attack, Q1]));
    expect(events.filter((e) => e.kind === 'frame')).toHaveLength(1);
    expect(calls()).toBeLessThan(attack.length / 6 + 2 * (attack.length / 4096) + 100);
  });

  it('gdw376 uses the running sums it is given instead of adding the bytes again', () => {
    const bad = flipChecksum(Q1);
    expect(decodeGdw376(bad).kind).toBe('error');
    // A context whose sums say the checksum is right: the decoder believes it, so it did not re-add the bytes.
    const lying: DecodeContext = { sum8: () => bad[bad.length - 2] };
    expect(decodeGdw376(bad, lying).kind).toBe('frame');
  });

  it('drops a length that cannot fit the buffer in one step once it is full, and finds the frame behind it', () => {
    const acc = new FrameAccumulator(decodeGdw376, { maxBufferedBytes: 64 });
    const events = acc.push(concatBytes([hexToBytes('68 FD FF FD FF 68'), Q1, new Uint8Array(64)]));
    expect(events.map((e) => (e.kind === 'frame' ? 'frame' : e.error.code))).toEqual([
      'BUFFER_FULL',
      'frame',
      'NO_START',
    ]);
    expect(events[0]).toMatchObject({ bytes: hexToBytes('68 FD FF FD FF 68') });
  });

  it('counts framed and dropped bytes per stream, and bytes dropped since the last frame', () => {
    const acc = new FrameAccumulator(decodeGdw376);
    acc.push(concatBytes([hexToBytes('01 02 03'), Q1, hexToBytes('04 05')]));
    expect(acc.counts).toEqual({ frames: 1, frameBytes: Q1.length, droppedBytes: 5, droppedSinceFrame: 2 });
    acc.push(new Uint8Array(100));
    expect(acc.counts).toMatchObject({ droppedBytes: 105, droppedSinceFrame: 102 });
  });

  it('reports a long run of junk as adjacent bounded runs, never holding more than the bound', () => {
    const acc = new FrameAccumulator(decodeGdw376, { maxBufferedBytes: 1024 });
    const events = pushAll(acc, new Uint8Array(100_000), 65536);
    expect(events.every((e) => e.kind === 'dropped' && e.bytes.length <= 4096)).toBe(true);
    expect(events.reduce((n, e) => n + (e.kind === 'dropped' ? e.bytes.length : 0), 0)).toBe(100_000);
  });
});

describe('start finders never pass over a frame start', () => {
  const byteArb = fc.oneof(fc.constantFrom(0x68, 0xfe, 0x16, 0x00, 0xaa), fc.integer({ min: 0, max: 255 }));
  for (const [name, decode, frame] of DECODERS) {
    it(`${name}: every offset skipped is one where the decoder rejects the bytes`, () => {
      const pieceArb = fc.oneof(
        fc.array(byteArb, { maxLength: 40 }).map((a) => Uint8Array.from(a)),
        fc.constant(frame),
        fc.tuple(fc.nat(frame.length - 1), fc.nat(255)).map(([at, v]) => {
          const m = frame.slice();
          m[at] = v;
          return m;
        }),
      );
      fc.assert(
        fc.property(fc.array(pieceArb, { maxLength: 6 }), fc.nat(), (pieces, from) => {
          const buf = concatBytes(pieces);
          const start = buf.length === 0 ? 0 : from % buf.length;
          const next = decode.nextStart?.(buf, start) ?? start;
          expect(next).toBeGreaterThanOrEqual(start);
          expect(next).toBeLessThanOrEqual(buf.length);
          for (let j = start; j < next; j++) expect(decode(buf.subarray(j)).kind).toBe('error');
          // A limit only bounds the scan.
          const limit = start + (from % 17);
          expect(decode.nextStart?.(buf, start, undefined, limit)).toBe(Math.min(next, limit, buf.length));
        }),
      );
    });
  }
});

describe('one bad frame is one drop (issue 14, item 6)', () => {
  for (const [name, decode, frame] of DECODERS) {
    it(`${name}: a frame whose L and end byte agree but whose checksum is wrong is one BAD_CHECKSUM drop`, () => {
      const bad = flipChecksum(frame);
      const acc = new FrameAccumulator(decode);
      const events = acc.push(concatBytes([bad, frame]));
      expect(events.map((e) => (e.kind === 'frame' ? 'frame' : e.error.code))).toEqual([
        'BAD_CHECKSUM',
        'frame',
      ]);
      expect(events[0]).toMatchObject({ offset: 0, bytes: bad });
    });
  }
});
