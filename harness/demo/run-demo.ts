import { execFileSync } from 'node:child_process';
import type { Reading } from '../../protocols/point-read/index.ts';
import { Fleet } from '../../simulator/fleet/index.ts';
import { ConsumptionModel } from '../../simulator/meter/consumption.ts';
import { fleetSummary, type Scenario } from '../../simulator/scenario/index.ts';
import { PointReadClient, type ReadOutcome, type ReadTarget, readAll } from '../client/index.ts';
import { archiveFromJson, MasterStation, type MasterStationOptions } from '../master/index.ts';
import { Relay } from '../relay/index.ts';

type Endpoint = { host: string; port: number };

export interface DemoOptions {
  scenario: Scenario;
  /** Where concentrators connect. @defaultValue 127.0.0.1:9093 */
  master?: Endpoint;
  /** The master's client API. @defaultValue 127.0.0.1:9092 */
  api?: Endpoint;
  /** The WebSocket relay. @defaultValue 127.0.0.1:7759 */
  relay?: Endpoint;
  /** How long to wait for every concentrator to log in. @defaultValue 30000 */
  loginTimeoutMs?: number;
  /** Reads in flight during the read-all pass. @defaultValue 16 */
  concurrency?: number;
  /** Progress lines (startup, logins, read progress). */
  log?: (line: string) => void;
  onProgress?: (done: number, total: number) => void;
  /**
   * Aborting it stops whatever has started and makes `runDemo` reject with a {@link DemoStopped} (Ctrl-C during
   * start-up or the read pass: issue 13 item 8).
   */
  signal?: AbortSignal;
  /** Extra master station options (timeouts, confirm form …). */
  masterOptions?: Partial<MasterStationOptions>;
}

/** A running demo: every part on 127.0.0.1, and the outcome of reading every meter once. */
export interface RunningDemo {
  scenario: Scenario;
  master: MasterStation;
  relay: Relay;
  fleet: Fleet;
  relayUrl: string;
  outcomes: ReadOutcome[];
  /** Outcomes whose value differs from what the consumption model predicts for the meter's time. */
  mismatches: ReadOutcome[];
  stop(): Promise<void>;
}

/** `runDemo` was stopped through its `signal` before it finished; everything it started is stopped. */
export class DemoStopped extends Error {
  readonly code = 'STOPPED';
  constructor(reason: unknown) {
    super(`demo stopped (${String(reason ?? 'aborted')})`);
    this.name = 'DemoStopped';
  }
}

/** Waits for `work`, or rejects with {@link DemoStopped} as soon as `signal` aborts. */
function unlessStopped<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(new DemoStopped(signal.reason));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => undefined);
      reject(new DemoStopped(signal.reason));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Whether socat is on PATH: the demo puts one port on a pty pair only when it is. */
export function socatAvailable(): boolean {
  try {
    execFileSync('socat', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Replaces pty ports with in-memory buses (for a machine without socat). */
export function withoutPty(scenario: Scenario): Scenario {
  return {
    ...scenario,
    concentrators: scenario.concentrators.map((c) => ({
      ...c,
      ports: c.ports.map((p) => (p.link.kind === 'pty' ? { ...p, link: { kind: 'memory' as const } } : p)),
    })),
  };
}

/**
 * The whole chain on one machine (`npm start`): master station, relay and a simulated fleet, then one point-read
 * of every meter through the relay, exactly as a browser would send it. Each read is checked against the
 * consumption model, so the table the user sees is also a test of the chain.
 */
export async function runDemo(options: DemoOptions): Promise<RunningDemo> {
  const log = options.log ?? (() => {});
  const master = new MasterStation({
    listen: options.master ?? { host: '127.0.0.1', port: 9093 },
    api: options.api ?? { host: '127.0.0.1', port: 9092 },
    archive: archiveFromJson(fleetSummary(options.scenario), options.scenario.name),
    heartbeatPeriodMs: Math.max(...options.scenario.concentrators.map((c) => c.heartbeatSeconds)) * 1000,
    ...options.masterOptions,
  });
  const stops: (() => Promise<void>)[] = [];
  const { signal } = options;
  const step = <T>(work: Promise<T>) => unlessStopped(work, signal);
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
    stops.push(() => master.stop());
    const { listen, api } = await step(master.start());
    log(
      `master station: concentrators on ${listen.address}:${listen.port}, client API on ${api?.address}:${api?.port}`,
    );

    const relay = new Relay({
      ...(options.relay ?? { host: '127.0.0.1', port: 7759 }),
      master: { host: api!.address, port: api!.port },
      log: (e) => {
        if (e.event === 'listening') log(e.message);
      },
    });
    stops.push(() => relay.stop());
    const { url } = await step(relay.start());

    // Point every client-mode concentrator at the master we just started (its port may have been 0).
    const scenario: Scenario = {
      ...options.scenario,
      concentrators: options.scenario.concentrators.map((c) =>
        c.upstream.mode === 'client'
          ? { ...c, upstream: { mode: 'client', host: listen.address, port: listen.port } }
          : c,
      ),
    };
    const fleet = new Fleet({ scenario });
    const online = waitForLogins(master, scenario.concentrators.length, options.loginTimeoutMs ?? 30_000);
    // Awaited below; when a stop comes first its late rejection must not surface as an unhandled one.
    online.catch(() => undefined);
    stops.push(() => fleet.stop());
    await step(fleet.start());
    const status = fleet.status();
    log(
      `fleet: ${status.concentrators} concentrators, ${status.meters} meters, ${status.ptys} on socat pty pairs`,
    );
    await step(online);
    log(`all ${scenario.concentrators.length} concentrators logged in`);

    const client = new PointReadClient({ url, reconnect: false });
    stops.push(() => client.close());
    await step(client.connect());
    const targets: ReadTarget[] = fleetSummary(scenario).concentrators.flatMap((c) =>
      c.ports.flatMap((p) => p.meters.map((m) => ({ concentrator: c.alias ?? c.id, meter: m.address }))),
    );
    const outcomes = await step(
      readAll(client, targets, {
        concurrency: options.concurrency ?? 16,
        onProgress: (done, total) => options.onProgress?.(done, total),
      }),
    );
    await client.close();

    return {
      scenario,
      master,
      relay,
      fleet,
      relayUrl: url,
      outcomes,
      mismatches: checkAgainstModel(scenario, outcomes),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function waitForLogins(master: MasterStation, count: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const seen = new Set<string>();
    const timer = setTimeout(() => {
      master.off('login', onLogin);
      reject(new Error(`only ${seen.size} of ${count} concentrators logged in within ${timeoutMs} ms`));
    }, timeoutMs);
    timer.unref();
    const onLogin = ({ session }: { session: { id: string } }) => {
      seen.add(session.id);
      if (seen.size === count) {
        clearTimeout(timer);
        master.off('login', onLogin);
        resolve();
      }
    };
    master.on('login', onLogin);
  });
}

/**
 * Each reading must be the consumption model's value at a moment between the read's start and its answer.
 * The window comes from the meter's own clock when the reply carries it, else from the master's `readAt`; a
 * reading with neither cannot be checked and counts as a mismatch.
 */
function checkAgainstModel(scenario: Scenario, outcomes: ReadOutcome[]): ReadOutcome[] {
  const model = new ConsumptionModel({ seed: scenario.seed });
  return outcomes.filter((o) => {
    if (!o.reading) return false; // a failed read is reported as a failure, not as a mismatch
    const window = measuredWithin(o.reading, o.latencyMs);
    // A reading that says nothing of when it was taken cannot be checked, so it does not pass.
    if (!window) return true;
    // The model is keyed by the meter's full address: 12 digits in DL/T 645, 14 in CJ/T 188.
    const meter = o.reading.meter.padStart(o.reading.protocol === 'dlt645' ? 12 : 14, '0');
    const low = model.readingAt(meter, window.from);
    const high = model.readingAt(meter, window.to);
    return o.reading.value < low || o.reading.value > high;
  });
}

/**
 * When the meter measured the value, as a window in epoch ms. A CJ/T 188 reply carries the meter's clock (local
 * time, China Standard Time, to the second); otherwise the master's `readAt`, when the reply arrived, which is
 * at most the read's latency after the meter answered.
 */
function measuredWithin(reading: Reading, latencyMs: number): { from: number; to: number } | undefined {
  if (reading.meterTime) {
    const t = Date.parse(`${reading.meterTime}+08:00`);
    return Number.isNaN(t) ? undefined : { from: t - 1000, to: t + 1000 };
  }
  const at = reading.readAt ? Date.parse(reading.readAt) : Number.NaN;
  return Number.isNaN(at) ? undefined : { from: at - latencyMs - 1000, to: at + 1000 };
}
