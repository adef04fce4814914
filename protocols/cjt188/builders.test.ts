import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../bytes.ts';
import {
  buildErrorReply,
  buildReadAddressReply,
  buildReadAddressRequest,
  buildReadReply,
  buildReadRequest,
  buildValveRequest,
  buildWaterReadReply,
  buildWriteAddressRequest,
  buildWriteBaseReadingRequest,
  buildWriteReply,
  buildWriteTimeRequest,
  decodeCjt188Frame,
  encodeCjt188,
} from './index.ts';

const hex = (frame: Parameters<typeof encodeCjt188>[0]) => bytesToHex(encodeCjt188(frame));

describe('CJ/T 188 builders', () => {
  it('build the published request frames byte for byte', () => {
    expect(hex(buildReadRequest('78330011223344', '901F', { diOrder: 'low-first' }))).toBe(
      'FE FE FE FE 68 10 44 33 22 11 00 33 78 01 03 1F 90 00 80 16',
    );
    expect(hex(buildReadRequest('12', 0x901f, { preamble: 0 }))).toBe(
      '68 10 12 00 00 00 00 00 00 01 03 90 1F 00 3D 16',
    );
    expect(hex(buildValveRequest('78331505900569', 'open', { ser: 1 }))).toBe(
      'FE FE FE FE 68 10 69 05 90 05 15 33 78 04 04 A0 17 01 55 50 16',
    );
    expect(
      hex(
        buildValveRequest('00000000000003', 'close', {
          ser: 1,
          meterType: 0x30,
          diOrder: 'low-first',
          preamble: 3,
        }),
      ),
    ).toBe('FE FE FE 68 30 03 00 00 00 00 00 00 04 04 17 A0 01 99 F4 16');
    expect(hex(buildReadAddressRequest())).toBe(
      'FE FE FE FE 68 AA AA AA AA AA AA AA AA 03 03 81 0A 00 49 16',
    );
    const o = { ser: 0xff, meterType: 0x30, diOrder: 'low-first', preamble: 3 } as const;
    expect(hex(buildWriteAddressRequest('3', '5', o))).toBe(
      'FE FE FE 68 30 03 00 00 00 00 00 00 15 0A 18 A0 FF 05 00 00 00 00 00 00 76 16',
    );
    const base = buildWriteBaseReadingRequest('3', 123456.78, { ...o, unit: 'm3' });
    expect(base.body).toMatchObject({
      data: { type: 'base-reading', value: 123456.78, unit: 'm3', unitCode: 0x2c },
    });
  });

  it('writes the time as UTC+8 wall-clock by default (C28 with its checksum filled in)', () => {
    const o = { ser: 0xff, meterType: 0x30, diOrder: 'low-first', preamble: 3 } as const;
    const frame = buildWriteTimeRequest('3', new Date('2015-07-16T04:50:40Z'), o);
    expect(hex(frame)).toBe('FE FE FE 68 30 03 00 00 00 00 00 00 04 0A 15 A0 FF 40 50 12 16 07 15 20 51 16');
    expect(() =>
      buildWriteTimeRequest('3', { year: 2015, month: 13, day: 1, hour: 0, minute: 0, second: 0 }),
    ).toThrow(/month 13/);
  });

  it('answers a 901F read with the water reply, echoing SER and DI order', () => {
    const req = decodeCjt188Frame(hexToBytes('FE FE FE FE 68 10 44 33 22 11 00 33 78 01 03 1F 90 00 80 16'));
    const reply = buildWaterReadReply(req, {
      current: 556677,
      time: { year: 2015, month: 5, day: 11, hour: 22, minute: 1, second: 31 },
      valve: 'closed',
      manufacturer: 0x84,
    });
    const bytes = encodeCjt188(reply);
    // C2 as it should have been published: same bytes, checksum 13 (ST here is 01 84; C2 has 21 84).
    expect(bytesToHex(bytes)).toBe(
      'FE FE FE FE 68 10 44 33 22 11 00 33 78 81 16 1F 90 00 00 77 66 55 2C 00 77 66 55 2C 31 01 22 11 05 15 20 01 84 F3 16',
    );
    expect(decodeCjt188Frame(bytes)).toEqual(reply);
  });

  it('answers a wildcard read-address with the meter address in the A field', () => {
    const req = decodeCjt188Frame(encodeCjt188(buildReadAddressRequest({ ser: 2, diOrder: 'low-first' })));
    const reply = buildReadAddressReply(req, '78330011223344');
    expect(reply).toMatchObject({
      address: '78330011223344',
      control: 0x83,
      meterType: 0x10,
      body: {
        kind: 'read-address-reply',
        di: '810A',
        diOrder: 'low-first',
        ser: 2,
        data: { type: 'address', address: null },
      },
    });
    expect(encodeCjt188(reply)[4 + 10]).toBe(3);
    expect(() => buildReadReply(req, { type: 'address', address: null })).toThrow(/own "address"/);
  });

  it('builds write replies in both forms and error replies with SER + ST', () => {
    const req = buildValveRequest('78331505900569', 'close', { ser: 9 });
    expect(buildWriteReply(req).body).toEqual({
      kind: 'write-reply',
      di: 'A017',
      diOrder: 'high-first',
      ser: 9,
      status: null,
    });
    const long = buildWriteReply(req, { valve: 'closed' });
    expect(long.control).toBe(0x84);
    expect(decodeCjt188Frame(encodeCjt188(long))).toEqual(long);
    const err = buildErrorReply(req, { valve: 'abnormal', batteryLow: true });
    expect(err).toMatchObject({
      control: 0xc4,
      abnormal: true,
      body: { kind: 'error-reply', ser: 9, st: { raw: '0700' } },
    });
    expect(decodeCjt188Frame(encodeCjt188(err))).toEqual(err);
  });
});
