/**
 * The case model of the conformance suites (issue 11): numbered cases tied to a clause, graded verdicts, and a
 * timestamped, decoded exchange as the evidence of each verdict. Grades follow Autobahn|Testsuite's.
 * @packageDocumentation
 */

/**
 * A verdict.
 * - `pass`: the device does what the clause asks;
 * - `non-strict`: it works but deviates in a way real peers tolerate (the message says how);
 * - `fail`: it does something a peer cannot live with;
 * - `info`: a fact worth reporting, not judged;
 * - `unimplemented`: the device does not support the feature (it said so, or stayed silent where that means so);
 * - `skipped`: a precondition was not met (the verdict could not be reached).
 */
export type Grade = 'pass' | 'non-strict' | 'fail' | 'info' | 'unimplemented' | 'skipped';

/** Every grade, in report order. */
export const GRADES: readonly Grade[] = ['pass', 'non-strict', 'fail', 'info', 'unimplemented', 'skipped'];

/** The roles a suite can test. */
export type ConformanceRole = 'meter' | 'relay' | 'master' | 'concentrator';

/** Where a case's expectation comes from. */
export interface CaseSource {
  /**
   * The standard and clause, e.g. "CJ/T 188-2004 docs/cjt188.md §1.6 DI/SER (docs/cjt188.md §1.6)", or "field
   * practice".
   */
  clause: string;
  /** Why, when the clause is field practice (what real peers do and where that was seen). */
  reason?: string;
}

/** One line of a case's evidence: a frame sent or heard, bytes that formed no frame, a wait, or a note. */
export interface TraceEntry {
  /** Milliseconds since the case started, on the suite's clock. */
  atMs: number;
  kind: 'sent' | 'received' | 'dropped' | 'silence' | 'note';
  /** Spaced hex of the bytes (sent, received, dropped). */
  hex?: string;
  /** The decoded frame, or the reason bytes were dropped, or the note's text. */
  text: string;
}

/** The verdict of one case with its evidence. */
export interface CaseResult {
  id: string;
  title: string;
  clause: string;
  reason?: string;
  grade: Grade;
  /** One sentence saying why this grade (what was expected, what happened). */
  message: string;
  /** Wall time the case took, ms. */
  durationMs: number;
  trace: TraceEntry[];
}

/** What every case has, data or code. */
export interface CaseInfo extends CaseSource {
  /** Stable id, e.g. `M188-4.2`: role letter, protocol, group.number. */
  id: string;
  title: string;
}

/** A whole run: what was tested and every verdict. */
export interface SuiteReport {
  role: ConformanceRole;
  protocol: string;
  target: string;
  /** The device under test's address, when it has one. */
  device?: string;
  startedAt: string;
  durationMs: number;
  results: CaseResult[];
  counts: Record<Grade, number>;
}

/** Counts of each grade in `results`. */
export function countGrades(results: readonly CaseResult[]): Record<Grade, number> {
  const counts = Object.fromEntries(GRADES.map((g) => [g, 0])) as Record<Grade, number>;
  for (const r of results) counts[r.grade] += 1;
  return counts;
}

/** The summary line of a run: `12 pass, 1 non-strict, 0 fail, 0 info, 2 unimplemented, 0 skipped`. */
export function summaryLine(counts: Record<Grade, number>): string {
  return GRADES.map((g) => `${counts[g]} ${g}`).join(', ');
}
