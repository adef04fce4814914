import { describe, expect, it } from 'vitest';
import {
  buildErrorReply,
  buildReadRequest,
  buildWriteReply,
  decodeCjt188Frame,
  encodeCjt188,
} from '../../protocols/cjt188/index.ts';
import { buildValveCommand, decodeValveReply, hasValve } from './valve.ts';

const METER = '00000000101001';
const what = `meter ${METER}`;

describe('buildValveCommand', () => {
  it('writes C=04 DI A017 with 99H to close and 55H to open (docs/cjt188.md §1.11)', () => {
    const close = decodeCjt188Frame(buildValveCommand(METER, 'close'));
    expect(close).toMatchObject({ control: 0x04, address: METER, meterType: 0x10 });
    expect(close.body).toMatchObject({
      kind: 'write',
      di: 'A017',
      data: { type: 'valve', command: 'close' },
    });
    expect(Buffer.from(buildValveCommand(METER, 'open')).includes(0x55)).toBe(true);
    expect(decodeCjt188Frame(buildValveCommand(METER, 'open', { kind: 'gas' })).meterType).toBe(0x30);
  });
});

describe('decodeValveReply', () => {
  const request = decodeCjt188Frame(buildValveCommand(METER, 'close'));

  it('reads the valve state from the reply status word', () => {
    const reply = encodeCjt188(buildWriteReply(request, { valve: 'closed', batteryLow: true }));
    expect(decodeValveReply(METER, reply, what)).toEqual({ valve: 'closed', batteryLow: true });
  });

  it('skips an echo of the request before the reply', () => {
    const echo = buildValveCommand(METER, 'close');
    const reply = encodeCjt188(buildWriteReply(request, { valve: 'closed' }));
    expect(decodeValveReply(METER, Buffer.concat([echo, reply]), what).valve).toBe('closed');
  });

  it('returns no state for a reply without a status word', () => {
    expect(decodeValveReply(METER, encodeCjt188(buildWriteReply(request, null)), what)).toEqual({});
  });

  it('names each way the answer can be wrong', () => {
    const cases: [Uint8Array, string, string | undefined][] = [
      [new Uint8Array(0), 'METER_TIMEOUT', 'METER_TIMEOUT'],
      [encodeCjt188(buildErrorReply(request, { valve: 'abnormal' })), 'BAD_REPLY', 'ABNORMAL_REPLY'],
      [
        encodeCjt188(buildWriteReply(decodeCjt188Frame(buildValveCommand('00000000101009', 'close')), null)),
        'BAD_REPLY',
        'ADDRESS_MISMATCH',
      ],
      [encodeCjt188(buildReadRequest(METER, '901F')), 'BAD_REPLY', 'BAD_REPLY'],
      [Uint8Array.of(0x68, 0x10, 1, 2, 3), 'BAD_REPLY', 'BAD_REPLY'],
    ];
    for (const [content, code, reason] of cases) {
      let caught: { code?: string; detail?: string | { reason?: string } } | undefined;
      try {
        decodeValveReply(METER, content, what);
      } catch (error) {
        caught = error as typeof caught;
      }
      expect(caught?.code).toBe(code);
      const detail = caught?.detail;
      expect(typeof detail === 'object' ? detail.reason : detail).toBe(reason);
    }
  });
});

describe('decodeValveReply detail', () => {
  it('names both addresses of a mismatch and carries the reply bytes', () => {
    const other = decodeCjt188Frame(buildValveCommand('00000000101009', 'close'));
    const bytes = encodeCjt188(buildWriteReply(other, null));
    expect(() => decodeValveReply(METER, bytes, what)).toThrow(
      expect.objectContaining({
        detail: expect.objectContaining({
          reason: 'ADDRESS_MISMATCH',
          expected: METER,
          got: '00000000101009',
        }),
      }),
    );
  });
});

describe('hasValve', () => {
  it('is true for CJ/T 188 water and gas meters only', () => {
    expect(hasValve('cjt188', 'cold-water')).toBe(true);
    expect(hasValve('cjt188', 'gas')).toBe(true);
    expect(hasValve('cjt188', 'heat')).toBe(false);
    expect(hasValve('dlt645', 'electricity')).toBe(false);
  });
});
