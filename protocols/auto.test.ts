import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AnyFrame, decodeAuto, describeFrame } from './auto.ts';
import { concatBytes, hexToBytes } from './bytes.ts';
import { cjt188FrameArb } from './cjt188/arbitraries.ts';
import { encodeCjt188 } from './cjt188/index.ts';
import { dlt645FrameArb } from './dlt645/arbitraries.ts';
import { encodeDlt645 } from './dlt645/index.ts';
import { FrameAccumulator } from './framer.ts';
import { gdw376FrameArb } from './gdw376/arbitraries.ts';
import { encodeGdw376 } from './gdw376/index.ts';

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
