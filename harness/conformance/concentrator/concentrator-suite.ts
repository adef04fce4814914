import { realpathSync } from 'node:fs';
import { type MeterProtocolName, meterProtocol } from '../../../protocols/registry.ts';
import type { Clock } from '../../../simulator/clock/clock.ts';
import { realClock } from '../../../simulator/clock/real-clock.ts';
import { LinkError } from '../../../simulator/link/errors.ts';
import { SerialLink } from '../../../simulator/link/serial-link.ts';
import type { SerialSettings } from '../../../simulator/link/serial-settings.ts';
import {
  Cjt188Meter,
  ConsumptionModel,
  Dlt645Meter,
  MeterHost,
  type SimulatedMeter,
} from '../../../simulator/meter/index.ts';
import { byId, checkUniqueIds } from '../data-cases.ts';
import { ConformanceError } from '../errors.ts';
import { runCases, selectSomeCases } from '../runner.ts';
import { type CaseInfo, type CaseResult, countGrades, type SuiteReport } from '../types.ts';
import { type ConcentratorCase, concentratorCases } from './concentrator-cases.ts';
import { ConcentratorCaseContext, type ConcentratorSuiteConfig } from './concentrator-context.ts';
import { ConcentratorSession, type SessionTarget } from './concentrator-session.ts';
import { BUILTIN_CONCENTRATOR_CASES_DIR, loadConcentratorDataCases } from './data-cases.ts';

/**
 * The concentrator role: meterlab is the master station (it listens for the concentrator, or dials one in server
 * mode) and, optionally, the meters behind the concentrator's RS-485 port (`--meters-on serial:PATH`), so the
 * readings the concentrator forwards are known.
 * @packageDocumentation
 */

/** Where meterlab serves simulated meters: the serial device wired to the concentrator's RS-485 port. */
export interface MetersOn {
  path: string;
  settings: SerialSettings;
  /** Drop the echo of what the meters send (adapters that echo). @defaultValue false */
  echoDiscard?: boolean;
  /** Drive the RS-485 direction with RTS. @defaultValue false */
  rts?: boolean;
}

/** Options of {@link runConcentratorSuite}. */
export interface ConcentratorSuiteOptions {
  target: SessionTarget;
  /** Meter addresses behind the concentrator (short ones are left-padded). @defaultValue none */
  meters?: readonly string[];
  /** @defaultValue 'cjt188' */
  meterProtocol?: MeterProtocolName;
  /** Serve the meters on this serial device, with readings from the model seeded by `seed`. */
  metersOn?: MetersOn;
  /** Seed of the served meters' consumption model. @defaultValue 1 */
  seed?: number;
  /** The heartbeat period the concentrator is configured with, ms. @defaultValue measured, not judged */
  heartbeatMs?: number;
  /** Longest wait for a connection, a login or a reconnect, ms. @defaultValue 120000 */
  linkWaitMs?: number;
  /** The meters' RS-485 port number. @defaultValue 1 */
  port?: number;
  /** A port number the concentrator does not have. @defaultValue 30 */
  absentPort?: number;
  /** Frame-wait timeout of the forwards, s. @defaultValue 5 */
  frameTimeoutS?: number;
  /** Wait for an answer beyond a forward's frame timeout, ms. @defaultValue 5000 */
  replyWaitMs?: number;
  /** Retries closer than this are a flood, ms. @defaultValue 1000 */
  minRetryGapMs?: number;
  /** @defaultValue 480 (UTC+8) */
  utcOffsetMinutes?: number;
  a1?: string;
  a2?: number;
  cases?: string;
  /** Extra folders of data-file cases (`role: "concentrator"`). @defaultValue none */
  casesDirs?: readonly string[];
  /** Leave out the built-in data cases (fixtures/conformance/gdw376-concentrator/). */
  noBuiltinCases?: boolean;
  /** @defaultValue realClock (the links are real) */
  clock?: Clock;
  signal?: AbortSignal;
  /** Called once meterlab listens (listen mode), with the port: tests start the concentrator here. */
  onListening?: (port: number) => void | Promise<void>;
  onStart?: (info: CaseInfo, index: number, total: number) => void;
  onResult?: (result: CaseResult, index: number, total: number) => void;
}

/**
 * The catalogue of the concentrator role: the code cases and the data-file cases (built-in and `casesDirs`), in
 * id order, ids unique. @throws ConformanceError CONFORM_BAD_CASE_FILE
 */
export function concentratorCatalogue(
  options: { casesDirs?: readonly string[]; noBuiltinCases?: boolean } = {},
): ConcentratorCase[] {
  const dirs = [
    ...(options.noBuiltinCases ? [] : [BUILTIN_CONCENTRATOR_CASES_DIR]),
    ...(options.casesDirs ?? []),
  ];
  const all = [...concentratorCases(), ...loadConcentratorDataCases(dirs)];
  checkUniqueIds(all);
  return byId(all);
}

/** Full meter addresses for the protocol. @throws ConformanceError CONFORM_USAGE naming the bad one. */
export function normaliseMeters(protocol: MeterProtocolName, meters: readonly string[]): string[] {
  const digits = meterProtocol(protocol).addressDigits;
  return meters.map((m) => {
    if (!/^\d+$/.test(m) || m.length > digits) {
      throw new ConformanceError(
        'CONFORM_USAGE',
        `--meters: "${m}" is not a ${protocol} address (1 to ${digits} digits)`,
      );
    }
    return m.padStart(digits, '0');
  });
}

/**
 * Runs the concentrator suite and returns the report.
 * @throws ConformanceError CONFORM_USAGE for bad options, CONFORM_UNREACHABLE when no concentrator connects (or
 * the concentrator cannot be reached) or the meters' serial device cannot be opened.
 */
export async function runConcentratorSuite(options: ConcentratorSuiteOptions): Promise<SuiteReport> {
  const clock = options.clock ?? realClock;
  const protocol = options.meterProtocol ?? 'cjt188';
  const meters = normaliseMeters(protocol, options.meters ?? []);
  const catalogue = concentratorCatalogue({
    casesDirs: options.casesDirs,
    noBuiltinCases: options.noBuiltinCases,
  });
  const cases = selectSomeCases(catalogue, options.cases);
  const model = options.metersOn ? new ConsumptionModel({ seed: options.seed ?? 1 }) : undefined;
  const config: ConcentratorSuiteConfig = {
    mode: options.target.kind,
    heartbeatMs: options.heartbeatMs,
    linkWaitMs: options.linkWaitMs ?? 120_000,
    port: options.port ?? 1,
    absentPort: options.absentPort ?? 30,
    meters,
    meterProtocol: protocol,
    readings: model,
    meterBaud: options.metersOn?.settings.baudRate ?? 2400,
    frameTimeoutS: options.frameTimeoutS ?? 5,
    replyWaitMs: options.replyWaitMs ?? 5000,
    minRetryGapMs: options.minRetryGapMs ?? 1000,
    utcOffsetMinutes: options.utcOffsetMinutes ?? 480,
    a1: options.a1,
    a2: options.a2,
  };
  let host: MeterHost | undefined;
  const session = new ConcentratorSession(options.target, clock);
  // Ctrl-C ends the wait in progress at once (a case may wait minutes for a reconnect); that case is skipped.
  const interrupt = () => session.interrupt();
  options.signal?.addEventListener('abort', interrupt, { once: true });
  try {
    if (options.metersOn && model) host = await serveMeters(options.metersOn, protocol, meters, model, clock);
    try {
      await session.start();
    } catch (error) {
      if (error instanceof LinkError) {
        throw new ConformanceError('CONFORM_UNREACHABLE', `${session.address}: ${error.message}`, {
          cause: error,
        });
      }
      throw error;
    }
    if (options.target.kind === 'listen') {
      await options.onListening?.(session.listenPort ?? options.target.port);
      const connected = await new Promise<boolean>((resolve) => {
        if (session.current) return resolve(true);
        const timer = clock.setTimeout(() => resolve(false), config.linkWaitMs);
        const end = (result: boolean) => () => {
          clock.clearTimeout(timer);
          resolve(result);
        };
        session.once('connection', end(true));
        session.once('interrupted', end(false));
      });
      if (!connected && options.signal?.aborted) {
        throw new ConformanceError('CONFORM_UNREACHABLE', 'interrupted before a concentrator connected');
      }
      if (!connected) {
        throw new ConformanceError(
          'CONFORM_UNREACHABLE',
          `no concentrator connected to ${session.address} within ${config.linkWaitMs} ms`,
        );
      }
    }
    // Requests make sense only once the concentrator is logged in; a login that never gets confirmed is what
    // the login cases judge, so this waits but does not give up the run.
    if (config.mode === 'listen') await session.waitOnline(config.linkWaitMs).catch(() => false);
    const context = new ConcentratorCaseContext(session, config);
    const startedAt = new Date(clock.now()).toISOString();
    const started = clock.now();
    const results = await runCases(cases, {
      context,
      clock,
      beginCase: () => session.beginCase(),
      betweenCases: async () => {
        session.loginConfirm = 'F1';
        session.heartbeatConfirm = 'F1';
        if (config.mode === 'listen') await session.waitOnline(config.linkWaitMs).catch(() => false);
      },
      signal: options.signal,
      onStart: options.onStart,
      onResult: options.onResult,
    });
    const report: SuiteReport = {
      role: 'concentrator',
      protocol: 'gdw376',
      target: `${options.target.kind === 'listen' ? 'tcp-listen' : 'tcp'}:${session.address}`,
      startedAt,
      durationMs: Math.round(clock.now() - started),
      results,
      counts: countGrades(results),
    };
    const t = context.terminal;
    if (t) report.device = `${t.a1}/${t.a2}`;
    return report;
  } finally {
    options.signal?.removeEventListener('abort', interrupt);
    await session.close();
    await host?.close().catch(() => undefined);
  }
}

/** Serves the meters on the serial device wired to the concentrator's RS-485 port. */
async function serveMeters(
  on: MetersOn,
  protocol: MeterProtocolName,
  addresses: readonly string[],
  model: ConsumptionModel,
  clock: Clock,
): Promise<MeterHost> {
  if (addresses.length === 0) throw new ConformanceError('CONFORM_USAGE', '--meters-on needs --meters A,B');
  const meters: SimulatedMeter[] = addresses.map((address) =>
    protocol === 'dlt645'
      ? new Dlt645Meter({ address, model, clock })
      : new Cjt188Meter({ address, model, clock }),
  );
  const link = new SerialLink({
    path: on.path,
    settings: on.settings,
    echoDiscard: on.echoDiscard === true,
    rtsDirection: on.rts === true,
    clock,
  });
  try {
    return await MeterHost.start({ link, meters, clock, wire: isPty(on.path) ? 'simulated' : 'physical' });
  } catch (error) {
    if (error instanceof LinkError) {
      throw new ConformanceError('CONFORM_UNREACHABLE', `--meters-on ${on.path}: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}

/** A pty has no wire of its own, so the bus adds the wire time a real adapter's line takes. */
function isPty(path: string): boolean {
  try {
    return realpathSync(path).startsWith('/dev/pts/');
  } catch {
    return false;
  }
}
