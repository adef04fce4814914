import type { Gdw376SerialSettings } from '../../../protocols/gdw376/index.ts';
import {
  isMeterProtocolName,
  type MeterProtocolName,
  meterProtocol,
  meterProtocolList,
} from '../../../protocols/registry.ts';
import type { Clock } from '../../../simulator/clock/clock.ts';
import { realClock } from '../../../simulator/clock/real-clock.ts';
import { checkUniqueIds } from '../data-cases.ts';
import { ConformanceError } from '../errors.ts';
import { runCases, selectSomeCases } from '../runner.ts';
import { type CaseInfo, type CaseResult, countGrades, type SuiteReport } from '../types.ts';
import { BUILTIN_MASTER_CASES_DIR, loadMasterDataCases } from './data-cases.ts';
import { type MasterCase, masterCatalogue } from './master-cases.ts';
import { MasterCaseContext, type MasterSuiteConfig } from './master-context.ts';
import type { MasterTrigger } from './trigger.ts';

/**
 * The master-station role: meterlab is one or more concentrators (with a simulated meter behind them) logging in
 * to the user's master station over TCP, and grades how the master answers.
 * @packageDocumentation
 */

/** Options of {@link runMasterSuite}. */
export interface MasterSuiteOptions {
  /** The master's concentrator port. */
  host: string;
  port: number;
  /** Area code A1, 4 digits. @defaultValue '0171' */
  a1?: string;
  /** Terminal address A2, 1–65535. @defaultValue 2082 */
  a2?: number;
  /** Address of the simulated meter (short forms are left-padded). @defaultValue '101001' */
  meter?: string;
  /** @defaultValue 'cjt188' */
  meterProtocol?: MeterProtocolName;
  /** Concentrator port of the meter, 1–31. @defaultValue 1 */
  meterPort?: number;
  /** The meter's line, which the forward control word must ask for. @defaultValue 2400 8E1 */
  meterSerial?: Gdw376SerialSettings;
  /** @defaultValue 5000 */
  confirmTimeoutMs?: number;
  /** @defaultValue 2000 */
  confirmLimitMs?: number;
  /** @defaultValue 60000 */
  heartbeatPeriodMs?: number;
  /** @defaultValue 300000 (5 min, the idle limit of a common master: docs/field-notes.md §8) */
  idleLimitMs?: number;
  /** @defaultValue 30000 */
  forwardWaitMs?: number;
  /** Starts a read at the master; without it the active cases (G376M-7.*) are skipped. */
  trigger?: MasterTrigger;
  /** Selection pattern (see selectCases). @defaultValue every case */
  cases?: string;
  /** Extra folders of data-file cases (`role: "master"`). @defaultValue none */
  casesDirs?: readonly string[];
  /** @defaultValue realClock (the master is on a real socket) */
  clock?: Clock;
  signal?: AbortSignal;
  onStart?: (info: CaseInfo, index: number, total: number) => void;
  onResult?: (result: CaseResult, index: number, total: number) => void;
}

/**
 * The catalogue of the master role: the code cases and the data-file cases (built-in and `casesDirs`), sorted,
 * ids unique. @throws ConformanceError CONFORM_BAD_CASE_FILE
 */
export function masterSuiteCatalogue(
  options: { casesDirs?: readonly string[]; noBuiltinCases?: boolean } = {},
): MasterCase[] {
  const dirs = [...(options.noBuiltinCases ? [] : [BUILTIN_MASTER_CASES_DIR]), ...(options.casesDirs ?? [])];
  const all = [...masterCatalogue(), ...loadMasterDataCases(dirs)];
  checkUniqueIds(all);
  return all.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
}

/** The suite's settings from `options`. @throws ConformanceError CONFORM_USAGE naming the bad value. */
export function masterSuiteConfig(options: MasterSuiteOptions): MasterSuiteConfig {
  const usage = (m: string) => new ConformanceError('CONFORM_USAGE', m);
  const a1 = options.a1 ?? '0171';
  if (!/^\d{4}$/.test(a1))
    throw usage(`--a1 must be 4 decimal digits (the area code, e.g. 0171), got "${a1}"`);
  const a2 = options.a2 ?? 2082;
  if (!Number.isInteger(a2) || a2 < 1 || a2 > 65535)
    throw usage(`--a2 must be a terminal address 1–65535, got ${a2}`);
  const protocol = options.meterProtocol ?? 'cjt188';
  if (!isMeterProtocolName(protocol))
    throw usage(`--protocol must be ${meterProtocolList()}, got "${protocol}"`);
  let address: string;
  try {
    if (!/^\d+$/.test(options.meter ?? '101001')) throw new TypeError('digits only');
    address = meterProtocol(protocol).normaliseAddress(options.meter ?? '101001');
  } catch {
    throw usage(
      `--meter "${options.meter}" is not a ${protocol} address (1 to ${meterProtocol(protocol).addressDigits} digits)`,
    );
  }
  const port = options.meterPort ?? 1;
  if (!Number.isInteger(port) || port < 1 || port > 31)
    throw usage(`--port must be a concentrator port 1–31, got ${port}`);
  const config: MasterSuiteConfig = {
    host: options.host,
    port: options.port,
    a1,
    a2,
    confirmTimeoutMs: options.confirmTimeoutMs ?? 5000,
    confirmLimitMs: options.confirmLimitMs ?? 2000,
    heartbeatPeriodMs: options.heartbeatPeriodMs ?? 60_000,
    idleLimitMs: options.idleLimitMs ?? 300_000,
    forwardWaitMs: options.forwardWaitMs ?? 30_000,
    meter: {
      address,
      protocol,
      port,
      serial: options.meterSerial ?? { baud: 2400, parity: 'even', dataBits: 8, stopBits: 1 },
    },
  };
  if (options.trigger) config.trigger = options.trigger;
  return config;
}

/**
 * Runs the master suite against the master station listening at `host:port` and returns the report.
 * @throws ConformanceError CONFORM_USAGE; LinkError when the master cannot be reached (the run stops).
 */
export async function runMasterSuite(options: MasterSuiteOptions): Promise<SuiteReport> {
  const clock = options.clock ?? realClock;
  const config = masterSuiteConfig(options);
  if (options.signal) config.signal = options.signal;
  const cases = selectSomeCases(masterSuiteCatalogue(options), options.cases);
  const context = new MasterCaseContext(config, clock);
  const startedAt = new Date().toISOString();
  const started = clock.now();
  try {
    const results = await runCases(cases, {
      context,
      clock,
      beginCase: () => context.beginCase(),
      // Each case starts with no connection of the last one left: the master sees each case's terminal anew.
      betweenCases: () => context.endCase(),
      signal: options.signal,
      onStart: options.onStart,
      onResult: options.onResult,
    });
    return {
      role: 'master',
      protocol: 'gdw376',
      target: `tcp:${config.host}:${config.port}`,
      device: `${config.a1}/${config.a2}`,
      startedAt,
      durationMs: Math.round(clock.now() - started),
      results,
      counts: countGrades(results),
    };
  } finally {
    await context.endCase();
  }
}
