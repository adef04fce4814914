import type { Dlt645Version } from './control.ts';

/**
 * Which data identifiers this codec can turn into values, with their scaling (docs/dlt645.md §2.3).
 * Layouts and units are PEACE `const.go` (enum `DIC`: 2007 format/size, 1997 format/size, unit) unless a row
 * says otherwise. A DI that is not here still decodes (its reply is an `opaque` body); only builders asked to
 * encode a value for it fail with UNKNOWN_DI.
 */

/** Units of the values in the DI table. Power factor is dimensionless (''); date/time values are strings. */
export type Dlt645Unit =
  | 'kWh'
  | 'kvarh'
  | 'kVAh'
  | 'V'
  | 'A'
  | 'kW'
  | 'kvar'
  | 'kVA'
  | 'Hz'
  | ''
  | 'imp/kWh'
  | 'imp/kvarh'
  | 'date'
  | 'time';

/** How the value bytes of one DI are laid out. All are packed BCD, least significant byte first. */
export interface Dlt645DiLayout {
  /** The DI in the standard's order ("00010000", "9010"). */
  di: string;
  version: Dlt645Version;
  /** What the value is, in English. */
  name: string;
  /** The standard's format string: `XXXXXX.XX`, `YYMMDDWW`, `hhmmss` … */
  format: string;
  /** Value bytes after the DI. */
  length: number;
  /** `number`: a scaled BCD number; `date`: YYMMDDWW → "2024-05-01" + week; `time`: hhmmss → "12:34:56". */
  type: 'number' | 'date' | 'time';
  /** Implied decimal places of a number. */
  decimals: number;
  /** D7 of the most significant byte is the sign (sign and magnitude), as for 2007 currents and powers. */
  signed: boolean;
  unit: Dlt645Unit;
  /** Source key (docs/sources.md) and file for this layout. */
  source: string;
}

type Row = Omit<Dlt645DiLayout, 'di' | 'version' | 'name'>;

const num = (format: string, length: number, unit: Dlt645Unit, signed: boolean, source: string): Row => {
  const dot = format.indexOf('.');
  return {
    format,
    length,
    type: 'number',
    decimals: dot < 0 ? 0 : format.length - dot - 1,
    signed,
    unit,
    source,
  };
};

const hex2 = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');

const PHASES = ['total', 'phase A', 'phase B', 'phase C'];

/** 2007 energy kinds, DI2 of `00 DI2 DI1 DI0` (PEACE `const.go` 00000000…000A0000). */
const ENERGY_2007: readonly { di2: number; name: string; unit: Dlt645Unit }[] = [
  { di2: 0x00, name: 'combined active energy', unit: 'kWh' },
  { di2: 0x01, name: 'forward active energy', unit: 'kWh' },
  { di2: 0x02, name: 'reverse active energy', unit: 'kWh' },
  { di2: 0x03, name: 'combined reactive energy 1', unit: 'kvarh' },
  { di2: 0x04, name: 'combined reactive energy 2', unit: 'kvarh' },
  { di2: 0x05, name: 'quadrant I reactive energy', unit: 'kvarh' },
  { di2: 0x06, name: 'quadrant II reactive energy', unit: 'kvarh' },
  { di2: 0x07, name: 'quadrant III reactive energy', unit: 'kvarh' },
  { di2: 0x08, name: 'quadrant IV reactive energy', unit: 'kvarh' },
  { di2: 0x09, name: 'forward apparent energy', unit: 'kVAh' },
  { di2: 0x0a, name: 'reverse apparent energy', unit: 'kVAh' },
];

/** Highest tariff number in DI1 (DL/T 645-2007 allows up to 63 tariffs, 01H–3FH). */
const MAX_TARIFF = 0x3f;
/** Highest settlement-day index in DI0 (00 = current, 01–0C = 1st…12th previous settlement). */
const MAX_SETTLEMENT = 0x0c;

function energy2007(di: string): Dlt645DiLayout | undefined {
  const [di3, di2, di1, di0] = [0, 2, 4, 6].map((i) => Number.parseInt(di.slice(i, i + 2), 16));
  const kind = ENERGY_2007.find((e) => e.di2 === di2);
  if (di3 !== 0x00 || !kind || di1 > MAX_TARIFF || di0 > MAX_SETTLEMENT) return undefined;
  // Combined active energy can be negative in some meters; docs/dlt645.md §2.3 finds no source on it, so it
  // is read unsigned here.
  const tariff = di1 === 0 ? 'total' : `tariff ${di1}`;
  const when = di0 === 0 ? '' : `, settlement ${di0} ago`;
  return {
    di,
    version: '2007',
    name: `${kind.name} ${tariff}${when}`,
    // docs/dlt645.md §2.3: energy is 4 bytes XXXXXX.XX; tariffs in DI1 (0001FF00 = total + tariffs block).
    // The settlement index in DI0 follows the standard's DI structure (decision, not in the sources).
    ...num('XXXXXX.XX', 4, kind.unit, false, 'PEACE const.go; docs/dlt645.md §2.3'),
  };
}

/** Instantaneous 2007 variables `02 DI2 DI1 00`, DI1 = 00 total / 01–03 phase (PEACE `const.go`). */
const VARIABLES_2007: readonly { di2: number; name: string; phases: number[]; row: Row }[] = [
  {
    di2: 0x01,
    name: 'voltage',
    phases: [1, 2, 3],
    row: num('XXX.X', 2, 'V', false, 'PEACE const.go; docs/dlt645.md §2.3'),
  },
  {
    di2: 0x02,
    name: 'current',
    phases: [1, 2, 3],
    // D7 of the top byte is the sign in 2007 (sign and magnitude).
    row: num('XXX.XXX', 3, 'A', true, 'PEACE const.go; docs/dlt645.md §2.3'),
  },
  {
    di2: 0x03,
    name: 'active power',
    phases: [0, 1, 2, 3],
    row: num('XX.XXXX', 3, 'kW', true, 'PEACE const.go; docs/dlt645.md §2.3'),
  },
  {
    di2: 0x04,
    name: 'reactive power',
    phases: [0, 1, 2, 3],
    row: num('XX.XXXX', 3, 'kvar', true, 'PEACE const.go'),
  },
  {
    di2: 0x05,
    name: 'apparent power',
    phases: [0, 1, 2, 3],
    row: num('XX.XXXX', 3, 'kVA', true, 'PEACE const.go'),
  },
  {
    di2: 0x06,
    name: 'power factor',
    phases: [0, 1, 2, 3],
    row: num('X.XXX', 2, '', true, 'PEACE const.go; docs/dlt645.md §2.3'),
  },
];

/** Fixed 2007 DIs that do not follow a family pattern. */
const FIXED_2007: Record<string, { name: string; row: Row }> = {
  '02800002': {
    name: 'grid frequency',
    row: num('XX.XX', 2, 'Hz', false, 'PEACE const.go; docs/dlt645.md §2.3'),
  },
  '04000101': {
    name: 'date and week',
    row: {
      format: 'YYMMDDWW',
      length: 4,
      type: 'date',
      decimals: 0,
      signed: false,
      unit: 'date',
      source: 'PEACE const.go; docs/dlt645.md §2.3',
    },
  },
  '04000102': {
    name: 'time',
    row: {
      format: 'hhmmss',
      length: 3,
      type: 'time',
      decimals: 0,
      signed: false,
      unit: 'time',
      source: 'PEACE const.go; docs/dlt645.md §2.3',
    },
  },
  '04000409': {
    name: 'active constant',
    row: num('XXXXXX', 3, 'imp/kWh', false, 'PEACE const.go; docs/dlt645.md §2.3'),
  },
  '0400040A': { name: 'reactive constant', row: num('XXXXXX', 3, 'imp/kvarh', false, 'PEACE const.go') },
};

for (const v of VARIABLES_2007) {
  for (const phase of v.phases) {
    FIXED_2007[`02${hex2(v.di2)}${hex2(phase)}00`] = { name: `${PHASES[phase]} ${v.name}`, row: v.row };
  }
}

/** 1997 DIs (2 bytes). */
const FIXED_1997: Record<string, { name: string; row: Row }> = {};

// 9010 forward active total, XXXXXX.XX kWh (docs/dlt645.md §2.3, D17/D18). 9011–9014 (tariffs 1–4) and
// 9020–9024 (reverse active) follow the 1997 table's pattern: decision, not in the sources.
for (const [base, name] of [
  [0x9010, 'forward active energy'],
  [0x9020, 'reverse active energy'],
] as const) {
  for (let t = 0; t <= 4; t++) {
    FIXED_1997[(base + t).toString(16).toUpperCase()] = {
      name: `${name} ${t === 0 ? 'total' : `tariff ${t}`}`,
      row: num('XXXXXX.XX', 4, 'kWh', false, 'docs/dlt645.md §2.3 (9010); D18'),
    };
  }
}
// Phase A–C voltage, current and active power, total power (PEACE `const.go` 1997 column;
// docs/dlt645.md §2.3).
for (let p = 1; p <= 3; p++) {
  FIXED_1997[`B61${p}`] = {
    name: `${PHASES[p]} voltage`,
    row: num('XXX', 2, 'V', false, 'PEACE const.go; docs/dlt645.md §2.3'),
  };
  FIXED_1997[`B62${p}`] = {
    name: `${PHASES[p]} current`,
    row: num('XX.XX', 2, 'A', false, 'PEACE const.go; docs/dlt645.md §2.3'),
  };
}
for (let p = 0; p <= 3; p++) {
  FIXED_1997[`B63${p}`] = {
    name: `${PHASES[p]} active power`,
    row: num('XX.XXXX', 3, 'kW', false, 'PEACE const.go; docs/dlt645.md §2.3'),
  };
}

/**
 * The layout of a DI's value, or undefined when this codec does not know it (block DIs such as 0001FF00
 * included: their replies carry several values and decode as `opaque`).
 */
export function lookupDi(di: string): Dlt645DiLayout | undefined {
  const key = typeof di === 'string' ? di.toUpperCase() : '';
  // Every read of a meter looks its DI up several times (building, encoding, decoding the reply); a copy
  // of the remembered layout saves rebuilding it. Only known DIs are remembered, so the map stays bounded.
  const known = KNOWN_LAYOUTS.get(key);
  if (known) return { ...known };
  const layout = findLayout(key);
  if (layout) KNOWN_LAYOUTS.set(key, layout);
  return layout && { ...layout };
}

/** Layouts found so far, by upper-case DI. */
const KNOWN_LAYOUTS = new Map<string, Dlt645DiLayout>();

function findLayout(key: string): Dlt645DiLayout | undefined {
  if (/^[0-9A-F]{8}$/.test(key)) {
    const fixed = FIXED_2007[key];
    if (fixed) return { di: key, version: '2007', name: fixed.name, ...fixed.row };
    return energy2007(key);
  }
  if (/^[0-9A-F]{4}$/.test(key)) {
    const fixed = FIXED_1997[key];
    if (fixed) return { di: key, version: '1997', name: fixed.name, ...fixed.row };
  }
  return undefined;
}

/** Every DI with a fixed entry (energy tariff/settlement variants excluded), for docs and generators. */
export function knownDis(): string[] {
  const energy = ENERGY_2007.map((e) => `00${hex2(e.di2)}0000`);
  return [...energy, ...Object.keys(FIXED_2007), ...Object.keys(FIXED_1997)];
}
