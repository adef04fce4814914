/**
 * `npm run bench -- forward [--seconds S] [--in-flight K] [--concentrators N] [--meters M]
 *   [--meter-devices per-meter|shared] [--warmup S] [--cpu-prof DIR]`
 *
 * What one AFN 10 F1 point-read costs the simulated fleet. The fleet (N concentrators × 1 port × M CJ/T 188
 * meters, wire timing off, turnaround 0) runs in a child process (`node --import tsx`); this process is a
 * minimal master station over real TCP on 127.0.0.1 (port 0): it confirms logins and heartbeats and keeps K
 * forwards in flight, each a CJ/T 188 read (901F) of a meter of the concentrator it is sent to, matched back by
 * concentrator and SEQ. After a warm-up it measures for S seconds:
 *  - forwards/s answered with the meter's reply, and p50/p99 latency at the master;
 *  - the fleet child's CPU (user + system, from `process.cpuUsage()` over IPC) per forward, in µs — the figure
 *    to watch: it is what the fleet spends per read whatever else shares the machine;
 *  - this process's CPU per forward, for comparison (the master here does little: no archive, no client API).
 * Prints a line of figures and, last, one JSON line.
 *
 * Bare sockets on purpose: the minimal master is a plain `node:net` server, so its own side costs as little as
 * possible and the figure is the fleet's.
 */
import { createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { hexToBytes } from '../protocols/bytes.ts';
import { buildReadRequest, CJT188_DI, decodeCjt188, encodeCjt188 } from '../protocols/cjt188/index.ts';
import { FrameAccumulator } from '../protocols/framer.ts';
import {
  AFN_CONFIRM,
  AFN_FORWARD,
  AFN_LINK_CHECK,
  buildForwardRequest,
  confirmFor,
  decodeGdw376,
  encodeGdw376,
  type Gdw376Frame,
} from '../protocols/gdw376/index.ts';
import { Fleet, type MeterDevices } from '../simulator/fleet/index.ts';
import { generateFleet } from '../simulator/scenario/index.ts';
import { BenchChild, type ChildRole, cpuMicros, serveBenchChild } from './child.ts';
import { readFlags, UsageError } from './flags.ts';
import { percentile, round } from './stats.ts';

interface BenchOptions {
  seconds: number;
  warmupSeconds: number;
  inFlight: number;
  concentrators: number;
  meters: number;
  meterDevices: MeterDevices;
  cpuProfDir: string | undefined;
}

interface ChildConfig {
  concentrators: number;
  meters: number;
  meterDevices: MeterDevices;
  host: string;
  port: number;
}

interface ChildStats {
  cpuUs: number;
  forwards: number;
}

/** A 376.1 SEQ is 4 bits: at most 16 forwards to one concentrator can be told apart. */
const SEQS = 16;
/** The whole run, logins included, is given up after this much beyond warm-up and measurement. */
const SLACK_MS = 120_000;

export async function main(args: string[]): Promise<void> {
  const o = parseArgs(args);
  console.log(
    `forward bench: ${o.concentrators} concentrators × ${o.meters} CJ/T 188 meters (${o.meterDevices}), ` +
      `wire timing off, turnaround 0; K = ${o.inFlight} in flight; warm-up ${o.warmupSeconds} s, ` +
      `measure ${o.seconds} s`,
  );
  const master = new MinimalMaster(o.concentrators);
  const port = await master.listen();
  const config: ChildConfig = {
    concentrators: o.concentrators,
    meters: o.meters,
    meterDevices: o.meterDevices,
    host: '127.0.0.1',
    port,
  };
  const child = new BenchChild(fileURLToPath(import.meta.url), 'fleet', config, {
    execArgv: o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir] : [],
  });
  const giveUp = setTimeout(
    () => {
      console.error('forward bench: giving up (took too long)');
      process.exit(1);
    },
    (o.seconds + o.warmupSeconds) * 1000 + SLACK_MS,
  );
  giveUp.unref();
  try {
    await child.ready;
    await master.allLoggedIn;

    const load = new ForwardLoad(master, o);
    const running = load.run();
    await sleep(o.warmupSeconds * 1000);
    const fleet0 = await child.request<ChildStats>('stats');
    const master0 = process.cpuUsage();
    load.record(true);
    const t0 = performance.now();
    await sleep(o.seconds * 1000);
    load.record(false);
    const fleet1 = await child.request<ChildStats>('stats');
    const masterCpu = process.cpuUsage(master0);
    const elapsedS = (performance.now() - t0) / 1000;
    load.stop();
    await running;

    const forwards = fleet1.forwards - fleet0.forwards;
    const results = {
      forwards,
      answered: load.latencies.length,
      errors: load.errors,
      forwardsPerSecond: round(load.latencies.length / elapsedS, 1),
      p50Ms: round(percentile(load.latencies, 50), 2),
      p99Ms: round(percentile(load.latencies, 99), 2),
      fleetCpuUsPerForward: round((fleet1.cpuUs - fleet0.cpuUs) / Math.max(1, forwards), 1),
      fleetCpuPct: round(((fleet1.cpuUs - fleet0.cpuUs) / 1e6 / elapsedS) * 100, 1),
      masterCpuUsPerForward: round(
        (masterCpu.user + masterCpu.system) / Math.max(1, load.latencies.length),
        1,
      ),
    };
    console.log(
      `${results.forwardsPerSecond} forwards/s (p50 ${results.p50Ms} ms, p99 ${results.p99Ms} ms, ` +
        `${results.errors} errors); fleet CPU ${results.fleetCpuUsPerForward} µs/forward ` +
        `(${results.fleetCpuPct}% of a core); master CPU ${results.masterCpuUsPerForward} µs/forward`,
    );
    console.log(JSON.stringify({ bench: 'forward', options: o, results }));
  } finally {
    clearTimeout(giveUp);
    await child.stop();
    master.close();
  }
}

function parseArgs(args: string[]): BenchOptions {
  const o: BenchOptions = {
    seconds: 5,
    warmupSeconds: 2,
    inFlight: 64,
    concentrators: 64,
    meters: 16,
    meterDevices: 'per-meter',
    cpuProfDir: undefined,
  };
  readFlags(args, (flag, value) => {
    if (flag === '--seconds') o.seconds = value.positive();
    else if (flag === '--warmup') o.warmupSeconds = value.positive();
    else if (flag === '--in-flight') o.inFlight = value.positive();
    else if (flag === '--concentrators') o.concentrators = value.positive();
    else if (flag === '--meters') o.meters = value.positive();
    else if (flag === '--cpu-prof') o.cpuProfDir = value.text();
    else if (flag === '--meter-devices') {
      const v = value.text();
      if (v !== 'per-meter' && v !== 'shared') throw new UsageError('--meter-devices is per-meter or shared');
      o.meterDevices = v;
    } else return false;
    return true;
  });
  if (!Number.isInteger(o.concentrators) || o.concentrators > 65535) {
    throw new UsageError('--concentrators must be a whole number 1..65535');
  }
  if (!Number.isInteger(o.meters) || o.meters > 999) throw new UsageError('--meters must be 1..999');
  // A concentrator's port queues at most 16 forwards behind the one on the wire, and SEQ tells 16 apart.
  if (!Number.isInteger(o.inFlight) || o.inFlight > o.concentrators * SEQS) {
    throw new UsageError(`--in-flight must be a whole number 1..${o.concentrators * SEQS}`);
  }
  return o;
}

/**
 * The least of a master station: accepts the concentrators' connections, confirms logins and heartbeats, sends
 * forwards and hands back the AFN 10 replies (or denies) by concentrator and SEQ.
 */
class MinimalMaster {
  readonly allLoggedIn: Promise<void>;
  readonly #server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
  readonly #sockets = new Map<number, Socket>();
  readonly #waiting = new Map<number, (answer: Gdw376Frame) => void>();
  readonly #expected: number;
  #loggedIn: () => void = () => undefined;

  constructor(concentrators: number) {
    this.#expected = concentrators;
    this.allLoggedIn = new Promise((resolve) => {
      this.#loggedIn = resolve;
    });
  }

  listen(): Promise<number> {
    return new Promise((resolve) => {
      this.#server.listen(0, '127.0.0.1', () => resolve((this.#server.address() as { port: number }).port));
    });
  }

  /** Sends `frame` to concentrator `a2`; resolves with its answer (same SEQ). */
  request(a2: number, frame: Gdw376Frame): Promise<Gdw376Frame> {
    const socket = this.#sockets.get(a2);
    if (!socket) return Promise.reject(new Error(`concentrator ${a2} is not connected`));
    return new Promise((resolve) => {
      this.#waiting.set(a2 * SEQS + frame.seq.seq, resolve);
      write(socket, frame);
    });
  }

  close(): void {
    for (const socket of this.#sockets.values()) socket.destroy();
    this.#server.close();
  }

  #accept(socket: Socket): void {
    const frames = new FrameAccumulator(decodeGdw376);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      for (const event of frames.push(chunk)) {
        if (event.kind === 'frame') this.#onFrame(socket, event.frame);
      }
    });
  }

  #onFrame(socket: Socket, frame: Gdw376Frame): void {
    if (frame.afn === AFN_LINK_CHECK && frame.control.prm) {
      const isLogin = frame.units[0]?.fn[0] === 1;
      write(socket, confirmFor(frame));
      if (isLogin && !this.#sockets.has(frame.a2)) {
        this.#sockets.set(frame.a2, socket);
        if (this.#sockets.size === this.#expected) this.#loggedIn();
      }
      return;
    }
    if (frame.afn === AFN_FORWARD || frame.afn === AFN_CONFIRM) {
      const key = frame.a2 * SEQS + frame.seq.seq;
      const resolve = this.#waiting.get(key);
      this.#waiting.delete(key);
      resolve?.(frame);
    }
  }
}

function write(socket: Socket, frame: Gdw376Frame): void {
  const bytes = encodeGdw376(frame);
  socket.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/**
 * K workers, each sending one forward at a time to its concentrator (worker w to concentrator w mod N + 1),
 * reading that concentrator's meters in turn. Latencies are kept only while recording.
 */
class ForwardLoad {
  readonly latencies: number[] = [];
  errors = 0;
  readonly #master: MinimalMaster;
  readonly #o: BenchOptions;
  /** Per concentrator: SEQs in use, so that two forwards in flight never share one. */
  readonly #busySeqs = new Map<number, Set<number>>();
  #recording = false;
  #stopped = false;

  constructor(master: MinimalMaster, o: BenchOptions) {
    this.#master = master;
    this.#o = o;
  }

  record(on: boolean): void {
    this.#recording = on;
  }

  stop(): void {
    this.#stopped = true;
  }

  async run(): Promise<void> {
    await Promise.all(Array.from({ length: this.#o.inFlight }, (_, w) => this.#worker(w)));
  }

  async #worker(w: number): Promise<void> {
    const { concentrators, meters } = this.#o;
    const c = (w % concentrators) + 1;
    // Workers sharing a concentrator start on different meters.
    for (let i = Math.floor(w / concentrators); !this.#stopped; i++) {
      const address = `${c}01${String((i % meters) + 1).padStart(3, '0')}`;
      const seq = this.#takeSeq(c);
      const request = buildForwardRequest({
        a1: '0001',
        a2: c,
        seq,
        port: 1,
        frameTimeout: { value: 2, unit: 's' },
        content: encodeCjt188(buildReadRequest(address, CJT188_DI.meterData)),
      });
      const t = performance.now();
      const answer = await this.#master.request(c, request);
      const ms = performance.now() - t;
      this.#busySeqs.get(c)?.delete(seq);
      if (!this.#recording) continue;
      if (isReadingOf(answer, address)) this.latencies.push(ms);
      else this.errors++;
    }
  }

  #takeSeq(c: number): number {
    let busy = this.#busySeqs.get(c);
    if (!busy) {
      busy = new Set();
      this.#busySeqs.set(c, busy);
    }
    for (let seq = 0; seq < SEQS; seq++) {
      if (!busy.has(seq)) {
        busy.add(seq);
        return seq;
      }
    }
    throw new Error(`more than ${SEQS} forwards in flight to concentrator ${c}`);
  }
}

/** True when `answer` is an AFN 10 F1 reply carrying a CJ/T 188 reply from meter `address`. */
function isReadingOf(answer: Gdw376Frame, address: string): boolean {
  const body = answer.afn === AFN_FORWARD ? answer.units[0]?.body : undefined;
  if (body?.kind !== 'forward-reply' || body.content.length === 0) return false;
  const decoded = decodeCjt188(hexToBytes(body.content));
  return (
    decoded.kind === 'frame' &&
    decoded.frame.direction === 'reply' &&
    decoded.frame.address === address.padStart(14, '0')
  );
}

/** The fleet, in the child process: started before it says it is ready. */
async function fleetRole(config: ChildConfig): Promise<ChildRole> {
  const generated = generateFleet({
    concentrators: config.concentrators,
    metersPerPort: config.meters,
    master: { host: config.host, port: config.port },
    wireTiming: false,
    seed: 1,
  });
  const scenario = {
    ...generated,
    concentrators: generated.concentrators.map((c) => ({
      ...c,
      ports: c.ports.map((p) => ({ ...p, turnaroundMs: 0 })),
    })),
  };
  const fleet = new Fleet({ scenario, meterDevices: config.meterDevices });
  await fleet.start();
  return {
    ready: true,
    handle: async ({ cmd }) => {
      if (cmd === 'stats')
        return { cpuUs: cpuMicros(), forwards: fleet.status().forwards } satisfies ChildStats;
      throw new Error(`unknown command ${cmd}`);
    },
    stop: () => fleet.stop(),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

serveBenchChild({ fleet: fleetRole });
