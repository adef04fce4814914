import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { sum8 } from '../../../protocols/bytes.ts';
import { ConformanceError } from '../errors.ts';
import type { Verdict } from '../runner.ts';
import type { Grade } from '../types.ts';
import type { MasterCase } from './master-cases.ts';
import type { MasterCaseContext } from './master-context.ts';

/**
 * Master cases as data (the meter role's request/expected-reply files, for 376.1): a frame the simulated
 * concentrator sends and the answer the master must give, as spaced hex with wildcards and placeholders, so a
 * user adds cases for a platform's quirks without code (`--cases-dir DIR`).
 *
 * File: `{ "role": "master", "protocol": "gdw376", "cases": [ … ] }`; each case:
 * - `id`, `title`, `clause` (and `reason` when the clause is field practice);
 * - `login`: log in first (default true), so the frame comes from a known terminal;
 * - `send`: the frame to send;
 * - `expect`: the master's first frame after it, or `null` when the master must send nothing;
 * - `nonStrict`, `unimplemented`: lists of `{ "expect": …, "why": … }` graded so instead of failing;
 * - `silence`: `{ "grade": …, "why": … }`: the grade when nothing comes (default fail, pass when `expect` is null).
 *
 * Tokens: `68` a byte; `*` any one byte; `...` any number of bytes; `{L}` the two L bytes (protocol id 2) of
 * this frame, `{L1}` the same with protocol id 1 (Q/GDW 130-2005, docs/field-notes.md §8); `{A}` A1 A2 of the
 * terminal (4 bytes, wire order: docs/gdw376.md §3.1); `{SEQ:7}` the SEQ byte with high nibble 7 and the case's
 * PSEQ (in an expected answer, `{SEQ:6}` is the echo); `{CS}` the checksum from C (computed in `send`, checked
 * in an answer). Data files are read from `--cases-dir` folders (files of another role are skipped) and from the
 * built-in `fixtures/conformance/gdw376-master/`.
 * @packageDocumentation
 */

type Token =
  | { kind: 'byte'; value: number }
  | { kind: 'any' }
  | { kind: 'rest' }
  | { kind: 'l'; id: 1 | 2 }
  | { kind: 'a' }
  | { kind: 'seq'; high: number }
  | { kind: 'cs' };

/** One data case as read from a file, checked. */
export interface MasterDataCaseSpec {
  id: string;
  title: string;
  clause: string;
  reason?: string;
  login: boolean;
  send: Token[];
  expect: Token[] | null;
  alternatives: { grade: Grade; tokens: Token[]; why: string }[];
  silence: { grade: Grade; why: string };
}

/** The built-in master data cases. */
export const BUILTIN_MASTER_CASES_DIR = new URL(
  '../../../fixtures/conformance/gdw376-master/',
  import.meta.url,
).pathname;

const GRADES: readonly Grade[] = ['pass', 'non-strict', 'fail', 'unimplemented', 'info'];
const KEYS = new Set([
  'id',
  'title',
  'clause',
  'reason',
  'login',
  'send',
  'expect',
  'nonStrict',
  'unimplemented',
  'silence',
]);

/**
 * The master data cases in every `*.json` of `dirs` (other roles' files are skipped; a missing built-in folder is
 * none). @throws ConformanceError CONFORM_BAD_CASE_FILE naming the file, the case and the field.
 */
export function loadMasterDataCases(dirs: readonly string[]): MasterCase[] {
  const cases: MasterCase[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir)
        .filter((n) => n.endsWith('.json'))
        .sort();
    } catch (error) {
      throw new ConformanceError(
        'CONFORM_BAD_CASE_FILE',
        `cannot read the cases folder ${dir}: ${(error as Error).message}`,
      );
    }
    for (const name of names) cases.push(...loadMasterCaseFile(join(dir, name)));
  }
  return cases;
}

/** The master cases of one file (none when the file is for another role). */
export function loadMasterCaseFile(file: string): MasterCase[] {
  const bad = (where: string, problem: string) =>
    new ConformanceError('CONFORM_BAD_CASE_FILE', `${file}: ${where}: ${problem}`);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw bad('file', `not readable JSON (${(error as Error).message})`);
  }
  if (!isObject(doc)) throw bad('file', 'must be an object with "role", "protocol" and "cases"');
  if (doc.role !== 'master') return [];
  if (doc.protocol !== 'gdw376')
    throw bad('protocol', `must be "gdw376", got ${JSON.stringify(doc.protocol)}`);
  if (!Array.isArray(doc.cases)) throw bad('cases', 'must be an array');
  const origin = basename(file);
  return doc.cases.map((c: unknown, i: number) => dataCase(checkSpec(c, `cases[${i}]`, bad), origin));
}

function checkSpec(
  c: unknown,
  at: string,
  bad: (where: string, problem: string) => ConformanceError,
): MasterDataCaseSpec {
  if (!isObject(c)) throw bad(at, 'must be an object');
  const id = typeof c.id === 'string' ? c.id : undefined;
  const where = id ? `case ${id}` : at;
  for (const key of Object.keys(c)) {
    if (!KEYS.has(key)) throw bad(`${where}.${key}`, `unknown field (fields: ${[...KEYS].join(', ')})`);
  }
  for (const key of ['id', 'title', 'clause', 'send'] as const) {
    if (typeof c[key] !== 'string' || c[key] === '')
      throw bad(`${where}.${key}`, 'must be a non-empty string');
  }
  if (c.reason !== undefined && typeof c.reason !== 'string')
    throw bad(`${where}.reason`, 'must be a string');
  if (c.login !== undefined && typeof c.login !== 'boolean')
    throw bad(`${where}.login`, 'must be true or false');
  if (c.expect !== null && typeof c.expect !== 'string')
    throw bad(`${where}.expect`, 'must be a pattern or null');
  const send = compile(c.send as string, `${where}.send`, bad);
  if (send.some((t) => t.kind === 'any' || t.kind === 'rest')) {
    throw bad(`${where}.send`, '"*" and "..." match bytes; a frame to send cannot contain them');
  }
  const alternatives: MasterDataCaseSpec['alternatives'] = [];
  for (const grade of ['nonStrict', 'unimplemented'] as const) {
    const list = c[grade];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw bad(`${where}.${grade}`, 'must be a list of {"expect", "why"}');
    list.forEach((alt: unknown, i: number) => {
      if (!isObject(alt) || typeof alt.expect !== 'string' || typeof alt.why !== 'string') {
        throw bad(`${where}.${grade}[${i}]`, 'must be {"expect": pattern, "why": text}');
      }
      alternatives.push({
        grade: grade === 'nonStrict' ? 'non-strict' : 'unimplemented',
        tokens: compile(alt.expect, `${where}.${grade}[${i}].expect`, bad),
        why: alt.why,
      });
    });
  }
  let silence = { grade: (c.expect === null ? 'pass' : 'fail') as Grade, why: '' };
  if (c.silence !== undefined) {
    const s = c.silence;
    if (!isObject(s) || !GRADES.includes(s.grade as Grade) || typeof s.why !== 'string') {
      throw bad(`${where}.silence`, `must be {"grade": one of ${GRADES.join(', ')}, "why": text}`);
    }
    silence = { grade: s.grade as Grade, why: s.why };
  }
  const spec: MasterDataCaseSpec = {
    id: c.id as string,
    title: c.title as string,
    clause: c.clause as string,
    login: c.login !== false,
    send,
    expect: c.expect === null ? null : compile(c.expect as string, `${where}.expect`, bad),
    alternatives,
    silence,
  };
  if (typeof c.reason === 'string') spec.reason = c.reason;
  return spec;
}

/** Compiles a pattern. @throws via `bad` naming the token. */
export function compile(
  pattern: string,
  where: string,
  bad: (where: string, problem: string) => ConformanceError,
): Token[] {
  const tokens: Token[] = [];
  for (const word of pattern.trim().split(/\s+/)) {
    if (/^[0-9A-Fa-f]{2}$/.test(word)) tokens.push({ kind: 'byte', value: Number.parseInt(word, 16) });
    else if (word === '*') tokens.push({ kind: 'any' });
    else if (word === '...') tokens.push({ kind: 'rest' });
    else if (word === '{L}' || word === '{L1}') tokens.push({ kind: 'l', id: word === '{L}' ? 2 : 1 });
    else if (word === '{A}') tokens.push({ kind: 'a' });
    else if (word === '{CS}') tokens.push({ kind: 'cs' });
    else if (/^\{SEQ:[0-9A-Fa-f]\}$/.test(word))
      tokens.push({ kind: 'seq', high: Number.parseInt(word[5], 16) });
    else throw bad(where, `"${word}" is not a hex byte, *, ..., {L}, {L1}, {A}, {SEQ:x} or {CS}`);
  }
  return tokens;
}

/** Values the placeholders stand for in one case. */
interface Values {
  a: number[];
  pseq: number;
}

/** The bytes of a `send` pattern: L from the frame's length, CS over C … the byte before CS. */
export function sendBytes(tokens: readonly Token[], v: Values): Uint8Array {
  const out: number[] = [];
  const lAt: { at: number; id: 1 | 2 }[] = [];
  let csAt = -1;
  for (const t of tokens) {
    if (t.kind === 'byte') out.push(t.value);
    else if (t.kind === 'a') out.push(...v.a);
    else if (t.kind === 'seq') out.push((t.high << 4) | v.pseq);
    else if (t.kind === 'l') {
      lAt.push({ at: out.length, id: t.id });
      out.push(0, 0);
    } else if (t.kind === 'cs') {
      csAt = out.length;
      out.push(0);
    }
  }
  const userEnd = csAt >= 0 ? csAt : out.length - 2;
  const l = ((Math.max(0, userEnd - 6) << 2) >>> 0) & 0xffff;
  for (const { at, id } of lAt) {
    out[at] = (l | id) & 0xff;
    out[at + 1] = (l >> 8) & 0xff;
  }
  const bytes = Uint8Array.from(out);
  if (csAt >= 0) bytes[csAt] = sum8(bytes, 6, csAt);
  return bytes;
}

/** Whether `bytes` (one whole frame) matches the pattern. */
export function matches(tokens: readonly Token[], bytes: Uint8Array, v: Values): boolean {
  const l = (bytes.length - 8) << 2;
  const go = (ti: number, bi: number): boolean => {
    if (ti === tokens.length) return bi === bytes.length;
    const t = tokens[ti];
    switch (t.kind) {
      case 'rest':
        for (let k = bi; k <= bytes.length; k++) if (go(ti + 1, k)) return true;
        return false;
      case 'any':
        return bi < bytes.length && go(ti + 1, bi + 1);
      case 'byte':
        return bytes[bi] === t.value && go(ti + 1, bi + 1);
      case 'seq':
        return bytes[bi] === ((t.high << 4) | v.pseq) && go(ti + 1, bi + 1);
      case 'a':
        return v.a.every((b, k) => bytes[bi + k] === b) && go(ti + 1, bi + v.a.length);
      case 'l':
        return bytes[bi] === ((l | t.id) & 0xff) && bytes[bi + 1] === ((l >> 8) & 0xff) && go(ti + 1, bi + 2);
      case 'cs':
        return bi >= 6 && bytes[bi] === sum8(bytes, 6, bi) && go(ti + 1, bi + 1);
    }
    return false;
  };
  return go(0, 0);
}

function dataCase(spec: MasterDataCaseSpec, origin: string): MasterCase {
  const info = { id: spec.id, title: spec.title, clause: spec.clause, origin };
  const run = (ctx: MasterCaseContext) => runDataCase(spec, ctx);
  return spec.reason === undefined ? { ...info, run } : { ...info, reason: spec.reason, run };
}

async function runDataCase(spec: MasterDataCaseSpec, ctx: MasterCaseContext): Promise<Verdict> {
  let probe: Awaited<ReturnType<MasterCaseContext['connect']>>;
  if (spec.login) {
    const logged = await ctx.loggedIn();
    if (!logged.answer) return { grade: 'skipped', message: 'the login was not confirmed (see G376M-1.1)' };
    probe = logged.probe;
  } else probe = await ctx.connect();
  const v: Values = { a: terminalBytes(ctx.config.a1, ctx.config.a2), pseq: probe.nextSeq() };
  await probe.sendBytes(sendBytes(spec.send, v), "the case's frame");
  const heard = await probe.waitFor(() => true, ctx.config.confirmTimeoutMs, 'answer');
  if (!heard) {
    if (spec.expect === null) return { grade: 'pass', message: 'the master sent nothing, as expected' };
    const why = spec.silence.why ? `: ${spec.silence.why}` : '';
    return { grade: spec.silence.grade, message: `no answer within ${ctx.config.confirmTimeoutMs} ms${why}` };
  }
  if (spec.expect === null)
    return { grade: 'fail', message: 'the master answered where it must send nothing' };
  if (matches(spec.expect, heard.raw, v))
    return { grade: 'pass', message: 'the answer matches the expected pattern' };
  for (const alt of spec.alternatives) {
    if (matches(alt.tokens, heard.raw, v)) return { grade: alt.grade, message: alt.why };
  }
  return { grade: 'fail', message: 'the answer matches neither the expected pattern nor a tolerated form' };
}

/** A1 (BCD, low byte first) and A2 (binary, low byte first) as on the wire (docs/gdw376.md §3.1). */
function terminalBytes(a1: string, a2: number): number[] {
  const bcd = (two: string) => Number.parseInt(two, 16);
  return [bcd(a1.slice(2, 4)), bcd(a1.slice(0, 2)), a2 & 0xff, (a2 >> 8) & 0xff];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
