import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../bytes.ts';
import {
  buildAbnormalReply,
  buildReadAddressReply,
  buildReadAddressRequest,
  buildReadFollowUpRequest,
  buildReadReply,
  buildReadRequest,
  buildTimeSync,
} from './builders.ts';
import { encodeDlt645 } from './encode.ts';

const hex = (frame: Parameters<typeof encodeDlt645>[0]) => bytesToHex(encodeDlt645(frame));

describe('DL/T 645 builders', () => {
  it('builds D3, D4, D10 and D17 read requests', () => {
    expect(hex(buildReadRequest('AAAAAAAAAAAA', '00010000'))).toBe(
      'FE FE FE FE 68 AA AA AA AA AA AA 68 11 04 33 33 34 33 AE 16',
    );
    expect(hex(buildReadRequest('123456789012', '00010000', { preamble: 0 }))).toBe(
      '68 12 90 78 56 34 12 68 11 04 33 33 34 33 68 16',
    );
    expect(hex(buildReadRequest('202208310002', '028022ff'))).toBe(
      'FE FE FE FE 68 02 00 31 08 22 20 68 11 04 32 55 B3 35 D1 16',
    );
    const d17 = buildReadRequest('000003430163', '9010', { preamble: 0 });
    expect(d17.version).toBe('1997');
    expect(hex(d17)).toBe('68 63 01 43 03 00 00 68 01 02 43 C3 83 16');
  });
  it('builds D5 and D18 read replies from scaled values', () => {
    expect(hex(buildReadReply('123456789012', '00010000', 1234.56))).toBe(
      '68 12 90 78 56 34 12 68 91 08 33 33 34 33 89 67 45 33 54 16',
    );
    expect(hex(buildReadReply('138000130754', '9010', 0.01))).toBe(
      '68 54 07 13 00 80 13 68 81 06 43 C3 34 33 33 33 2B 16',
    );
  });
  it('rounds a value to the DI scale and returns the frame as the decoder sees it', () => {
    const frame = buildReadReply('1', '02010100', 220.149);
    expect(frame.address).toBe('000000000001');
    expect(frame.body).toEqual({ kind: 'read-reply', di: '02010100', value: 220.1, unit: 'V' });
  });
  it('encodes signed currents and powers with the sign in D7 of the top byte', () => {
    const frame = buildReadReply('123456789012', '02030000', -1.5);
    expect(bytesToHex(encodeDlt645(frame).subarray(14, 17))).toBe('33 83 B4');
    expect(frame.body).toMatchObject({ value: -1.5, unit: 'kW' });
  });
  it('computes the week of a date and accepts an explicit one', () => {
    expect(buildReadReply('1', '04000101', '2024-05-01').body).toMatchObject({
      value: '2024-05-01',
      week: 3,
    });
    expect(buildReadReply('1', '04000101', '2024-05-01', { week: 0 }).body).toMatchObject({ week: 0 });
    expect(buildReadReply('1', '04000102', '23:59:01').body).toMatchObject({
      value: '23:59:01',
      unit: 'time',
    });
  });
  it('throws UNKNOWN_DI for a value of a DI without a layout', () => {
    expect(() => buildReadReply('1', '028022FF', 1)).toThrow(expect.objectContaining({ code: 'UNKNOWN_DI' }));
  });
  it('throws BAD_FIELD for values that do not fit', () => {
    expect(() => buildReadReply('1', '00010000', -1)).toThrow(expect.objectContaining({ code: 'BAD_FIELD' }));
    expect(() => buildReadReply('1', '00010000', 1_000_000)).toThrow(/outside 0…999999.99 kWh/);
    expect(() => buildReadReply('1', '02020100', 800)).toThrow(/outside ±799.999 A/);
    expect(() => buildReadReply('1', '04000101', '2024-13-01')).toThrow(/not a date/);
    expect(() => buildReadReply('1', '04000101', '2024-05-01', { week: 7 })).toThrow(/week/);
    expect(() => buildReadReply('1', '00010000', 'x')).toThrow(/finite number/);
    expect(() => buildReadRequest('1', '123')).toThrow(expect.objectContaining({ code: 'BAD_FIELD' }));
  });
  it('builds D8, the abnormal reply "no data requested", from a name or a number', () => {
    const d8 = '68 12 90 78 56 34 12 68 D1 01 35 8D 16';
    expect(hex(buildAbnormalReply('123456789012', ['no data requested']))).toBe(d8);
    expect(hex(buildAbnormalReply('123456789012', 2))).toBe(d8);
    expect(buildAbnormalReply('123456789012', 2, { version: '1997' }).control).toBe(0xc1);
    expect(() => buildAbnormalReply('1', 256)).toThrow(expect.objectContaining({ code: 'BAD_FIELD' }));
  });
  it('builds D1 and D7, the read-address request and reply', () => {
    expect(hex(buildReadAddressRequest())).toBe('FE FE FE FE 68 AA AA AA AA AA AA 68 13 00 DF 16');
    expect(hex(buildReadAddressReply('123456789012', { preamble: 7 }))).toBe(
      'FE FE FE FE FE FE FE 68 12 90 78 56 34 12 68 93 06 45 C3 AB 89 67 45 07 16',
    );
  });
  it('builds D24, the broadcast time sync, from parts or a Date in UTC+8', () => {
    const d24 = '68 99 99 99 99 99 99 68 08 06 84 55 43 38 39 4A 4B 16';
    const parts = { year: 2017, month: 6, day: 5, hour: 10, minute: 22, second: 51 };
    expect(hex(buildTimeSync(parts, { preamble: 0 }))).toBe(d24);
    expect(hex(buildTimeSync(new Date('2017-06-05T02:22:51Z'), { preamble: 0 }))).toBe(d24);
    expect(hex(buildTimeSync(new Date('2017-06-05T10:22:51Z'), { preamble: 0, utcOffsetMinutes: 0 }))).toBe(
      d24,
    );
    expect(() => buildTimeSync({ ...parts, year: 1999 })).toThrow(
      expect.objectContaining({ code: 'BAD_FIELD' }),
    );
    expect(() => buildTimeSync(new Date(Number.NaN))).toThrow(expect.objectContaining({ code: 'BAD_FIELD' }));
  });
  it('builds follow-up read requests for both editions', () => {
    expect(buildReadFollowUpRequest('1', '00010000', 2).body).toEqual({
      kind: 'read-follow-up',
      di: '00010000',
      seq: 2,
    });
    const old = buildReadFollowUpRequest('1', '9010', 2);
    expect(old.control).toBe(0x02);
    expect(old.body).toEqual({ kind: 'read-follow-up', di: '9010' });
  });
});
