/**
 * `npm run bench -- fleet [--sizes 1000,5000,10000] [--meters 100] [--concurrency 64] [--reads 3000]
 *   [--heartbeat 30] [--cpu-window 30] [--no-wire-timing]`
 *
 * The master station runs in this process; the fleet (N concentrators × M meters, one port each, shared meter
 * devices) runs in a child process (`node --import tsx`), connected over loopback. For each N it measures:
 *  - login: time from the fleet's start to the N-th login the master saw (the fleet spreads its connects over
 *    0.5 ms per concentrator beyond 100, so 10,000 take at least 5 s by design);
 *  - RSS of each process once everyone is online (per concentrator: the fleet process's growth over its RSS at
 *    start, scenario included, divided by N);
 *  - CPU of each process over a window of heartbeating (% of one core), and the heartbeats the master saw;
 *  - point-reads/s through the master's NDJSON client API with K requests in flight, over random meters, with
 *    p50/p99 latency. With wire timing on (default) every read spends ~0.3 s on the simulated 2400-baud bus, so
 *    throughput is about K / 0.3 s unless the CPU is the limit.
 * Prints a line per size and, last, one JSON line with every figure.
 *
 * Bare sockets on purpose: its NDJSON client is a plain `node:net` socket, the way an outside platform talks to
 * the client API, so the figures carry no meterlab Link of its own.
 */
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { MasterStation } from '../harness/master/index.ts';
import { Fleet } from '../simulator/fleet/index.ts';
import { generateFleet } from '../simulator/scenario/index.ts';
import { BenchChild, type ChildRole, cpuMicros, serveBenchChild } from './child.ts';
import { readFlags, UsageError } from './flags.ts';
import { percentile, round } from './stats.ts';

interface BenchOptions {
  sizes: number[];
  meters: number;
  concurrency: number;
  reads: number;
  heartbeatSeconds: number;
  cpuWindowSeconds: number;
  wireTiming: boolean;
  loginTimeoutSeconds: number;
}

interface ChildConfig {
  concentrators: number;
  meters: number;
  host: string;
  port: number;
  heartbeatSeconds: number;
  wireTiming: boolean;
}

interface ChildBuilt {
  ms: number;
  rss: number;
  baseRss: number;
}

interface ChildStats {
  rss: number;
  cpuMs: number;
  online: number;
  forwards: number;
}

interface SizeResult {
  concentrators: number;
  meters: number;
  fleetBuildMs: number;
  loginMs: number;
  logins: number;
  masterRssMiB: number;
  fleetRssMiB: number;
  fleetRssPerConcentratorKiB: number;
  cpuWindowS: number;
  heartbeatsSeen: number;
  masterCpuPct: number;
  fleetCpuPct: number;
  concurrency: number;
  reads: number;
  readErrors: number;
  readsPerSecond: number;
  readP50Ms: number;
  readP99Ms: number;
}

const MIB = 1024 * 1024;

export async function main(args: string[]): Promise<void> {
  const options = parseArgs(args);
  console.log(
    `fleet bench: sizes ${options.sizes.join(', ')} × ${options.meters} meters, K = ${options.concurrency}, ` +
      `${options.reads} reads, heartbeat ${options.heartbeatSeconds} s, CPU window ${options.cpuWindowSeconds} s, ` +
      `wire timing ${options.wireTiming ? 'on (2400 8E1)' : 'off'}`,
  );
  const results: SizeResult[] = [];
  for (const size of options.sizes) {
    const r = await runSize(size, options);
    results.push(r);
    console.log(
      `N=${r.concentrators}: build ${r.fleetBuildMs} ms, all ${r.logins} logged in after ${r.loginMs} ms; ` +
        `RSS master ${r.masterRssMiB} MiB, fleet ${r.fleetRssMiB} MiB (${r.fleetRssPerConcentratorKiB} KiB/concentrator); ` +
        `heartbeating ${r.cpuWindowS} s (${r.heartbeatsSeen} heartbeats): CPU master ${r.masterCpuPct}%, fleet ${r.fleetCpuPct}%; ` +
        `reads ${r.readsPerSecond}/s at K=${r.concurrency} (p50 ${r.readP50Ms} ms, p99 ${r.readP99Ms} ms, ${r.readErrors} errors)`,
    );
  }
  console.log(JSON.stringify({ bench: 'fleet', options, results }));
}

function parseArgs(args: string[]): BenchOptions {
  const o: BenchOptions = {
    sizes: [1000, 5000, 10000],
    meters: 100,
    concurrency: 64,
    reads: 3000,
    heartbeatSeconds: 30,
    cpuWindowSeconds: 30,
    wireTiming: true,
    loginTimeoutSeconds: 300,
  };
  readFlags(args, (flag, value) => {
    if (flag === '--sizes') o.sizes = value.text().split(',').map(Number);
    else if (flag === '--meters') o.meters = value.positive();
    else if (flag === '--concurrency') o.concurrency = value.positive();
    else if (flag === '--reads') o.reads = value.positive();
    else if (flag === '--heartbeat') o.heartbeatSeconds = value.positive();
    else if (flag === '--cpu-window') o.cpuWindowSeconds = value.positive();
    else if (flag === '--login-timeout') o.loginTimeoutSeconds = value.positive();
    else if (flag === '--no-wire-timing') o.wireTiming = false;
    else return false;
    return true;
  });
  if (o.sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 65535)) {
    throw new UsageError('--sizes must be whole numbers 1..65535, comma-separated');
  }
  return o;
}

async function runSize(n: number, o: BenchOptions): Promise<SizeResult> {
  const master = new MasterStation({
    listen: { port: 0 },
    api: { port: 0 },
    heartbeatPeriodMs: o.heartbeatSeconds * 1000,
    maxConcentratorConnections: n + 100,
    maxSessions: n + 100,
    maxLoginsPerMinute: n + 100, // every concentrator logs in from 127.0.0.1
    meterFrameTimeoutMs: 2000,
    maxInFlightPerClient: 1000,
  });
  const { listen, api } = await master.start();
  let logins = 0;
  let heartbeats = 0;
  let allIn: () => void = () => undefined;
  const allLoggedIn = new Promise<void>((resolve) => {
    allIn = resolve;
  });
  master.on('login', () => {
    if (++logins >= n) allIn();
  });
  master.on('frame', (e: { frame: { afn: number; units: { fn: number[] }[] } }) => {
    if (e.frame.afn === 2 && e.frame.units[0]?.fn[0] === 3) heartbeats++;
  });
  const child = new BenchChild(
    fileURLToPath(import.meta.url),
    'fleet',
    {
      concentrators: n,
      meters: o.meters,
      host: listen.address,
      port: listen.port,
      heartbeatSeconds: o.heartbeatSeconds,
      wireTiming: o.wireTiming,
    } satisfies ChildConfig,
    { execArgv: ['--max-old-space-size=4096'] },
  );
  try {
    const built = (await child.ready) as ChildBuilt;
    await child.request('start');
    const startedAt = performance.now();
    await withTimeout(allLoggedIn, o.loginTimeoutSeconds * 1000, `${n} logins (got ${logins})`);
    const loginMs = Math.round(performance.now() - startedAt);

    const fleet0 = await child.request<ChildStats>('stats');
    const masterCpu0 = process.cpuUsage();
    const hb0 = heartbeats;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, o.cpuWindowSeconds * 1000));
    const fleet1 = await child.request<ChildStats>('stats');
    const masterCpu1 = process.cpuUsage(masterCpu0);
    const windowMs = performance.now() - t0;
    const masterRss = process.memoryUsage().rss;

    const reads = await readLoad(api?.port as number, n, o);
    return {
      concentrators: n,
      meters: n * o.meters,
      fleetBuildMs: built.ms,
      loginMs,
      logins,
      masterRssMiB: round(masterRss / MIB, 1),
      fleetRssMiB: round(fleet1.rss / MIB, 1),
      fleetRssPerConcentratorKiB: round((fleet1.rss - built.baseRss) / 1024 / n, 1),
      cpuWindowS: round(windowMs / 1000, 1),
      heartbeatsSeen: heartbeats - hb0,
      masterCpuPct: round(((masterCpu1.user + masterCpu1.system) / 1000 / windowMs) * 100, 1),
      fleetCpuPct: round(((fleet1.cpuMs - fleet0.cpuMs) / windowMs) * 100, 1),
      concurrency: o.concurrency,
      ...reads,
    };
  } finally {
    await child.stop();
    await master.stop();
  }
}

/** K workers reading random meters through the client API until `reads` answers have come back. */
async function readLoad(
  apiPort: number,
  n: number,
  o: BenchOptions,
): Promise<Pick<SizeResult, 'reads' | 'readErrors' | 'readsPerSecond' | 'readP50Ms' | 'readP99Ms'>> {
  const client = await NdjsonClient.connect(apiPort);
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  let rand = 12345;
  const next = () => {
    rand = (Math.imul(rand, 1103515245) + 12345) >>> 0;
    return rand;
  };
  const started = performance.now();
  const worker = async () => {
    while (issued < o.reads) {
      issued++;
      const c = (next() % n) + 1;
      const m = (next() % o.meters) + 1;
      const t = performance.now();
      const answer = await client.request({
        type: 'read',
        concentrator: `0001${String(c).padStart(5, '0')}`,
        meter: `${c}01${String(m).padStart(3, '0')}`,
        protocol: 'cjt188',
        port: 1,
      });
      latencies.push(performance.now() - t);
      if (answer.type !== 'reading') errors++;
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  client.close();
  return {
    reads: latencies.length,
    readErrors: errors,
    readsPerSecond: round(latencies.length / seconds, 1),
    readP50Ms: round(percentile(latencies, 50), 1),
    readP99Ms: round(percentile(latencies, 99), 1),
  };
}

/** A minimal NDJSON client for the master's API: one socket, answers matched by id. */
class NdjsonClient {
  readonly #socket: Socket;
  readonly #waiting = new Map<string, (answer: { type: string }) => void>();
  #buf = '';
  #id = 0;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buf += chunk;
      for (let nl = this.#buf.indexOf('\n'); nl >= 0; nl = this.#buf.indexOf('\n')) {
        const line = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        const answer = JSON.parse(line) as { type: string; id: string };
        this.#waiting.get(answer.id)?.(answer);
        this.#waiting.delete(answer.id);
      }
    });
  }

  static connect(port: number): Promise<NdjsonClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true });
      socket.once('connect', () => resolve(new NdjsonClient(socket)));
      socket.once('error', reject);
    });
  }

  request(message: Record<string, unknown>): Promise<{ type: string }> {
    const id = `r${++this.#id}`;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.#socket.write(`${JSON.stringify({ ...message, id })}\n`);
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** The fleet, in the child process: built before it says it is ready, started on request. */
async function fleetRole(config: ChildConfig): Promise<ChildRole> {
  const baseRss = process.memoryUsage().rss;
  const t = performance.now();
  const scenario = generateFleet({
    concentrators: config.concentrators,
    metersPerPort: config.meters,
    master: { host: config.host, port: config.port },
    heartbeatSeconds: config.heartbeatSeconds,
    wireTiming: config.wireTiming,
    seed: 1,
  });
  const fleet = new Fleet({ scenario, meterDevices: 'shared' });
  await fleet.build();
  const built: ChildBuilt = {
    ms: Math.round(performance.now() - t),
    rss: process.memoryUsage().rss,
    baseRss,
  };
  return {
    ready: built,
    handle: async ({ cmd }) => {
      if (cmd === 'start') {
        // Answered at once: the parent times the logins from here.
        fleet.start().catch((error: unknown) => {
          console.error(`fleet process: start failed: ${error instanceof Error ? error.message : error}`);
          process.exit(1);
        });
        return true;
      }
      if (cmd === 'stats') {
        const s = fleet.status();
        const stats: ChildStats = {
          rss: process.memoryUsage().rss,
          cpuMs: cpuMicros() / 1000,
          online: s.online,
          forwards: s.forwards,
        };
        return stats;
      }
      throw new Error(`unknown command ${cmd}`);
    },
    stop: () => fleet.stop(),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

serveBenchChild({ fleet: fleetRole });
