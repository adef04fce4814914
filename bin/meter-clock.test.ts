import { describe, expect, it } from 'vitest';
import { formatMeterTime, formatUtcOffset, parseUtcOffset } from './meter-clock.ts';

describe('meter clock zone', () => {
  it('reads offsets as users write them and prints them back in one form', () => {
    expect(parseUtcOffset('+08:00')).toBe(480);
    expect(parseUtcOffset('+8')).toBe(480);
    expect(parseUtcOffset('-05:30')).toBe(-330);
    expect(parseUtcOffset('0')).toBe(0);
    expect(formatUtcOffset(480)).toBe('+08:00');
    expect(formatUtcOffset(-330)).toBe('-05:30');
    expect(formatUtcOffset(0)).toBe('+00:00');
  });

  it('refuses what is not an offset, naming what was typed', () => {
    expect(() => parseUtcOffset('CST')).toThrow(/"CST" is not a UTC offset/);
    expect(() => parseUtcOffset('8')).toThrow(/"8" is not a UTC offset/);
    expect(() => parseUtcOffset('+15:00')).toThrow(/between -14:00 and \+14:00/);
  });

  it('prints a meter time with the offset it was read in', () => {
    expect(formatMeterTime('2026-12-05T20:30:00', 480)).toBe('2026-12-05 20:30:00 +08:00 (meter clock)');
  });
});
