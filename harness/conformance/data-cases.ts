import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ConformanceError } from './errors.ts';
import type { Grade } from './types.ts';

/**
 * What every role's data-file cases share (issue 11): reading the `*.json` files of case folders, parsing and
 * checking a file's header, errors that name the file and the JSON path of what is wrong
 * (`CONFORM_BAD_CASE_FILE`), grade rules (`silence`, `mismatch`), unique ids across code and data cases, and a
 * backtracking matcher for spaced-hex patterns with `*` (any one byte) and `...` (any number of bytes) that each
 * role extends with its own placeholders. The roles keep their own case fields and placeholders
 * (meter/data-cases.ts, master/data-cases.ts, relay/data-cases.ts, concentrator/data-cases.ts).
 * @packageDocumentation
 */

/** Builds the error for a bad case file: `where` is the JSON path (and case) of what is wrong. */
export type Bad = (where: string, problem: string) => ConformanceError;

/** The `Bad` of one file: every message starts with the file's path. */
export function badCaseFile(file: string): Bad {
  return (where, problem) => new ConformanceError('CONFORM_BAD_CASE_FILE', `${file}: ${where}: ${problem}`);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The cases of every `*.json` in `dirs`, in folder then file-name order, as `loadFile` reads them (it decides
 * what a file of another role gives). @throws ConformanceError CONFORM_BAD_CASE_FILE for an unreadable folder.
 */
export function loadCaseFolders<T>(dirs: readonly string[], loadFile: (file: string) => T[]): T[] {
  const cases: T[] = [];
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
    for (const name of names) cases.push(...loadFile(join(dir, name)));
  }
  return cases;
}

/**
 * A case file parsed: an object (its `role`, `protocol` and `cases` still to be checked by the role).
 * `rootPath` is how the role's messages name the whole document (`file` or `$`).
 */
export function readCaseDocument(file: string, bad: Bad, rootPath = 'file'): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw bad('file', `not readable JSON (${(error as Error).message})`);
  }
  if (!isObject(doc)) throw bad(rootPath, 'must be an object with "role", "protocol" and "cases"');
  return doc;
}

/** The roles a case file may be for (run-conformance.ts CONFORM_ROLES; not imported: that module imports the roles). */
const FILE_ROLES = ['meter', 'concentrator', 'master', 'relay'] as const;

/**
 * Whether the file is for `role`: false for another role's file (skipped, so one `--cases-dir` folder can hold
 * every role's files). @throws via `bad` when `role` names no role (a typo would otherwise hide the file).
 */
export function isForRole(doc: Record<string, unknown>, role: string, bad: Bad, where = 'role'): boolean {
  if (!(FILE_ROLES as readonly unknown[]).includes(doc.role)) {
    throw bad(where, `must be one of ${FILE_ROLES.join(', ')}, got ${JSON.stringify(doc.role)}`);
  }
  return doc.role === role;
}

/** Grades a `silence` rule may give. */
export const SILENCE_GRADES: readonly Grade[] = ['pass', 'non-strict', 'fail', 'unimplemented', 'info'];

/** A `{ "grade": …, "why": … }` rule (`silence`, `mismatch`), or `fallback` when the field is absent. */
export function gradeRule(
  value: unknown,
  grades: readonly Grade[],
  fallback: { grade: Grade; why: string },
  where: string,
  bad: Bad,
): { grade: Grade; why: string } {
  if (value === undefined) return fallback;
  if (!isObject(value) || !grades.includes(value.grade as Grade) || typeof value.why !== 'string') {
    throw bad(where, `must be {"grade": one of ${grades.join(', ')}, "why": text}`);
  }
  return { grade: value.grade as Grade, why: value.why };
}

/**
 * Checks that no id is defined twice among a role's code and data cases.
 * @throws ConformanceError CONFORM_BAD_CASE_FILE naming both origins.
 */
export function checkUniqueIds(cases: readonly { id: string; origin: string }[]): void {
  const seen = new Map<string, string>();
  for (const c of cases) {
    const before = seen.get(c.id);
    if (before !== undefined) {
      throw new ConformanceError(
        'CONFORM_BAD_CASE_FILE',
        `case id ${c.id} is defined twice (${before} and ${c.origin}); ids must be unique`,
      );
    }
    seen.set(c.id, c.origin);
  }
}

/** The cases in id order, numbers compared as numbers (C376-5.10 after C376-5.9). */
export function byId<T extends { id: string }>(cases: T[]): T[] {
  return cases.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
}

/** The tokens every hex pattern has: a byte, `*` any one byte, `...` any number of bytes. */
export type HexToken = { kind: 'byte'; value: number } | { kind: 'any' } | { kind: 'rest' };

/** Reads the common tokens of a pattern word; undefined when the word is a role's own token. */
export function hexToken(word: string): HexToken | undefined {
  if (/^[0-9A-Fa-f]{2}$/.test(word)) return { kind: 'byte', value: Number.parseInt(word, 16) };
  if (word === '*') return { kind: 'any' };
  if (word === '...') return { kind: 'rest' };
  return undefined;
}

/**
 * Whether `bytes` matches `tokens` as a whole. `own` matches a role's token at byte `at` with the state so far:
 * it returns how many bytes it took and the state for what follows, or undefined when it does not match there.
 * Backtracks over `...`.
 */
export function matchHex<T extends { kind: string }, S>(
  tokens: readonly (T | HexToken)[],
  bytes: Uint8Array,
  state: S,
  own: (token: T, bytes: Uint8Array, at: number, state: S) => { length: number; state: S } | undefined,
): boolean {
  const go = (ti: number, bi: number, s: S): boolean => {
    if (ti === tokens.length) return bi === bytes.length;
    const t = tokens[ti];
    if (t.kind === 'rest') {
      for (let k = bi; k <= bytes.length; k++) if (go(ti + 1, k, s)) return true;
      return false;
    }
    if (t.kind === 'any') return bi < bytes.length && go(ti + 1, bi + 1, s);
    if (t.kind === 'byte') {
      return bi < bytes.length && bytes[bi] === (t as { value: number }).value && go(ti + 1, bi + 1, s);
    }
    const m = own(t as T, bytes, bi, s);
    return m !== undefined && bi + m.length <= bytes.length && go(ti + 1, bi + m.length, m.state);
  };
  return go(0, 0, state);
}

/** A case file of one role, its header checked: the cases still to check, how to name errors, and its name. */
export interface RoleCaseFile {
  protocol: string;
  cases: unknown[];
  bad: Bad;
  /** The file's name, as a case's origin. */
  origin: string;
}

/**
 * Reads a case file and checks its header: `role`, `protocol` (one of `protocols`) and a `cases` array.
 * Undefined when the file is for another role. `root` is how the role's messages name the document: `'$'`
 * (paths `$.role`, `$.protocol`, `$.cases`) or `'file'` (paths `role`, `protocol`, `cases`).
 * @throws ConformanceError CONFORM_BAD_CASE_FILE naming the file and the field.
 */
export function readRoleCaseFile(
  file: string,
  role: string,
  protocols: readonly string[],
  root: '$' | 'file',
): RoleCaseFile | undefined {
  const bad = badCaseFile(file);
  const doc = readCaseDocument(file, bad, root);
  const field = root === '$' ? '$.' : '';
  if (!isForRole(doc, role, bad, `${field}role`)) return undefined;
  if (!protocols.includes(doc.protocol as string)) {
    const names = protocols.map((p) => `"${p}"`).join(' or ');
    throw bad(`${field}protocol`, `must be ${names}, got ${JSON.stringify(doc.protocol)}`);
  }
  if (!Array.isArray(doc.cases)) throw bad(`${field}cases`, 'must be an array');
  return { protocol: doc.protocol as string, cases: doc.cases, bad, origin: basename(file) };
}

/** One case of a file as {@link caseFields} opens it. */
export interface OpenedCase {
  c: Record<string, unknown>;
  /** Names the case (its id, when it has one) after the JSON path of every error. */
  bad: Bad;
  /** The JSON path of a field of the case: `path('.id')`. */
  path: (rest: string) => string;
}

/**
 * Opens the case at JSON path `at`: it must be an object with only the fields in `keys`; errors inside it name
 * the case too, after their JSON path. @throws via `fileBad`.
 */
export function caseFields(c: unknown, at: string, fileBad: Bad, keys: ReadonlySet<string>): OpenedCase {
  if (!isObject(c)) throw fileBad(at, 'must be an object');
  const named = typeof c.id === 'string' && c.id !== '' ? ` (case ${c.id})` : '';
  const bad: Bad = (where, problem) => fileBad(`${where}${named}`, problem);
  const path = (rest: string) => `${at}${rest}`;
  for (const key of Object.keys(c)) {
    if (!keys.has(key)) throw bad(path(`.${key}`), `unknown field (fields: ${[...keys].join(', ')})`);
  }
  return { c, bad, path };
}
