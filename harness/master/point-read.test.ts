import { describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes, hexToBytes } from '../../protocols/bytes.ts';
import {
  buildErrorReply,
  buildWaterReadReply,
  decodeCjt188Frame,
  encodeCjt188,
} from '../../protocols/cjt188/index.ts';
import {
  buildAbnormalReply,
  buildReadReply,
  decodeDlt645Frame,
  encodeDlt645,
} from '../../protocols/dlt645/index.ts';
import { MasterError } from './master-error.ts';
import { buildMeterRequest, decodeMeterReply, MeterReadError, meterAddressFor } from './point-read.ts';

const CJ = '00000000101001';
const DL = '123456789012';

function cjReply(value: number, address = CJ): Uint8Array {
  const req = decodeCjt188Frame(buildMeterRequest('cjt188', CJ));
  return encodeCjt188(
    buildWaterReadReply(
      req,
      {
        current: value,
        time: { year: 2026, month: 1, day: 2, hour: 3, minute: 4, second: 5 },
        valve: 'closed',
      },
      { address },
    ),
  );
}

function codeOf(fn: () => unknown): { code: string; detail?: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof MasterError) return { code: err.code, detail: err.detail?.reason };
    throw err;
  }
  throw new Error('did not throw');
}

describe('meterAddressFor', () => {
  it('left-pads to 14 digits for CJ/T 188 and 12 for DL/T 645', () => {
    expect(meterAddressFor('cjt188', '101001')).toBe(CJ);
    expect(meterAddressFor('dlt645', '00123456789012')).toBe(DL);
    expect(codeOf(() => meterAddressFor('dlt645', '1123456789012')).code).toBe('BAD_REQUEST');
  });
});

describe('buildMeterRequest', () => {
  it('builds the CJ/T 188 901F read with the DI low byte first by default (docs/cjt188.md §1.6, C1)', () => {
    expect(bytesToHex(buildMeterRequest('cjt188', '78330011223344'))).toBe(
      'FE FE FE FE 68 10 44 33 22 11 00 33 78 01 03 1F 90 00 80 16',
    );
    expect(
      bytesToHex(buildMeterRequest('cjt188', '00000000000012', { cjt188DiOrder: 'high-first' })),
    ).toContain('01 03 90 1F 00');
  });

  it('asks with the meter type T of the archived kind (docs/cjt188.md §1.3): a heat meter answers only T=20H', () => {
    expect(bytesToHex(buildMeterRequest('cjt188', CJ, { kind: 'heat' }))).toMatch(/^FE FE FE FE 68 20 /);
    expect(bytesToHex(buildMeterRequest('cjt188', CJ, { kind: 'hot-water' }))).toMatch(/^FE FE FE FE 68 11 /);
    expect(bytesToHex(buildMeterRequest('cjt188', CJ, { kind: 'gas' }))).toMatch(/^FE FE FE FE 68 30 /);
    expect(codeOf(() => buildMeterRequest('dlt645', DL, { kind: 'heat' })).code).toBe('BAD_REQUEST');
  });

  it('builds the DL/T 645 read of 00010000 (D4)', () => {
    expect(bytesToHex(buildMeterRequest('dlt645', DL))).toBe(
      'FE FE FE FE 68 12 90 78 56 34 12 68 11 04 33 33 34 33 68 16',
    );
  });
});

describe('decodeMeterReply', () => {
  it('reads value, unit, meter time and status from a CJ/T 188 901F reply behind junk and an echo', () => {
    const content = concatBytes([hexToBytes('00 FF'), buildMeterRequest('cjt188', CJ), cjReply(123.45)]);
    expect(decodeMeterReply('cjt188', CJ, content, 'meter')).toEqual({
      meter: CJ,
      value: 123.45,
      unit: 'm3',
      meterTime: '2026-01-02T03:04:05',
      status: { valve: 'closed', batteryLow: false },
    });
  });

  it('reads kWh from a DL/T 645 reply (D5)', () => {
    const content = hexToBytes('68 12 90 78 56 34 12 68 91 08 33 33 34 33 89 67 45 33 54 16');
    expect(decodeMeterReply('dlt645', DL, content, 'meter')).toEqual({
      meter: DL,
      value: 1234.56,
      unit: 'kWh',
    });
  });

  it('carries the structured failure detail beside the legacy detail string', () => {
    const req = decodeCjt188Frame(buildMeterRequest('cjt188', CJ));
    const abnormal = encodeCjt188(buildErrorReply(req, { valve: 'closed' }));
    try {
      decodeMeterReply('cjt188', CJ, abnormal, 'm');
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(MeterReadError);
      expect((err as MeterReadError).failure).toEqual({
        reason: 'ABNORMAL_REPLY',
        protocol: 'cjt188',
        expected: CJ,
        got: CJ,
        statusWord: '0100',
        meaning: 'valve closed',
        reply: bytesToHex(abnormal),
      });
    }
  });

  it('says METER_TIMEOUT for empty content', () => {
    expect(codeOf(() => decodeMeterReply('cjt188', CJ, new Uint8Array(0), 'meter')).code).toBe(
      'METER_TIMEOUT',
    );
  });

  it('says BAD_REPLY and which way the reply was bad', () => {
    const wrong = cjReply(1, '00000000101002');
    expect(codeOf(() => decodeMeterReply('cjt188', CJ, wrong, 'm'))).toEqual({
      code: 'BAD_REPLY',
      detail: 'ADDRESS_MISMATCH',
    });
    const badCs = cjReply(1);
    badCs[badCs.length - 2] ^= 0xff;
    expect(codeOf(() => decodeMeterReply('cjt188', CJ, badCs, 'm'))).toEqual({
      code: 'BAD_REPLY',
      detail: 'BAD_CHECKSUM',
    });
    expect(codeOf(() => decodeMeterReply('cjt188', CJ, cjReply(1).subarray(0, 12), 'm'))).toEqual({
      code: 'BAD_REPLY',
      detail: 'TRUNCATED',
    });
    const req = decodeCjt188Frame(buildMeterRequest('cjt188', CJ));
    const abnormal = encodeCjt188(buildErrorReply(req, { valve: 'abnormal' }));
    expect(codeOf(() => decodeMeterReply('cjt188', CJ, abnormal, 'm'))).toEqual({
      code: 'BAD_REPLY',
      detail: 'ABNORMAL_REPLY',
    });
    const dlAbnormal = encodeDlt645(buildAbnormalReply(DL, ['no data requested']));
    expect(codeOf(() => decodeMeterReply('dlt645', DL, dlAbnormal, 'm'))).toEqual({
      code: 'BAD_REPLY',
      detail: 'ABNORMAL_REPLY',
    });
    const otherDi = encodeDlt645(buildReadReply(DL, '00020000', 5));
    expect(codeOf(() => decodeMeterReply('dlt645', DL, otherDi, 'm'))).toEqual({
      code: 'BAD_REPLY',
      detail: 'UNEXPECTED_REPLY',
    });
    const echoOnly = buildMeterRequest('dlt645', DL);
    expect(decodeDlt645Frame(echoOnly).direction).toBe('request');
    expect(codeOf(() => decodeMeterReply('dlt645', DL, echoOnly, 'm'))).toEqual({
      code: 'BAD_REPLY',
      detail: 'NO_REPLY',
    });
  });
});
