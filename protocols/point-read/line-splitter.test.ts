import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LineEvent, LineSplitter } from './line-splitter.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const summary = (events: LineEvent[]) =>
  events.map((e) => (e.kind === 'line' ? `${e.offset}:${text(e.bytes)}` : `${e.offset}:${e.error.code}`));

describe('LineSplitter', () => {
  it('splits on \\n and \\r\\n and ignores empty lines, with stream offsets', () => {
    const s = new LineSplitter();
    expect(summary(s.push(bytes('a\r\n\nbc\n\r\nd\n')))).toEqual(['0:a', '4:bc', '9:d']);
  });
  it('joins a line split across chunks', () => {
    const s = new LineSplitter();
    expect(s.push(bytes('ab'))).toEqual([]);
    expect(s.buffered).toBe(2);
    expect(summary(s.push(bytes('c\nd')))).toEqual(['0:abc']);
    expect(s.buffered).toBe(1);
  });
  it('copies what it keeps, so the caller may reuse its chunk', () => {
    const s = new LineSplitter();
    const chunk = bytes('ab');
    s.push(chunk);
    chunk.fill(0x7a);
    expect(summary(s.push(bytes('\n')))).toEqual(['0:ab']);
  });
  it('reports a last line without newline as TRUNCATED on flush', () => {
    const s = new LineSplitter();
    s.push(bytes('ok\n{"type"'));
    const [event] = s.flush();
    expect(event).toMatchObject({ kind: 'bad-line', offset: 3, length: 7, error: { code: 'TRUNCATED' } });
    expect(s.flush()).toEqual([]);
  });
  it('reports TOO_LONG as soon as a line passes the limit and skips the rest of it', () => {
    const s = new LineSplitter({ maxLineLength: 4 });
    const first = s.push(bytes('abcdef'));
    expect(first).toMatchObject([{ kind: 'bad-line', offset: 0, length: 6, error: { code: 'TOO_LONG' } }]);
    expect(text((first[0] as { bytes: Uint8Array }).bytes)).toBe('abcd');
    expect(s.buffered).toBe(0);
    expect(s.push(bytes('ghij'))).toEqual([]);
    expect(s.buffered).toBe(0);
    expect(summary(s.push(bytes('kl\nok\n')))).toEqual(['13:ok']);
    expect(s.flush()).toEqual([]);
  });
  it('accepts a line of exactly maxLineLength bytes', () => {
    const s = new LineSplitter({ maxLineLength: 4 });
    expect(summary(s.push(bytes('abcd\nabcde\n')))).toEqual(['0:abcd', '5:TOO_LONG']);
  });
  it('rejects a bad maxLineLength with a TypeError naming the option', () => {
    for (const maxLineLength of [0, -1, 1.5, Number.NaN]) {
      expect(() => new LineSplitter({ maxLineLength })).toThrow(TypeError);
    }
    expect(() => new LineSplitter({ maxLineLength: 0 })).toThrow(/"maxLineLength"/);
  });
  it('never holds more than maxLineLength bytes, whatever it is fed', () => {
    const byteArb = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constant(0x0a), fc.constant(0x0d));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.array(byteArb, { maxLength: 200 })),
        (max, chunks) => {
          const s = new LineSplitter({ maxLineLength: max });
          let total = 0;
          let covered = 0;
          for (const chunk of chunks) {
            total += chunk.length;
            for (const e of s.push(Uint8Array.from(chunk))) {
              expect(e.bytes.length).toBeLessThanOrEqual(max);
              expect(e.offset).toBeGreaterThanOrEqual(covered);
              covered = e.offset + e.bytes.length;
            }
            expect(s.buffered).toBeLessThanOrEqual(max);
          }
          s.flush();
          expect(s.buffered).toBe(0);
          expect(covered).toBeLessThanOrEqual(total);
        },
      ),
    );
  });
  it('gives the same events for any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...'ab\r\n'.split('')), { maxLength: 80 }).map((cs) => bytes(cs.join(''))),
        fc.array(fc.nat(), { maxLength: 10 }),
        (stream, cuts) => {
          const whole = new LineSplitter({ maxLineLength: 5 });
          const expected = summary([...whole.push(stream), ...whole.flush()]);
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const chunked = new LineSplitter({ maxLineLength: 5 });
          const events: LineEvent[] = [];
          let from = 0;
          for (const p of [...points, stream.length]) {
            events.push(...chunked.push(stream.subarray(from, p)));
            from = p;
          }
          events.push(...chunked.flush());
          expect(summary(events)).toEqual(expected);
        },
      ),
    );
  });
});
