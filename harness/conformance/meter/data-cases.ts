import { sum8 } from '../../../protocols/bytes.ts';
import { writeDi } from '../../../protocols/cjt188/index.ts';
import {
  type Bad,
  gradeRule,
  type HexToken,
  isObject,
  loadCaseFolders,
  matchHex,
  readRoleCaseFile,
  SILENCE_GRADES,
} from '../data-cases.ts';
import type { Verdict } from '../runner.ts';
import type { Grade } from '../types.ts';
import type { MeterCase } from './meter-cases.ts';
import { hex, type MeterCaseContext } from './meter-context.ts';
import { addressBytes, dlt645DiBytes, frameStart, type MeterSuiteProtocol } from './meter-wire.ts';

/**
 * Cases as data (after the Gurux DLMS conformance test's request/expected-reply files): a JSON file holds a
 * request and the reply it must get, written as spaced hex with wildcards and placeholders, so a user adds
 * cases for a vendor's quirks without code (`--cases-dir DIR`).
 *
 * File: `{ "role": "meter", "protocol": "cjt188" | "dlt645", "cases": [ … ] }`; each case:
 * - `id`, `title`, `clause` (and `reason` when the clause is field practice);
 * - `request`: the bytes to send;
 * - `expect`: the reply (from its first 68H; the preamble is not compared), or `null` when the meter must stay
 *   silent;
 * - `nonStrict`, `unimplemented`: lists of `{ "expect": …, "why": … }`: replies graded so instead of failing;
 * - `silence`: `{ "grade": …, "why": … }`: the grade when nothing comes back (default fail).
 *
 * Tokens: `68` a byte; `*` any one byte; `...` any number of bytes; `{ADDR}` the meter address in wire order;
 * `{ADDR33}` the same with +33H (DL/T 645 DATA); `{TYPE}` the CJ/T 188 meter type; `{SER}` a fresh SER for
 * the case; `{DI:901F}` a CJ/T 188 DI (sent in the reader's DI order, matched in either order) or a DL/T 645
 * DI (`{DI:00010000}`, DI0 first, +33H); `{CS}` the checksum (computed in a request, checked in a reply).
 * @packageDocumentation
 */

type OwnToken = { kind: 'either'; options: number[][] } | { kind: 'cs' };
type Token = HexToken | OwnToken;

/** A reply pattern with the grade it gives. */
interface Alternative {
  grade: Grade;
  expect: string | null;
  why?: string;
}

/** One data case as read from a file, checked. */
export interface DataCaseSpec {
  id: string;
  title: string;
  clause: string;
  reason?: string;
  request: string;
  expect: string | null;
  nonStrict: { expect: string; why: string }[];
  unimplemented: { expect: string; why: string }[];
  silence: { grade: Grade; why: string };
}

const KEYS = new Set([
  'id',
  'title',
  'clause',
  'reason',
  'request',
  'expect',
  'nonStrict',
  'unimplemented',
  'silence',
]);

/** The folder of the case files shipped with meterlab. */
export const BUILTIN_CASES_DIR = new URL('../../../fixtures/conformance/', import.meta.url).pathname;

/**
 * Loads the data cases for `protocol` from every `*.json` in `dirs` (files of another protocol or role are
 * skipped). Every pattern is compiled once here, so a malformed file stops the run before it starts.
 * @throws ConformanceError CONFORM_BAD_CASE_FILE naming the file, the case and the field.
 */
export function loadDataCases(dirs: readonly string[], protocol: MeterSuiteProtocol): MeterCase[] {
  return loadCaseFolders(dirs, (file) => loadCaseFile(file, protocol));
}

/** Loads one case file (empty when it is for another protocol or role; another role's file is not checked). */
export function loadCaseFile(file: string, protocol: MeterSuiteProtocol): MeterCase[] {
  const read = readRoleCaseFile(file, 'meter', ['cjt188', 'dlt645'], 'file');
  if (read === undefined) return [];
  const fileProtocol = read.protocol as MeterSuiteProtocol;
  const specs = read.cases.map((c, i) => checkSpec(c, `cases[${i}]`, fileProtocol, read.bad));
  if (fileProtocol !== protocol) return [];
  return specs.map((spec) => dataCase(spec, read.origin));
}

function checkSpec(c: unknown, where: string, protocol: MeterSuiteProtocol, bad: Bad): DataCaseSpec {
  if (!isObject(c)) throw bad(where, 'must be an object');
  const at = typeof c.id === 'string' ? `${where} (${c.id})` : where;
  for (const key of Object.keys(c)) if (!KEYS.has(key)) throw bad(`${at}.${key}`, 'unknown field');
  for (const key of ['id', 'title', 'clause', 'request'] as const) {
    if (typeof c[key] !== 'string' || (c[key] as string).trim() === '')
      throw bad(`${at}.${key}`, 'must be a non-empty string');
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(c.id as string))
    throw bad(`${at}.id`, 'letters, digits, ".", "-" and "_" only');
  if (c.reason !== undefined && typeof c.reason !== 'string') throw bad(`${at}.reason`, 'must be a string');
  if (c.expect !== null && typeof c.expect !== 'string')
    throw bad(`${at}.expect`, 'must be a pattern string or null');
  const check = (pattern: string, field: string, role: 'request' | 'reply') => {
    try {
      compile(pattern, protocol, role, PLACEHOLDER_CHECK);
    } catch (error) {
      throw bad(`${at}.${field}`, (error as Error).message);
    }
  };
  check(c.request as string, 'request', 'request');
  if (typeof c.expect === 'string') check(c.expect, 'expect', 'reply');
  const alternatives = (field: 'nonStrict' | 'unimplemented') => {
    const list = c[field] ?? [];
    if (!Array.isArray(list)) throw bad(`${at}.${field}`, 'must be an array of {"expect", "why"}');
    return list.map((a: unknown, i: number) => {
      if (!isObject(a) || typeof a.expect !== 'string' || typeof a.why !== 'string') {
        throw bad(`${at}.${field}[${i}]`, 'must be {"expect": pattern, "why": text}');
      }
      check(a.expect, `${field}[${i}].expect`, 'reply');
      return { expect: a.expect, why: a.why };
    });
  };
  const silenceDefault: DataCaseSpec['silence'] = { grade: c.expect === null ? 'pass' : 'fail', why: '' };
  const silence = gradeRule(c.silence, SILENCE_GRADES, silenceDefault, `${at}.silence`, bad);
  const spec: DataCaseSpec = {
    id: c.id as string,
    title: c.title as string,
    clause: c.clause as string,
    request: c.request as string,
    expect: c.expect as string | null,
    nonStrict: alternatives('nonStrict'),
    unimplemented: alternatives('unimplemented'),
    silence,
  };
  if (typeof c.reason === 'string') spec.reason = c.reason;
  return spec;
}

/** Values of the placeholders for one run of one case. */
interface Placeholders {
  address: Uint8Array;
  meterType: number;
  ser: number;
  diOrder: 'high-first' | 'low-first';
}

const PLACEHOLDER_CHECK: Placeholders = {
  address: new Uint8Array(7),
  meterType: 0x10,
  ser: 0,
  diOrder: 'low-first',
};

/** Turns a pattern into tokens. Throws Error with a message naming the bad token. */
export function compile(
  pattern: string,
  protocol: MeterSuiteProtocol,
  role: 'request' | 'reply',
  values: Placeholders,
): Token[] {
  const tokens: Token[] = [];
  for (const word of pattern.trim().split(/\s+/)) {
    if (/^[0-9A-Fa-f]{2}$/.test(word)) tokens.push({ kind: 'byte', value: Number.parseInt(word, 16) });
    else if (word === '*' || word === '...') {
      if (role === 'request') throw new Error(`"${word}" is a wildcard; a request must say every byte`);
      tokens.push(word === '*' ? { kind: 'any' } : { kind: 'rest' });
    } else if (word === '{ADDR}' || word === '{ADDR33}') {
      const offset = word === '{ADDR33}' ? 0x33 : 0;
      for (const b of values.address) tokens.push({ kind: 'byte', value: (b + offset) & 0xff });
    } else if (word === '{TYPE}') tokens.push({ kind: 'byte', value: values.meterType });
    else if (word === '{SER}') tokens.push({ kind: 'byte', value: values.ser });
    else if (word === '{CS}') tokens.push({ kind: 'cs' });
    else if (word.startsWith('{DI:') && word.endsWith('}'))
      tokens.push(...diTokens(word.slice(4, -1), protocol, role, values));
    else
      throw new Error(
        `unknown token "${word}" (use hex bytes, *, ..., {ADDR}, {ADDR33}, {TYPE}, {SER}, {DI:…}, {CS})`,
      );
  }
  if (tokens.filter((t) => t.kind === 'cs').length > 1) throw new Error('{CS} may appear once');
  return tokens;
}

function diTokens(
  di: string,
  protocol: MeterSuiteProtocol,
  role: 'request' | 'reply',
  values: Placeholders,
): Token[] {
  if (protocol === 'dlt645') {
    if (!/^([0-9A-Fa-f]{4}|[0-9A-Fa-f]{8})$/.test(di))
      throw new Error(`{DI:${di}}: a DL/T 645 DI is 4 or 8 hex digits`);
    return dlt645DiBytes(di).map((b) => ({ kind: 'byte', value: (b + 0x33) & 0xff }));
  }
  if (!/^[0-9A-Fa-f]{4}$/.test(di)) throw new Error(`{DI:${di}}: a CJ/T 188 DI is 4 hex digits`);
  const value = Number.parseInt(di, 16);
  // Any DI is allowed, known to the codec or not: a case may test an unknown one on purpose.
  const low = writeDi(value, 'low-first');
  const high = writeDi(value, 'high-first');
  if (role === 'request') {
    return (values.diOrder === 'low-first' ? low : high).map((b) => ({ kind: 'byte', value: b }));
  }
  return [{ kind: 'either', options: [low, high] }];
}

/** Request tokens to bytes, with {CS} computed over the bytes from the first 68H to just before it. */
export function requestBytes(tokens: readonly Token[]): Uint8Array {
  const bytes: number[] = [];
  let csAt = -1;
  for (const t of tokens) {
    if (t.kind === 'byte') bytes.push(t.value);
    else if (t.kind === 'cs') {
      csAt = bytes.length;
      bytes.push(0);
    }
  }
  const out = Uint8Array.from(bytes);
  if (csAt >= 0) out[csAt] = sum8(out, Math.max(0, out.indexOf(0x68)), csAt);
  return out;
}

/** True when `bytes` (a reply from its first 68H) matches the tokens. */
export function matches(tokens: readonly Token[], bytes: Uint8Array): boolean {
  return matchHex<OwnToken, undefined>(tokens, bytes, undefined, (t, b, at) => {
    if (t.kind === 'cs') return b[at] === sum8(b, 0, at) ? { length: 1, state: undefined } : undefined;
    const option = t.options.find((o) => o.every((x, i) => b[at + i] === x));
    return option && { length: option.length, state: undefined };
  });
}

function dataCase(spec: DataCaseSpec, origin: string): MeterCase {
  const c: MeterCase = {
    id: spec.id,
    title: spec.title,
    clause: spec.clause,
    origin,
    run: (ctx) => runDataCase(spec, ctx),
  };
  if (spec.reason) c.reason = spec.reason;
  return c;
}

async function runDataCase(spec: DataCaseSpec, ctx: MeterCaseContext): Promise<Verdict> {
  const values: Placeholders = {
    address: addressBytes(ctx.protocol, ctx.config.address),
    meterType: ctx.config.meterType,
    ser: ctx.nextSer(),
    diOrder: ctx.config.diOrder,
  };
  const request = requestBytes(compile(spec.request, ctx.protocol, 'request', values));
  const outcome = await ctx.session.exchange(request, { settleMs: 0 });
  const reply = outcome.reply;
  if (!reply) {
    if (spec.expect === null) return { grade: 'pass', message: 'stayed silent, as expected' };
    const why = spec.silence.why ? `: ${spec.silence.why}` : '';
    return { grade: spec.silence.grade, message: `no reply within ${ctx.session.timeoutMs} ms${why}` };
  }
  const raw = reply.raw.subarray(Math.max(0, frameStart(reply.raw)));
  if (spec.expect === null) return { grade: 'fail', message: 'answered where it must stay silent' };
  const alternatives: Alternative[] = [
    { grade: 'pass', expect: spec.expect },
    ...spec.nonStrict.map((a) => ({ grade: 'non-strict' as const, ...a })),
    ...spec.unimplemented.map((a) => ({ grade: 'unimplemented' as const, ...a })),
  ];
  for (const alt of alternatives) {
    if (alt.expect === null) continue;
    if (matches(compile(alt.expect, ctx.protocol, 'reply', values), raw)) {
      if (alt.grade !== 'pass') ctx.session.trace.note(`expected: ${withSer(spec.expect, values.ser)}`);
      return {
        grade: alt.grade,
        message: alt.grade === 'pass' ? 'the reply matches the expected pattern' : `${alt.why}`,
      };
    }
  }
  ctx.session.trace.note(`expected: ${withSer(spec.expect, values.ser)}`);
  return { grade: 'fail', message: 'the reply matches neither the expected pattern nor a tolerated form' };
}

/** The pattern with the SER this run used, for the trace. */
function withSer(pattern: string, ser: number): string {
  return pattern.replaceAll('{SER}', `{SER=${hex(ser)}}`);
}
