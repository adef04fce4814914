import type { Clock } from '../../simulator/clock/clock.ts';
import { LinkError } from '../../simulator/link/errors.ts';
import { ConformanceError } from './errors.ts';
import type { Trace } from './trace.ts';
import type { CaseInfo, CaseResult, Grade } from './types.ts';

/**
 * Runs cases one after the other and turns each into a {@link CaseResult}. Cases are data (a request and an
 * expected reply, from JSON files) or code (behaviour: timing, splitting, silence); both implement
 * {@link ConformanceCase}.
 * @packageDocumentation
 */

/** What a case concludes. */
export interface Verdict {
  grade: Grade;
  message: string;
}

/** A runnable case over a context `C` (the session with the device under test and the suite's settings). */
export interface ConformanceCase<C> extends CaseInfo {
  /** Where the case was defined: `code`, or the JSON file it came from. */
  origin: string;
  run(context: C): Promise<Verdict>;
}

/** Options of {@link runCases}. */
export interface RunCasesOptions<C> {
  context: C;
  clock: Clock;
  /** Starts the evidence of a new case (and clears what the last case left on the line). */
  beginCase: () => Trace;
  /** Runs between cases (e.g. waits for a quiet line, so a late frame of one case lands in its own trace). */
  betweenCases?: () => Promise<void>;
  /** When aborted, no further case starts (the results so far are returned). */
  signal?: AbortSignal;
  /** Called before each case (progress). */
  onStart?: (info: CaseInfo, index: number, total: number) => void;
  /** Called with each verdict as soon as it is known. */
  onResult?: (result: CaseResult, index: number, total: number) => void;
}

/**
 * Runs `cases` in order. A case that throws is graded `skipped` with the error (a harness problem is not the
 * device's fault), except a {@link LinkError}: the link to the device is gone, and the run stops with it.
 */
export async function runCases<C>(
  cases: readonly ConformanceCase<C>[],
  options: RunCasesOptions<C>,
): Promise<CaseResult[]> {
  const { clock, context } = options;
  const results: CaseResult[] = [];
  for (let i = 0; i < cases.length; i++) {
    if (options.signal?.aborted) break;
    const c = cases[i];
    options.onStart?.(c, i, cases.length);
    if (i > 0) await options.betweenCases?.();
    const trace = options.beginCase();
    const started = clock.now();
    let verdict: Verdict;
    try {
      verdict = await c.run(context);
    } catch (error) {
      if (error instanceof LinkError) throw error;
      const e = error as Error;
      trace.note(`case stopped: ${e.stack ?? e.message}`);
      verdict = { grade: 'skipped', message: `the case could not run: ${e.message}` };
    }
    const result: CaseResult = {
      id: c.id,
      title: c.title,
      clause: c.clause,
      grade: verdict.grade,
      message: verdict.message,
      durationMs: Math.round((clock.now() - started) * 10) / 10,
      trace: trace.entries,
    };
    if (c.reason) result.reason = c.reason;
    results.push(result);
    options.onResult?.(result, i, cases.length);
  }
  return results;
}

/**
 * Case selection: comma-separated glob patterns over ids (`*` any run of characters, `?` one), each
 * optionally prefixed with `!` to exclude. With only exclusions, everything else is selected.
 * `M188-4.*` selects group 4; `M188-*,!M188-8.*` everything but the valve cases.
 */
export function selectCases<T extends { id: string }>(cases: readonly T[], pattern: string | undefined): T[] {
  if (pattern === undefined || pattern.trim() === '') return [...cases];
  const parts = pattern
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  const include = parts.filter((p) => !p.startsWith('!')).map(globToRegExp);
  const exclude = parts.filter((p) => p.startsWith('!')).map((p) => globToRegExp(p.slice(1)));
  return cases.filter(
    (c) => (include.length === 0 || include.some((r) => r.test(c.id))) && !exclude.some((r) => r.test(c.id)),
  );
}

/**
 * {@link selectCases} for a suite's run, where selecting nothing is a mistake in `--cases`.
 * @throws ConformanceError CONFORM_USAGE `--cases "…" selects no <what> (see --list)`.
 */
export function selectSomeCases<T extends { id: string }>(
  cases: readonly T[],
  pattern: string | undefined,
  what = 'case',
): T[] {
  const selected = selectCases(cases, pattern);
  if (selected.length === 0) {
    throw new ConformanceError('CONFORM_USAGE', `--cases "${pattern}" selects no ${what} (see --list)`);
  }
  return selected;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}
