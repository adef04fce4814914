import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.ts';
import { isoInstant, meterTime } from './fields.ts';

// The regex-and-Date definitions the character-level readers replaced: both must accept exactly the same text.
const reference = {
  realDateTime(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
    const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
    return (
      date.getUTCFullYear() === y &&
      date.getUTCMonth() === mo - 1 &&
      date.getUTCDate() === d &&
      date.getUTCHours() === h &&
      date.getUTCMinutes() === mi &&
      date.getUTCSeconds() === s
    );
  },
  meterTime(value: string): boolean {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(value);
    const t = m?.slice(1, 7).map(Number) as Parameters<typeof reference.realDateTime> | undefined;
    return t !== undefined && t[0] >= 100 && reference.realDateTime(...t);
  },
  isoInstant(value: string): boolean {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.exec(value);
    const t = m?.slice(1, 7).map(Number) as Parameters<typeof reference.realDateTime> | undefined;
    return (
      t !== undefined && t[0] >= 100 && reference.realDateTime(...t) && Number.isFinite(Date.parse(value))
    );
  },
};

function accepts(check: typeof meterTime, value: string): boolean {
  try {
    expect(check({ t: value }, 't', 'x')).toBe(value);
    return true;
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).code).toBe('BAD_MESSAGE');
    expect((e as ProtocolError).message).toMatch(/^"x\.t" must be /);
    return false;
  }
}

/** Two digits, mostly at and around the field's limits. */
const two = (max: number) =>
  fc
    .oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: max + 1 }) }, fc.integer({ min: 0, max: 99 }))
    .map((n) => String(n).padStart(2, '0'));
/** `YYYY-MM-DDTHH:mm:ss` with fields at, around and beyond their limits, and real date-times. */
const dateTimeText = fc.oneof(
  fc
    .tuple(fc.integer({ min: 0, max: 9999 }), two(12), two(31), two(23), two(59), two(59))
    .map(([y, mo, d, h, mi, s]) => `${String(y).padStart(4, '0')}-${mo}-${d}T${h}:${mi}:${s}`),
  fc
    .date({
      min: new Date('0001-01-01T00:00:00Z'),
      max: new Date('9999-12-31T23:59:59Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString().slice(0, 19)),
);
const tail = fc.oneof(
  fc.constant(''),
  fc.constant('Z'),
  fc.stringMatching(/^\.[0-9]{3}Z$/),
  fc.stringMatching(/^\.[0-9]{1,10}Z$/),
  fc.stringMatching(/^[+-][0-9]{2}:[0-9]{2}$/),
  fc.string({ maxLength: 6 }),
);
const dateTimeish = fc.oneof(
  fc.tuple(dateTimeText, tail).map(([a, b]) => a + b),
  fc.tuple(dateTimeText, fc.nat(18)).map(([a, cut]) => a.slice(0, cut)),
  fc.string({ maxLength: 30 }),
);

describe('date-time fields agree with the regex-and-Date definitions', () => {
  it('meterTime', () => {
    fc.assert(
      fc.property(dateTimeish, (value) => {
        expect(accepts(meterTime, value)).toBe(reference.meterTime(value));
      }),
      { numRuns: 3000 },
    );
  });
  it('isoInstant', () => {
    fc.assert(
      fc.property(dateTimeish, (value) => {
        expect(accepts(isoInstant, value)).toBe(reference.isoInstant(value));
      }),
      { numRuns: 3000 },
    );
  });
  it('checks leap days and month ends', () => {
    for (const [text, ok] of [
      ['2024-02-29T00:00:00', true],
      ['2023-02-29T00:00:00', false],
      ['2000-02-29T00:00:00', true],
      ['1900-02-29T00:00:00', false],
      ['2024-04-31T00:00:00', false],
      ['2024-12-31T23:59:59', true],
      ['2024-12-31T24:00:00', false],
      ['0099-01-01T00:00:00', false],
      ['0100-01-01T00:00:00', true],
    ] as const) {
      expect(accepts(meterTime, text)).toBe(ok);
      expect(accepts(isoInstant, `${text}.000Z`)).toBe(ok);
      expect(accepts(isoInstant, `${text}+08:00`)).toBe(ok);
    }
  });
});
