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
 * 600 ms, confirm timeout 250 ms, back-off from 200 ms. What the proof table runs every case against.
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
  /** @defaultValue 3000 */
  linkWaitMs?: number;
}

/** Runs the concentrator suite against meterlab's concentrator simulator. */
export async function runAgainstSimulatedConcentrator(
  options: ConcentratorBenchOptions = {},
): Promise<SuiteReport> {
  const pair: PtyPair = await createPtyPair();
  let concentrator: Concentrator | undefined;
  let proxy: ConcentratorDefectProxy | undefined;
  const portLink = new SerialLink({ path: pair.paths[0], settings: LINE });
  try {
    await portLink.open();
    const meterPort = new MeterPort({ port: 1, serial: LINE, transport: linkTransport(portLink) });
    const build = (upstream: ConcentratorSpec['upstream']) =>
      new Concentrator({
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
          minFrameGapMs: 30,
        },
      });
    const common = {
      meters: BENCH_METERS,
      metersOn: { path: pair.paths[1], settings: LINE },
      seed: 5,
      heartbeatMs: BENCH_HEARTBEAT_MS,
      linkWaitMs: options.linkWaitMs ?? 3000,
      frameTimeoutS: 1,
      replyWaitMs: 1500,
      minRetryGapMs: 100,
      cases: options.cases,
    };
    if (options.serverMode) {
      concentrator = build({ mode: 'server', host: '127.0.0.1', port: 0 });
      await concentrator.start();
      const at = concentrator.session.address();
      return await runConcentratorSuite({
        ...common,
        target: { kind: 'connect', host: '127.0.0.1', port: at?.port ?? 0 },
        a1: '0171',
        a2: 2082,
      });
    }
    return await runConcentratorSuite({
      ...common,
      target: { kind: 'listen', host: '127.0.0.1', port: 0 },
      onListening: async (port) => {
        let upstreamPort = port;
        if (options.proxy || (options.defects?.length ?? 0) > 0) {
          proxy = new ConcentratorDefectProxy({
            master: { host: '127.0.0.1', port },
            defects: options.defects ?? [],
          });
          await proxy.start();
          upstreamPort = proxy.port;
        }
        concentrator = build({ mode: 'client', host: '127.0.0.1', port: upstreamPort });
        await concentrator.start();
      },
    });
  } finally {
    await concentrator?.stop().catch(() => undefined);
    await proxy?.close().catch(() => undefined);
    await portLink.close().catch(() => undefined);
    await pair.close().catch(() => undefined);
  }
}
