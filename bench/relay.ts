/**
 * `npm run bench -- relay [--seconds S] [--warmup W] [--clients 1,16,256] [--concentrators N] [--meters M]
 *   [--cpu-prof DIR]`
 *
 * Point-reads through the whole chain with zero wire delay: K WebSocket clients, each reading its own meters one
 * after another, through relay → master station → concentrator → meter and back, for S seconds per K. Baseline
 * in the same run: the same K clients sending the same message to a bare `ws` echo server, and the ratio.
 *
 * The parts run as a user runs them, in separate processes on 127.0.0.1 (2 cores here, so they share):
 *   this process      the master station (and, for the baseline, the echo server)
 *   relay child       the WebSocket relay
 *   fleet child       N concentrators × M CJ/T 188 meters on one port each, wire timing off, turnaround 0
 *   load child        the K clients (PointReadClient; raw `ws` sockets for the baseline)
 * Each process reports its CPU time, so every K also prints the CPU µs one read costs in each part — the
 * figures that say where a read's time goes. A second baseline, the "bare chain" (bare-chain.ts), passes the
 * same messages along the same hops in the same processes with no work between them: the most this chain could
 * reach on this machine if parsing, protocol work and simulation were free.
 */
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { type LatencySummary, PointReadClient, summariseLatency } from '../harness/client/index.ts';
import { archiveFromJson, MasterStation } from '../harness/master/index.ts';
import { Relay } from '../harness/relay/index.ts';
import { Fleet } from '../simulator/fleet/index.ts';
import { fleetSummary, generateFleet, type Scenario } from '../simulator/scenario/index.ts';
import { startBareFleet, startBareMaster, startBareRelay } from './bare-chain.ts';
import { BenchChild, type ChildRole, cpuMicros, serveBenchChild } from './child.ts';
import { readFlags, UsageError } from './flags.ts';
import { round } from './stats.ts';

interface Target {
  concentrator: string;
  meter: string;
}

interface LoadResult {
  reads: number;
  errors: number;
  firstError?: string;
  seconds: number;
  latency: LatencySummary;
  cpuMicros: number;
}

function benchScenario(
  concentrators: number,
  meters: number,
  master: { host: string; port: number },
): Scenario {
  const s = generateFleet({ concentrators, metersPerPort: meters, master, wireTiming: false });
  return {
    ...s,
    concentrators: s.concentrators.map((c) => ({
      ...c,
      ports: c.ports.map((p) => ({ ...p, turnaroundMs: 0 })),
    })),
  };
}

function targetsOf(scenario: Scenario): Target[] {
  return fleetSummary(scenario).concentrators.flatMap((c) =>
    c.ports.flatMap((p) => p.meters.map((m) => ({ concentrator: c.alias ?? c.id, meter: m.address }))),
  );
}

export async function main(args: string[]): Promise<void> {
  let seconds = 3;
  let ks = [1, 16, 256];
  let concentrators = 64;
  let meters = 16;
  let cpuProfDir: string | undefined;
  let warmupSeconds = 8;
  readFlags(args, (flag, value) => {
    if (flag === '--seconds') seconds = value.positive();
    else if (flag === '--warmup') warmupSeconds = Number(value.text());
    else if (flag === '--clients') ks = value.text().split(',').map(Number);
    else if (flag === '--concentrators') concentrators = value.positive();
    else if (flag === '--meters') meters = value.positive();
    else if (flag === '--cpu-prof') cpuProfDir = value.text();
    else return false;
    return true;
  });
  if (!(warmupSeconds >= 0)) throw new UsageError('--warmup must be 0 or more seconds');
  if (ks.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new UsageError('--clients must be whole numbers of 1 or more, comma-separated');
  }
  const self = fileURLToPath(import.meta.url);

  const planned = benchScenario(concentrators, meters, { host: '127.0.0.1', port: 0 });
  const master = new MasterStation({
    listen: { host: '127.0.0.1', port: 0 },
    api: { host: '127.0.0.1', port: 0 },
    archive: archiveFromJson(fleetSummary(planned), planned.name),
  });
  const { listen, api } = await master.start();
  let logins = 0;
  const allIn = new Promise<void>((resolve) =>
    master.on('login', () => {
      if (++logins === concentrators) resolve();
    }),
  );
  const children: BenchChild[] = [];
  try {
    // With --cpu-prof DIR each child writes its CPU profile there (this process: run node with --cpu-prof).
    const execArgv = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [];
    const fleet = new BenchChild(self, 'fleet', { concentrators, meters, master: listen.port }, { execArgv });
    children.push(fleet);
    const relay = new BenchChild(self, 'relay', { master: api?.port }, { execArgv });
    children.push(relay);
    const load = new BenchChild(self, 'load', {}, { execArgv });
    children.push(load);
    const [relayUrl] = (await Promise.all([relay.ready, fleet.ready, load.ready])) as [
      string,
      unknown,
      unknown,
    ];
    await allIn;
    const targets = targetsOf(planned);

    // Warm-up: every meter once (JIT, sockets, sessions), and a check that the chain answers.
    const warm = await load.request<LoadResult>('read-all', { url: relayUrl, targets });
    if (warm.errors > 0) throw new Error(`warm-up: ${warm.errors} reads failed, first: ${warm.firstError}`);
    // Then load at the largest K until V8 has optimised the hot paths: in the first seconds its compiler
    // takes a large share of every process's CPU, which would be counted against the first K measured.
    if (warmupSeconds > 0) {
      await load.request<LoadResult>('read', {
        url: relayUrl,
        k: Math.max(...ks),
        seconds: warmupSeconds,
        targets,
      });
    }
    console.log(
      `chain up: relay, master, fleet (${targets.length} meters behind ${concentrators} concentrators) and ` +
        `clients in 4 processes; warm-up: every meter read once, then ${warmupSeconds} s at K=${Math.max(...ks)}`,
    );

    const echo = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    echo.on('connection', (ws) => ws.on('message', (m) => ws.send(m)));
    await new Promise((r) => echo.once('listening', r));
    const echoUrl = `ws://127.0.0.1:${(echo.address() as { port: number }).port}`;

    // The second baseline: the same hops and processes passing messages along with no work between them.
    const bareMaster = await startBareMaster();
    await fleet.request('bare-start', { master: bareMaster.fleetPort });
    await bareMaster.fleetIn(concentrators);
    const bareUrl = await relay.request<string>('bare-start', { master: bareMaster.relayPort });

    const cpuOf = async () => ({
      master: cpuMicros(),
      relay: await relay.request<number>('cpu'),
      fleet: await fleet.request<number>('cpu'),
    });
    const results = [];
    for (const k of ks) {
      const before = await cpuOf();
      const chain = await load.request<LoadResult>('read', { url: relayUrl, k, seconds, targets });
      const after = await cpuOf();
      const perRead = (micros: number) => round(micros / Math.max(1, chain.reads), 1);
      const cpu = {
        clients: perRead(chain.cpuMicros),
        relay: perRead(after.relay - before.relay),
        master: perRead(after.master - before.master),
        fleet: perRead(after.fleet - before.fleet),
      };
      const bareBefore = await cpuOf();
      const bare = await load.request<LoadResult>('echo', { url: bareUrl, k, seconds });
      const bareAfter = await cpuOf();
      const barePerRead = (micros: number) => round(micros / Math.max(1, bare.reads), 1);
      const bareCpu = {
        clients: barePerRead(bare.cpuMicros),
        relay: barePerRead(bareAfter.relay - bareBefore.relay),
        master: barePerRead(bareAfter.master - bareBefore.master),
        fleet: barePerRead(bareAfter.fleet - bareBefore.fleet),
      };
      const echoCpu0 = cpuMicros();
      const baseline = await load.request<LoadResult>('echo', { url: echoUrl, k, seconds });
      const echoServerCpu = cpuMicros() - echoCpu0;
      const row = {
        clients: k,
        chain: summary(chain),
        cpuMicrosPerRead: { ...cpu, total: round(cpu.clients + cpu.relay + cpu.master + cpu.fleet, 1) },
        bareChain: {
          ...summary(bare),
          cpuMicrosPerRead: {
            ...bareCpu,
            total: round(bareCpu.clients + bareCpu.relay + bareCpu.master + bareCpu.fleet, 1),
          },
        },
        baseline: {
          ...summary(baseline),
          cpuMicrosPerMessage: {
            clients: round(baseline.cpuMicros / Math.max(1, baseline.reads), 1),
            server: round(echoServerCpu / Math.max(1, baseline.reads), 1),
          },
        },
        ratio: round(summary(baseline).readsPerSec / Math.max(1, summary(chain).readsPerSec), 1),
      };
      console.log(
        `K=${k}: chain ${row.chain.readsPerSec} reads/s (p50 ${row.chain.p50} ms, p99 ${row.chain.p99} ms, ` +
          `${chain.errors} errors${chain.firstError ? `, first: ${chain.firstError}` : ''}); CPU µs/read: ` +
          `clients ${cpu.clients}, relay ${cpu.relay}, master ${cpu.master}, fleet ${cpu.fleet} ` +
          `(total ${row.cpuMicrosPerRead.total}); ws echo ${row.baseline.readsPerSec}/s ` +
          `(p50 ${row.baseline.p50} ms); echo is ${row.ratio}× faster; bare chain (same hops, no work) ` +
          `${row.bareChain.readsPerSec}/s at ${row.bareChain.cpuMicrosPerRead.total} µs CPU/read`,
      );
      results.push(row);
    }
    await new Promise((r) => echo.close(r));
    bareMaster.close();
    console.log(
      JSON.stringify({
        bench: 'relay',
        seconds,
        warmupSeconds,
        concentrators,
        meters: targets.length,
        processes: ['master', 'relay', 'fleet', 'clients'],
        results,
      }),
    );
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await master.stop();
  }
}

function summary(r: LoadResult) {
  return {
    readsPerSec: Math.round(r.reads / r.seconds),
    p50: round(r.latency.p50),
    p99: round(r.latency.p99),
    errors: r.errors,
  };
}

// ---- the child processes ----

async function fleetRole(config: {
  concentrators: number;
  meters: number;
  master: number;
}): Promise<ChildRole> {
  const fleet = new Fleet({
    scenario: benchScenario(config.concentrators, config.meters, { host: '127.0.0.1', port: config.master }),
  });
  await fleet.start();
  let stopBare = () => {};
  return {
    ready: fleet.status().concentrators,
    handle: async ({ cmd, master }) => {
      if (cmd === 'cpu') return cpuMicros();
      if (cmd === 'bare-start') {
        stopBare = await startBareFleet(master as number, config.concentrators);
        return true;
      }
      throw new Error(`unknown command ${cmd}`);
    },
    stop: async () => {
      stopBare();
      await fleet.stop();
    },
  };
}

async function relayRole(config: { master: number }): Promise<ChildRole> {
  const relay = new Relay({
    host: '127.0.0.1',
    port: 0,
    master: { host: '127.0.0.1', port: config.master },
    // The bench measures what a read costs, not the per-client rate limit (2,000 messages/s), which one client
    // reading back to back (K = 1) would reach on a machine faster than the one in docs/performance.md.
    maxMessagesPerSecond: 0,
  });
  const { url } = await relay.start();
  let bare: { url: string; close(): void } | undefined;
  return {
    ready: url,
    handle: async ({ cmd, master }) => {
      if (cmd === 'cpu') return cpuMicros();
      if (cmd === 'bare-start') {
        bare = await startBareRelay(master as number);
        return bare.url;
      }
      throw new Error(`unknown command ${cmd}`);
    },
    stop: async () => {
      bare?.close();
      await relay.stop();
    },
  };
}

async function loadRole(): Promise<ChildRole> {
  return {
    ready: true,
    handle: async (request) => {
      const { cmd, url } = request as { cmd: string; url: string };
      if (cmd === 'read-all') {
        const targets = request.targets as Target[];
        return readLoad(url, 64, 0, (c, i) =>
          c + i * 64 < targets.length ? targets[c + i * 64] : undefined,
        );
      }
      const { k, seconds } = request as unknown as { k: number; seconds: number };
      if (cmd === 'read') {
        const targets = request.targets as Target[];
        // Client c reads meters c, c+K, c+2K … so no two clients share a field read.
        return readLoad(url, k, seconds, (c, i) => targets[(c + i * k) % targets.length]);
      }
      if (cmd === 'echo') return echoLoad(url, k, seconds);
      throw new Error(`unknown command ${cmd}`);
    },
    stop: async () => {},
  };
}

/** K clients, each reading `next(client, i)` one after another, for `seconds` (0: until `next` runs out). */
async function readLoad(
  url: string,
  k: number,
  seconds: number,
  next: (client: number, i: number) => Target | undefined,
): Promise<LoadResult> {
  const clients = await Promise.all(
    Array.from({ length: k }, async () => {
      const c = new PointReadClient({ url, reconnect: false, timeoutMs: 30_000 });
      await c.connect();
      return c;
    }),
  );
  const result = await timedLoop(k, seconds, async (c, i) => {
    const target = next(c, i);
    if (!target) return false;
    await clients[c].read(target.concentrator, target.meter);
    return true;
  });
  await Promise.all(clients.map((c) => c.close()));
  return result;
}

async function echoLoad(url: string, k: number, seconds: number): Promise<LoadResult> {
  const sockets = await Promise.all(
    Array.from(
      { length: k },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(url);
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        }),
    ),
  );
  const result = await timedLoop(
    k,
    seconds,
    (c, i) =>
      new Promise<boolean>((resolve) => {
        sockets[c].once('message', () => resolve(true));
        sockets[c].send(
          JSON.stringify({ type: 'read', id: String(i), concentrator: '101', meter: '101001' }),
        );
      }),
  );
  for (const ws of sockets) ws.close();
  return result;
}

/** Runs K loops of `once` until `seconds` have passed or `once` says there is no more work. */
async function timedLoop(
  k: number,
  seconds: number,
  once: (client: number, i: number) => Promise<boolean>,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const cpu0 = cpuMicros();
  const start = performance.now();
  const end = seconds > 0 ? start + seconds * 1000 : Number.POSITIVE_INFINITY;
  await Promise.all(
    Array.from({ length: k }, async (_, c) => {
      for (let i = 0; performance.now() < end; i++) {
        const t = performance.now();
        try {
          if (!(await once(c, i))) return;
          latencies.push(performance.now() - t);
        } catch (error) {
          errors++;
          firstError ??= error instanceof Error ? error.message : String(error);
        }
      }
    }),
  );
  return {
    reads: latencies.length,
    errors,
    firstError,
    seconds: (performance.now() - start) / 1000,
    latency: summariseLatency(latencies),
    cpuMicros: cpuMicros() - cpu0,
  };
}

serveBenchChild({ fleet: fleetRole, relay: relayRole, load: loadRole });
