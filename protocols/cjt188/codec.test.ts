import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes, sum8 } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';
import { describeVectors, loadVectors } from '../testing/vector-table.ts';
import { decodeCjt188, decodeCjt188Frame, encodeCjt188, makeCjt188Frame } from './index.ts';

describeVectors(loadVectors('cjt188.json'), { decode: (b) => decodeCjt188(b), encode: encodeCjt188 });

/** Replaces the checksum of a preamble-free frame or one with FE bytes, and returns the bytes. */
function withChecksum(hex: string): Uint8Array {
  const b = hexToBytes(hex);
  const h = b.indexOf(0x68);
  const csAt = b.length - 2;
  b[csAt] = sum8(b, h, csAt);
  return b;
}

function errorCode(hex: string | Uint8Array): string | undefined {
  const r = decodeCjt188(typeof hex === 'string' ? hexToBytes(hex) : hex);
  return r.kind === 'error' ? r.error.code : undefined;
}

const C2 =
  'FE FE FE FE 68 10 44 33 22 11 00 33 78 81 16 1F 90 00 00 77 66 55 2C 00 77 66 55 2C 31 01 22 11 05 15 20 21 84 08 16';

describe('CJ/T 188 decode', () => {
  it('decodes the BLOG-SC 901F reply (C2) once its checksum typo is corrected to 13', () => {
    const bytes = withChecksum(C2);
    expect(bytes[bytes.length - 2]).toBe(0x13);
    const frame = decodeCjt188Frame(bytes);
    expect(frame).toMatchObject({
      preamble: 4,
      address: '78330011223344',
      control: 0x81,
      direction: 'reply',
      body: {
        kind: 'read-reply',
        di: '901F',
        diOrder: 'low-first',
        ser: 0,
        data: {
          type: 'water',
          current: { value: 556677, unit: 'm3', unitCode: 0x2c },
          settlement: { value: 556677, unit: 'm3', unitCode: 0x2c },
          time: '2015-05-11 22:01:31',
          status: { valve: 'closed', batteryLow: false, raw: '2184' },
        },
      },
    });
    expect(bytesToHex(encodeCjt188(frame))).toBe(bytesToHex(bytes));
  });

  it('names the published and the computed checksum in BAD_CHECKSUM', () => {
    const r = decodeCjt188(hexToBytes(C2));
    expect(r.kind === 'error' && r.error.message).toBe('CJ/T 188 checksum 0x08, computed 0x13');
  });

  it('gives BAD_END when the byte after CS is not 16', () => {
    expect(errorCode('68 10 12 00 00 00 00 00 00 01 03 90 1F 00 3D 17')).toBe('BAD_END');
  });

  it('gives BAD_LENGTH for an L above the maximum and names it', () => {
    const r = decodeCjt188(hexToBytes('68 10 12 00 00 00 00 00 00 01 F0'));
    expect(r.kind).toBe('error');
    if (r.kind === 'error') {
      expect(r.error.code).toBe('BAD_LENGTH');
      expect(r.error.message).toMatch(/L=0xF0 exceeds the 115-byte maximum/);
    }
    expect(
      decodeCjt188(hexToBytes('68 10 12 00 00 00 00 00 00 01 40'), { maxDataLength: 0x3f }),
    ).toMatchObject({
      kind: 'error',
      error: { code: 'BAD_LENGTH' },
    });
  });

  it('gives BAD_BCD for a non-BCD flow value in a checksum-valid 901F reply and skips the whole frame', () => {
    const bytes = withChecksum(C2.replace('00 77 66 55 2C 00', '0A 77 66 55 2C 00'));
    // Since issue 14 item 4 such a frame decodes by default (opaque DATA with a warning, see tolerant.test.ts);
    // `strict` keeps the error this test asserted before.
    const r = decodeCjt188(bytes, { strict: true });
    expect(r).toMatchObject({ kind: 'error', error: { code: 'BAD_BCD' }, skip: bytes.length });
    expect(() => decodeCjt188Frame(bytes, { strict: true })).toThrow(/current flow/);
    expect(decodeCjt188Frame(bytes).body).toMatchObject({
      kind: 'opaque',
      warning: expect.stringMatching(/current flow/),
    });
  });

  it('gives BAD_BCD as soon as an address byte is neither BCD nor AA', () => {
    expect(errorCode('FE 68 10 44 3F')).toBe('BAD_BCD');
  });

  it('gives NO_START with a skip to the next 68 or FE for junk', () => {
    const r = decodeCjt188(hexToBytes('00 11 22 FE 68'));
    expect(r).toMatchObject({ kind: 'error', error: { code: 'NO_START' }, skip: 3 });
    expect(decodeCjt188(hexToBytes('FE FE 12 68'))).toMatchObject({ kind: 'error', skip: 3 });
  });

  it('waits for more only while the bytes can still become a frame', () => {
    const c8 = hexToBytes('FE FE 68 10 12 00 00 00 00 00 00 01 03 90 1F 00 3D 16');
    for (let n = 0; n < c8.length; n++) expect(decodeCjt188(c8.subarray(0, n)).kind).toBe('need-more');
    expect(decodeCjt188(c8.subarray(0, 12))).toEqual({ kind: 'need-more', atLeast: 15 });
    expect(decodeCjt188(c8.subarray(0, 13))).toEqual({ kind: 'need-more', atLeast: 18 });
  });

  it('reports a run of FE longer than the preamble limit as NO_START and keeps the last 16', () => {
    const bytes = new Uint8Array(20).fill(0xfe);
    expect(decodeCjt188(bytes)).toMatchObject({ kind: 'error', error: { code: 'NO_START' }, skip: 4 });
  });

  it('throws TRUNCATED from decodeCjt188Frame on a cut frame and BAD_LENGTH on trailing bytes', () => {
    const c8 = hexToBytes('68 10 12 00 00 00 00 00 00 01 03 90 1F 00 3D 16');
    expect(() => decodeCjt188Frame(c8.subarray(0, 10))).toThrow(ProtocolError);
    try {
      decodeCjt188Frame(c8.subarray(0, 15));
    } catch (error) {
      expect((error as ProtocolError).code).toBe('TRUNCATED');
    }
    expect(() => decodeCjt188Frame(Uint8Array.from([...c8, 0]))).toThrow(/1 more bytes follow/);
  });

  it('keeps a frame with an unknown DI as an opaque body, and rejects it with UNKNOWN_DI when strict', () => {
    const bytes = withChecksum('68 10 12 00 00 00 00 00 00 01 03 90 7F 00 00 16');
    const frame = decodeCjt188Frame(bytes);
    expect(frame.body).toEqual({ kind: 'opaque', data: '907F00' });
    expect(bytesToHex(encodeCjt188(frame))).toBe(bytesToHex(bytes));
    expect(decodeCjt188(bytes, { strict: true })).toMatchObject({
      kind: 'error',
      error: { code: 'UNKNOWN_DI' },
    });
  });

  it('decodes error replies as SER + ST, with two or one ST bytes', () => {
    const two = decodeCjt188Frame(withChecksum('68 10 12 00 00 00 00 00 00 C1 03 07 01 00 00 16'));
    expect(two).toMatchObject({
      abnormal: true,
      body: { kind: 'error-reply', ser: 7, st: { valve: 'closed', raw: '0100' } },
    });
    const one = decodeCjt188Frame(withChecksum('68 10 12 00 00 00 00 00 00 D5 02 07 04 00 16'));
    expect(one.body).toEqual({
      kind: 'error-reply',
      ser: 7,
      st: { valve: 'open', batteryLow: true, raw: '04' },
    });
  });

  it('accepts both write-reply forms: DI SER (L=3) and DI SER ST (L=5)', () => {
    const short = decodeCjt188Frame(withChecksum('68 10 69 05 90 05 15 33 78 84 03 A0 17 01 00 16'));
    expect(short.body).toEqual({
      kind: 'write-reply',
      di: 'A017',
      diOrder: 'high-first',
      ser: 1,
      status: null,
    });
    const long = decodeCjt188Frame(withChecksum('68 10 69 05 90 05 15 33 78 84 05 17 A0 01 01 00 00 16'));
    expect(long.body).toMatchObject({
      kind: 'write-reply',
      diOrder: 'low-first',
      status: { valve: 'closed' },
    });
  });

  it('decodes the 46-byte heat-meter 901F layout', () => {
    const data =
      '90 1F 05 ' +
      '00 25 01 00 05 ' + // settlement heat 125.00 kWh
      '00 50 01 00 05 ' + // current heat 150.00 kWh
      '50 12 00 00 17 ' + // power 12.50 kW
      '34 12 00 00 35 ' + // flow rate 0.1234 m3/h
      '00 10 02 00 2C ' + // accumulated flow 210.00 m3
      '50 65 00 25 45 00 ' + // supply 65.50, return 45.25
      '34 12 00 ' + // 1234 h
      '00 00 12 09 01 26 20 ' + // 2026-01-09 12:00:00
      '04 00';
    const hex = `68 20 01 00 00 00 00 00 00 81 2E ${data} 00 16`;
    const frame = decodeCjt188Frame(withChecksum(hex));
    expect(frame.meterTypeName).toBe('heat');
    expect(frame.body).toMatchObject({
      kind: 'read-reply',
      data: {
        type: 'heat',
        settlementHeat: { value: 125, unit: 'kWh' },
        currentHeat: { value: 150, unit: 'kWh' },
        heatPower: { value: 12.5, unit: 'kW' },
        flowRate: { value: 0.1234, unit: 'm3/h' },
        accumulatedFlow: { value: 210, unit: 'm3' },
        supplyTemperature: 65.5,
        returnTemperature: 45.25,
        workingHours: 1234,
        time: '2026-01-09 12:00:00',
        status: { valve: 'open', batteryLow: true },
      },
    });
  });

  it('decodes history, day and key-version replies by DI', () => {
    const history = decodeCjt188Frame(
      withChecksum('68 10 01 00 00 00 00 00 00 81 08 D1 22 03 00 45 23 01 2C 00 16'),
    );
    expect(history.body).toMatchObject({ data: { type: 'history', month: 3, value: 12345, unit: 'm3' } });
    const day = decodeCjt188Frame(withChecksum('68 10 01 00 00 00 00 00 00 81 04 03 81 00 25 00 16'));
    expect(day.body).toMatchObject({
      di: '8103',
      diOrder: 'low-first',
      data: { type: 'settlement-day', day: 25 },
    });
    const key = decodeCjt188Frame(withChecksum('68 10 01 00 00 00 00 00 00 89 04 81 06 00 07 00 16'));
    expect(key.body).toMatchObject({
      kind: 'read-key-version-reply',
      data: { type: 'key-version', keyVersion: 7 },
    });
  });

  it('keeps a known DI with an unexpected payload length as raw data', () => {
    const frame = decodeCjt188Frame(withChecksum('68 10 01 00 00 00 00 00 00 81 05 90 1F 00 12 34 00 16'));
    expect(frame.body).toMatchObject({ kind: 'read-reply', data: { type: 'raw', hex: '1234' } });
  });
});

describe('CJ/T 188 encode', () => {
  const base = decodeCjt188Frame(hexToBytes('68 10 12 00 00 00 00 00 00 01 03 90 1F 00 3D 16'));

  it('writes the DI in the order the frame asks for', () => {
    const low = encodeCjt188({ ...base, body: { kind: 'read', di: '901F', diOrder: 'low-first', ser: 1 } });
    expect(bytesToHex(low)).toBe('68 10 12 00 00 00 00 00 00 01 03 1F 90 01 3E 16');
  });

  it('rejects a DI it does not know with UNKNOWN_DI', () => {
    expect(() =>
      encodeCjt188({ ...base, body: { kind: 'read', di: '907F', diOrder: 'high-first', ser: 0 } }),
    ).toThrow(expect.objectContaining({ code: 'UNKNOWN_DI' }));
  });

  it('rejects a body that does not fit the control code, naming both', () => {
    expect(() => encodeCjt188({ ...base, control: 0x04, body: base.body })).toThrow(
      /direction|'read' does not match C=0x04/,
    );
    expect(() => makeCjt188Frame({ ...base, control: 0x04 })).not.toThrow();
    expect(() => encodeCjt188(makeCjt188Frame({ ...base, control: 0x04 }))).toThrow(
      "CJ/T 188 body kind 'read' does not match C=0x04 (which carries 'write')",
    );
  });

  it('rejects opaque DATA that would decode as a typed body', () => {
    expect(() => encodeCjt188({ ...base, body: { kind: 'opaque', data: '901F00' } })).toThrow(
      /would decode as 'read'/,
    );
  });

  it('rejects fields out of range with BAD_FIELD', () => {
    const bad = (patch: object) => () => encodeCjt188({ ...base, ...patch });
    expect(bad({ preamble: 17 })).toThrow(/preamble 17/);
    expect(bad({ address: '123' + 'X' })).toThrow(/address/);
    expect(bad({ direction: 'reply' })).toThrow(/disagree/);
    expect(bad({ body: { kind: 'read', di: '901F', diOrder: 'high-first', ser: 256 } })).toThrow(/SER 256/);
  });
});
