import {
  type Bad,
  gradeRule,
  isObject,
  loadCaseFolders,
  readRoleCaseFile,
  SILENCE_GRADES,
} from '../data-cases.ts';
import {
  compileGdw376,
  type Gdw376Token,
  type Gdw376Values,
  gdw376Bytes,
  matchesGdw376,
  terminalBytes,
} from '../gdw376-pattern.ts';
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

type Token = Gdw376Token;

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
  return loadCaseFolders(dirs, loadMasterCaseFile);
}

/** The master cases of one file (none when the file is for another role). */
export function loadMasterCaseFile(file: string): MasterCase[] {
  const read = readRoleCaseFile(file, 'master', ['gdw376'], 'file');
  if (read === undefined) return [];
  return read.cases.map((c, i) => dataCase(checkSpec(c, `cases[${i}]`, read.bad), read.origin));
}

function checkSpec(c: unknown, at: string, bad: Bad): MasterDataCaseSpec {
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
  const send = compileGdw376(c.send as string, `${where}.send`, bad, { send: true });
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
  const silenceDefault = { grade: (c.expect === null ? 'pass' : 'fail') as Grade, why: '' };
  const silence = gradeRule(c.silence, SILENCE_GRADES, silenceDefault, `${where}.silence`, bad);
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

/** Compiles a pattern (gdw376-pattern.ts). @throws via `bad` naming the token. */
export function compile(pattern: string, where: string, bad: Bad): Token[] {
  return compileGdw376(pattern, where, bad);
}

/** Values the placeholders stand for in one case. */
type Values = Gdw376Values;

/** The bytes of a `send` pattern: L from the frame's length, CS over C … the byte before CS. */
export function sendBytes(tokens: readonly Token[], v: Values): Uint8Array {
  return gdw376Bytes(tokens, v);
}

/** Whether `bytes` (one whole frame) matches the pattern. */
export function matches(tokens: readonly Token[], bytes: Uint8Array, v: Values): boolean {
  return matchesGdw376(tokens, bytes, v);
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
