import { isMeterProtocolName, type MeterProtocolName } from '../../../protocols/registry.ts';
import type { Clock } from '../../../simulator/clock/clock.ts';
import type { SerialSettings } from '../../../simulator/link/serial-settings.ts';
import { ConformanceError } from '../errors.ts';
import { ConsoleReporter } from '../reports/console.ts';
import type { SuiteReport } from '../types.ts';
import type { SessionTarget } from './concentrator-session.ts';
import { concentratorCatalogue, normaliseMeters, runConcentratorSuite } from './concentrator-suite.ts';

/**
 * `meterlab conform --role concentrator` as a function: parses the target and the role's flags, runs the suite
 * with a console report and hands the report back for the JUnit/HTML/JSON files. Exit status as the meter
 * role: 0 nothing failed, 1 a case failed, 2 a usage error or an unreachable target, 130 interrupted.
 * @packageDocumentation
 */

/** The concentrator role's own flags (`meterlab conform --role concentrator …`). */
export interface ConcentratorRoleOptions {
  /** `--meters A,B`: meters behind the concentrator. */
  meters?: string;
  /** `--meters-on serial:PATH[@2400-8E1]`: serve them on this serial device. */
  metersOn?: string;
  /** `--heartbeat S`: the heartbeat period the concentrator is configured with. */
  heartbeatSeconds?: number;
  /** `--link-wait S`: longest wait for a connection, a login, a reconnect. */
  linkWaitSeconds?: number;
  /** `--forward-port N`: the RS-485 port the meters are on. */
  port?: number;
  /** `--absent-port N`: a port the concentrator does not have. */
  absentPort?: number;
  /** `--frame-timeout S`: frame-wait timeout written into forwards. */
  frameTimeoutSeconds?: number;
  /** `--reply-wait MS`. */
  replyWaitMs?: number;
  /** `--min-retry-gap MS`. */
  minRetryGapMs?: number;
  /** `--seed N` of the served meters' readings. */
  seed?: number;
  /** `--a1 0171 --a2 2082`: the concentrator's address (needed for a `tcp:` target). */
  a1?: string;
  a2?: number;
}

/** What the role needs of `meterlab conform`'s common options and surroundings. */
export interface ConcentratorRoleRun {
  target?: string;
  protocol?: string;
  cases?: string;
  /** `--cases-dir DIR`: folders of the user's data-file cases. */
  casesDirs?: readonly string[];
  list?: boolean;
  hex?: boolean;
  trace?: boolean;
  color?: boolean;
  echoDiscard?: boolean;
  rts?: boolean;
  utcOffsetMinutes?: number;
  concentratorRole?: ConcentratorRoleOptions;
  io: {
    out: (line: string) => void;
    err: (line: string) => void;
    clock?: Clock;
    signal?: AbortSignal;
  };
  /** The common serial target parser (`serial:PATH[@BAUD-8E1]`) of run-conformance. */
  parseSerialTarget: (text: string) => { path: string; settings: SerialSettings };
  /** Writes the report files the options ask for. */
  writeReports: (report: SuiteReport) => void;
}

const usage = (message: string) => new ConformanceError('CONFORM_USAGE', message);

/**
 * Parses `tcp-listen:HOST:PORT` (meterlab listens, the concentrator dials in) or `tcp:HOST:PORT` (meterlab
 * dials a concentrator in server mode). @throws ConformanceError CONFORM_USAGE
 */
export function parseConcentratorTarget(text: string): SessionTarget {
  const m = /^(tcp-listen|tcp):(.+):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535 || (m[1] === 'tcp' && port === 0)) {
    throw usage(
      `--target must be tcp-listen:HOST:PORT (your concentrator connects to meterlab) or tcp:HOST:PORT (a concentrator in server mode) for the concentrator role, got "${text}"`,
    );
  }
  return { kind: m[1] === 'tcp' ? 'connect' : 'listen', host: m[2], port };
}

/** Runs the concentrator role; resolves to the exit status. Throws ConformanceError for usage errors. */
export async function runConcentratorRole(run: ConcentratorRoleRun): Promise<number> {
  const { io } = run;
  if (run.list) {
    for (const c of concentratorCatalogue({ casesDirs: run.casesDirs })) {
      io.out(`${c.id.padEnd(10)} ${c.title}`);
      io.out(`${' '.repeat(11)}${c.clause}${c.origin === 'code' ? '' : ` [${c.origin}]`}`);
    }
    return 0;
  }
  if (!run.target) throw usage('--target is required (e.g. --target tcp-listen:0.0.0.0:9093)');
  const target = parseConcentratorTarget(run.target);
  const o = run.concentratorRole ?? {};
  const protocol: MeterProtocolName = run.protocol === undefined ? 'cjt188' : meterProtocolOf(run.protocol);
  const meters = normaliseMeters(protocol, splitList(o.meters));
  if (target.kind === 'connect' && (o.a1 === undefined || o.a2 === undefined)) {
    throw usage(
      '--a1 and --a2 are required with a tcp: target (a concentrator in server mode sends no login)',
    );
  }
  if (o.a1 !== undefined && !/^\d{4}$/.test(o.a1)) throw usage(`--a1 must be 4 digits, got "${o.a1}"`);
  const metersOn = o.metersOn ? run.parseSerialTarget(o.metersOn) : undefined;
  if (metersOn && meters.length === 0) throw usage('--meters-on needs --meters A,B (the meters to serve)');
  // A bad case file stops the run before meterlab listens or dials.
  concentratorCatalogue({ casesDirs: run.casesDirs });
  const linkWaitMs = (o.linkWaitSeconds ?? 120) * 1000;
  const reporter = new ConsoleReporter({ write: io.out, trace: run.trace, hex: run.hex, color: run.color });
  if (target.kind === 'connect') {
    reporter.start(
      `meterlab conform: concentrator ${o.a1}/${o.a2} in server mode at ${target.host}:${target.port}`,
    );
  }
  let report: SuiteReport;
  try {
    report = await runConcentratorSuite({
      target,
      meters,
      meterProtocol: protocol,
      metersOn: metersOn && { ...metersOn, echoDiscard: run.echoDiscard, rts: run.rts },
      seed: o.seed,
      heartbeatMs: o.heartbeatSeconds === undefined ? undefined : o.heartbeatSeconds * 1000,
      linkWaitMs,
      port: o.port,
      absentPort: o.absentPort,
      frameTimeoutS: o.frameTimeoutSeconds,
      replyWaitMs: o.replyWaitMs,
      minRetryGapMs: o.minRetryGapMs,
      utcOffsetMinutes: run.utcOffsetMinutes,
      a1: o.a1,
      a2: o.a2,
      cases: run.cases,
      casesDirs: run.casesDirs,
      clock: io.clock,
      signal: io.signal,
      onListening: (port) => {
        const where = `${target.host}:${port}`;
        reporter.start(
          `meterlab conform: concentrator — listening on ${where} as its master station; waiting up to ${linkWaitMs / 1000} s for it to connect` +
            (metersOn ? `; serving ${protocol} meter(s) ${meters.join(', ')} on ${metersOn.path}` : ''),
        );
      },
      onStart: (info, i, n) => reporter.caseStarted(info, i, n),
      onResult: (result, i, n) => reporter.caseFinished(result, i, n),
    });
  } catch (error) {
    if (!io.signal?.aborted) throw error;
    io.err('meterlab conform: interrupted before the first case');
    return 130;
  }
  reporter.finish(report);
  run.writeReports(report);
  if (io.signal?.aborted) {
    io.err(`meterlab conform: interrupted after ${report.results.length} case(s)`);
    return 130;
  }
  return report.counts.fail > 0 ? 1 : 0;
}

function meterProtocolOf(name: string): MeterProtocolName {
  if (!isMeterProtocolName(name))
    throw usage(`--protocol must be cjt188 or dlt645 (the meters' protocol), got "${name}"`);
  return name;
}

function splitList(list: string | undefined): string[] {
  return (list ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a.length > 0);
}
