import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';
import { decodeDlt645, decodeDlt645Frame } from './decode.ts';
import { encodeDlt645 } from './encode.ts';

// D4 (docs/dlt645.md §2.4): read 00010000 from 123456789012.
const D4 = '68 12 90 78 56 34 12 68 11 04 33 33 34 33 68 16';
const D5 = '68 12 90 78 56 34 12 68 91 08 33 33 34 33 89 67 45 33 54 16';

const decodeHex = (hex: string) => decodeDlt645(hexToBytes(hex));

function errorOf(hex: string) {
  const result = decodeHex(hex);
  if (result.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(result)}`);
  return result;
}

/** A frame with a valid checksum for any control code and DATA (given after −33H). */
function frameHex(control: number, data: number[], address = '12 90 78 56 34 12'): string {
  const body = [
    0x68,
    ...hexToBytes(address),
    0x68,
    control,
    data.length,
    ...data.map((b) => (b + 0x33) & 0xff),
  ];
  const cs = body.reduce((a, b) => a + b, 0) & 0xff;
  return Buffer.from([...body, cs, 0x16]).toString('hex');
}

describe('decodeDlt645', () => {
  it('gives NO_START for junk before a start and skips to the next 68H or FE', () => {
    const r = errorOf('01 02 03 FE 68');
    expect(r.error).toBeInstanceOf(ProtocolError);
    expect(r.error.code).toBe('NO_START');
    expect(r.skip).toBe(3);
  });
  it('gives NO_START with skip = length when no start byte follows', () => {
    expect(errorOf('01 02 03').skip).toBe(3);
  });
  it('gives NO_START for FE preamble followed by something other than 68H, skipping the FE run', () => {
    const r = errorOf('FE FE 12 68');
    expect(r.error.code).toBe('NO_START');
    expect(r.error.message).toMatch(/0x12 at offset 2/);
    expect(r.skip).toBe(3);
  });
  it('keeps at most 32 FE as preamble and drops the rest as NO_START', () => {
    const buf = hexToBytes(`${'FE '.repeat(40)}${D4}`);
    const r = decodeDlt645(buf);
    expect(r.kind === 'error' && r.error.code).toBe('NO_START');
    expect(r.kind === 'error' && r.skip).toBe(8);
    const again = decodeDlt645(buf.subarray(8));
    expect(again.kind === 'frame' && again.frame.preamble).toBe(32);
  });
  it('gives BAD_BCD naming the address byte as soon as it arrives', () => {
    const r = errorOf('68 12 9B');
    expect(r.error.code).toBe('BAD_BCD');
    expect(r.error.message).toMatch(/address byte A1 at offset 2 is 0x9B/);
    expect(r.error.offset).toBe(2);
  });
  it('gives BAD_START when the second 68H at offset 7 is wrong', () => {
    const r = errorOf('68 12 90 78 56 34 12 69');
    expect(r.error.code).toBe('BAD_START');
    expect(r.error.message).toBe('DL/T 645 second start at offset 7 is 0x69, expected 0x68');
  });
  it('gives BAD_START at offset 7 after the preamble too', () => {
    const r = errorOf('FE FE 68 12 90 78 56 34 12 00 11');
    expect(r.error.code).toBe('BAD_START');
    expect(r.error.offset).toBe(9);
  });
  it('gives BAD_LENGTH for L above 200 without waiting for the data', () => {
    const r = errorOf('68 12 90 78 56 34 12 68 11 C9');
    expect(r.error.code).toBe('BAD_LENGTH');
    expect(r.error.message).toMatch(/L at offset 9 is 201/);
  });
  it('gives BAD_CHECKSUM naming both values, before the end byte arrives', () => {
    const r = errorOf('68 12 90 78 56 34 12 68 91 08 33 33 34 33 89 67 45 33 55');
    expect(r.error.code).toBe('BAD_CHECKSUM');
    expect(r.error.message).toBe('DL/T 645 checksum 0x55 at offset 18, computed 0x54');
    expect(r.skip).toBe(7);
  });
  it('gives BAD_END when 16H is not where L puts it', () => {
    const r = errorOf(D4.replace(/16$/, '17'));
    expect(r.error.code).toBe('BAD_END');
    expect(r.error.message).toMatch(/end byte at offset 15 is 0x17, expected 0x16/);
  });
  it('asks for more while the bytes could still become a frame, with the total length once L is known', () => {
    expect(decodeHex('')).toEqual({ kind: 'need-more' });
    expect(decodeHex('FE FE')).toEqual({ kind: 'need-more', atLeast: 14 });
    expect(decodeHex('68 12 90')).toEqual({ kind: 'need-more', atLeast: 12 });
    expect(decodeHex('68 12 90 78 56 34 12 68 11 04 33')).toEqual({ kind: 'need-more', atLeast: 16 });
    expect(decodeHex(D4.slice(0, -3))).toEqual({ kind: 'need-more', atLeast: 16 });
  });
  it('decodes a frame followed by other bytes and reports what it consumed', () => {
    const r = decodeHex(`${D4} 68 AA`);
    expect(r.kind === 'frame' && r.consumed).toBe(16);
  });
  it('decodes an unknown-DI read reply as opaque and re-encodes it', () => {
    const hex = frameHex(0x91, [0xff, 0x22, 0x80, 0x02, 0x01, 0x02]);
    const frame = decodeDlt645Frame(hexToBytes(hex));
    expect(frame.body).toEqual({ kind: 'opaque', data: 'FF 22 80 02 01 02' });
    expect(Buffer.from(encodeDlt645(frame)).toString('hex')).toBe(hex);
  });
  it('decodes a known-DI reply whose value is not BCD (meter has no such item) as opaque', () => {
    const frame = decodeDlt645Frame(
      hexToBytes(frameHex(0x91, [0x00, 0x00, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff])),
    );
    expect(frame.body.kind).toBe('opaque');
  });
  it('decodes signed values with D7 of the top byte as the sign', () => {
    const frame = decodeDlt645Frame(hexToBytes(frameHex(0x91, [0x00, 0x01, 0x02, 0x02, 0x56, 0x34, 0x92])));
    expect(frame.body).toEqual({ kind: 'read-reply', di: '02020100', value: -123.456, unit: 'A' });
  });
  it('keeps the raw bytes of a negative zero so that it re-encodes exactly', () => {
    const hex = frameHex(0x91, [0x00, 0x00, 0x03, 0x02, 0x00, 0x00, 0x80]);
    const frame = decodeDlt645Frame(hexToBytes(hex));
    expect(frame.body).toEqual({
      kind: 'read-reply',
      di: '02030000',
      value: 0,
      unit: 'kW',
      data: '00 00 80',
    });
    expect(Buffer.from(encodeDlt645(frame)).toString('hex')).toBe(hex);
  });
  it('decodes date and time DIs as strings with the week', () => {
    const date = decodeDlt645Frame(
      hexToBytes(frameHex(0x91, [0x01, 0x01, 0x00, 0x04, 0x03, 0x01, 0x05, 0x24])),
    );
    expect(date.body).toEqual({
      kind: 'read-reply',
      di: '04000101',
      value: '2024-05-01',
      week: 3,
      unit: 'date',
    });
    const time = decodeDlt645Frame(hexToBytes(frameHex(0x91, [0x02, 0x01, 0x00, 0x04, 0x56, 0x34, 0x12])));
    expect(time.body).toEqual({ kind: 'read-reply', di: '04000102', value: '12:34:56', unit: 'time' });
  });
  it('decodes an impossible date as opaque', () => {
    const frame = decodeDlt645Frame(
      hexToBytes(frameHex(0x91, [0x01, 0x01, 0x00, 0x04, 0x03, 0x31, 0x02, 0x24])),
    );
    expect(frame.body.kind).toBe('opaque');
  });
  it('decodes a 2007 follow-up read request with its SEQ', () => {
    const frame = decodeDlt645Frame(hexToBytes(frameHex(0x12, [0x00, 0x00, 0x01, 0x00, 0x07])));
    expect(frame.body).toEqual({ kind: 'read-follow-up', di: '00010000', seq: 7 });
  });
  it('sets followUp from D5 and still decodes the reply value', () => {
    const frame = decodeDlt645Frame(
      hexToBytes(frameHex(0xb1, [0x00, 0x00, 0x01, 0x00, 0x56, 0x34, 0x12, 0x00])),
    );
    expect(frame).toMatchObject({ followUp: true, body: { kind: 'read-reply', value: 1234.56 } });
  });
  it('names the reserved error bit when a meter sets it', () => {
    const frame = decodeDlt645Frame(hexToBytes(frameHex(0xd1, [0x81])));
    expect(frame.body).toEqual({
      kind: 'abnormal-reply',
      error: 0x81,
      errors: ['other error', 'reserved bit 7'],
    });
  });
});

describe('decodeDlt645Frame', () => {
  it('returns the frame of exactly one whole frame', () => {
    expect(decodeDlt645Frame(hexToBytes(D5)).body).toMatchObject({ value: 1234.56 });
  });
  it('throws TRUNCATED when the bytes end inside the frame', () => {
    expect(() => decodeDlt645Frame(hexToBytes(D5.slice(0, 20)))).toThrow(
      expect.objectContaining({ code: 'TRUNCATED' }),
    );
  });
  it('throws BAD_LENGTH when bytes follow the frame', () => {
    expect(() => decodeDlt645Frame(hexToBytes(`${D4} 00`))).toThrow(
      expect.objectContaining({
        code: 'BAD_LENGTH',
        message: expect.stringMatching(/1 bytes after the end/),
      }),
    );
  });
  it('throws the decoder error, e.g. BAD_CHECKSUM', () => {
    expect(() => decodeDlt645Frame(hexToBytes(D5.replace(/54 16$/, '55 16')))).toThrow(ProtocolError);
  });
});
