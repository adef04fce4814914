import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cjt188FrameArb } from '../../protocols/cjt188/arbitraries.ts';
import { encodeCjt188 } from '../../protocols/cjt188/encode.ts';
import { dlt645FrameBytesArb } from '../../protocols/dlt645/arbitraries.ts';
import { gdw376FrameArb } from '../../protocols/gdw376/arbitraries.ts';
import { encodeGdw376 } from '../../protocols/gdw376/index.ts';
import { pointReadMessageArb } from '../../protocols/point-read/arbitraries.ts';
import { encodeLine } from '../../protocols/point-read/index.ts';
import { RecordingError } from './errors.ts';
import {
  type BodyRecord,
  type Direction,
  FRAMINGS,
  LINK_KINDS,
  type RecordedLink,
  serializeRecord,
  toHex,
} from './format.ts';
import { parseRecording } from './reader.ts';
import { Recorder } from './recorder.ts';
import { memorySink, RecordingWriter } from './writer.ts';

const nameArb = fc.stringMatching(/^[a-z][a-z0-9-]{0,7}$/);
const textArb = fc.string({ maxLength: 20, unit: 'binary' });
const linkArb = (name: string): fc.Arbitrary<RecordedLink> =>
  fc.record({
    name: fc.constant(name),
    kind: fc.constantFrom(...LINK_KINDS),
    settings: textArb,
    a: textArb,
    b: textArb,
    framing: fc.constantFrom(...FRAMINGS),
  });
const timeArb = fc.double({ min: 0, max: 1e9, noNaN: true });
const hexArb = fc.uint8Array({ maxLength: 40 }).map(toHex);
const dirArb = fc.constantFrom<Direction>('ab', 'ba');

function bodyArb(links: string[]): fc.Arbitrary<BodyRecord> {
  const link = fc.constantFrom(...links);
  return fc.oneof(
    fc.record({ type: fc.constant('chunk' as const), t: timeArb, link, dir: dirArb, hex: hexArb }),
    fc.record({
      type: fc.constant('frame' as const),
      t: timeArb,
      link,
      dir: dirArb,
      protocol: textArb,
      summary: textArb,
      hex: hexArb,
    }),
    fc.record({
      type: fc.constant('drop' as const),
      t: timeArb,
      link,
      dir: dirArb,
      code: textArb,
      reason: textArb,
      hex: hexArb,
    }),
    fc.record({
      type: fc.constant('event' as const),
      t: timeArb,
      link: fc.oneof(link, fc.constant('')),
      event: textArb,
      detail: textArb,
    }),
  );
}

const recordingArb = fc.uniqueArray(nameArb, { minLength: 1, maxLength: 3 }).chain((names) =>
  fc.record({
    links: fc.tuple(...names.map(linkArb)),
    start: fc.constant('2026-12-05T17:07:03.123+08:00'),
    source: textArb,
    records: fc.array(bodyArb(names), { maxLength: 30 }),
  }),
);

function writeAll(r: {
  links: RecordedLink[];
  start: string;
  source: string;
  records: BodyRecord[];
}): string {
  const sink = memorySink();
  const writer = new RecordingWriter(sink, r);
  for (const record of r.records) writer.write(record);
  return sink.text();
}

describe('recording format', () => {
  it('survives write → read → write byte for byte', () => {
    fc.assert(
      fc.property(recordingArb, (r) => {
        const first = writeAll(r);
        const read = parseRecording(first, 'r.jsonl');
        const again = writeAll({ ...read.header, records: read.records });
        expect(again).toBe(first);
      }),
    );
  });

  it('names the file and line of a bad line, and the field', () => {
    const sink = memorySink();
    new RecordingWriter(sink, { start: 'x', source: 'test', links: [link('bus')] });
    const text = `${sink.text()}{"type":"chunk","t":1,"link":"bus","dir":"up","hex":"68"}\n`;
    expect(() => parseRecording(text, 's.jsonl')).toThrow(
      /^s\.jsonl:2: "dir" must be "ab" or "ba", got "up"$/,
    );
    const notJson = `${sink.text()}{"type":\n`;
    expect(() => parseRecording(notJson, 's.jsonl')).toThrow(expect.objectContaining({ code: 'BAD_LINE' }));
  });

  it('refuses a newer version with NEWER_VERSION, and a file that is not a recording', () => {
    const newer =
      '{"type":"header","format":"meterlab-recording","version":2,"start":"","source":"","links":[]}\n';
    expect(() => parseRecording(newer, 'n.jsonl')).toThrow(
      expect.objectContaining({
        code: 'NEWER_VERSION',
        message: expect.stringMatching(/^n\.jsonl:1: .*version 2/),
      }),
    );
    expect(() => parseRecording('68 10 44 33\n', 'dump.txt')).toThrow(
      expect.objectContaining({ code: 'NOT_A_RECORDING', message: expect.stringMatching(/^dump\.txt:1: /) }),
    );
    expect(() => parseRecording('', 'empty.jsonl')).toThrow(
      expect.objectContaining({ code: 'NOT_A_RECORDING' }),
    );
  });

  it('refuses a record on an undeclared link, naming it', () => {
    const sink = memorySink();
    new RecordingWriter(sink, { start: 'x', source: 'test', links: [link('bus')] });
    const text = `${sink.text()}${serializeRecord({ type: 'chunk', t: 0, link: 'other', dir: 'ab', hex: '68' })}\n`;
    expect(() => parseRecording(text, 's.jsonl')).toThrow(
      expect.objectContaining({
        code: 'UNKNOWN_LINK',
        message: expect.stringContaining('s.jsonl:2: link "other"'),
      }),
    );
  });

  it('reports a truncated last line as a warning and keeps every whole line', () => {
    fc.assert(
      fc.property(recordingArb, fc.nat(), (r, cutAt) => {
        fc.pre(r.records.length > 0);
        const text = writeAll(r);
        const lastStart = text.lastIndexOf('\n', text.length - 2) + 1;
        const lastLength = text.length - 1 - lastStart;
        const cut = text.slice(0, lastStart + 1 + (cutAt % (lastLength - 1)));
        const read = parseRecording(cut, 'cut.jsonl');
        expect(read.records).toEqual(parseRecording(text, 'whole.jsonl').records.slice(0, -1));
        expect(read.warnings.map((w) => w.code)).toEqual(['TRUNCATED_LAST_LINE']);
        expect(read.warnings[0].message).toMatch(new RegExp(`^cut\\.jsonl:${r.records.length + 1}: `));
      }),
    );
  });

  it('stops at its size bound with one limit line, counts what it refused, and still ends the file', () => {
    const sink = memorySink();
    const writer = new RecordingWriter(
      sink,
      { start: 'x', source: 'test', links: [link('bus')] },
      { maxBytes: 2048 },
    );
    let written = 0;
    for (let i = 0; i < 100; i++)
      if (writer.write({ type: 'chunk', t: i, link: 'bus', dir: 'ab', hex: 'AB'.repeat(20) })) written++;
    writer.close(100);
    expect(written).toBeGreaterThan(5);
    expect(writer.dropped).toBe(100 - written);
    expect(writer.bytesWritten).toBeLessThanOrEqual(2048);
    const read = parseRecording(sink.text(), 'b.jsonl');
    const events = read.records.filter((r) => r.type === 'event').map((r) => r.type === 'event' && r.event);
    expect(events).toEqual(['limit', 'end']);
    expect(() => writer.write({ type: 'event', t: 0, link: '', event: 'x', detail: '' })).toThrow(
      RecordingError,
    );
  });
});

function link(name: string, framing: RecordedLink['framing'] = 'auto'): RecordedLink {
  return { name, kind: 'memory', settings: '', a: 'a', b: 'b', framing };
}

/** Frames and the bytes dropped, per direction, from recording `chunks` of one link. */
function framesOf(chunks: { dir: Direction; bytes: Uint8Array }[], framing: RecordedLink['framing']) {
  const sink = memorySink();
  const recorder = new Recorder({ sink, source: 'test', links: [link('bus', framing)], startEpochMs: 0 });
  for (const c of chunks) recorder.chunk('bus', c.dir, c.bytes, 0);
  recorder.close(0);
  const read = parseRecording(sink.text(), 'p.jsonl');
  const out: Record<Direction, { frames: string[]; dropped: string }> = {
    ab: { frames: [], dropped: '' },
    ba: { frames: [], dropped: '' },
  };
  for (const r of read.records) {
    if (r.type === 'frame') out[r.dir].frames.push(`${r.protocol} ${r.hex} ${r.summary}`);
    if (r.type === 'drop') out[r.dir].dropped += r.hex;
  }
  return out;
}

/** Splits `bytes` at the given cut points. */
function cutInto(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    parts.push(bytes.subarray(from, p));
    from = p;
  }
  parts.push(bytes.subarray(from));
  return parts.filter((p) => p.length > 0);
}

const junkArb = fc.uint8Array({ maxLength: 6 }).map((b) => b.map((x) => (x === 0x68 ? 0x00 : x)));
const binaryStreamArb = fc
  .array(
    fc.tuple(
      fc.oneof(cjt188FrameArb.map(encodeCjt188), dlt645FrameBytesArb, gdw376FrameArb.map(encodeGdw376)),
      junkArb,
    ),
    { minLength: 1, maxLength: 5 },
  )
  .map((parts) => Buffer.concat(parts.flat()));

describe('frames in a recording', () => {
  it('are the same whatever the chunking of the bytes (binary protocols, both directions)', () => {
    fc.assert(
      fc.property(binaryStreamArb, binaryStreamArb, fc.array(fc.nat(), { maxLength: 8 }), (ab, ba, cuts) => {
        const whole = framesOf(
          [
            { dir: 'ab', bytes: ab },
            { dir: 'ba', bytes: ba },
          ],
          'auto',
        );
        const chunked = framesOf(
          [
            ...cutInto(ab, cuts).map((bytes) => ({ dir: 'ab' as const, bytes })),
            ...cutInto(ba, cuts).map((bytes) => ({ dir: 'ba' as const, bytes })),
          ],
          'auto',
        );
        expect(chunked).toEqual(whole);
        expect(whole.ab.frames.length).toBeGreaterThan(0);
      }),
    );
  });

  it('are the same whatever the chunking for NDJSON point-read lines', () => {
    fc.assert(
      fc.property(
        fc.array(pointReadMessageArb, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (messages, cuts) => {
          const bytes = Buffer.concat(messages.map((m) => encodeLine(m)));
          const whole = framesOf([{ dir: 'ab', bytes }], 'auto');
          const chunked = framesOf(
            cutInto(bytes, cuts).map((b) => ({ dir: 'ab' as const, bytes: b })),
            'auto',
          );
          expect(chunked).toEqual(whole);
          expect(whole.ab.frames).toHaveLength(messages.length);
          expect(whole.ab.frames[0]).toMatch(/^point-read /);
        },
      ),
    );
  });
});
