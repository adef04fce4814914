import type { Clock } from '../../../simulator/clock/clock.ts';
import { realClock } from '../../../simulator/clock/real-clock.ts';
import { checkUniqueIds } from '../data-cases.ts';
import { ConformanceError } from '../errors.ts';
import { runCases, selectSomeCases } from '../runner.ts';
import { Trace } from '../trace.ts';
import { type CaseInfo, type CaseResult, countGrades, type SuiteReport } from '../types.ts';
import { BUILTIN_RELAY_CASES_DIR, loadRelayDataCases } from './data-cases.ts';
import { CASES, type RelayCase } from './relay-cases.ts';
import { RelayCaseContext, type RelaySuiteConfig } from './relay-context.ts';

/**
 * The relay role: the device under test is a point-read WebSocket endpoint (`ws://` or `wss://`), meterlab is
 * its client.
 * @packageDocumentation
 */

/** A parsed `--target ws://HOST:PORT[/PATH][?token=…]`. */
export interface RelayTarget {
  /** The URL without the token. */
  baseUrl: string;
  token?: string;
  /** The URL for reports, the token masked. */
  shown: string;
}

/** @throws ConformanceError CONFORM_USAGE naming the flag. */
export function parseRelayTarget(text: string): RelayTarget {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new ConformanceError(
      'CONFORM_USAGE',
      `--target must be ws://HOST:PORT[?token=…] or wss://… for the relay role, got "${text}"`,
    );
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new ConformanceError(
      'CONFORM_USAGE',
      `--target must be a ws:// or wss:// URL for the relay role (e.g. ws://127.0.0.1:8080?token=s3cret), got "${text}"`,
    );
  }
  const token = url.searchParams.get('token') ?? undefined;
  url.searchParams.delete('token');
  const baseUrl = url.toString();
  const shown = new URL(baseUrl);
  if (token !== undefined) shown.searchParams.set('token', '***');
  return token === undefined
    ? { baseUrl, shown: shown.toString() }
    : { baseUrl, token, shown: shown.toString() };
}

export interface RelaySuiteOptions {
  target: RelayTarget;
  /** A concentrator the endpoint reads `meter` through. @defaultValue "101" */
  concentrator?: string;
  /** A meter that answers. @defaultValue "101001" */
  meter?: string;
  /** A concentrator the endpoint does not know. @defaultValue "meterlab-absent" */
  absentConcentrator?: string;
  /** Wait for immediate answers, ms. @defaultValue 1500 */
  timeoutMs?: number;
  /** Wait for a field read's answer, ms. @defaultValue 20000 */
  readTimeoutMs?: number;
  /** The endpoint's message size limit. @defaultValue 65536 (meterlab's relay) */
  maxMessageBytes?: number;
  /** Reads in flight in RLY-4.2. @defaultValue 8 */
  concurrency?: number;
  cases?: string;
  /** Folders of data-file cases to add (`--cases-dir`). */
  casesDirs?: readonly string[];
  /** Leave out the built-in data cases (fixtures/conformance/relay/). */
  noBuiltinCases?: boolean;
  /** @defaultValue realClock */
  clock?: Clock;
  signal?: AbortSignal;
  onStart?: (info: CaseInfo, index: number, total: number) => void;
  onResult?: (result: CaseResult, index: number, total: number) => void;
}

/** Which data-file cases join the code cases. */
export interface RelayCatalogueOptions {
  /** Folders of data-file cases to add (`--cases-dir`). */
  casesDirs?: readonly string[];
  /** Leave out the built-in data cases (fixtures/conformance/relay/). */
  noBuiltinCases?: boolean;
}

/**
 * The relay role's cases: the code cases and the data-file cases (built-in and `casesDirs`), sorted, ids unique.
 * @throws ConformanceError CONFORM_BAD_CASE_FILE for a bad file or an id defined twice.
 */
export function relayCatalogue(options: RelayCatalogueOptions = {}): readonly RelayCase[] {
  const dirs = [...(options.noBuiltinCases ? [] : [BUILTIN_RELAY_CASES_DIR]), ...(options.casesDirs ?? [])];
  const all = [...CASES, ...loadRelayDataCases(dirs)];
  checkUniqueIds(all);
  return all.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
}

/** Runs the relay suite against the endpoint and returns the report. */
export async function runRelaySuite(options: RelaySuiteOptions): Promise<SuiteReport> {
  const clock = options.clock ?? realClock;
  const config: RelaySuiteConfig = {
    baseUrl: options.target.baseUrl,
    concentrator: options.concentrator ?? '101',
    meter: options.meter ?? '101001',
    absentConcentrator: options.absentConcentrator ?? 'meterlab-absent',
    timeoutMs: options.timeoutMs ?? 1500,
    readTimeoutMs: options.readTimeoutMs ?? 20_000,
    maxMessageBytes: options.maxMessageBytes ?? 65_536,
    concurrency: options.concurrency ?? 8,
  };
  if (options.target.token !== undefined) config.token = options.target.token;
  const selected = selectSomeCases(relayCatalogue(options), options.cases, 'relay case');
  const context = new RelayCaseContext(config, clock, new Trace(clock));
  // Each case's connections are closed before its verdict is recorded, so its trace ends with its close.
  const wrapped = selected.map((c) => ({
    ...c,
    run: async (ctx: RelayCaseContext) => {
      try {
        return await c.run(ctx);
      } finally {
        await ctx.endCase();
      }
    },
  }));
  const startedAt = new Date().toISOString();
  const started = clock.now();
  const results = await runCases(wrapped, {
    context,
    clock,
    beginCase: () => {
      context.trace = new Trace(clock);
      return context.trace;
    },
    signal: options.signal,
    onStart: options.onStart,
    onResult: options.onResult,
  });
  return {
    role: 'relay',
    protocol: 'point-read',
    target: options.target.shown,
    startedAt,
    durationMs: Math.round(clock.now() - started),
    results,
    counts: countGrades(results),
  };
}
