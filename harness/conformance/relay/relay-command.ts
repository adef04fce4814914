import type { Clock } from '../../../simulator/clock/clock.ts';
import { realClock } from '../../../simulator/clock/real-clock.ts';
import { ConformanceError } from '../errors.ts';
import { ConsoleReporter } from '../reports/console.ts';
import { Trace } from '../trace.ts';
import type { SuiteReport } from '../types.ts';
import { RelayConnection } from './relay-connection.ts';
import { parseRelayTarget, type RelayTarget, relayCatalogue, runRelaySuite } from './relay-suite.ts';

/**
 * `meterlab conform --role relay`: list the catalogue, or check the endpoint answers and run the suite with a
 * console report. Called by run-conformance.ts, which owns the shared flags, the report files and the exit status.
 * @packageDocumentation
 */

/** The flags the relay role reads (a subset of ConformOptions). */
export interface RelayRoleOptions {
  target?: string;
  concentrator?: string;
  meter?: string;
  timeoutMs?: number;
  readTimeoutMs?: number;
  maxMessageBytes?: number;
  cases?: string;
  /** Folders of data-file cases (`--cases-dir`). */
  casesDirs?: readonly string[];
  list?: boolean;
  hex?: boolean;
  trace?: boolean;
  color?: boolean;
}

export interface RelayRoleIo {
  out: (line: string) => void;
  clock?: Clock;
  signal?: AbortSignal;
}

/** Prints the catalogue: id, title, and the source of each case (and the file of a data case). */
export function listRelayCases(out: (line: string) => void, casesDirs?: readonly string[]): void {
  for (const c of relayCatalogue({ casesDirs })) {
    out(`${c.id.padEnd(10)} ${c.title}`);
    out(`${' '.repeat(11)}${c.clause}${c.origin === 'code' ? '' : ` [${c.origin}]`}`);
  }
}

/**
 * Runs the relay suite; resolves with the report (the caller writes the files and picks the exit status).
 * @throws ConformanceError CONFORM_USAGE for a bad flag, CONFORM_UNREACHABLE when the endpoint cannot be reached
 * or refuses the target's own token.
 */
export async function runRelayRole(options: RelayRoleOptions, io: RelayRoleIo): Promise<SuiteReport> {
  if (!options.target) {
    throw new ConformanceError(
      'CONFORM_USAGE',
      '--target is required (e.g. --target ws://127.0.0.1:8080?token=s3cret)',
    );
  }
  const target = parseRelayTarget(options.target);
  // Check the case files before touching the endpoint, so a bad file never half-runs a suite.
  relayCatalogue({ casesDirs: options.casesDirs });
  const clock = io.clock ?? realClock;
  await checkReachable(target, clock, options.timeoutMs ?? 1500);
  const reporter = new ConsoleReporter({
    write: io.out,
    trace: options.trace,
    hex: options.hex,
    color: options.color,
  });
  reporter.start(`meterlab conform: relay ${target.shown} (point-read WebSocket endpoint)`);
  const report = await runRelaySuite({
    target,
    concentrator: options.concentrator,
    meter: options.meter,
    timeoutMs: options.timeoutMs,
    readTimeoutMs: options.readTimeoutMs,
    maxMessageBytes: options.maxMessageBytes,
    cases: options.cases,
    casesDirs: options.casesDirs,
    clock,
    signal: io.signal,
    onStart: (info, i, n) => reporter.caseStarted(info, i, n),
    onResult: (result, i, n) => reporter.caseFinished(result, i, n),
  });
  reporter.finish(report);
  return report;
}

/** One connection with the target as given: a refused port or a refused token is the user's to fix first. */
async function checkReachable(target: RelayTarget, clock: Clock, timeoutMs: number): Promise<void> {
  const url = new URL(target.baseUrl);
  if (target.token !== undefined) url.searchParams.set('token', target.token);
  const c = new RelayConnection({ url: url.toString(), trace: new Trace(clock), clock });
  const outcome = await c.opened(Math.max(timeoutMs, 1000) * 4);
  await c.close();
  if (outcome.kind === 'open') return;
  const why =
    outcome.kind === 'refused'
      ? `it refused the WebSocket upgrade with HTTP ${outcome.status}${outcome.status === 401 ? ' (is ?token= in --target right?)' : ''}`
      : outcome.message;
  throw new ConformanceError('CONFORM_UNREACHABLE', `cannot connect to ${target.shown}: ${why}`);
}
