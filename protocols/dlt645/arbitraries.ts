import fc from 'fast-check';
import { bytesToHex } from '../bytes.ts';
import { DLT645_MAX_PREAMBLE } from './constants.ts';
import { controlFlags, type Dlt645Version, versionOfControl } from './control.ts';
import { decodeDlt645Frame } from './decode.ts';
import { knownDis, lookupDi } from './di-table.ts';
import { encodeDlt645 } from './encode.ts';
import type { Dlt645Body, Dlt645Frame } from './frame.ts';

/**
 * fast-check arbitraries for DL/T 645 frames (STYLE.md habit 6). Every generated frame is valid and
 * canonical: `decodeDlt645(encodeDlt645(f))` gives back exactly `f`. Test-only (imports fast-check).
 */

/** FE preamble length, biased to the 0–4 that senders use but reaching the accepted maximum. */
export const dlt645PreambleArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 4 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: DLT645_MAX_PREAMBLE }) },
);

const digit = fc.constantFrom(...'0123456789'.split(''));

/** A 12-digit meter address, sometimes the wildcard or broadcast address or a compressed one (A padding). */
export const dlt645AddressArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.array(digit, { minLength: 12, maxLength: 12 }).map((d) => d.join('')) },
  { weight: 1, arbitrary: fc.constantFrom('AAAAAAAAAAAA', '999999999999') },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 11 }), fc.array(digit, { minLength: 12, maxLength: 12 }))
      .map(([n, d]) => 'A'.repeat(12 - n) + d.slice(0, n).join('')),
  },
);

const hexDigits = (bytes: number) =>
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => bytesToHex(b, '').toUpperCase());

/** A DI of either edition: mostly known ones, sometimes any 8 or 4 hex digits. */
export const dlt645DiArb = (version: Dlt645Version): fc.Arbitrary<string> => {
  const known = knownDis().filter((di) => di.length === (version === '2007' ? 8 : 4));
  return fc.oneof(fc.constantFrom(...known), hexDigits(version === '2007' ? 4 : 2));
};

/** A value that fits a known DI's layout, as the decoder would report it. */
const valueArb = (di: string): fc.Arbitrary<{ value: number | string; week?: number }> => {
  const layout = lookupDi(di);
  if (!layout) throw new Error(`no layout for ${di}`);
  if (layout.type === 'date') {
    return fc
      .record({
        date: fc.date({
          min: new Date(Date.UTC(2000, 0, 1)),
          max: new Date(Date.UTC(2099, 11, 31)),
          noInvalidDate: true,
        }),
        week: fc.integer({ min: 0, max: 6 }),
      })
      .map(({ date, week }) => ({ value: date.toISOString().slice(0, 10), week }));
  }
  if (layout.type === 'time') {
    return fc
      .tuple(
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 59 }),
      )
      .map((t) => ({ value: t.map((n) => String(n).padStart(2, '0')).join(':') }));
  }
  const max = (layout.signed ? 80 : 100) * 100 ** (layout.length - 1) - 1;
  return fc
    .integer({ min: layout.signed ? -max : 0, max })
    .map((scaled) => ({ value: (scaled === 0 ? 0 : scaled) / 10 ** layout.decimals }));
};

const knownDiArb = (version: Dlt645Version) =>
  fc.constantFrom(...knownDis().filter((di) => di.length === (version === '2007' ? 8 : 4)));

/** A control code and body that belong together. */
export const dlt645ControlAndBodyArb: fc.Arbitrary<{ control: number; body: Dlt645Body }> = fc.oneof(
  fc.constantFrom<Dlt645Version>('2007', '1997').chain((version) =>
    dlt645DiArb(version).map((di) => ({
      control: version === '2007' ? 0x11 : 0x01,
      body: { kind: 'read', di } as Dlt645Body,
    })),
  ),
  fc.tuple(fc.constantFrom<Dlt645Version>('2007', '1997'), fc.boolean()).chain(([version, followUp]) =>
    knownDiArb(version).chain((di) =>
      valueArb(di).map(({ value, week }) => {
        const layout = lookupDi(di);
        const body: Dlt645Body = { kind: 'read-reply', di, value, unit: layout?.unit ?? '' };
        if (week !== undefined) body.week = week;
        return { control: (version === '2007' ? 0x91 : 0x81) | (followUp ? 0x20 : 0), body };
      }),
    ),
  ),
  fc.tuple(fc.integer({ min: 0, max: 0x1f }), fc.integer({ min: 0, max: 0xff })).map(([fn, error]) => ({
    control: 0xc0 | fn,
    body: { kind: 'abnormal-reply', error, errors: [] } as Dlt645Body,
  })),
  fc.constant({ control: 0x13, body: { kind: 'read-address' } as Dlt645Body }),
  dlt645AddressArb.map((address) => ({
    control: 0x93,
    body: { kind: 'read-address-reply', address } as Dlt645Body,
  })),
  fc
    .date({
      min: new Date(Date.UTC(2000, 0, 1)),
      max: new Date(Date.UTC(2099, 11, 31, 23, 59, 59)),
      noInvalidDate: true,
    })
    .map((d) => ({
      control: 0x08,
      body: { kind: 'time-sync', time: d.toISOString().slice(0, 19).replace('T', ' ') } as Dlt645Body,
    })),
  fc
    .tuple(dlt645DiArb('2007'), fc.integer({ min: 0, max: 0xff }))
    .map(([di, seq]) => ({ control: 0x12, body: { kind: 'read-follow-up', di, seq } as Dlt645Body })),
  // Writes, freezes, vendor codes: any control code with any DATA up to the 200-byte maximum.
  fc
    .tuple(fc.integer({ min: 0, max: 0xff }), fc.uint8Array({ maxLength: 200 }))
    .map(([control, data]) => ({ control, body: { kind: 'opaque', data: bytesToHex(data) } as Dlt645Body })),
);

/**
 * Any valid frame, canonical (as the decoder reports it): composed from the arbitraries above, then passed
 * once through encode and decode so that derived fields (error names, a body that decodes as something more
 * specific than `opaque`) are exactly what the decoder produces.
 */
export const dlt645FrameArb: fc.Arbitrary<Dlt645Frame> = fc
  .record({ preamble: dlt645PreambleArb, address: dlt645AddressArb, cb: dlt645ControlAndBodyArb })
  .map(({ preamble, address, cb }) => {
    const frame: Dlt645Frame = {
      protocol: 'dlt645',
      version: versionOfControl(cb.control),
      preamble,
      address,
      control: cb.control,
      ...controlFlags(cb.control),
      body: cb.body,
    };
    return decodeDlt645Frame(encodeDlt645(frame));
  });

/** Bytes of one valid frame. */
export const dlt645FrameBytesArb: fc.Arbitrary<Uint8Array> = dlt645FrameArb.map(encodeDlt645);
