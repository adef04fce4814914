import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AnyFrame, decodeAuto, describeFrame, PROTOCOL_NAMES, type ProtocolName } from './auto.ts';
import { concatBytes, hexToBytes } from './bytes.ts';
import { cjt188FrameArb } from './cjt188/arbitraries.ts';
import { decodeCjt188, encodeCjt188 } from './cjt188/index.ts';
import type { DecodeResult } from './decode-result.ts';
import { dlt645FrameArb } from './dlt645/arbitraries.ts';
import { decodeDlt645, encodeDlt645 } from './dlt645/index.ts';
import { FrameAccumulator } from './framer.ts';
import { gdw376FrameArb } from './gdw376/arbitraries.ts';
import { decodeGdw376, encodeGdw376 } from './gdw376/index.ts';

const anyFrameArb = fc.oneof(
  cjt188FrameArb.map((f) => ({ frame: f as AnyFrame, bytes: encodeCjt188(f) })),
  dlt645FrameArb.map((f) => ({ frame: f as AnyFrame, bytes: encodeDlt645(f) })),
  gdw376FrameArb.map((f) => ({ frame: f as AnyFrame, bytes: encodeGdw376(f) })),
);

describe('decodeAuto', () => {
  it('tells the three protocols apart in one mixed stream', () => {
    fc.assert(
      fc.property(fc.array(anyFrameArb, { maxLength: 8 }), (list) => {
        const acc = new FrameAccumulator(decodeAuto, { maxBufferedBytes: 65536 });
        const events = [...acc.push(concatBytes(list.map((l) => l.bytes))), ...acc.flush()];
        expect(events.filter((e) => e.kind === 'dropped')).toEqual([]);
        expect(events.map((e) => (e.kind === 'frame' ? e.frame : null))).toEqual(list.map((l) => l.frame));
      }),
    );
  });

  it('reports a DL/T 645 frame with a bad checksum as BAD_CHECKSUM (vector D9), not as a partial CJ/T 188 frame', () => {
    const result = decodeAuto(hexToBytes('68 12 90 78 56 34 12 68 91 08 33 33 34 33 89 67 45 33 55 16'));
    expect(result.kind === 'error' && result.error.code).toBe('BAD_CHECKSUM');
  });

  it('decodes the meter frame inside a 376.1 forward reply (vector Q15)', () => {
    const q15 = hexToBytes(
      '68 AE 00 AE 00 68 A8 00 02 34 12 04 10 E0 00 00 01 00 1F 14 00 68 61 10 01 30 12 15 68 91 08 33 33 34 33 AB 39 33 33 49 16 4F 00 00 06 50 23 21 05 AE 16',
    );
    const result = decodeAuto(q15);
    if (result.kind !== 'frame') throw new Error('Q15 must decode');
    const described = describeFrame(result.frame) as unknown as { units: { body: { embedded: unknown } }[] };
    expect(described.units[0].body.embedded).toMatchObject({
      protocol: 'dlt645',
      body: { kind: 'read-reply', di: '00010000', value: 6.78, unit: 'kWh' },
    });
  });
});

/** decodeAuto as first written, with arrays and a Map: the rewrite must answer exactly as it did. */
function referenceDecodeAuto(buf: Uint8Array, only: readonly ProtocolName[]): DecodeResult<AnyFrame> {
  const decoders: Record<ProtocolName, (b: Uint8Array) => DecodeResult<AnyFrame>> = {
    gdw376: decodeGdw376,
    dlt645: decodeDlt645,
    cjt188: decodeCjt188,
  };
  const fits = (protocol: ProtocolName): boolean => {
    let p = 0;
    if (protocol !== 'gdw376') while (p < buf.length && buf[p] === 0xfe) p++;
    if (p >= buf.length || buf[p] !== 0x68) return false;
    const at = (i: number, test: (b: number) => boolean) => p + i >= buf.length || test(buf[p + i]);
    if (protocol === 'gdw376') {
      return at(3, (b) => b === buf[p + 1]) && at(4, (b) => b === buf[p + 2]) && at(5, (b) => b === 0x68);
    }
    return protocol === 'dlt645' ? at(7, (b) => b === 0x68) : true;
  };
  const candidates = (['gdw376', 'dlt645', 'cjt188'] as const).filter((p) => only.includes(p));
  const results = new Map<ProtocolName, DecodeResult<AnyFrame>>();
  const fitting = candidates.filter(fits);
  for (const p of [...fitting, ...candidates.filter((c) => !fitting.includes(c))]) {
    const result = decoders[p](buf);
    if (result.kind === 'frame') return result;
    results.set(p, result);
  }
  if (fitting.length > 0) return results.get(fitting[0])!;
  const errors = [...results.values()].filter((r) => r.kind === 'error');
  if (errors.length < results.size) return { kind: 'need-more' };
  const skip = Math.max(1, Math.min(...errors.map((e) => e.skip)));
  return { kind: 'error', error: errors[errors.length - 1].error, skip };
}

describe('decodeAuto agrees with its first, plainer form', () => {
  /** Frames of every protocol, cut short, corrupted at one byte, with FE and junk around them, or junk. */
  const bytesArb = fc.oneof(
    fc
      .tuple(anyFrameArb, fc.nat(), fc.nat(255), fc.boolean(), fc.boolean())
      .map(([{ bytes }, at, value, cut, corrupt]) => {
        const out = bytes.slice(0, cut ? at % (bytes.length + 1) : bytes.length);
        if (corrupt && out.length > 0) out[at % out.length] = value;
        return out;
      }),
    fc
      .tuple(fc.uint8Array({ maxLength: 4 }), anyFrameArb, fc.uint8Array({ maxLength: 4 }))
      .map(([a, { bytes }, b]) => concatBytes([a, bytes, b])),
    fc.uint8Array({ maxLength: 40 }).map((b) => concatBytes([Uint8Array.of(0x68), b])),
    fc.uint8Array({ maxLength: 40 }),
  );
  const onlyArb = fc.oneof(
    fc.constant(PROTOCOL_NAMES),
    fc.constant(['dlt645', 'cjt188'] as const),
    fc.subarray([...PROTOCOL_NAMES], { minLength: 1 }),
  );
  it('gives the same frame, need-more or error (code, message, skip) for any bytes', () => {
    fc.assert(
      fc.property(bytesArb, onlyArb, (buf, only) => {
        expect(decodeAuto(buf, only)).toEqual(referenceDecodeAuto(buf, only));
      }),
      { numRuns: 1000 },
    );
  });
});
