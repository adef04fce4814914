import { writeFileSync } from 'node:fs';
import type { Clock } from '../../simulator/clock/clock.ts';
import { realClock } from '../../simulator/clock/real-clock.ts';
import { LinkError } from '../../simulator/link/errors.ts';
import type { Link } from '../../simulator/link/link.ts';
import { SerialLink } from '../../simulator/link/serial-link.ts';
import { formatSerialSettings, type SerialSettings } from '../../simulator/link/serial-settings.ts';
import { type ConcentratorRoleOptions, runConcentratorRole } from './concentrator/run-concentrator-role.ts';
import { ConformanceError } from './errors.ts';
import { type MasterRoleOptions, runMasterRole } from './master/run-master-role.ts';
import { meterCatalogue, normaliseMeterAddress, runMeterSuite } from './meter/meter-suite.ts';
import { METER_SUITE_PROTOCOLS, type MeterSuiteProtocol } from './meter/meter-wire.ts';
import { listRelayCases, runRelayRole } from './relay/relay-command.ts';
import { ConsoleReporter } from './reports/console.ts';
import { htmlReport } from './reports/html.ts';
import { junitXml } from './reports/junit.ts';
import type { SuiteReport } from './types.ts';

/**
 * `meterlab conform` as a function: parse the target, open it, run the role's suite with a console report,
 * write the JUnit/HTML/JSON files, and give the exit status — 0 nothing failed, 1 a case failed, 2 a usage
 * error or an unreachable target, 130 interrupted.
 * @packageDocumentation
 */

/** The roles meterlab conform knows, and which of them have suites yet. */
export const CONFORM_ROLES = ['meter', 'concentrator', 'master', 'relay'] as const;
export type ConformRoleName = (typeof CONFORM_ROLES)[number];

/** Everything `meterlab conform` takes. */
export interface ConformOptions {
  role: string;
  protocol?: string;
  target?: string;
  meter?: string;
  meterType?: number;
  diOrder?: 'low-first' | 'high-first';
  timeoutMs?: number;
  replyLimitMs?: number;
  utcOffsetMinutes?: number;
  cases?: string;
  casesDirs?: string[];
  list?: boolean;
  junit?: string;
  html?: string;
  json?: string;
  hex?: boolean;
  trace?: boolean;
  color?: boolean;
  echoDiscard?: boolean;
  rts?: boolean;
  /** Relay role: the concentrator `--meter` is read through. */
  concentrator?: string;
  /** Relay role: wait for a field read's answer, ms. */
  readTimeoutMs?: number;
  /** Relay role: the endpoint's message size limit, bytes. */
  maxMessageBytes?: number;
  /** The master role's flags (--a1, --a2, --trigger …). */
  master?: MasterRoleOptions;
  /** The concentrator role's own flags. */
  concentratorRole?: ConcentratorRoleOptions;
}

/** What the command needs from its surroundings (tests pass their own). */
export interface ConformIo {
  out: (line: string) => void;
  err: (line: string) => void;
  clock?: Clock;
  /** Opens the target; defaults to a SerialLink for `serial:` targets. */
  openTarget?: (target: SerialTarget) => Promise<Link>;
  /** Aborted by Ctrl-C: the run stops after the current case and reports what it has. */
  signal?: AbortSignal;
}

/** A parsed `serial:PATH[@BAUD-8E1]` target. */
export interface SerialTarget {
  kind: 'serial';
  path: string;
  settings: SerialSettings;
}

const PARITY = { N: 'none', E: 'even', O: 'odd' } as const;

/**
 * Parses `serial:/dev/ttyUSB0` or `serial:/dev/ttyUSB0@2400-8E1` (default 2400 8E1, the meters' usual line:
 * docs/cjt188.md §1.1, docs/dlt645.md §2.1). @throws ConformanceError CONFORM_USAGE naming the flag.
 */
export function parseSerialTarget(text: string): SerialTarget {
  const m = /^serial:([^@]+)(?:@(\d+)(?:-([5-8])([NEOneo])([12]))?)?$/.exec(text.trim());
  if (!m) {
    throw new ConformanceError(
      'CONFORM_USAGE',
      `--target must be serial:PATH or serial:PATH@BAUD-8E1 (e.g. serial:/dev/ttyUSB0@2400-8E1) for the meter role, got "${text}"`,
    );
  }
  const baudRate = m[2] === undefined ? 2400 : Number(m[2]);
  if (!(baudRate >= 50 && baudRate <= 4_000_000)) {
    throw new ConformanceError('CONFORM_USAGE', `--target: baud rate ${m[2]} is out of range`);
  }
  const settings: SerialSettings = {
    baudRate,
    dataBits: (m[3] === undefined ? 8 : Number(m[3])) as SerialSettings['dataBits'],
    parity: PARITY[(m[4] ?? 'E').toUpperCase() as keyof typeof PARITY],
    stopBits: (m[5] === undefined ? 1 : Number(m[5])) as SerialSettings['stopBits'],
  };
  return { kind: 'serial', path: m[1], settings };
}

function usage(message: string): ConformanceError {
  return new ConformanceError('CONFORM_USAGE', message);
}

function meterProtocol(options: ConformOptions): MeterSuiteProtocol {
  const p = options.protocol;
  if (p === undefined) throw usage('--protocol is required for the meter role (cjt188 or dlt645)');
  if (!(METER_SUITE_PROTOCOLS as readonly string[]).includes(p)) {
    throw usage(`--protocol must be ${METER_SUITE_PROTOCOLS.join(' or ')} for the meter role, got "${p}"`);
  }
  return p as MeterSuiteProtocol;
}

/** Runs `meterlab conform`; resolves to the exit status. Never throws for the user's mistakes. */
export async function runConformance(options: ConformOptions, io: ConformIo): Promise<number> {
  try {
    return await run(options, io);
  } catch (error) {
    if (error instanceof ConformanceError) {
      io.err(`meterlab conform: ${error.code}: ${error.message}`);
      return 2;
    }
    if (error instanceof LinkError) {
      io.err(`meterlab conform: CONFORM_UNREACHABLE: ${error.code}: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

async function run(options: ConformOptions, io: ConformIo): Promise<number> {
  if (!(CONFORM_ROLES as readonly string[]).includes(options.role)) {
    throw usage(`--role must be one of ${CONFORM_ROLES.join(', ')}, got "${options.role}"`);
  }
  if (options.role === 'relay') {
    if (options.list) {
      listRelayCases(io.out, options.casesDirs);
      return 0;
    }
    const report = await runRelayRole(options, io);
    writeReports(report, options, io);
    return exitStatus(report, io);
  }
  if (options.role === 'master') return runMasterRole(options, io, writeReports);
  if (options.role === 'concentrator') {
    return runConcentratorRole({
      ...options,
      io,
      parseSerialTarget,
      writeReports: (report) => writeReports(report, options, io),
    });
  }
  if (options.role !== 'meter') {
    throw usage(
      `the ${options.role} role has no suite yet; --role meter, relay and master are implemented (issue 11)`,
    );
  }
  const protocol = meterProtocol(options);
  if (options.list) {
    for (const c of meterCatalogue(protocol, { casesDirs: options.casesDirs })) {
      io.out(`${c.id.padEnd(10)} ${c.title}`);
      io.out(`${' '.repeat(11)}${c.clause}${c.origin === 'code' ? '' : ` [${c.origin}]`}`);
    }
    return 0;
  }
  if (!options.target) throw usage('--target is required (e.g. --target serial:/dev/ttyUSB0@2400-8E1)');
  if (!options.meter) throw usage('--meter ADDR is required for the meter role');
  const target = parseSerialTarget(options.target);
  normaliseMeterAddress(protocol, options.meter);
  // Check the address and the cases before touching the device, so a bad case file never half-runs a suite.
  meterCatalogue(protocol, { casesDirs: options.casesDirs });
  const clock = io.clock ?? realClock;
  const open =
    io.openTarget ??
    (async (t: SerialTarget) => {
      const link = new SerialLink({
        path: t.path,
        settings: t.settings,
        echoDiscard: options.echoDiscard === true,
        rtsDirection: options.rts === true,
      });
      await link.open();
      return link;
    });
  let link: Link;
  try {
    link = await open(target);
  } catch (error) {
    if (error instanceof LinkError) {
      throw new ConformanceError('CONFORM_UNREACHABLE', `cannot open ${target.path}: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
  // An adapter pulled out mid-suite: said once here; the cases after it fail on the closed link.
  link.on('error', (error) => io.out(`${target.path}: ${error.message}`));
  const reporter = new ConsoleReporter({
    write: io.out,
    trace: options.trace,
    hex: options.hex,
    color: options.color,
  });
  reporter.start(
    `meterlab conform: meter ${options.meter} (${protocol}) on ${target.path} ${formatSerialSettings(target.settings)}`,
  );
  let report: SuiteReport;
  try {
    report = await runMeterSuite(link, {
      protocol,
      address: options.meter,
      meterType: options.meterType,
      diOrder: options.diOrder,
      timeoutMs: options.timeoutMs,
      replyLimitMs: options.replyLimitMs,
      utcOffsetMinutes: options.utcOffsetMinutes,
      cases: options.cases,
      casesDirs: options.casesDirs,
      clock,
      signal: io.signal,
      onStart: (info, i, n) => reporter.caseStarted(info, i, n),
      onResult: (result, i, n) => reporter.caseFinished(result, i, n),
    });
  } finally {
    await link.close().catch(() => undefined);
  }
  report.target = options.target;
  reporter.finish(report);
  writeReports(report, options, io);
  return exitStatus(report, io);
}

/** 130 when interrupted, 1 when a case failed, else 0. */
function exitStatus(report: SuiteReport, io: ConformIo): number {
  if (io.signal?.aborted) {
    io.err(`meterlab conform: interrupted after ${report.results.length} case(s)`);
    return 130;
  }
  return report.counts.fail > 0 ? 1 : 0;
}

function writeReports(report: SuiteReport, options: ConformOptions, io: ConformIo): void {
  const files: [string | undefined, () => string, string][] = [
    [options.junit, () => junitXml(report), 'JUnit XML'],
    [options.html, () => htmlReport(report), 'HTML'],
    [options.json, () => `${JSON.stringify(report, null, 2)}\n`, 'JSON'],
  ];
  for (const [file, make, what] of files) {
    if (!file) continue;
    writeFileSync(file, make());
    io.out(`${what} report written to ${file}`);
  }
}
