import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../bytes.ts';
import { buildReadReply, buildReadRequest } from './builders.ts';
import { encodeDlt645 } from './encode.ts';
import type { Dlt645Frame } from './frame.ts';

const read = buildReadRequest('123456789012', '00010000', { preamble: 0 });
const withChanges = (changes: Partial<Dlt645Frame>): Dlt645Frame => ({ ...read, ...changes });
const code = (frame: Dlt645Frame) => {
  try {
    encodeDlt645(frame);
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
};

describe('encodeDlt645', () => {
  it('encodes D4 byte for byte', () => {
    expect(bytesToHex(encodeDlt645(read))).toBe('68 12 90 78 56 34 12 68 11 04 33 33 34 33 68 16');
  });
  it('rejects a preamble above 32 or negative', () => {
    expect(code(withChanges({ preamble: 33 }))).toBe('BAD_FIELD');
    expect(code(withChanges({ preamble: -1 }))).toBe('BAD_FIELD');
  });
  it('rejects a control code that is not a byte', () => {
    expect(code(withChanges({ control: 256 }))).toBe('BAD_FIELD');
  });
  it('rejects flags or a version that disagree with the control code', () => {
    expect(code(withChanges({ direction: 'reply' }))).toBe('BAD_FIELD');
    expect(code(withChanges({ version: '1997' }))).toBe('BAD_FIELD');
    expect(() => encodeDlt645(withChanges({ abnormal: true }))).toThrow(
      /abnormal true disagrees with control code 0x11/,
    );
  });
  it('rejects a body that does not fit the control code', () => {
    expect(() => encodeDlt645(withChanges({ control: 0x91, direction: 'reply' }))).toThrow(
      /body "read" does not fit/,
    );
  });
  it('rejects an address that is not 12 digits or A', () => {
    expect(code(withChanges({ address: '12345' }))).toBe('BAD_FIELD');
    expect(code(withChanges({ address: '12345678901B' }))).toBe('BAD_FIELD');
  });
  it('rejects a DI of the other edition', () => {
    expect(() => encodeDlt645(withChanges({ body: { kind: 'read', di: '9010' } }))).toThrow(
      /1997 identifier/,
    );
  });
  it('rejects DATA above 200 bytes with BAD_LENGTH', () => {
    expect(code(withChanges({ body: { kind: 'opaque', data: '00'.repeat(201) } }))).toBe('BAD_LENGTH');
  });
  it('rejects opaque data that is not hex', () => {
    expect(code(withChanges({ body: { kind: 'opaque', data: 'XYZ0' } }))).toBe('BAD_FIELD');
  });
  it('gives UNKNOWN_DI for a read-reply value of a DI without a layout', () => {
    const reply = buildReadReply('123456789012', '00010000', 1);
    expect(code({ ...reply, body: { kind: 'read-reply', di: '028022FF', value: 1, unit: 'kWh' } })).toBe(
      'UNKNOWN_DI',
    );
  });
  it('refuses raw read-reply data for a DI without a layout: that frame decodes as opaque', () => {
    const reply = buildReadReply('123456789012', '00010000', 1);
    const body = { kind: 'read-reply', di: '028022FF', value: 0, unit: '', data: '01' } as const;
    expect(code({ ...reply, body })).toBe('BAD_FIELD');
    const bytes = encodeDlt645({ ...reply, body: { kind: 'opaque', data: 'FF 22 80 02 01' } });
    expect(bytesToHex(bytes.subarray(10, 15))).toBe('32 55 B3 35 34');
  });
  it('rejects a follow-up SEQ that is not a byte', () => {
    const frame = withChanges({ control: 0x12, body: { kind: 'read-follow-up', di: '00010000', seq: 300 } });
    expect(code(frame)).toBe('BAD_FIELD');
  });
  it('rejects an invalid time-sync time', () => {
    const frame = withChanges({ control: 0x08, body: { kind: 'time-sync', time: '2017-02-30 10:00:00' } });
    expect(code(frame)).toBe('BAD_FIELD');
  });
});
