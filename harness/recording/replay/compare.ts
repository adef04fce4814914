import { readFileSync } from 'node:fs';
import { RecordingError } from '../errors.ts';

/**
 * Field-by-field comparison of decoded frames, with rules for what may differ between two runs.
 * Categories (`--ignore value,time,seq`):
 * - `seq`: correlation numbers — CJ/T 188 SER, 376.1 PSEQ/RSEQ (`seq.seq`), PFC, FCB, point-read `id`;
 * - `time`: meter and terminal clocks, 376.1 Tp, point-read `meterTime`, `readAt`, `latencyMs`;
 * - `value`: readings — CJ/T 188 flows and heat quantities, DL/T 645 `value`, point-read `value`, `AccumVal`.
 * A rules file adds path patterns: `{"ignore": ["units.*.body.embedded.body.data.status.raw"]}`, `*` one segment.
 * Raw bytes (`hex`, a forward's `content`, a status's `raw`) are never compared: their decoded fields are.
 */
export type IgnoreCategory = 'value' | 'time' | 'seq';
export const IGNORE_CATEGORIES: readonly IgnoreCategory[] = ['value', 'time', 'seq'];

const CATEGORY_KEYS: Record<IgnoreCategory, ReadonlySet<string>> = {
  seq: new Set(['ser', 'pfc', 'fcb', 'id']),
  time: new Set(['time', 'sendTime', 'clock', 'week', 'tp', 'meterTime', 'readAt', 'latencyMs']),
  value: new Set([
    'value',
    'current',
    'settlement',
    'settlementHeat',
    'currentHeat',
    'heatPower',
    'flowRate',
    'accumulatedFlow',
    'supplyTemperature',
    'returnTemperature',
    'workingHours',
    'AccumVal',
  ]),
};
/** Bytes whose meaning is compared through their decoded form instead. */
const NEVER = new Set(['hex', 'content', 'raw']);

export interface CompareRules {
  ignore: ReadonlySet<IgnoreCategory>;
  /** Path patterns, segments split on `.`, `*` matching one segment. */
  paths: string[][];
}

/**
 * Reads `--ignore value,time,seq` and an optional rules file.
 * @throws RecordingError BAD_RULES naming the word or the file.
 */
export function parseRules(ignore: string | undefined, rulesFile?: string): CompareRules {
  const words = (ignore ?? '')
    .split(',')
    .map((w) => w.trim())
    .filter((w) => w.length > 0);
  for (const w of words) {
    if (!IGNORE_CATEGORIES.includes(w as IgnoreCategory)) {
      throw new RecordingError('BAD_RULES', `--ignore: "${w}" is not one of ${IGNORE_CATEGORIES.join(', ')}`);
    }
  }
  const paths: string[][] = [];
  if (rulesFile) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(rulesFile, 'utf8'));
    } catch (error) {
      throw new RecordingError('BAD_RULES', `${rulesFile}: ${(error as Error).message}`);
    }
    const list = (parsed as { ignore?: unknown }).ignore;
    if (!Array.isArray(list) || !list.every((p) => typeof p === 'string')) {
      throw new RecordingError('BAD_RULES', `${rulesFile}: expected {"ignore": ["path.with.*", …]}`);
    }
    for (const p of list as string[]) paths.push(p.split('.'));
  }
  return { ignore: new Set(words as IgnoreCategory[]), paths };
}

/** Every leaf of a decoded frame as `path → value`, minus what the rules ignore. */
export function flatten(decoded: unknown, rules: CompareRules): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (value: unknown, path: string[]) => {
    const key = path.at(-1);
    if (key !== undefined) {
      if (NEVER.has(key)) return;
      for (const c of rules.ignore) if (CATEGORY_KEYS[c].has(key)) return;
      // 376.1 SEQ is an object; its PSEQ/RSEQ is `seq.seq`.
      if (rules.ignore.has('seq') && key === 'seq' && path.at(-2) === 'seq') return;
      if (rules.paths.some((p) => matches(p, path))) return;
    }
    if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    } else {
      out.set(path.join('.'), value);
    }
  };
  walk(decoded, []);
  return out;
}

function matches(pattern: string[], path: string[]): boolean {
  return pattern.length === path.length && pattern.every((p, i) => p === '*' || p === path[i]);
}

export interface FieldDifference {
  path: string;
  expected: unknown;
  got: unknown;
}

/** Fields that differ between a recorded (expected) and a new (got) decoded frame. */
export function compareDecoded(expected: unknown, got: unknown, rules: CompareRules): FieldDifference[] {
  const a = flatten(expected, rules);
  const b = flatten(got, rules);
  const diffs: FieldDifference[] = [];
  for (const path of new Set([...a.keys(), ...b.keys()])) {
    if (!Object.is(a.get(path), b.get(path))) diffs.push({ path, expected: a.get(path), got: b.get(path) });
  }
  return diffs;
}

/** A key for matching a request to a recorded one: its fields without correlation numbers and times. */
export function matchKey(decoded: unknown): string {
  const map = flatten(decoded, { ignore: new Set(['seq', 'time']), paths: [] });
  return JSON.stringify([...map].sort(([x], [y]) => (x < y ? -1 : 1)));
}

/** Two decoded frames side by side, the differing fields marked, for a report. */
export function sideBySide(title: string, diffs: FieldDifference[]): string {
  const rows = diffs.map((d) => [d.path, show(d.expected), show(d.got)]);
  const w0 = Math.max(5, ...rows.map((r) => r[0].length));
  const w1 = Math.max(8, ...rows.map((r) => r[1].length));
  const lines = [title, `  ${'field'.padEnd(w0)}  ${'recorded'.padEnd(w1)}  now`];
  for (const [p, e, g] of rows) lines.push(`  ${p.padEnd(w0)}  ${e.padEnd(w1)}  ${g}`);
  return lines.join('\n');
}

function show(v: unknown): string {
  return v === undefined ? '(absent)' : JSON.stringify(v);
}
