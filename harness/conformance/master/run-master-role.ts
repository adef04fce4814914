import type { Gdw376SerialSettings } from '../../../protocols/gdw376/index.ts';
import { isMeterProtocolName, meterProtocolList } from '../../../protocols/registry.ts';
import { realClock } from '../../../simulator/clock/real-clock.ts';
import { LinkError } from '../../../simulator/link/errors.ts';
import { TcpClientLink } from '../../../simulator/link/tcp-link.ts';
import { ConformanceError } from '../errors.ts';
import { ConsoleReporter } from '../reports/console.ts';
import type { ConformIo, ConformOptions } from '../run-conformance.ts';
import type { SuiteReport } from '../types.ts';
import { masterSuiteCatalogue, masterSuiteConfig, runMasterSuite } from './master-suite.ts';
import { shellTrigger } from './trigger.ts';

/**
 * `meterlab conform --role master` as a function: parse the master-role flags, check the master is reachable,
 * run the suite with a console report and give the exit status (0 nothing failed, 1 a case failed, 2 usage or
 * unreachable, 130 interrupted) — the meter role's contract.
 * @packageDocumentation
 */

/** The master role's own flags (`ConformOptions.master`). */
export interface MasterRoleOptions {
  /** Area code A1 of the simulated concentrator. @defaultValue '0171' */
  a1?: string;
  /** Terminal address A2. @defaultValue 2082 */
  a2?: number;
  /** Shell command that makes the master read the meter; `{meter}` `{concentrator}` `{a1}` `{a2}` `{port}` `{protocol}`. */
  trigger?: string;
  /** Concentrator port of the simulated meter. @defaultValue 1 */
  meterPort?: number;
  /** The meter's line, `2400-8E1`. @defaultValue 2400-8E1 */
  meterLine?: string;
  confirmTimeoutMs?: number;
  confirmLimitMs?: number;
  heartbeatPeriodMs?: number;
  idleLimitMs?: number;
  forwardWaitMs?: number;
  /** How long the trigger may run, ms. @defaultValue 60000 */
  triggerTimeoutMs?: number;
}

/** Parses `tcp:HOST:PORT`. @throws ConformanceError CONFORM_USAGE */
export function parseTcpTarget(text: string): { host: string; port: number } {
  const m = /^tcp:(.+):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || !(port >= 1 && port <= 65535)) {
    throw new ConformanceError(
      'CONFORM_USAGE',
      `--target must be tcp:HOST:PORT (the master station's concentrator port, e.g. tcp:127.0.0.1:9093) for the master role, got "${text}"`,
    );
  }
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port };
}

const PARITY = { N: 'none', E: 'even', O: 'odd' } as const;

/** Parses `2400-8E1`. @throws ConformanceError CONFORM_USAGE */
export function parseMeterLine(text: string): Gdw376SerialSettings {
  const m = /^(300|600|1200|2400|4800|7200|9600|19200)-([5-8])([NEOneo])([12])$/.exec(text.trim());
  if (!m) {
    throw new ConformanceError(
      'CONFORM_USAGE',
      `--meter-line must be BAUD-8E1 with a baud the forward control word can carry (300 … 19200), got "${text}"`,
    );
  }
  return {
    baud: Number(m[1]),
    dataBits: Number(m[2]),
    parity: PARITY[m[3].toUpperCase() as keyof typeof PARITY],
    stopBits: Number(m[4]),
  };
}

/**
 * Runs the master role. `writeReports` is run-conformance's (JUnit/HTML/JSON files), passed in so this module
 * does not import back the file that imports it.
 */
export async function runMasterRole(
  options: ConformOptions & { master?: MasterRoleOptions },
  io: ConformIo,
  writeReports: (report: SuiteReport, options: ConformOptions, io: ConformIo) => void,
): Promise<number> {
  if (options.list) {
    for (const c of masterSuiteCatalogue({ casesDirs: options.casesDirs })) {
      io.out(`${c.id.padEnd(10)} ${c.title}`);
      io.out(`${' '.repeat(11)}${c.clause}${c.origin === 'code' ? '' : ` [${c.origin}]`}`);
    }
    return 0;
  }
  if (!options.target) throw usage('--target is required (e.g. --target tcp:127.0.0.1:9093)');
  const { host, port } = parseTcpTarget(options.target);
  const m = options.master ?? {};
  const protocol = options.protocol ?? 'cjt188';
  if (!isMeterProtocolName(protocol)) {
    throw usage(`--protocol (of the simulated meter) must be ${meterProtocolList()}, got "${protocol}"`);
  }
  const suiteOptions = {
    host,
    port,
    a1: m.a1,
    a2: m.a2,
    meter: options.meter,
    meterProtocol: protocol,
    meterPort: m.meterPort,
    meterSerial: m.meterLine === undefined ? undefined : parseMeterLine(m.meterLine),
    confirmTimeoutMs: m.confirmTimeoutMs,
    confirmLimitMs: m.confirmLimitMs,
    heartbeatPeriodMs: m.heartbeatPeriodMs,
    idleLimitMs: m.idleLimitMs,
    forwardWaitMs: m.forwardWaitMs,
    trigger:
      m.trigger === undefined
        ? undefined
        : shellTrigger(m.trigger, { timeoutMs: m.triggerTimeoutMs ?? 60_000 }),
    cases: options.cases,
    casesDirs: options.casesDirs,
  };
  const config = masterSuiteConfig(suiteOptions); // usage errors before touching the network
  masterSuiteCatalogue({ casesDirs: options.casesDirs }); // and a bad case file too
  await checkReachable(host, port);
  const clock = io.clock ?? realClock;
  const reporter = new ConsoleReporter({
    write: io.out,
    trace: options.trace,
    hex: options.hex,
    color: options.color,
  });
  reporter.start(
    `meterlab conform: master station at ${host}:${port}, as concentrator ${config.a1}/${config.a2} with ` +
      `${config.meter.protocol} meter ${config.meter.address} on port ${config.meter.port}` +
      (config.trigger ? '' : ' (no --trigger: the active cases G376M-7.* are skipped)'),
  );
  const report = await runMasterSuite({
    ...suiteOptions,
    clock,
    signal: io.signal,
    onStart: (info, i, n) => reporter.caseStarted(info, i, n),
    onResult: (result, i, n) => reporter.caseFinished(result, i, n),
  });
  report.target = options.target;
  reporter.finish(report);
  writeReports(report, options, io);
  if (io.signal?.aborted) {
    io.err(`meterlab conform: interrupted after ${report.results.length} case(s)`);
    return 130;
  }
  return report.counts.fail > 0 ? 1 : 0;
}

function usage(message: string): ConformanceError {
  return new ConformanceError('CONFORM_USAGE', message);
}

/** Opens and closes one connection, so an unreachable master is exit 2 before any case runs. */
async function checkReachable(host: string, port: number): Promise<void> {
  const link = new TcpClientLink({ host, port, connectTimeoutMs: 5000 });
  link.on('error', () => undefined); // a reset between open and close says nothing more than the open did
  try {
    await link.open();
  } catch (error) {
    if (error instanceof LinkError) {
      throw new ConformanceError('CONFORM_UNREACHABLE', `cannot reach the master station: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
  await link.close();
}
