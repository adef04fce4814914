import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createFramingSniffer,
  createLegacyStreamSplitter,
  decodeClickToCopyRequest,
  encodeClickToCopyAnswer,
  type LegacyStreamDrop,
  MAX_LEGACY_ANSWER_BYTES,
} from './legacy-stream.ts';
import { decodeText, encodeText, type TextEncodingName } from './text-encoding.ts';

// GBK characters whose trail byte is `\`, `{` or `}` (lead 0x81–0x84): a byte-level scanner that ignores the
// double-byte structure would take them for JSON syntax.
const TRICKY_GBK = [0x81, 0x82, 0x83, 0x84].flatMap((lead) =>
  [0x5c, 0x7b, 0x7d].map((trail) => decodeText(Uint8Array.of(lead, trail), 'gb2312')),
);
const TEXT_CHARS = [
  'a',
  'Z',
  '0',
  ' ',
  '{',
  '}',
  '[',
  ']',
  '"',
  '\\',
  '/',
  ':',
  ',',
  '表',
  '抄',
  '号',
  '楼',
  ...TRICKY_GBK,
];

const textArb = fc.array(fc.constantFrom(...TEXT_CHARS), { maxLength: 12 }).map((cs) => cs.join(''));
const valueArb: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    textArb,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(textArb, tie('value'), { maxKeys: 3 }),
  ),
})).value;
const objectArb = fc.dictionary(textArb, valueArb, { maxKeys: 4 });
const gapArb = fc.constantFrom('', '', ' ', '\r\n', '\t', '\n\n');

/** The stream: each object encoded, with white space between; and the objects' own bytes. */
function streamOf(objects: object[], gaps: string[], charset: TextEncodingName) {
  const encoded = objects.map((o) => encodeText(JSON.stringify(o), charset));
  const pieces: Uint8Array[] = [];
  encoded.forEach((e, i) => {
    pieces.push(encodeText(gaps[i % gaps.length] ?? '', charset), e);
  });
  return { encoded, bytes: Buffer.concat(pieces) };
}

/** Cuts `bytes` at the given fractions. */
function chop(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of at) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  out.push(bytes.subarray(from));
  return out;
}

const cutsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 });

describe(`createLegacyStreamSplitter (FC_SEED=${process.env.FC_SEED})`, () => {
  for (const charset of ['gb2312', 'utf8'] as const) {
    it(`gives the same objects for any chunking of back-to-back objects (${charset})`, () => {
      fc.assert(
        fc.property(
          fc.array(objectArb, { maxLength: 6 }),
          fc.array(gapArb, { minLength: 1 }),
          cutsArb,
          (objects, gaps, cuts) => {
            const { encoded, bytes } = streamOf(objects, gaps, charset);
            const drops: LegacyStreamDrop[] = [];
            const splitter = createLegacyStreamSplitter({ charset, onDropped: (d) => drops.push(d) });
            const out = chop(bytes, cuts).flatMap((chunk) => splitter.push(chunk));
            splitter.flush();
            expect(out.map((o) => Buffer.from(o).toString('hex'))).toEqual(
              encoded.map((e) => Buffer.from(e).toString('hex')),
            );
            expect(out.map((o) => JSON.parse(decodeText(o, charset)))).toEqual(objects);
            expect(drops).toEqual([]);
          },
        ),
      );
    });
  }

  it('enforces maxObjectBytes: a longer object is reported once and skipped, the next ones still come', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 16, max: 64 }),
        fc.array(fc.tuple(objectArb, fc.boolean()), { maxLength: 6 }),
        cutsArb,
        (max, items, cuts) => {
          // Each object is padded past the bound when its flag says so.
          const objects = items.map(([o, big]) => (big ? { ...o, pad: 'x'.repeat(max) } : o));
          const { encoded, bytes } = streamOf(objects, [''], 'gb2312');
          const drops: LegacyStreamDrop[] = [];
          const splitter = createLegacyStreamSplitter({
            maxObjectBytes: max,
            onDropped: (d) => drops.push(d),
          });
          const out: Uint8Array[] = [];
          for (const chunk of chop(bytes, cuts)) {
            out.push(...splitter.push(chunk));
            expect(splitter.buffered).toBeLessThanOrEqual(max);
          }
          const small = encoded.filter((e) => e.length <= max);
          expect(out.map((o) => Buffer.from(o).toString('hex'))).toEqual(
            small.map((e) => Buffer.from(e).toString('hex')),
          );
          expect(drops.map((d) => d.error.code)).toEqual(
            encoded.filter((e) => e.length > max).map(() => 'TOO_LONG'),
          );
          for (const d of drops) expect(d.error.message).toMatch(`maxObjectBytes (${max} bytes)`);
        },
      ),
    );
  });

  it('never throws and never holds more than maxObjectBytes on arbitrary bytes', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 40 }),
            fc.constant(Uint8Array.of(0x7b)),
            fc.constant(Uint8Array.of(0x22)),
          ),
          { maxLength: 20 },
        ),
        fc.constantFrom('gb2312', 'utf8') as fc.Arbitrary<TextEncodingName>,
        (chunks, charset) => {
          const splitter = createLegacyStreamSplitter({ maxObjectBytes: 32, charset });
          for (const c of chunks) {
            for (const o of splitter.push(c)) {
              expect(o[0]).toBe(0x7b);
              expect(o[o.length - 1]).toBe(0x7d);
              expect(o.length).toBeLessThanOrEqual(32);
            }
            expect(splitter.buffered).toBeLessThanOrEqual(32);
          }
          splitter.flush();
          expect(splitter.buffered).toBe(0);
        },
      ),
    );
  });

  it('reports junk between objects and a truncated tail, and keeps the objects around them', () => {
    const drops: LegacyStreamDrop[] = [];
    const splitter = createLegacyStreamSplitter({ onDropped: (d) => drops.push(d) });
    const out = splitter.push(encodeText('xx{"a":1}\0\0 ?{"b":"}"}{"c":', 'gb2312'));
    splitter.flush();
    expect(out.map((o) => decodeText(o, 'gb2312'))).toEqual(['{"a":1}', '{"b":"}"}']);
    expect(drops.map((d) => [d.error.code, d.offset, d.length])).toEqual([
      ['NO_START', 0, 2],
      ['NO_START', 12, 1],
      ['TRUNCATED', 22, 5],
    ]);
  });

  it('rejects bad options naming them', () => {
    expect(() => createLegacyStreamSplitter({ maxObjectBytes: 0 })).toThrow(/"maxObjectBytes"/);
    expect(() => createLegacyStreamSplitter({ charset: 'latin1' as TextEncodingName })).toThrow(/"charset"/);
  });
});

describe('createFramingSniffer', () => {
  const flat = '{"ConcentratorNo":"101","WaterMtrAddress":"101001","AccumVal":0.0,"IsDownCommand":false}';
  const decide = (text: string, cuts: number[] = []) => {
    const sniffer = createFramingSniffer();
    let last = 'need-more';
    for (const chunk of chop(encodeText(text, 'gb2312'), cuts)) last = sniffer.push(chunk);
    return last;
  };

  it('takes a flat ClickToCopyModel without a newline as legacy, however it is chunked', () => {
    fc.assert(
      fc.property(cutsArb, (cuts) => {
        expect(decide(` ${flat}${flat}`, cuts)).toBe('legacy');
      }),
    );
  });

  it('takes v1 lines, the wrapped legacy form, junk and a newline inside the first object as NDJSON', () => {
    expect(decide('{"type":"read","id":"1","concentrator":"101","meter":"1"}\n')).toBe('ndjson');
    expect(
      decide('{"ModuleName":"ClickToCopy","Content":{"ConcentratorNo":"101","WaterMtrAddress":"1"}}'),
    ).toBe('ndjson');
    expect(decide('garbage\n')).toBe('ndjson');
    expect(decide('{"type":"read",\n')).toBe('ndjson');
    expect(decide('{"ConcentratorNo":"101",')).toBe('need-more');
    expect(decide('   ')).toBe('need-more');
  });
});

describe('flat ClickToCopyModel', () => {
  it('decodes the request the original webserver sent, ignoring other fields', () => {
    expect(
      decodeClickToCopyRequest(
        '{"ConcentratorNo":"101","WaterMtrAddress":"101001","AccumVal":0.0,"IsDownCommand":false,"备注":"一号楼"}',
      ),
    ).toEqual({ ConcentratorNo: '101', WaterMtrAddress: '101001' });
  });

  it('refuses an answer and a missing field, naming what is wrong', () => {
    expect(() =>
      decodeClickToCopyRequest(
        '{"ConcentratorNo":"101","WaterMtrAddress":"1","AccumVal":2,"IsDownCommand":true}',
      ),
    ).toThrow(/IsDownCommand.*answer/);
    expect(() => decodeClickToCopyRequest('{"ConcentratorNo":"101"}')).toThrow(
      /"WaterMtrAddress" must be a string/,
    );
    expect(() => decodeClickToCopyRequest('{"ConcentratorNo":')).toThrow(/not JSON/);
  });

  it('keeps an error answer within the 1024 bytes the original webserver read', () => {
    const bytes = encodeClickToCopyAnswer({
      ConcentratorNo: '101',
      WaterMtrAddress: '101001',
      AccumVal: null,
      IsDownCommand: true,
      ErrorCode: 'BAD_REPLY',
      ErrorMsg: '表无应答'.repeat(400),
    });
    expect(bytes.length).toBeLessThanOrEqual(MAX_LEGACY_ANSWER_BYTES);
    const back = JSON.parse(decodeText(bytes, 'gb2312'));
    expect(back).toMatchObject({ ErrorCode: 'BAD_REPLY', AccumVal: null, IsDownCommand: true });
    expect(back.ErrorMsg).toMatch(/^表无应答.*…$/);
  });
});
