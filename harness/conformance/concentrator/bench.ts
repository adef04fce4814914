import { Concentrator, linkTransport, MeterPort } from '../../../simulator/concentrator/index.ts';
import { createPtyPair, type PtyPair, SerialLink } from '../../../simulator/link/index.ts';
import type { SerialSettings } from '../../../simulator/link/serial-settings.ts';
import type { ConcentratorSpec } from '../../../simulator/scenario/index.ts';
import type { SuiteReport } from '../types.ts';
import { runConcentratorSuite } from './concentrator-suite.ts';
import { type ConcentratorDefect, ConcentratorDefectProxy } from './defect-proxy.ts';

/**
 * meterlab's own concentrator for the concentrator suite to test, over real TCP on 127.0.0.1 and a real socat
 * pty for its RS-485 port, with the suite serving the meters on the pty's other end (`--meters-on`), as a user
 * with a real concentrator and a USB adapter would. Timings are short so a whole run takes seconds: heartbeat
 * 600 ms, confirm timeout 250 ms, back-off from 200 ms, 100 ms between frames. What the proof table runs every case against.
 * @packageDocumentation
 */

export const BENCH_METERS = ['00000000101001', '00000000101002'];
export const BENCH_HEARTBEAT_MS = 600;
const LINE: SerialSettings = { baudRate: 2400, dataBits: 8, parity: 'even', stopBits: 1 };

/** What to test. */
export interface ConcentratorBenchOptions {
  /** Defects given by the proxy between the concentrator and the suite. @defaultValue none (and no proxy) */
  defects?: ConcentratorDefect[];
  /** Put the proxy in even without defects. */
  proxy?: boolean;
  /** Server mode: the suite dials the concentrator. @defaultValue false (client mode) */
  serverMode?: boolean;
  cases?: string;
  /** Folders of extra data-file cases (`--cases-dir`). */
  casesDirs?: readonly string[];
  /** @defaultValue 3000 */
  linkWaitMs?: number;
}

/** meterlab's concentrator on a pty, ready to be pointed at a master; the meters go on `meterPath`. */
export interface BenchConcentrator {
  /** The pty end the meters are to be served on (the concentrator's RS-485 port is the other end). */
  meterPath: string;
  /** Client mode: starts the concentrator dialling `port` on 127.0.0.1 (through a defect proxy if asked). */
  dial(port: number, defects?: readonly ConcentratorDefect[], proxy?: boolean): Promise<void>;
  /** Server mode: starts the concentrator listening; resolves with its port. */
  listen(): Promise<number>;
  stop(): Promise<void>;
}

/** Builds meterlab's concentrator (A1 0171, A2 2082, port 1 on a socat pty) with the bench's short timings. */
export async function benchConcentrator(): Promise<BenchConcentrator> {
  const pair: PtyPair = await createPtyPair();
  const portLink = new SerialLink({ path: pair.paths[0], settings: LINE });
  let concentrator: Concentrator | undefined;
  let proxy: ConcentratorDefectProxy | undefined;
  try {
    await portLink.open();
  } catch (error) {
    await pair.close().catch(() => undefined);
    throw error;
  }
  const meterPort = new MeterPort({ port: 1, serial: LINE, transport: linkTransport(portLink) });
  const start = async (upstream: ConcentratorSpec['upstream']) => {
    concentrator = new Concentrator({
      spec: {
        id: '017102082',
        a1: '0171',
        a2: 2082,
        upstream,
        heartbeatSeconds: BENCH_HEARTBEAT_MS / 1000,
        pollMinutes: 0,
        ports: [],
      },
      ports: [meterPort],
      seed: 3,
      session: {
        confirmTimeoutMs: 250,
        maxMissedConfirms: 3,
        backoff: { initialMs: 200, maxMs: 2000 },
        heartbeatClock: true,
        // Wide enough that a stalled event loop (a busy CI host) cannot let two frames land in one read.
        minFrameGapMs: 100,
      },
    });
    await concentrator.start();
    return concentrator;
  };
  return {
    meterPath: pair.paths[1],
    dial: async (port, defects = [], withProxy = false) => {
      let upstreamPort = port;
      if (withProxy || defects.length > 0) {
        proxy = new ConcentratorDefectProxy({ master: { host: '127.0.0.1', port }, defects });
        await proxy.start();
        upstreamPort = proxy.port;
      }
      await start({ mode: 'client', host: '127.0.0.1', port: upstreamPort });
    },
    listen: async () => {
      const c = await start({ mode: 'server', host: '127.0.0.1', port: 0 });
      return c.session.address()?.port ?? 0;
    },
    stop: async () => {
      await concentrator?.stop().catch(() => undefined);
      await proxy?.close().catch(() => undefined);
      await portLink.close().catch(() => undefined);
      await pair.close().catch(() => undefined);
    },
  };
}

/** The suite options the bench's concentrator is judged with. */
export function benchSuiteOptions(meterPath: string, linkWaitMs = 3000) {
  return {
    meters: BENCH_METERS,
    metersOn: { path: meterPath, settings: LINE },
    seed: 5,
    heartbeatMs: BENCH_HEARTBEAT_MS,
    linkWaitMs,
    frameTimeoutS: 1,
    replyWaitMs: 1500,
    minRetryGapMs: 100,
  };
}

/** Runs the concentrator suite against meterlab's concentrator simulator. */
export async function runAgainstSimulatedConcentrator(
  options: ConcentratorBenchOptions = {},
): Promise<SuiteReport> {
  const bench = await benchConcentrator();
  try {
    const common = {
      ...benchSuiteOptions(bench.meterPath, options.linkWaitMs),
      cases: options.cases,
      casesDirs: options.casesDirs,
    };
    if (options.serverMode) {
      const port = await bench.listen();
      return await runConcentratorSuite({
        ...common,
        target: { kind: 'connect', host: '127.0.0.1', port },
        a1: '0171',
        a2: 2082,
      });
    }
    return await runConcentratorSuite({
      ...common,
      target: { kind: 'listen', host: '127.0.0.1', port: 0 },
      onListening: (port) => bench.dial(port, options.defects, options.proxy),
    });
  } finally {
    await bench.stop();
  }
}
