import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../bytes.ts';
import {
  buildConfirm,
  buildConfirmItems,
  buildDataRequest,
  buildDeny,
  buildForwardReply,
  buildForwardRequest,
  buildHeartbeat,
  buildLogin,
  buildLogout,
  confirmFor,
  denyFor,
} from './builders.ts';
import { decodeGdw376, decodeGdw376Frame, encodeGdw376 } from './frame.ts';
import type { Gdw376Frame } from './types.ts';

const hex = (frame: Gdw376Frame) => bytesToHex(encodeGdw376(frame));
/** The frame as the decoder gives it back: builders must produce exactly that. */
const mirror = (frame: Gdw376Frame) => {
  const r = decodeGdw376(encodeGdw376(frame));
  return r.kind === 'frame' ? r.frame : r;
};

const Q14 =
  '68 E2 00 E2 00 68 4B 00 02 34 12 04 10 E0 00 00 01 00 1F 6B BC 0A 10 00 68 61 10 01 30 12 15 68 11 04 33 33 34 33 7B 16 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 13 51 23 21 05 A1 16';
const Q15 =
  '68 AE 00 AE 00 68 A8 00 02 34 12 04 10 E0 00 00 01 00 1F 14 00 68 61 10 01 30 12 15 68 91 08 33 33 34 33 AB 39 33 33 49 16 4F 00 00 06 50 23 21 05 AE 16';

describe('builders', () => {
  it('builds the Q1 login, Q3 logout and Q2 heartbeat', () => {
    const a = { a1: '0171', a2: 2082 };
    expect(hex(buildLogin({ ...a, seq: 8 }))).toBe(
      '68 32 00 32 00 68 C9 71 01 22 08 00 02 78 00 00 01 00 E0 16',
    );
    expect(hex(buildLogout({ ...a, seq: 1 }))).toBe(
      '68 32 00 32 00 68 C9 71 01 22 08 00 02 71 00 00 02 00 DA 16',
    );
    expect(hex(buildHeartbeat({ ...a, seq: 9 }))).toBe(
      '68 32 00 32 00 68 C9 71 01 22 08 00 02 79 00 00 04 00 E4 16',
    );
  });

  it('builds the corrected Q22 heartbeat with clock (L 4A 00, CS 17)', () => {
    const frame = buildHeartbeat({ a1: '5000', a2: 0x1441, seq: 7, clock: '2018-12-14 14:09:31' });
    expect(hex(frame)).toBe('68 4A 00 4A 00 68 C9 00 50 41 14 00 02 77 00 00 04 00 31 09 14 14 B2 18 17 16');
    expect(mirror(frame)).toEqual(frame);
  });

  it('builds the Q10 confirm (C = 0B) and a deny', () => {
    expect(hex(buildConfirm({ a1: '0200', a2: 0x1234, seq: 1 }))).toBe(
      '68 32 00 32 00 68 0B 00 02 34 12 00 00 61 00 00 01 00 B5 16',
    );
    const deny = buildDeny({ a1: '0200', a2: 0x1234, seq: 1, fn: 0 });
    expect(mirror(deny)).toEqual(deny);
    expect(deny.units[0].body).toEqual({ kind: 'deny-all' });
  });

  it('builds the Q5 per-item confirm, non-standard DT included, and the standard form', () => {
    const options = { a1: '4404', a2: 1633, seq: 10, fn: 0, afn: 2, items: [{ pn: [0], fn: [1], ok: true }] };
    expect(hex(buildConfirmItems({ ...options, nonStandard: true }))).toBe(
      '68 4A 00 4A 00 68 00 04 44 61 06 00 00 6A 00 00 03 00 02 00 00 01 00 00 1F 16',
    );
    const standard = buildConfirmItems(options);
    expect(hex(standard)).toContain('00 00 04 00 02 00 00 01 00 00');
    expect(mirror(standard)).toEqual(standard);
  });

  it('builds the Q14 forward request with 2400 8E1, 60 s, PW 16 × 00 and Tp', () => {
    const frame = buildForwardRequest({
      a1: '0200',
      a2: 0x1234,
      msa: 2,
      seq: 0,
      port: 31,
      content: hexToBytes('68 61 10 01 30 12 15 68 11 04 33 33 34 33 7B 16'),
      tp: { pfc: 0, sendTime: '21 23:51:13', delayMinutes: 5 },
    });
    expect(hex(frame)).toBe(Q14);
    expect(mirror(frame)).toEqual(frame);
  });

  it('builds the Q15 forward reply echoing the request SEQ, address and port', () => {
    const request = decodeGdw376Frame(hexToBytes(Q14));
    const reply = buildForwardReply(request, {
      content: '68 61 10 01 30 12 15 68 91 08 33 33 34 33 AB 39 33 33 49 16',
      ec: { important: 0x4f, normal: 0 },
      tp: { pfc: 0, sendTime: '21 23:50:06', delayMinutes: 5 },
    });
    expect(hex(reply)).toBe(Q15);
    const other = buildForwardReply({ ...request, seq: { ...request.seq, seq: 13 } }, { content: '' });
    expect(other.seq.seq).toBe(13);
    expect(other.control.raw).toBe(0x88);
    expect(mirror(other)).toEqual(other);
  });

  it('refuses a forward reply without a port to echo', () => {
    const login = buildLogin({ a1: '0171', a2: 2082, seq: 8 });
    expect(() => buildForwardReply(login, { content: '' })).toThrow(/no port/);
  });

  it('builds AFN 0C and 0D requests with pn/Fn lists', () => {
    const c = buildDataRequest({ a1: '0171', a2: 2082, seq: 3, afn: 0x0c, units: [{ pn: [1], fn: [25] }] });
    expect(hex(c)).toBe('68 32 00 32 00 68 4B 71 01 22 08 00 0C 63 01 01 01 03 5C 16');
    const d = buildDataRequest({
      a1: '0171',
      a2: 2082,
      seq: 4,
      afn: 0x0d,
      units: [{ pn: [1], fn: [161], data: '14 12 18' }],
    });
    expect(mirror(d)).toEqual(d);
    expect(d.units[0].body).toEqual({ kind: 'data-request', data: '14 12 18' });
  });

  it('answers a request the terminal cannot answer with an uplink deny echoing SEQ (C = 89)', () => {
    const request = buildDataRequest({
      a1: '0171',
      a2: 2082,
      msa: 5,
      seq: 6,
      afn: 0x0c,
      units: [{ pn: [1], fn: [25] }],
    });
    const deny = denyFor(request);
    expect(deny).toMatchObject({
      control: { dir: 'up', prm: false, fn: 9, raw: 0x89 },
      a1: '0171',
      a2: 2082,
      a3: { msa: 5 },
      afn: 0,
      seq: { seq: 6, con: false },
      units: [{ pn: [0], fn: [2], body: { kind: 'deny-all' } }],
    });
    expect(mirror(deny)).toEqual(deny);
    expect(mirror(denyFor(request, { ec: { important: 1, normal: 2 } }))).toMatchObject({
      aux: { ec: { important: 1 } },
    });
  });

  it('confirms an uplink login with C = 0B and a downlink frame with C = 80', () => {
    const login = buildLogin({ a1: '0200', a2: 0x1234, seq: 1 });
    expect(hex(confirmFor(login))).toBe('68 32 00 32 00 68 0B 00 02 34 12 00 00 61 00 00 01 00 B5 16');
    const request = buildDataRequest({
      a1: '0171',
      a2: 2082,
      seq: 2,
      afn: 0x0c,
      units: [{ pn: [1], fn: [25] }],
    });
    expect(confirmFor(request).control.raw).toBe(0x80);
    expect(() => confirmFor(login, { ec: { important: 0, normal: 0 } })).toThrow(/uplink/);
  });
});
