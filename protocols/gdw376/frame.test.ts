import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes, sum8 } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';
import { describeVectors, loadVectors } from '../testing/vector-table.ts';
import { gdw376FrameArb, gdw376NoiseArb } from './arbitraries.ts';
import { buildLogin } from './builders.ts';
import { decodeGdw376, decodeGdw376Frame, encodeGdw376, GDW376_MAX_FRAME_LENGTH } from './frame.ts';
import type { Gdw376Frame } from './types.ts';

describeVectors(loadVectors('gdw376.json'), { decode: decodeGdw376, encode: encodeGdw376 });

/** Wraps user data (C … AUX) in 68 L L 68 … CS 16 with a correct L (protocol id `id`) and checksum. */
function wrap(user: string, id = 2): Uint8Array {
  const u = hexToBytes(user);
  const l = (u.length << 2) | id;
  return Uint8Array.from([0x68, l & 0xff, l >> 8, l & 0xff, l >> 8, 0x68, ...u, sum8(u), 0x16]);
}

function errorOf(buf: Uint8Array): ProtocolError {
  const r = decodeGdw376(buf);
  if (r.kind !== 'error') throw new Error(`expected an error, got ${r.kind}`);
  return r.error;
}

const LOGIN = 'C9 71 01 22 08 00 02 78 00 00 01 00';

describe('decodeGdw376', () => {
  it('reads the docs/gdw376.md §3.6 login with protocol id 10 and re-encodes it', () => {
    const bytes = wrap(LOGIN);
    expect(bytesToHex(bytes)).toBe('68 32 00 32 00 68 C9 71 01 22 08 00 02 78 00 00 01 00 E0 16');
  });

  it('accepts protocol id 01 (Q/GDW 130-2005) and reports it', () => {
    const bytes = wrap(LOGIN, 1);
    const r = decodeGdw376(bytes);
    expect(r.kind === 'frame' && r.frame.protocolId).toBe(1);
    if (r.kind === 'frame') expect(bytesToHex(encodeGdw376(r.frame))).toBe(bytesToHex(bytes));
  });

  it('gives NO_START for junk and skips to the next 68', () => {
    const r = decodeGdw376(hexToBytes('01 02 03 68 32'));
    expect(r).toMatchObject({ kind: 'error', skip: 3 });
    expect(r.kind === 'error' && r.error.code).toBe('NO_START');
  });

  it('gives BAD_LENGTH naming both L copies when they differ', () => {
    const e = errorOf(hexToBytes('68 32 00 4A 00 68'));
    expect(e.code).toBe('BAD_LENGTH');
    expect(e.message).toBe('L copies differ: 0x0032 vs 0x004A');
  });

  it('gives BAD_LENGTH for protocol id 00 and 11 as soon as L is there', () => {
    expect(errorOf(hexToBytes('68 30 00')).code).toBe('BAD_LENGTH');
    expect(errorOf(hexToBytes('68 33 00')).message).toMatch(/protocol id 11/);
  });

  it('gives BAD_LENGTH for a length shorter than C, A, AFN and SEQ', () => {
    expect(errorOf(hexToBytes('68 1E 00 1E 00 68')).message).toMatch(/L says 7 user-data bytes/);
  });

  it('gives BAD_LENGTH when the AUX this frame must carry does not fit', () => {
    // Downlink AFN 10 carries a 16-byte PW, but the frame has only 12 user-data bytes.
    const e = errorOf(wrap('4B 00 02 34 12 04 10 60 00 00 01 00'));
    expect(e.code).toBe('BAD_LENGTH');
    expect(e.message).toMatch(/PW/);
  });

  it('gives BAD_START when the second 68 is missing', () => {
    const bytes = wrap(LOGIN);
    bytes[5] = 0x69;
    expect(errorOf(bytes).code).toBe('BAD_START');
  });

  it('gives BAD_CHECKSUM naming the sent and computed sums', () => {
    const bytes = wrap(LOGIN);
    bytes[bytes.length - 2] = 0xeb;
    const e = errorOf(bytes);
    expect(e.code).toBe('BAD_CHECKSUM');
    expect(e.message).toBe('checksum 0xEB, computed 0xE0');
  });

  it('gives BAD_END when only the end byte is wrong', () => {
    const bytes = wrap(LOGIN);
    bytes[bytes.length - 1] = 0x17;
    expect(errorOf(bytes).code).toBe('BAD_END');
  });

  it('gives BAD_BCD for an area code that is not BCD', () => {
    const e = errorOf(wrap('C9 7A 01 22 08 00 02 78 00 00 01 00'));
    expect(e.code).toBe('BAD_BCD');
    expect(e.message).toMatch(/A1/);
  });

  it('gives BAD_BCD for a Tp send time that is not BCD', () => {
    const e = errorOf(wrap('C9 71 01 22 08 00 02 F8 00 00 01 00 00 5A 00 00 01 00'));
    expect(e.code).toBe('BAD_BCD');
  });

  it('gives BAD_FIELD for stray bytes after the last data unit', () => {
    const e = errorOf(wrap(`${LOGIN} 01 02`));
    expect(e.code).toBe('BAD_FIELD');
    expect(e.message).toMatch(/2 byte\(s\) left/);
  });

  it('gives BAD_FIELD for a DA that names no point', () => {
    expect(errorOf(wrap('C9 71 01 22 08 00 02 78 00 05 01 00')).code).toBe('BAD_FIELD');
  });

  it('gives BAD_FIELD naming the data unit when a heartbeat carries 5 bytes', () => {
    const e = errorOf(wrap('C9 71 01 22 08 00 02 78 00 00 04 00 01 02 03 04 05'));
    expect(e.code).toBe('BAD_FIELD');
    expect(e.message).toMatch(/data unit 0 \(AFN 02 p0 F3\)/);
  });

  it('gives BAD_FIELD when a forward content length runs past the data unit', () => {
    const e = errorOf(wrap('A8 00 02 34 12 04 10 60 00 00 01 00 1F 14 00 68 16 00 00'));
    expect(e.code).toBe('BAD_FIELD');
    expect(e.message).toMatch(/forward reply length says 20/);
  });

  it('reads an unknown AFN as one opaque unit', () => {
    const r = decodeGdw376(wrap('88 00 02 34 12 04 0E 60 01 01 01 00 AA BB'));
    expect(r.kind === 'frame' && r.frame.units).toEqual([
      { pn: [1], fn: [1], body: { kind: 'opaque', data: 'AA BB' } },
    ]);
  });

  it('reads several units of an AFN 0C request, each with pn/Fn lists', () => {
    const r = decodeGdw376(wrap('4B 00 02 34 12 04 0C 60 01 01 01 03 03 01 01 04'));
    expect(r.kind === 'frame' && r.frame.units).toEqual([
      { pn: [1], fn: [25], body: { kind: 'data-request', data: '' } },
      { pn: [1, 2], fn: [33], body: { kind: 'data-request', data: '' } },
    ]);
  });

  it('asks for the rest of a frame with the total length', () => {
    expect(decodeGdw376(wrap(LOGIN).subarray(0, 10))).toEqual({ kind: 'need-more', atLeast: 20 });
    expect(decodeGdw376(hexToBytes('68 32'))).toEqual({ kind: 'need-more' });
  });

  it('round-trips every arbitrary valid frame', () => {
    fc.assert(
      fc.property(gdw376FrameArb, (frame) => {
        const bytes = encodeGdw376(frame);
        const r = decodeGdw376(bytes);
        expect(r).toEqual({ kind: 'frame', frame, consumed: bytes.length });
        expect(JSON.parse(JSON.stringify(frame))).toEqual(frame);
      }),
    );
  });

  it('never throws on arbitrary bytes and keeps consumed and skip in range', () => {
    fc.assert(
      fc.property(gdw376NoiseArb, (bytes) => {
        const r = decodeGdw376(bytes);
        if (r.kind === 'frame') expect(r.consumed).toBeLessThanOrEqual(bytes.length);
        if (r.kind === 'error') {
          expect(r.error).toBeInstanceOf(ProtocolError);
          expect(r.skip).toBeGreaterThanOrEqual(1);
          expect(r.skip).toBeLessThanOrEqual(bytes.length);
        }
        if (r.kind === 'need-more' && r.atLeast !== undefined) {
          expect(r.atLeast).toBeLessThanOrEqual(GDW376_MAX_FRAME_LENGTH);
        }
      }),
    );
  });

  it('never skips past a 68 inside rejected bytes', () => {
    fc.assert(
      fc.property(gdw376NoiseArb, (bytes) => {
        const r = decodeGdw376(bytes);
        if (r.kind === 'error') expect(bytes.subarray(1, r.skip).includes(0x68)).toBe(false);
      }),
    );
  });
});

describe('decodeGdw376Frame', () => {
  it('gives BAD_LENGTH "L says 12 user-data bytes, frame has 18" for Q22', () => {
    const q22 = hexToBytes('68 32 00 32 00 68 C9 00 50 41 14 00 02 77 00 00 04 00 31 09 14 14 B2 18 EB 16');
    expect(() => decodeGdw376Frame(q22)).toThrow('L says 12 user-data bytes, frame has 18');
  });

  it('gives TRUNCATED when the frame is cut', () => {
    const cut = wrap(LOGIN).subarray(0, 15);
    expect(() => decodeGdw376Frame(cut)).toThrow(expect.objectContaining({ code: 'TRUNCATED' }));
    expect(() => decodeGdw376Frame(new Uint8Array(0))).toThrow(
      expect.objectContaining({ code: 'TRUNCATED' }),
    );
  });

  it('gives BAD_LENGTH for a whole frame followed by more bytes', () => {
    const bytes = Uint8Array.from([...wrap(LOGIN), 0x00]);
    expect(() => decodeGdw376Frame(bytes)).toThrow(expect.objectContaining({ code: 'BAD_LENGTH' }));
  });

  it('returns the frame of exactly one whole frame', () => {
    expect(decodeGdw376Frame(wrap(LOGIN))).toMatchObject({ a1: '0171', a2: 2082, seq: { seq: 8 } });
  });

  it('throws the decoder error for a bad frame', () => {
    expect(() => decodeGdw376Frame(hexToBytes('00 68'))).toThrow(
      expect.objectContaining({ code: 'NO_START' }),
    );
  });
});

describe('encodeGdw376', () => {
  const login = buildLogin({ a1: '0171', a2: 2082, seq: 8 });
  const bad = (patch: Partial<Gdw376Frame>) => () => encodeGdw376({ ...login, ...patch });

  it('rejects a control whose raw byte disagrees with its fields', () => {
    expect(bad({ control: { ...login.control, raw: 0xc8 } })).toThrow(/control.raw 0xC8/);
  });
  it('rejects an area code that is not 4 digits', () => {
    expect(bad({ a1: '171' })).toThrow(expect.objectContaining({ code: 'BAD_FIELD' }));
  });
  it('rejects a body the decoder would read as another kind', () => {
    expect(bad({ units: [{ pn: [0], fn: [2], body: { kind: 'login' } }] })).toThrow(/'logout'/);
  });
  it('rejects a body that runs to the end of the data when it is not last', () => {
    const hb = { pn: [0], fn: [3], body: { kind: 'heartbeat' as const } };
    expect(bad({ units: [hb, login.units[0]] })).toThrow(/must be the last unit/);
  });
  it('rejects AUX members the frame would not carry, and missing ones', () => {
    expect(bad({ aux: { ec: { important: 1, normal: 0 } } })).toThrow(/aux.ec is given/);
    expect(bad({ seq: { ...login.seq, tpv: true } })).toThrow(/aux.tp is missing/);
  });
  it('gives TOO_LONG beyond 16383 user-data bytes', () => {
    const data = bytesToHex(new Uint8Array(16400));
    const frame: Gdw376Frame = {
      ...login,
      afn: 0x0e,
      units: [{ pn: [0], fn: [1], body: { kind: 'opaque', data } }],
    };
    expect(() => encodeGdw376(frame)).toThrow(expect.objectContaining({ code: 'TOO_LONG' }));
  });
});

describe('data unit errors', () => {
  it('name the unit and give the offset in the frame for a bad item of AFN 00 F3', () => {
    // 0B 00 02 34 12 00 | AFN 00 SEQ 61 | 00 00 04 00 | 02 | DA 00 05 (names no point) DT 01 00 ERR 00
    const e = errorOf(wrap('0B 00 02 34 12 00 00 61 00 00 04 00 02 00 05 01 00 00'));
    expect(e.code).toBe('BAD_FIELD');
    expect(e.message).toMatch(/^data unit 0 \(AFN 00 p0 F3\): DA 00 05/);
    expect(e.offset).toBe(6 + 13);
  });
});
