import { CJT188_METER_TYPES } from '../../../protocols/cjt188/index.ts';
import type { Clock } from '../../../simulator/clock/clock.ts';
import { realClock } from '../../../simulator/clock/real-clock.ts';
import type { Link } from '../../../simulator/link/link.ts';
import { normaliseCjt188Address } from '../../../simulator/meter/cjt188-meter.ts';
import { normaliseDlt645Address } from '../../../simulator/meter/dlt645-meter.ts';
import { checkUniqueIds } from '../data-cases.ts';
import { ConformanceError } from '../errors.ts';
import { runCases, selectSomeCases } from '../runner.ts';
import { type CaseInfo, type CaseResult, countGrades, type SuiteReport } from '../types.ts';
import { BUILTIN_CASES_DIR, loadDataCases } from './data-cases.ts';
import { type MeterCase, meterCodeCases, sortById } from './meter-cases.ts';
import { MeterCaseContext, type MeterSuiteConfig } from './meter-context.ts';
import { MeterSession } from './meter-session.ts';
import type { MeterSuiteProtocol } from './meter-wire.ts';

/**
 * The meter role: meterlab is the reader, the device under test is a meter on a serial line (or any Link).
 * @packageDocumentation
 */

/** Options of {@link runMeterSuite}. */
export interface MeterSuiteOptions {
  protocol: MeterSuiteProtocol;
  /** The meter's address (short forms are left-padded with zeros). */
  address: string;
  /** CJ/T 188 meter type byte. @defaultValue 0x10 (cold water) */
  meterType?: number;
  /** CJ/T 188 DI byte order of the reader's requests. @defaultValue 'low-first' */
  diOrder?: MeterSuiteConfig['diOrder'];
  /** Wait for a reply (and to call the meter silent), ms. @defaultValue 1500 */
  timeoutMs?: number;
  /** Limit of the reply-time case, ms. @defaultValue 500 */
  replyLimitMs?: number;
  /** @defaultValue 480 (UTC+8, the meters' usual zone) */
  utcOffsetMinutes?: number;
  /** Selection pattern (see selectCases). @defaultValue every case */
  cases?: string;
  /** Extra folders of data-file cases. @defaultValue none */
  casesDirs?: readonly string[];
  /** Leave out the case files shipped with meterlab. @defaultValue false */
  noBuiltinCases?: boolean;
  /** @defaultValue realClock */
  clock?: Clock;
  /** Stops the run after the current case (Ctrl-C); the report holds the cases that finished. */
  signal?: AbortSignal;
  onStart?: (info: CaseInfo, index: number, total: number) => void;
  onResult?: (result: CaseResult, index: number, total: number) => void;
}

/** The cases of the meter role for `protocol`: code cases and data files, sorted, ids unique. */
export function meterCatalogue(
  protocol: MeterSuiteProtocol,
  options: { casesDirs?: readonly string[]; noBuiltinCases?: boolean } = {},
): MeterCase[] {
  const dirs = [...(options.noBuiltinCases ? [] : [BUILTIN_CASES_DIR]), ...(options.casesDirs ?? [])];
  const all = [...meterCodeCases(protocol), ...loadDataCases(dirs, protocol)];
  checkUniqueIds(all);
  return sortById(all);
}

/** The full address of a meter for the protocol. @throws ConformanceError CONFORM_USAGE */
export function normaliseMeterAddress(protocol: MeterSuiteProtocol, address: string): string {
  try {
    if (!/^\d+$/.test(address)) throw new Error('digits only');
    return protocol === 'cjt188' ? normaliseCjt188Address(address) : normaliseDlt645Address(address);
  } catch {
    const digits = protocol === 'cjt188' ? 14 : 12;
    throw new ConformanceError(
      'CONFORM_USAGE',
      `--meter "${address}" is not a ${protocol} address (1 to ${digits} decimal digits)`,
    );
  }
}

/**
 * Runs the meter suite against the meter on `link` (open) and returns the report. The link is left open.
 * @throws ConformanceError (CONFORM_USAGE, CONFORM_BAD_CASE_FILE); LinkError when the link fails mid-run.
 */
export async function runMeterSuite(link: Link, options: MeterSuiteOptions): Promise<SuiteReport> {
  const clock = options.clock ?? realClock;
  const protocol = options.protocol;
  const config: MeterSuiteConfig = {
    protocol,
    address: normaliseMeterAddress(protocol, options.address),
    meterType: options.meterType ?? CJT188_METER_TYPES.coldWater,
    diOrder: options.diOrder ?? 'low-first',
    timeoutMs: options.timeoutMs ?? 1500,
    replyLimitMs: options.replyLimitMs ?? 500,
    utcOffsetMinutes: options.utcOffsetMinutes ?? 480,
  };
  const cases = selectSomeCases(meterCatalogue(protocol, options), options.cases);
  const session = new MeterSession(link, clock, { protocol, timeoutMs: config.timeoutMs, settleMs: 0 });
  const context = new MeterCaseContext(session, config);
  const startedAt = new Date().toISOString();
  const started = clock.now();
  try {
    const results = await runCases(cases, {
      context,
      clock,
      beginCase: () => session.beginCase(),
      // A quiet line between cases: at least one long reply's wire time with nothing heard (200 ms minimum).
      betweenCases: () => session.quiet(Math.max(200, session.wireTimeMs(64)), 3 * config.timeoutMs),
      signal: options.signal,
      onStart: options.onStart,
      onResult: options.onResult,
    });
    return {
      role: 'meter',
      protocol,
      target: link.description,
      device: config.address,
      startedAt,
      durationMs: Math.round(clock.now() - started),
      results,
      counts: countGrades(results),
    };
  } finally {
    session.detach();
  }
}
