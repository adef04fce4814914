import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../bytes.ts';
import { decodeCjt188Frame } from './decode.ts';
import { encodeCjt188 } from './encode.ts';

// BLOG-JY, "CJ/T-188 冷热量表协议解析2" (https://www.shuzhiduo.com/A/RnJWxa2v5q, docs/cjt188.md §1.8 "Vendor
// deviation"): a JY heat meter's 901F reply with each unit code before its value; CS 31 as published.
const JY_REPLY =
  'FE FE FE FE 68 20 32 41 31 40 00 00 00 81 2E 90 1F 01 08 02 00 00 00 08 02 00 00 00 17 00 00 00 00 35 00 00 00 00 2C 34 10 00 00 35 25 00 66 25 00 00 00 00 53 00 12 10 07 15 20 00 00 31 16';
// AIXI `decode_cjt188` self-test reply (vector C9) with the low byte of its settlement flow changed to 1A (not
// BCD) and the checksum fixed: a sound envelope whose DATA does not fit the 901F water layout.
const C9_BAD_VALUE =
  '68 10 12 00 00 00 00 00 00 81 16 90 1F 00 10 00 10 00 2C 10 00 1A 00 2C 00 00 00 00 00 00 00 00 FF 71 16';

describe('CJ/T 188 frames whose DATA does not fit the layout (issue 14, item 4)', () => {
  it('decodes the JY unit-first heat reply as the named variant, and re-encodes it byte for byte', () => {
    const frame = decodeCjt188Frame(hexToBytes(JY_REPLY));
    expect(frame).toMatchObject({
      address: '00000040314132',
      meterTypeName: 'heat',
      body: {
        kind: 'read-reply',
        di: '901F',
        ser: 1,
        data: {
          type: 'heat',
          variant: 'unit-first',
          settlementHeat: { value: 0.02, unit: 'MWh', unitCode: 8 },
          accumulatedFlow: { value: 10.34, unit: 'm3', unitCode: 0x2c },
          supplyTemperature: 25.35,
          returnTemperature: 25.66,
          time: '2015-07-10 12:00:53',
        },
      },
    });
    expect(bytesToHex(encodeCjt188(frame))).toBe(JY_REPLY);
  });

  it('shows a frame with a sound envelope and a body that does not fit: header, DI, opaque DATA and a warning', () => {
    const frame = decodeCjt188Frame(hexToBytes(C9_BAD_VALUE));
    expect(frame).toMatchObject({
      address: '00000000000012',
      control: 0x81,
      body: { kind: 'opaque', head: { di: '901F', diOrder: 'high-first', ser: 0 } },
    });
    const body = frame.body as { data: string; warning: string };
    expect(body.data).toBe(C9_BAD_VALUE.replace(/ /g, '').slice(22, -4));
    expect(body.warning).toMatch(/does not fit the read-reply layout of DI 901F/);
    expect(bytesToHex(encodeCjt188(frame))).toBe(C9_BAD_VALUE);
  });

  it('still rejects such a frame when asked to be strict', () => {
    expect(() => decodeCjt188Frame(hexToBytes(C9_BAD_VALUE), { strict: true })).toThrow(
      expect.objectContaining({ code: 'BAD_BCD' }),
    );
  });
});
