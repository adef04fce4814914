import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes, hexToBytes } from './bytes.ts';
import { cjt188FrameArb } from './cjt188/arbitraries.ts';
import {
  buildErrorReply,
  buildWaterReadReply,
  decodeCjt188Frame,
  encodeCjt188,
  makeCjt188Frame,
} from './cjt188/index.ts';
import { dlt645FrameArb } from './dlt645/arbitraries.ts';
import {
  buildAbnormalReply,
  buildReadAddressRequest,
  buildReadReply,
  decodeDlt645Frame,
  encodeDlt645,
} from './dlt645/index.ts';
import { METER_KINDS, READ_FAILURE_CODES } from './meter-protocol.ts';
import {
  isMeterProtocolName,
  METER_PROTOCOLS,
  meterProtocol,
  meterProtocolNames,
  protocolsForKind,
} from './registry.ts';

const cjt = meterProtocol('cjt188');
const dlt = meterProtocol('dlt645');

interface VectorRow {
  id: string;
  hex: string;
  checksumValid?: boolean;
  code?: string;
  expect?: { direction?: string };
}
const vectors = (name: string): VectorRow[] =>
  JSON.parse(readFileSync(new URL(`../fixtures/vectors/${name}.json`, import.meta.url), 'utf8')).vectors;

describe('the meter-protocol registry', () => {
  it('lists each protocol once, by name, with its address width and kinds', () => {
    expect(meterProtocolNames).toEqual(['cjt188', 'dlt645']);
    expect(cjt.addressDigits).toBe(14);
    expect(dlt.addressDigits).toBe(12);
    expect(isMeterProtocolName('gdw376')).toBe(false);
    expect(() => meterProtocol('mbus')).toThrow(/"mbus" is not one of cjt188 or dlt645/);
    // Every kind is covered by some protocol, and a protocol's default kind is one it covers.
    for (const kind of METER_KINDS) expect(protocolsForKind(kind).length).toBeGreaterThan(0);
    for (const p of METER_PROTOCOLS) expect(p.kinds.map((k) => k.kind)).toContain(p.defaultKind);
  });

  it('maps CJ/T 188 kinds to their meter type T (docs/cjt188.md §1.3) and refuses kinds a protocol lacks', () => {
    expect(['cold-water', 'hot-water', 'heat', 'gas'].map((k) => cjt.meterTypeOf(k as never))).toEqual([
      0x10, 0x11, 0x20, 0x30,
    ]);
    expect(() => cjt.meterTypeOf('electricity')).toThrow(/no meter type for kind "electricity"/);
    expect(() => dlt.meterTypeOf('heat')).toThrow(/electricity meters, not "heat"/);
  });

  it('pads addresses to the protocol width and names a bad one', () => {
    expect(cjt.normaliseAddress('101001')).toBe('00000000101001');
    expect(dlt.normaliseAddress('00123456789012')).toBe('123456789012');
    expect(() => dlt.normaliseAddress('1123456789012')).toThrow(/more than the 12 digits of DL\/T 645/);
    expect(() => cjt.normaliseAddress('12a')).toThrow(/1–14 decimal digits/);
  });
});

describe('buildReadRequest', () => {
  it('builds vector C1 (CJ/T 188 901F, DI low byte first, cold water)', () => {
    const c1 = vectors('cjt188').find((v) => v.id === 'C1')!;
    expect(bytesToHex(cjt.buildReadRequest({ address: '78330011223344', kind: 'cold-water' }))).toBe(c1.hex);
  });

  it('sends the meter type of the kind: T=20H for heat, 11H hot water, 30H gas', () => {
    for (const [kind, t] of [
      ['heat', '20'],
      ['hot-water', '11'],
      ['gas', '30'],
    ] as const) {
      expect(bytesToHex(cjt.buildReadRequest({ address: '101001', kind }))).toMatch(
        new RegExp(`^FE FE FE FE 68 ${t} 01 10 10`),
      );
    }
  });

  it('builds vector D4 (DL/T 645-2007 read of 00010000)', () => {
    expect(bytesToHex(dlt.buildReadRequest({ address: '123456789012' }))).toBe(
      'FE FE FE FE 68 12 90 78 56 34 12 68 11 04 33 33 34 33 68 16',
    );
  });
});

describe('envelope', () => {
  it('reads length, address and direction of every valid vector without decoding the body', () => {
    for (const [p, name] of [
      [cjt, 'cjt188'],
      [dlt, 'dlt645'],
    ] as const) {
      for (const row of vectors(name)) {
        const bytes = hexToBytes(row.hex);
        const decoded = p.decode(bytes);
        if (decoded.kind !== 'frame') continue;
        const env = p.envelope(bytes);
        expect(env.kind, row.id).toBe('envelope');
        if (env.kind !== 'envelope') continue;
        expect(env.envelope, row.id).toMatchObject({
          length: decoded.consumed,
          address: decoded.frame.address,
          direction: decoded.frame.direction,
          checksumOk: true,
        });
      }
    }
  });

  it('says need-more for a prefix and none for bytes that are not its frame', () => {
    expect(cjt.envelope(hexToBytes('FE FE 68 10 01')).kind).toBe('need-more');
    expect(dlt.envelope(hexToBytes('68 12 90 78 56 34 12 00')).kind).toBe('none');
  });
});

describe('judgeReply', () => {
  const CJ = '00000000101001';
  const DL = '123456789012';
  const cjReq = cjt.buildReadRequest({ address: CJ });
  const cjReply = (init: { address?: string; ser?: number } = {}) =>
    encodeCjt188(
      buildWaterReadReply(
        decodeCjt188Frame(cjt.buildReadRequest({ address: CJ, ser: init.ser })),
        { current: 12.5, time: { year: 2026, month: 1, day: 2, hour: 3, minute: 4, second: 5 } },
        { address: init.address ?? CJ },
      ),
    );

  it('accepts the reply behind junk and an echo, with value, unit, time and status', () => {
    const j = cjt.judgeReply(cjReq, concatBytes([hexToBytes('00 FF'), cjReq, cjReply()]));
    expect(j.ok && j.reading).toEqual({
      address: CJ,
      di: '901F',
      value: 12.5,
      unit: 'm3',
      meterTime: '2026-01-02 03:04:05',
      status: { valve: 'open', batteryLow: false },
      settlement: 12.5,
    });
  });

  it('names each failure once: METER_TIMEOUT, ADDRESS_MISMATCH, ABNORMAL_REPLY with the word, BAD_CHECKSUM, BAD_REPLY', () => {
    expect(cjt.judgeReply(cjReq, new Uint8Array(0))).toMatchObject({
      ok: false,
      cause: 'SILENCE',
      failure: { reason: 'METER_TIMEOUT', protocol: 'cjt188', expected: CJ },
    });
    expect(cjt.judgeReply(cjReq, cjReply({ address: '00000000101002' }))).toMatchObject({
      ok: false,
      failure: { reason: 'ADDRESS_MISMATCH', expected: CJ, got: '00000000101002' },
    });
    const err = encodeCjt188(
      buildErrorReply(decodeCjt188Frame(cjReq), { valve: 'closed', batteryLow: true }),
    );
    expect(cjt.judgeReply(cjReq, err)).toMatchObject({
      ok: false,
      failure: { reason: 'ABNORMAL_REPLY', statusWord: '0500', meaning: 'valve closed, battery low' },
    });
    const bad = cjReply();
    bad[bad.length - 2] ^= 0xff;
    expect(cjt.judgeReply(cjReq, bad)).toMatchObject({
      ok: false,
      cause: 'BAD_CHECKSUM',
      failure: { reason: 'BAD_CHECKSUM', reply: bytesToHex(bad) },
    });
    expect(cjt.judgeReply(cjReq, cjReply().subarray(0, 12))).toMatchObject({
      cause: 'TRUNCATED',
      failure: { reason: 'BAD_REPLY' },
    });
    expect(cjt.judgeReply(cjReq, cjReq)).toMatchObject({
      cause: 'NO_REPLY',
      failure: { reason: 'BAD_REPLY' },
    });
    const dlReq = dlt.buildReadRequest({ address: DL });
    const dlAbnormal = encodeDlt645(buildAbnormalReply(DL, ['no data requested']));
    expect(dlt.judgeReply(dlReq, dlAbnormal)).toMatchObject({
      failure: { reason: 'ABNORMAL_REPLY', errorWord: '02', meaning: 'no data requested' },
    });
    expect(dlt.judgeReply(dlReq, encodeDlt645(buildReadReply(DL, '00020000', 5)))).toMatchObject({
      cause: 'UNEXPECTED_REPLY',
      failure: { reason: 'BAD_REPLY' },
    });
  });

  it('ignores a CJ/T 188 reply with another SER (a stale one), unless told not to check', () => {
    const req = cjt.buildReadRequest({ address: CJ, ser: 5 });
    expect(cjt.judgeReply(req, cjReply({ ser: 4 }))).toMatchObject({ ok: false, cause: 'NO_REPLY' });
    expect(cjt.judgeReply(req, cjReply({ ser: 4 }), { checkSer: false }).ok).toBe(true);
    expect(cjt.judgeReply(req, concatBytes([cjReply({ ser: 4 }), cjReply({ ser: 5 })])).ok).toBe(true);
  });

  it('judges every vector reply against the request it answers (vector-driven)', () => {
    const judged = { broken: 0, echo: 0, cjt188: 0, dlt645: 0 };
    for (const row of vectors('cjt188')) {
      const bytes = hexToBytes(row.hex);
      const d = cjt.decode(bytes);
      if (d.kind === 'error') {
        // A broken vector frame is judged by its codec's code against any request to the wildcard address.
        const req = encodeCjt188(
          makeCjt188Frame({
            meterType: 0xaa,
            address: 'AAAAAAAAAAAAAA',
            control: 0x01,
            body: { kind: 'read', di: '901F', diOrder: 'low-first', ser: 0 },
          }),
        );
        const j = cjt.judgeReply(req, bytes);
        expect(j.ok, row.id).toBe(false);
        if (!j.ok && row.code === 'BAD_CHECKSUM') expect(j.failure.reason, row.id).toBe('BAD_CHECKSUM');
        judged.broken++;
        continue;
      }
      if (d.kind !== 'frame') continue;
      if (d.frame.direction === 'request') {
        // A request heard back (an adapter's echo) answers nothing.
        expect(cjt.judgeReply(bytes, bytes), row.id).toMatchObject({ ok: false, cause: 'NO_REPLY' });
        judged.echo++;
        continue;
      }
      const f = d.frame;
      const ser = 'ser' in f.body ? f.body.ser : 0;
      const di = 'di' in f.body ? f.body.di : '901F';
      const fn = f.control & 0x3f;
      const kind =
        fn === 0x01 ? 'read' : fn === 0x03 ? 'read-address' : fn === 0x09 ? 'read-key-version' : undefined;
      if (!kind) continue;
      const req = encodeCjt188(
        makeCjt188Frame({
          meterType: f.meterType,
          address: f.address,
          control: fn,
          body: { kind, di, diOrder: 'low-first', ser },
        }),
      );
      const j = cjt.judgeReply(req, bytes);
      if (f.abnormal) expect(j.ok ? 'ok' : j.failure.reason, row.id).toBe('ABNORMAL_REPLY');
      else expect(j.ok ? 'ok' : j.cause, row.id).toMatch(/^(ok|UNEXPECTED_REPLY)$/);
      judged.cjt188++;
    }
    for (const row of vectors('dlt645')) {
      const bytes = hexToBytes(row.hex);
      const d = dlt.decode(bytes);
      if (d.kind !== 'frame') continue;
      const body = d.frame.body;
      if (d.frame.direction === 'request') {
        if (body.kind !== 'time-sync') {
          expect(dlt.judgeReply(bytes, bytes), row.id).toMatchObject({ ok: false, cause: 'NO_REPLY' });
          judged.echo++;
        }
        continue;
      }
      if (body.kind === 'read-reply') {
        const req = dlt.buildReadRequest({ address: d.frame.address, di: body.di });
        const j = dlt.judgeReply(req, bytes);
        expect(j.ok && j.reading.value, row.id).toEqual(body.value);
        expect(decodeDlt645Frame(req).address).toBe(d.frame.address);
      } else if (body.kind === 'abnormal-reply') {
        const req = dlt.buildReadRequest({ address: d.frame.address });
        expect(dlt.judgeReply(req, bytes), row.id).toMatchObject({
          failure: {
            reason: 'ABNORMAL_REPLY',
            errorWord: body.error.toString(16).toUpperCase().padStart(2, '0'),
          },
        });
      } else if (body.kind === 'read-address-reply') {
        const req = encodeDlt645(buildReadAddressRequest());
        expect(dlt.judgeReply(req, bytes), row.id).toMatchObject({
          ok: true,
          reading: { value: body.address },
        });
      } else continue;
      judged.dlt645++;
    }
    expect(judged).toEqual({ broken: 2, echo: 22, cjt188: 1, dlt645: 5 });
  });

  it('is total: any reply bytes give a reading or a failure with a known reason, never a throw', () => {
    const requests = [
      cjt.buildReadRequest({ address: CJ }),
      cjt.buildReadRequest({ address: CJ, kind: 'heat', ser: 7 }),
    ];
    const replyBytes = fc.oneof(
      fc.uint8Array({ maxLength: 120 }),
      cjt188FrameArb.map((f) => encodeCjt188(f)),
      fc
        .tuple(fc.uint8Array({ maxLength: 8 }), cjt188FrameArb, fc.nat(60))
        .map(([junk, f, cut]) => concatBytes([junk, encodeCjt188(f).subarray(cut)])),
    );
    fc.assert(
      fc.property(fc.constantFrom(...requests), replyBytes, (req, reply) => {
        const j = cjt.judgeReply(req, reply);
        if (j.ok) return j.reading.address.length === 14;
        return (READ_FAILURE_CODES as readonly string[]).includes(j.failure.reason);
      }),
    );
    const dlReq = dlt.buildReadRequest({ address: DL });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 120 }),
          dlt645FrameArb.map((f) => encodeDlt645(f)),
        ),
        (reply) => {
          const j = dlt.judgeReply(dlReq, reply);
          if (j.ok) return j.reading.address.length === 12;
          return (READ_FAILURE_CODES as readonly string[]).includes(j.failure.reason);
        },
      ),
    );
  });

  it('a reply built for the request is always accepted with its value (round trip)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9]{1,14}$/),
        fc.constantFrom('cold-water', 'hot-water', 'gas' as const),
        fc.nat(255),
        fc.integer({ min: 0, max: 99_999_999 }).map((n) => n / 100),
        (address, kind, ser, value) => {
          const req = cjt.buildReadRequest({ address, kind, ser });
          const reply = encodeCjt188(
            buildWaterReadReply(decodeCjt188Frame(req), { current: value, time: null }),
          );
          const j = cjt.judgeReply(req, reply);
          return j.ok && j.reading.value === value && j.reading.address === cjt.normaliseAddress(address);
        },
      ),
    );
  });
});
