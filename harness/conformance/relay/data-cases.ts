import {
  type Bad,
  caseFields,
  gradeRule,
  isObject,
  loadCaseFolders,
  readRoleCaseFile,
  SILENCE_GRADES,
} from '../data-cases.ts';
import type { Verdict } from '../runner.ts';
import type { Grade } from '../types.ts';
import type { RelayCase } from './relay-cases.ts';
import type { ReceivedMessage } from './relay-connection.ts';
import type { RelayCaseContext, RelaySuiteConfig } from './relay-context.ts';

/**
 * Relay cases as data (the meter and master roles' request/expected-reply files, for the point-read WebSocket
 * endpoint): the text message(s) to send and the answer(s) the endpoint must give, as a JSON pattern with
 * wildcards for the fields that vary, so a user adds cases for a platform's quirks without code
 * (`--cases-dir DIR`).
 *
 * File: `{ "role": "relay", "protocol": "point-read", "cases": [ … ] }`; each case:
 * - `id`, `title`, `source` (the document or clause the expectation comes from; `clause` is taken as a synonym,
 *   as in the other roles' files), and `reason` when the source is field practice;
 * - `send`: the text message to send, or a list of them, sent in order on one fresh connection; sent as written
 *   (so a case may send text that is not JSON on purpose);
 * - `expect`: the pattern of the first answer, a list of patterns for the first answers in the order they come,
 *   or `null` when the endpoint must send nothing (waits `--timeout`; an answer waits up to `--read-timeout`);
 * - `nonStrict`, `unimplemented`: lists of `{ "expect": …, "why": … }`: answers graded so instead of failing;
 * - `mismatch`: `{ "grade": "fail" | "non-strict", "why": … }`: the grade when no pattern matches (default fail);
 * - `silence`: `{ "grade": …, "why": … }`: the grade when an answer does not come (default fail).
 *
 * Pattern rules: an object matches an object with exactly its keys (a key `"..."` with the value `"*"` lets the
 * answer carry others), an array element by element (an element `"..."` ends it, matching any rest); `"*"` is
 * any value (the field must be there), `"*number"`, `"*string"`, `"*boolean"` any value of that type; a string
 * that starts with `**` is the literal string without its first `*`. An answer that is not JSON is matched as a
 * string (`"expect": "Pong"` for the text heartbeat). Placeholders `{concentrator}`, `{meter}` (from
 * `--concentrator`, `--meter`) and `{absent}` (a concentrator the endpoint does not know) are filled in `send`
 * (JSON-escaped, as they stand inside strings) and in the strings of a pattern.
 * @packageDocumentation
 */

/** The built-in relay data cases (a folder of their own: the meter role reads the top level). */
export const BUILTIN_RELAY_CASES_DIR = new URL('../../../fixtures/conformance/relay/', import.meta.url)
  .pathname;

/** An answer pattern: JSON with wildcard strings; placeholders still in. */
export type Pattern = unknown;

/** One data case as read from a file, checked. */
export interface RelayDataCaseSpec {
  id: string;
  title: string;
  source: string;
  reason?: string;
  send: string[];
  /** One pattern per answer, in order; `null`: no answer. */
  expect: Pattern[] | null;
  alternatives: { grade: Grade; expect: Pattern[]; why: string }[];
  mismatch: { grade: Grade; why: string };
  silence: { grade: Grade; why: string };
}

const PLACEHOLDERS = ['concentrator', 'meter', 'absent'] as const;
const WILDCARDS = ['*', '*number', '*string', '*boolean'] as const;
const MISMATCH_GRADES: readonly Grade[] = ['fail', 'non-strict'];
const KEYS = new Set([
  'id',
  'title',
  'source',
  'clause',
  'reason',
  'send',
  'expect',
  'nonStrict',
  'unimplemented',
  'mismatch',
  'silence',
]);

/**
 * The relay data cases in every `*.json` of `dirs`, in file-name order (other roles' files are skipped).
 * @throws ConformanceError CONFORM_BAD_CASE_FILE naming the file and the JSON path of what is wrong.
 */
export function loadRelayDataCases(dirs: readonly string[]): RelayCase[] {
  return loadCaseFolders(dirs, loadRelayCaseFile);
}

/** The relay cases of one file (none when the file is for another role). */
export function loadRelayCaseFile(file: string): RelayCase[] {
  const read = readRoleCaseFile(file, 'relay', ['point-read'], '$');
  if (read === undefined) return [];
  return read.cases.map((c, i) => dataCase(checkSpec(c, `$.cases[${i}]`, read.bad), read.origin));
}

/** Checks one case of a file. @throws via `bad`, naming the JSON path (and the case's id when it has one). */
export function checkSpec(value: unknown, at: string, fileBad: Bad): RelayDataCaseSpec {
  // Every error inside the case names the case too, after its JSON path.
  const { c, bad, path } = caseFields(value, at, fileBad, KEYS);
  if (c.source !== undefined && c.clause !== undefined)
    throw bad(path('.clause'), 'give "source" or "clause", not both');
  const sourceKey = c.clause !== undefined ? 'clause' : 'source';
  for (const key of ['id', 'title', sourceKey] as const) {
    if (typeof c[key] !== 'string' || c[key] === '') throw bad(path(`.${key}`), 'must be a non-empty string');
  }
  if (c.reason !== undefined && typeof c.reason !== 'string') throw bad(path('.reason'), 'must be a string');
  const sendList = typeof c.send === 'string' ? [c.send] : c.send;
  if (
    !Array.isArray(sendList) ||
    sendList.length === 0 ||
    !sendList.every((s): s is string => typeof s === 'string' && s !== '')
  ) {
    throw bad(path('.send'), 'must be the text of a message, or a non-empty list of them');
  }
  for (const [i, s] of sendList.entries()) {
    checkPlaceholders(s, path(typeof c.send === 'string' ? '.send' : `.send[${i}]`), bad);
  }
  if (!('expect' in c)) throw bad(path('.expect'), 'is required: a pattern, a list of patterns, or null');
  const expect = c.expect === null ? null : patterns(c.expect, path('.expect'), bad);
  const alternatives: RelayDataCaseSpec['alternatives'] = [];
  for (const key of ['nonStrict', 'unimplemented'] as const) {
    const list = c[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw bad(path(`.${key}`), 'must be a list of {"expect", "why"}');
    list.forEach((alt: unknown, i: number) => {
      const where = path(`.${key}[${i}]`);
      if (!isObject(alt) || !('expect' in alt) || alt.expect === null || typeof alt.why !== 'string') {
        throw bad(where, 'must be {"expect": pattern, "why": text}');
      }
      alternatives.push({
        grade: key === 'nonStrict' ? 'non-strict' : 'unimplemented',
        expect: patterns(alt.expect, path(`.${key}[${i}].expect`), bad),
        why: alt.why,
      });
    });
  }
  const spec: RelayDataCaseSpec = {
    id: c.id as string,
    title: c.title as string,
    source: c[sourceKey] as string,
    send: sendList,
    expect,
    alternatives,
    mismatch: gradeRule(c.mismatch, MISMATCH_GRADES, { grade: 'fail', why: '' }, path('.mismatch'), bad),
    silence: gradeRule(c.silence, SILENCE_GRADES, { grade: 'fail', why: '' }, path('.silence'), bad),
  };
  if (typeof c.reason === 'string') spec.reason = c.reason;
  return spec;
}

/** `expect` as a list of answer patterns (a single pattern is a list of one), each checked. */
function patterns(value: unknown, where: string, bad: Bad): Pattern[] {
  // A list whose first element is itself a pattern of an answer is a list of answers; a single array answer
  // is written as a list of one: [[…]].
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw bad(where, 'an empty list expects nothing; write null for silence');
  for (const [i, p] of list.entries()) checkPattern(p, Array.isArray(value) ? `${where}[${i}]` : where, bad);
  return list;
}

/** Refuses wildcard-looking strings that are not wildcards, unknown placeholders and a misused `...`. */
function checkPattern(p: unknown, where: string, bad: Bad): void {
  if (typeof p === 'string') {
    if (p.startsWith('*') && !p.startsWith('**') && !(WILDCARDS as readonly string[]).includes(p)) {
      throw bad(where, `"${p}" is not a wildcard (${WILDCARDS.join(', ')}; "**…" for a literal "*…")`);
    }
    checkPlaceholders(p, where, bad);
  } else if (Array.isArray(p)) {
    p.forEach((e, i) => {
      if (e === '...' && i !== p.length - 1) throw bad(`${where}[${i}]`, '"..." must be the last element');
      if (e !== '...') checkPattern(e, `${where}[${i}]`, bad);
    });
  } else if (isObject(p)) {
    for (const [k, v] of Object.entries(p)) {
      if (k === '...') {
        if (v !== '*') throw bad(`${where}["..."]`, 'must be "*" (any other fields allowed)');
      } else checkPattern(v, `${where}.${k}`, bad);
    }
  }
}

function checkPlaceholders(text: string, where: string, bad: Bad): void {
  for (const m of text.matchAll(/\{([A-Za-z]+)\}/g)) {
    if (!(PLACEHOLDERS as readonly string[]).includes(m[1])) {
      throw bad(where, `unknown placeholder {${m[1]}} (${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`);
    }
  }
}

/** Values the placeholders stand for. */
export type PlaceholderValues = Pick<RelaySuiteConfig, 'concentrator' | 'meter' | 'absentConcentrator'>;

function placeholder(name: string, v: PlaceholderValues): string {
  return name === 'concentrator' ? v.concentrator : name === 'meter' ? v.meter : v.absentConcentrator;
}

/** A message to send with its placeholders filled, JSON-escaped (they stand inside JSON strings). */
export function fillSend(text: string, v: PlaceholderValues): string {
  return text.replace(/\{(concentrator|meter|absent)\}/g, (_m, name: string) =>
    JSON.stringify(placeholder(name, v)).slice(1, -1),
  );
}

/**
 * Where `actual` first differs from `pattern` (a JSON path and what differs), or undefined when it matches.
 * `actual` is a parsed JSON answer, or the text of an answer that is not JSON.
 */
export function mismatchOf(
  pattern: Pattern,
  actual: unknown,
  v: PlaceholderValues,
  at = '$',
): string | undefined {
  const shown = (x: unknown) => (x === undefined ? 'nothing' : JSON.stringify(x));
  if (typeof pattern === 'string') {
    if (pattern === '*') return actual === undefined ? `${at}: expected a value, got nothing` : undefined;
    if (pattern === '*number' || pattern === '*string' || pattern === '*boolean') {
      const type = pattern.slice(1);
      return typeof actual === type ? undefined : `${at}: expected a ${type}, got ${shown(actual)}`;
    }
    const literal = pattern.startsWith('**') ? pattern.slice(1) : pattern;
    const want = literal.replace(/\{(concentrator|meter|absent)\}/g, (_m, name: string) =>
      placeholder(name, v),
    );
    return actual === want ? undefined : `${at}: expected ${JSON.stringify(want)}, got ${shown(actual)}`;
  }
  if (Array.isArray(pattern)) {
    if (!Array.isArray(actual)) return `${at}: expected a list, got ${shown(actual)}`;
    const open = pattern.at(-1) === '...';
    const items = open ? pattern.slice(0, -1) : pattern;
    if (open ? actual.length < items.length : actual.length !== items.length) {
      return `${at}: expected ${open ? 'at least ' : ''}${items.length} elements, got ${actual.length}`;
    }
    for (let i = 0; i < items.length; i++) {
      const m = mismatchOf(items[i], actual[i], v, `${at}[${i}]`);
      if (m) return m;
    }
    return undefined;
  }
  if (isObject(pattern)) {
    if (!isObject(actual)) return `${at}: expected an object, got ${shown(actual)}`;
    for (const [k, p] of Object.entries(pattern)) {
      if (k === '...') continue;
      if (!(k in actual)) return `${at}.${k}: expected ${describe(p)}, got nothing`;
      const m = mismatchOf(p, actual[k], v, `${at}.${k}`);
      if (m) return m;
    }
    if (!('...' in pattern)) {
      const extra = Object.keys(actual).filter((k) => !(k in pattern));
      if (extra.length > 0)
        return `${at}: unexpected field${extra.length > 1 ? 's' : ''} ${extra.join(', ')}`;
    }
    return undefined;
  }
  // number, boolean, null
  return actual === pattern ? undefined : `${at}: expected ${JSON.stringify(pattern)}, got ${shown(actual)}`;
}

function describe(p: Pattern): string {
  return typeof p === 'string' && p.startsWith('*') && !p.startsWith('**')
    ? `${p === '*' ? 'a value' : `a ${p.slice(1)}`}`
    : JSON.stringify(p);
}

/** The answer as the patterns see it: parsed JSON, or the text when it is not JSON. */
function answerValue(m: ReceivedMessage): unknown {
  return m.json !== undefined ? m.json : m.text;
}

const isText = (m: ReceivedMessage) => m.text !== undefined;

function dataCase(spec: RelayDataCaseSpec, origin: string): RelayCase {
  const info = { id: spec.id, title: spec.title, clause: spec.source, origin };
  const run = (ctx: RelayCaseContext) => runDataCase(spec, ctx);
  return spec.reason === undefined ? { ...info, run } : { ...info, reason: spec.reason, run };
}

async function runDataCase(spec: RelayDataCaseSpec, ctx: RelayCaseContext): Promise<Verdict> {
  const c = await ctx.connect();
  if (!c) return { grade: 'skipped', message: 'the endpoint did not accept the connection (see the trace)' };
  const v = ctx.config;
  for (const text of spec.send) c.send(fillSend(text, v));
  const texts = () => c.received.filter(isText);
  if (spec.expect === null) {
    // Silence must last the wait for immediate answers; anything that comes in it is an answer.
    const answered = await c.until(() => texts().length > 0, v.timeoutMs, 'answer (none is expected)');
    if (!answered) return { grade: 'pass', message: `no answer within ${v.timeoutMs} ms, as expected` };
    return { grade: spec.mismatch.grade, message: `answered where nothing is expected${why(spec.mismatch)}` };
  }
  const want = spec.expect.length;
  const all = await c.until(
    () => texts().length >= want,
    v.readTimeoutMs,
    `answer ${texts().length + 1} of ${want}`,
  );
  const got = texts().slice(0, want).map(answerValue);
  if (!all) {
    const how = c.closed
      ? `the endpoint closed the connection (${c.closed.code})`
      : `within ${v.readTimeoutMs} ms`;
    return {
      grade: spec.silence.grade,
      message: `${got.length} of ${want} answer${want > 1 ? 's' : ''} came (${how})${why(spec.silence)}`,
    };
  }
  const problem = firstMismatch(spec.expect, got, v);
  if (problem === undefined) {
    return { grade: 'pass', message: `the answer${want > 1 ? 's match' : ' matches'} the expected pattern` };
  }
  for (const alt of spec.alternatives) {
    if (alt.expect.length === want && firstMismatch(alt.expect, got, v) === undefined) {
      return { grade: alt.grade, message: alt.why };
    }
  }
  return { grade: spec.mismatch.grade, message: `${problem}${why(spec.mismatch)}` };
}

function firstMismatch(
  expect: readonly Pattern[],
  got: readonly unknown[],
  v: PlaceholderValues,
): string | undefined {
  for (let i = 0; i < expect.length; i++) {
    const m = mismatchOf(expect[i], got[i], v, expect.length > 1 ? `answer ${i + 1}: $` : '$');
    if (m) return m;
  }
  return undefined;
}

function why(g: { why: string }): string {
  return g.why ? `: ${g.why}` : '';
}
