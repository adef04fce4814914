import { describe, expect, it } from 'vitest';
import {
  bitsPerChar,
  DEFAULT_METER_SERIAL,
  formatSerialSettings,
  validateSerialSettings,
  wireTimeMs,
} from './serial-settings.ts';

describe('serial settings', () => {
  it('counts 11 bits per character for 8E1 and 10 for 8N1', () => {
    expect(bitsPerChar(DEFAULT_METER_SERIAL)).toBe(11);
    expect(bitsPerChar({ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 })).toBe(10);
    expect(bitsPerChar({ baudRate: 9600, dataBits: 7, parity: 'odd', stopBits: 2 })).toBe(11);
    expect(bitsPerChar({ baudRate: 9600, dataBits: 5, parity: 'none', stopBits: 1.5 })).toBe(7.5);
  });

  it('gives 16 bytes at 2400 8E1 a wire time of 73.33 ms', () => {
    expect(wireTimeMs(16, DEFAULT_METER_SERIAL)).toBeCloseTo((16 * 11 * 1000) / 2400, 10);
    expect(wireTimeMs(16, DEFAULT_METER_SERIAL)).toBeCloseTo(73.33, 2);
    expect(wireTimeMs(0, DEFAULT_METER_SERIAL)).toBe(0);
  });

  it('formats settings the way engineers write them', () => {
    expect(formatSerialSettings(DEFAULT_METER_SERIAL)).toBe('2400 8E1');
  });

  it('fills defaults and rejects bad fields with a TypeError naming the field', () => {
    expect(validateSerialSettings({ baudRate: 9600 })).toEqual({ ...DEFAULT_METER_SERIAL, baudRate: 9600 });
    expect(() => validateSerialSettings({ baudRate: 0 })).toThrow(/"settings.baudRate"/);
    expect(() => validateSerialSettings({ dataBits: 9 as 8 })).toThrow(/"settings.dataBits"/);
    expect(() => validateSerialSettings({ parity: 'E' as 'even' }, 'spec.settings')).toThrow(
      /"spec.settings.parity"/,
    );
    expect(() => validateSerialSettings({ stopBits: 3 as 2 })).toThrow(TypeError);
  });
});
