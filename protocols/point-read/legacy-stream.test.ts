import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LegacyStreamSplitter, splitLegacyObject } from './legacy-stream.ts';
import { decodeText, encodeText } from './text-encoding.ts';

/** Cuts `bytes` at the given fractions into chunks (some empty). */
function cut(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const at = [...new Set(points.map((p) => Math.floor(p * bytes.length)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const to of at) {
    chunks.push(bytes.subarray(from, to));
    from = to;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// Characters that make splitting hard: braces and quotes inside strings, escapes, GB2312 Chinese text.
const tricky = fc.constantFrom('{', '}', '"', '\\', '\\"', 'a', ' ', '水表', '阀门异常', '无应答', '\n', '0');
const text = fc.array(tricky, { maxLength: 8 }).map((parts) => parts.join(''));
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    tie('object'),
    fc.array(tie('value'), { maxLength: 3 }),
  ),
  object: fc.dictionary(text, tie('value'), { maxKeys: 4 }),
})).object;
const space = fc.constantFrom('', ' ', '\r\n', '\t', '\n\n');

describe('splitLegacyObject', () => {
  it('finds one object, asks for more, and reports bytes that cannot start one', () => {
    const bytes = encodeText('  {"a":"}{\\""}{"b":1}', 'utf8');
    expect(splitLegacyObject(bytes)).toEqual({ kind: 'object', start: 2, end: 14 });
    expect(splitLegacyObject(encodeText('{"a":{', 'utf8'))).toEqual({ kind: 'need-more', skip: 0 });
    expect(splitLegacyObject(encodeText(' \r\n', 'utf8'))).toEqual({ kind: 'need-more', skip: 3 });
    const junk = splitLegacyObject(encodeText('xy{}', 'utf8'));
    expect(junk).toMatchObject({ kind: 'error', skip: 2, error: { code: 'NO_START', offset: 0 } });
    const long = splitLegacyObject(encodeText(`{"a":"${'x'.repeat(100)}`, 'utf8'), undefined, 64);
    expect(long).toMatchObject({ kind: 'error', skip: 64, error: { code: 'TOO_LONG' } });
  });
});

describe('LegacyStreamSplitter', () => {
  it('gives back every object of a GB2312 stream whatever the chunking (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(jsonValue, space), { minLength: 1, maxLength: 6 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
        (objects, points) => {
          const bytes = concat(objects.map(([o, s]) => encodeText(`${s}${JSON.stringify(o)}`, 'gb2312')));
          const splitter = new LegacyStreamSplitter();
          const events = cut(bytes, points).flatMap((chunk) => splitter.push(chunk));
          expect(events.every((e) => e.kind === 'object')).toBe(true);
          const decoded = events.map((e) =>
            e.kind === 'object' ? JSON.parse(decodeText(e.bytes, 'gb2312')) : undefined,
          );
          expect(decoded).toEqual(objects.map(([o]) => o));
          expect(splitter.buffered).toBe(0);
        },
      ),
    );
  });

  it('never throws, never holds more than maxObjectBytes plus a chunk, and resyncs on junk (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 40 }),
            fc.constantFrom('{"a":1}', '{', '}', '"', '\\', ' ').map((t) => encodeText(t, 'utf8')),
          ),
          { maxLength: 60 },
        ),
        (chunks) => {
          const splitter = new LegacyStreamSplitter({ maxObjectBytes: 32 });
          for (const chunk of chunks) {
            for (const event of splitter.push(chunk)) {
              if (event.kind === 'object') {
                expect(event.bytes[0]).toBe(0x7b);
                expect(event.bytes.at(-1)).toBe(0x7d);
                expect(event.bytes.length).toBeLessThanOrEqual(32);
              } else expect(['NO_START', 'TOO_LONG']).toContain(event.error.code);
            }
            expect(splitter.buffered).toBeLessThanOrEqual(32 + chunk.length);
          }
          // A well-formed object after any junk is found again (after at most one TOO_LONG drop).
          const after = [
            ...splitter.push(encodeText(`${'}'.repeat(40)} {"ok":true}`, 'utf8')),
            ...splitter.push(encodeText(' {"ok":true}', 'utf8')),
          ];
          const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');
          expect(after.some((e) => e.kind === 'object' && latin1(e.bytes) === '{"ok":true}')).toBe(true);
        },
      ),
    );
  });

  it('spends constant work per byte on a megabyte of open braces fed a byte at a time', () => {
    const splitter = new LegacyStreamSplitter({ maxObjectBytes: 64 * 1024 });
    const chunk = new Uint8Array(4096).fill(0x7b);
    let errors = 0;
    const started = performance.now();
    for (let i = 0; i < 256; i++) errors += splitter.push(chunk).length;
    // 1 MiB of "{" is 16 objects too long; a rescan from the start on every chunk would be ~100× slower.
    expect(errors).toBe(16);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
