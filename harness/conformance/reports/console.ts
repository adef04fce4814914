import { type CaseInfo, type CaseResult, type Grade, type SuiteReport, summaryLine } from '../types.ts';

/**
 * The console report: one row per case as it finishes (progress `[3/24]`, id, grade, title, time and, for
 * anything but a pass, why), then the summary line `N pass, N non-strict, N fail, …`.
 * @packageDocumentation
 */

/** Options of {@link ConsoleReporter}. */
export interface ConsoleReporterOptions {
  write: (line: string) => void;
  /** Print every case's trace, not only the verdict. @defaultValue false */
  trace?: boolean;
  /** Show the bytes of each trace line in hex. @defaultValue false */
  hex?: boolean;
  /** ANSI colours for the grade. @defaultValue false */
  color?: boolean;
}

const COLOURS: Record<Grade, string> = {
  pass: '\x1b[32m',
  'non-strict': '\x1b[33m',
  fail: '\x1b[31m',
  info: '\x1b[36m',
  unimplemented: '\x1b[35m',
  skipped: '\x1b[90m',
};

export class ConsoleReporter {
  readonly #o: ConsoleReporterOptions;

  constructor(options: ConsoleReporterOptions) {
    this.#o = options;
  }

  /** The run's heading. */
  start(what: string): void {
    this.#o.write(what);
  }

  /** A case is starting (nothing printed: rows appear when they finish, so the table stays aligned). */
  caseStarted(_info: CaseInfo, _index: number, _total: number): void {}

  /** One row for a finished case. */
  caseFinished(result: CaseResult, index: number, total: number): void {
    const width = String(total).length;
    const progress = `[${String(index + 1).padStart(width)}/${total}]`;
    const grade = result.grade.padEnd(13);
    const painted = this.#o.color ? `${COLOURS[result.grade]}${grade}\x1b[0m` : grade;
    const time = `${Math.round(result.durationMs)} ms`.padStart(8);
    const title = result.title.length > 50 ? `${result.title.slice(0, 49)}…` : result.title.padEnd(50);
    this.#o.write(`${progress} ${result.id.padEnd(10)} ${painted} ${title} ${time}`);
    if (result.grade !== 'pass') this.#o.write(`${' '.repeat(progress.length + 12)}${result.message}`);
    if (this.#o.trace)
      for (const line of traceLines(result, this.#o.hex === true)) this.#o.write(`      ${line}`);
  }

  /** The summary line. */
  finish(report: SuiteReport): void {
    this.#o.write(`${summaryLine(report.counts)} (${(report.durationMs / 1000).toFixed(1)} s)`);
  }
}

/** A case's trace as text lines: time, direction, decoded text, and hex when asked. */
export function traceLines(result: CaseResult, hex: boolean): string[] {
  const arrows: Record<string, string> = {
    sent: '->',
    received: '<-',
    dropped: 'xx',
    silence: '..',
    note: '  ',
  };
  const lines: string[] = [];
  for (const e of result.trace) {
    const at = `${e.atMs.toFixed(1)} ms`.padStart(10);
    lines.push(`${at} ${arrows[e.kind]} ${e.text}`);
    if (hex && e.hex) lines.push(`${' '.repeat(14)}${e.hex}`);
  }
  return lines;
}
