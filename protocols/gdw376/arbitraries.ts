import fc from 'fast-check';
import { bytesToHex } from '../bytes.ts';
import { encodeForwardControl } from './afn10.ts';
import { auxLayout } from './auxiliary-field.ts';
import { makeControl } from './control.ts';
import type {
  Gdw376Aux,
  Gdw376Body,
  Gdw376Control,
  Gdw376DataUnit,
  Gdw376Direction,
  Gdw376Frame,
  Gdw376SerialSettings,
  Gdw376TimeLabel,
} from './types.ts';

/**
 * fast-check arbitraries for Q/GDW 376.1 frames (STYLE.md habit 6). Every value is a frame the decoder gives
 * back unchanged after encoding: bodies that run to the end of the data region come last, hex is canonical.
 */

/** fc.record without null-prototype objects: frames are plain JSON-like objects (deep-strict-equal friendly). */
function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
}

const p2 = (n: number) => String(n).padStart(2, '0');
const hexArb = (maxLength: number) => fc.uint8Array({ maxLength }).map((b) => bytesToHex(b));
const bitsOf = (mask: number) => [0, 1, 2, 3, 4, 5, 6, 7].filter((b) => mask & (1 << b));

/** A point list one DA can name: `[0]` (p0) or points of one group of 8. */
export const pnListArb: fc.Arbitrary<number[]> = fc.oneof(
  fc.constant<number[]>([0]),
  fc
    .record({ group: fc.integer({ min: 1, max: 255 }), mask: fc.integer({ min: 1, max: 255 }) })
    .map(({ group, mask }) => bitsOf(mask).map((b) => (group - 1) * 8 + b + 1)),
);

/** A function list one DT can name: functions of one group of 8. */
export const fnListArb: fc.Arbitrary<number[]> = fc
  .record({ group: fc.integer({ min: 0, max: 255 }), mask: fc.integer({ min: 1, max: 255 }) })
  .map(({ group, mask }) => bitsOf(mask).map((b) => group * 8 + b + 1));

/** Serial settings the forward control word can hold. */
export const serialArb: fc.Arbitrary<Gdw376SerialSettings> = record({
  baud: fc.constantFrom(300, 600, 1200, 2400, 4800, 7200, 9600, 19200),
  parity: fc.constantFrom('none' as const, 'even' as const, 'odd' as const),
  dataBits: fc.integer({ min: 5, max: 8 }),
  stopBits: fc.constantFrom(1, 2),
});

/** A time label with any BCD send time. */
export const timeLabelArb: fc.Arbitrary<Gdw376TimeLabel> = fc
  .record({
    pfc: fc.integer({ min: 0, max: 255 }),
    t: fc.array(fc.integer({ min: 0, max: 99 }), { minLength: 4, maxLength: 4 }),
    delayMinutes: fc.integer({ min: 0, max: 255 }),
  })
  .map(({ pfc, t: [d, h, m, s], delayMinutes }) => ({
    pfc,
    sendTime: `${p2(d)} ${p2(h)}:${p2(m)}:${p2(s)}`,
    delayMinutes,
  }));

const unit = (fn: number, body: Gdw376Body): Gdw376DataUnit => ({ pn: [0], fn: [fn], body });

const heartbeatArb: fc.Arbitrary<Gdw376DataUnit> = fc.oneof(
  fc.constant(unit(3, { kind: 'heartbeat' })),
  fc
    .record({
      d: fc.array(fc.integer({ min: 0, max: 99 }), { minLength: 5, maxLength: 5 }),
      month: fc.integer({ min: 0, max: 19 }),
      week: fc.integer({ min: 0, max: 7 }),
    })
    .map(({ d: [y, day, h, m, s], month, week }) =>
      unit(3, {
        kind: 'heartbeat',
        clock: `20${p2(y)}-${p2(month)}-${p2(day)} ${p2(h)}:${p2(m)}:${p2(s)}`,
        week,
      }),
    ),
);

const confirmItemsArb: fc.Arbitrary<Gdw376DataUnit> = fc
  .record({
    afn: fc.integer({ min: 0, max: 255 }),
    items: fc.array(record({ pn: pnListArb, fn: fnListArb, err: fc.integer({ min: 0, max: 255 }) }), {
      maxLength: 3,
    }),
    nonStandard: fc.boolean(),
  })
  .map(({ afn, items, nonStandard }) => {
    const body: Gdw376Body = {
      kind: 'confirm-items',
      afn,
      items: items.map((i) => ({ ...i, ok: i.err === 0 })),
    };
    if (nonStandard) body.nonStandard = true;
    return unit(3, body);
  });

const forwardRequestArb: fc.Arbitrary<Gdw376DataUnit> = fc
  .record({
    port: fc.integer({ min: 0, max: 255 }),
    serial: serialArb,
    frameTimeout: record({
      value: fc.integer({ min: 0, max: 127 }),
      unit: fc.constantFrom('s' as const, 'ms' as const),
    }),
    byteTimeout: fc.integer({ min: 0, max: 255 }),
    content: hexArb(40),
  })
  .map(({ serial, byteTimeout, ...rest }) =>
    unit(1, {
      kind: 'forward-request',
      ...rest,
      serial,
      controlWord: encodeForwardControl(serial),
      byteTimeout: { raw: byteTimeout, ms: byteTimeout * 10 },
    }),
  );

const forwardReplyArb: fc.Arbitrary<Gdw376DataUnit> = fc
  .record({ port: fc.integer({ min: 0, max: 255 }), content: hexArb(40) })
  .map((b) => unit(1, { kind: 'forward-reply', ...b }));

/** Units and AFN that go together, for one direction. */
const unitsArb = (dir: Gdw376Direction): fc.Arbitrary<{ afn: number; units: Gdw376DataUnit[] }> => {
  const tail = (list: fc.Arbitrary<Gdw376DataUnit[]>, last: fc.Arbitrary<Gdw376DataUnit>) =>
    fc.tuple(list, fc.option(last, { nil: undefined })).map(([a, b]) => (b ? [...a, b] : a));
  const opaqueAfns = [...Array(256).keys()].filter(
    (a) => ![0x00, 0x02, 0x10].includes(a) && !(dir === 'down' && (a === 0x0c || a === 0x0d)),
  );
  const choices: fc.Arbitrary<{ afn: number; units: Gdw376DataUnit[] }>[] = [
    tail(
      fc.array(fc.constantFrom(unit(1, { kind: 'confirm-all' }), unit(2, { kind: 'deny-all' })), {
        maxLength: 2,
      }),
      confirmItemsArb,
    ).map((units) => ({ afn: 0x00, units })),
    tail(
      fc.array(fc.constantFrom(unit(1, { kind: 'login' }), unit(2, { kind: 'logout' })), { maxLength: 2 }),
      heartbeatArb,
    ).map((units) => ({ afn: 0x02, units })),
    fc
      .array(dir === 'down' ? forwardRequestArb : forwardReplyArb, { maxLength: 2 })
      .map((units) => ({ afn: 0x10, units })),
    fc
      .record({ afn: fc.constantFrom(...opaqueAfns), pn: pnListArb, fn: fnListArb, data: hexArb(24) })
      .map(({ afn, pn, fn, data }) => ({
        afn,
        units: [{ pn, fn, body: { kind: 'opaque' as const, data } }],
      })),
  ];
  if (dir === 'down') {
    choices.push(
      fc
        .array(
          record({ pn: pnListArb, fn: fnListArb }).map(({ pn, fn }) => ({
            pn,
            fn,
            body: { kind: 'data-request' as const, data: '' },
          })),
          { maxLength: 3 },
        )
        .map((units) => ({ afn: 0x0c, units })),
      fc
        .option(
          record({ pn: pnListArb, fn: fnListArb, data: hexArb(12) }).map(({ pn, fn, data }) => ({
            pn,
            fn,
            body: { kind: 'data-request' as const, data },
          })),
          { nil: undefined },
        )
        .map((u) => ({ afn: 0x0d, units: u ? [u] : [] })),
    );
  }
  return fc.oneof(...choices);
};

const controlArb = (dir: Gdw376Direction): fc.Arbitrary<Gdw376Control> =>
  fc
    .record({ prm: fc.boolean(), bit5: fc.boolean(), fcv: fc.boolean(), fn: fc.integer({ min: 0, max: 15 }) })
    .map(({ prm, bit5, fcv, fn }) =>
      dir === 'down'
        ? makeControl({ dir, prm, fcb: bit5, fcv, fn })
        : makeControl({ dir, prm, acd: bit5, fcv, fn }),
    );

/** Any frame {@link encodeGdw376} can write and {@link decodeGdw376} reads back unchanged. */
export const gdw376FrameArb: fc.Arbitrary<Gdw376Frame> = fc
  .constantFrom<Gdw376Direction>('down', 'up')
  .chain((dir) =>
    record({
      protocolId: fc.constantFrom<1 | 2>(1, 2),
      control: controlArb(dir),
      a1: fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, '0')),
      a2: fc.integer({ min: 0, max: 0xffff }),
      a3: record({ group: fc.boolean(), msa: fc.integer({ min: 0, max: 127 }) }),
      body: unitsArb(dir),
      seq: record({
        tpv: fc.boolean(),
        fir: fc.boolean(),
        fin: fc.boolean(),
        con: fc.boolean(),
        seq: fc.integer({ min: 0, max: 15 }),
      }),
      pw: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => bytesToHex(b)),
      ec: record({ important: fc.integer({ min: 0, max: 255 }), normal: fc.integer({ min: 0, max: 255 }) }),
      tp: timeLabelArb,
    }),
  )
  .map(({ body, pw, ec, tp, ...f }) => {
    const layout = auxLayout(f.control.dir, body.afn, f.control.dir === 'up' && f.control.acd, f.seq.tpv);
    const aux: Gdw376Aux = {};
    if (layout.pw) aux.pw = pw;
    if (layout.ec) aux.ec = ec;
    if (layout.tp) aux.tp = tp;
    return { protocol: 'gdw376' as const, ...f, afn: body.afn, units: body.units, aux };
  });

/**
 * Bytes that often look like the start of a 376.1 frame (68, an L with a plausible length and protocol id,
 * the same L again or not, 68) followed by anything, mixed with plain random bytes: for totality tests.
 */
export const gdw376NoiseArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 80 }),
  fc
    .record({
      len: fc.integer({ min: 0, max: 60 }),
      id: fc.integer({ min: 0, max: 3 }),
      sameL: fc.boolean(),
      start2: fc.boolean(),
      rest: fc.uint8Array({ maxLength: 80 }),
    })
    .map(({ len, id, sameL, start2, rest }) => {
      const l = (len << 2) | id;
      const l2 = sameL ? l : l ^ 4;
      return Uint8Array.from([0x68, l & 0xff, l >> 8, l2 & 0xff, l2 >> 8, start2 ? 0x68 : 0x69, ...rest]);
    }),
);
