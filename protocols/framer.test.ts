import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecodeResult } from './decode-result.ts';
import { ProtocolError } from './errors.ts';
import { FrameAccumulator, type FramerEvent, FramerStream } from './framer.ts';

// A toy protocol for the framer's own tests: `AA len payload…`; anything else is junk up to the next AA.
function decodeToy(buf: Uint8Array): DecodeResult<number[]> {
  if (buf[0] !== 0xaa) {
    const next = buf.indexOf(0xaa, 1);
    return {
      kind: 'error',
      error: new ProtocolError('NO_START', 'junk'),
      skip: next < 0 ? buf.length : next,
    };
  }
  if (buf.length < 2) return { kind: 'need-more' };
  const total = 2 + buf[1];
  if (buf.length < total) return { kind: 'need-more', atLeast: total };
  return { kind: 'frame', frame: [...buf.subarray(2, total)], consumed: total };
}

const frames = (events: FramerEvent<number[]>[]) =>
  events.flatMap((e) => (e.kind === 'frame' ? [e.frame] : []));

describe('FrameAccumulator', () => {
  it('reports junk before a frame as one dropped run with its offset', () => {
    const acc = new FrameAccumulator(decodeToy);
    const events = acc.push(Uint8Array.from([1, 2, 3, 0xaa, 1, 9]));
    expect(events[0]).toMatchObject({ kind: 'dropped', offset: 0, bytes: Uint8Array.from([1, 2, 3]) });
    expect(events[1]).toMatchObject({ kind: 'frame', frame: [9], offset: 3 });
  });
  it('reports a partial frame at end of stream as TRUNCATED', () => {
    const acc = new FrameAccumulator(decodeToy);
    expect(acc.push(Uint8Array.from([0xaa, 5, 1]))).toEqual([]);
    const [event] = acc.flush();
    expect(event.kind === 'dropped' && event.error.code).toBe('TRUNCATED');
  });
  it('never holds more than maxBufferedBytes and says BUFFER_FULL when it drops', () => {
    const acc = new FrameAccumulator(decodeToy, { maxBufferedBytes: 16 });
    const events = acc.push(Uint8Array.from([0xaa, 200, ...new Array(40).fill(0)]));
    expect(acc.buffered).toBeLessThanOrEqual(16);
    expect(events.some((e) => e.kind === 'dropped' && e.error.code === 'BUFFER_FULL')).toBe(true);
  });
  it('rejects a bound below 16 bytes', () => {
    expect(() => new FrameAccumulator(decodeToy, { maxBufferedBytes: 3 })).toThrow(/maxBufferedBytes/);
  });
  it('yields the same frames for any chunking', () => {
    const frameArb = fc.uint8Array({ maxLength: 20 }).map((p) => [0xaa, p.length, ...p]);
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 10 }), fc.array(fc.nat()), (list, cuts) => {
        const stream = Uint8Array.from(list.flat());
        const whole = new FrameAccumulator(decodeToy);
        const expected = frames([...whole.push(stream), ...whole.flush()]);
        const chunked = new FrameAccumulator(decodeToy);
        const got: number[][] = [];
        let at = 0;
        for (const c of cuts) {
          const end = Math.min(stream.length, at + (c % 7));
          got.push(...frames(chunked.push(stream.subarray(at, end))));
          at = end;
        }
        got.push(...frames(chunked.push(stream.subarray(at))), ...frames(chunked.flush()));
        expect(got).toEqual(expected);
        expect(expected).toEqual(list.map((f) => f.slice(2)));
      }),
    );
  });
});

describe('FramerStream', () => {
  it('pushes frame objects and emits dropped events', async () => {
    const stream = new FramerStream(decodeToy);
    const dropped: unknown[] = [];
    stream.on('dropped', (d) => dropped.push(d));
    const out: unknown[] = [];
    stream.on('data', (f) => out.push(f));
    stream.write(Buffer.from([7, 0xaa, 2]));
    stream.end(Buffer.from([4, 5]));
    await new Promise((r) => stream.on('end', r));
    expect(out).toEqual([{ kind: 'frame', frame: [4, 5], raw: Uint8Array.from([0xaa, 2, 4, 5]), offset: 1 }]);
    expect(dropped).toHaveLength(1);
  });
});

describe('FrameAccumulator at end of stream', () => {
  it('finds a frame hidden behind a header-like partial frame', () => {
    const acc = new FrameAccumulator(decodeToy);
    // 0xAA 0x50 claims 80 bytes; the real frame AA 01 07 follows and the stream ends.
    expect(frames(acc.push(Uint8Array.from([0xaa, 0x50, 0xaa, 1, 7])))).toEqual([]);
    const events = acc.flush();
    expect(events[0]).toMatchObject({ kind: 'dropped', bytes: Uint8Array.from([0xaa, 0x50]) });
    expect(frames(events)).toEqual([[7]]);
  });
});
