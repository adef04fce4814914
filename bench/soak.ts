/**
 * `npm run soak [-- --attack-seconds 3] [--junk-mbps 4] [--quiet-seconds 5] [--rate 20] [--grace 30] [--login-policy keep]
 *   [--read-policy archived]
 *   [--attacks junk,logins,...] [--concentrators 4] [--meters 8]`
 *
 * Issue 13's proof: the whole chain under each attack it lists, one after another, while a steady stream of
 * legitimate reads goes on, and what each attack did to those reads. Processes, all on 127.0.0.1:
 *   this process     the legitimate reads: one WebSocket client sending `--rate` reads/s round-robin over every
 *                    meter, plus once a second a fresh client that connects, reads one meter and leaves
 *   master child     `MasterStation` with the fleet as its archive, `--login-policy` (default keep) and
 *                    `--read-policy` (default archived: the settings for a master untrusted clients can reach)
 *   relay child      `Relay` connected to the master's client API
 *   fleet child      N concentrators × M CJ/T 188 meters, wire timing off
 *   attacker child   runs one attack at a time for `--attack-seconds`, then cleans up after itself
 * First a quiet phase (no attack) gives the quiet p99; then per attack: the legitimate reads sent while it ran,
 * how many were answered (reading or error), lost (no answer within `--grace` s after the attack), answered more
 * than once, or answered with a forged value; their p99 against the quiet p99; fresh clients that could not
 * read; the RSS and live heap of master, relay and fleet before the attack and after it (after a GC). Prints a table and one
 * JSON line. It stops by itself and never passes or fails: the table shows what it shows.
 *
 * Bare sockets on purpose: the attacker writes junk, floods logins and holds idle connections with plain
 * `node:net` sockets, as a hostile peer would; none of it should pass through meterlab's own Links.
 */
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import hdr from 'hdr-histogram-js';
import { WebSocket } from 'ws';
import {
  archiveFromJson,
  type LoginPolicy,
  MasterStation,
  READ_POLICIES,
  type ReadPolicy,
} from '../harness/master/index.ts';
import { FakeConcentrator } from '../harness/master/testing/fake-concentrator.ts';
import { Relay } from '../harness/relay/index.ts';
import { buildWaterReadReply, decodeCjt188Frame, encodeCjt188 } from '../protocols/cjt188/index.ts';
import { FrameAccumulator } from '../protocols/framer.ts';
import { buildLogin, decodeGdw376, encodeGdw376, type Gdw376Frame } from '../protocols/gdw376/index.ts';
import { Fleet } from '../simulator/fleet/index.ts';
import { fleetSummary, generateFleet, type Scenario } from '../simulator/scenario/index.ts';
import { BenchChild, type ChildRole, serveBenchChild } from './child.ts';
import { readFlags, UsageError } from './flags.ts';
import { round } from './stats.ts';

/** The value a forger answers with: a legitimate read that returns it was fooled. */
const FORGED_VALUE = 999_999;

const ATTACKS = [
  'junk',
  'logins',
  'takeover',
  'api-idle',
  'ws-idle',
  'upgrades',
  'slow-reader',
  'ws-flood',
] as const;
type AttackName = (typeof ATTACKS)[number];

const ATTACK_TEXT: Record<AttackName, string> = {
  junk: '0x68 junk on the concentrator port',
  logins: '10,000 logins on one connection',
  takeover: 'login takeover (forged readings)',
  'api-idle': '255 idle client-API sockets',
  'ws-idle': '1,000 idle WebSocket clients',
  upgrades: 'unfinished HTTP upgrades',
  'slow-reader': 'a slow reader',
  'ws-flood': 'WS client flooding absent meters',
};

interface SoakOptions {
  attackSeconds: number;
  junkMBps: number;
  quietSeconds: number;
  rate: number;
  graceSeconds: number;
  loginPolicy: LoginPolicy;
  readPolicy: ReadPolicy;
  attacks: AttackName[];
  concentrators: number;
  meters: number;
}

interface Target {
  concentrator: string;
  meter: string;
}

interface Addresses {
  listen: number;
  api: number;
  relayUrl: string;
  relayPort: number;
}

function soakScenario(o: { concentrators: number; meters: number; master: number }): Scenario {
  const s = generateFleet({
    concentrators: o.concentrators,
    metersPerPort: o.meters,
    master: { host: '127.0.0.1', port: o.master },
    wireTiming: false,
  });
  return {
    ...s,
    concentrators: s.concentrators.map((c) => ({
      ...c,
      ports: c.ports.map((p) => ({ ...p, turnaroundMs: 0 })),
    })),
  };
}

export async function main(args: string[]): Promise<void> {
  const o: SoakOptions = {
    attackSeconds: 3,
    junkMBps: 4,
    quietSeconds: 5,
    rate: 20,
    graceSeconds: 30,
    loginPolicy: 'keep',
    readPolicy: 'archived',
    attacks: [...ATTACKS],
    concentrators: 4,
    meters: 8,
  };
  readFlags(args, (flag, value) => {
    if (flag === '--attack-seconds') o.attackSeconds = value.positive();
    else if (flag === '--junk-mbps') o.junkMBps = value.positive();
    else if (flag === '--quiet-seconds') o.quietSeconds = value.positive();
    else if (flag === '--rate') o.rate = value.positive();
    else if (flag === '--grace') o.graceSeconds = value.positive();
    else if (flag === '--concentrators') o.concentrators = Math.round(value.positive());
    else if (flag === '--meters') o.meters = Math.round(value.positive());
    else if (flag === '--login-policy') {
      const policy = value.text();
      if (policy !== 'replace' && policy !== 'keep' && policy !== 'archive') {
        throw new UsageError('--login-policy must be replace, keep or archive');
      }
      o.loginPolicy = policy;
    } else if (flag === '--read-policy') {
      const policy = value.text();
      if (!(READ_POLICIES as readonly string[]).includes(policy)) {
        throw new UsageError(`--read-policy must be ${READ_POLICIES.join(' or ')}`);
      }
      o.readPolicy = policy as ReadPolicy;
    } else if (flag === '--attacks') {
      const names = value.text().split(',');
      for (const n of names) {
        if (!(ATTACKS as readonly string[]).includes(n)) {
          throw new UsageError(`--attacks: "${n}" is not one of ${ATTACKS.join(', ')}`);
        }
      }
      o.attacks = names as AttackName[];
    } else return false;
    return true;
  });

  const self = fileURLToPath(import.meta.url);
  const children: BenchChild[] = [];
  const child = (role: string, config: unknown) => {
    const c = new BenchChild(self, role, config, { execArgv: ['--expose-gc'] });
    children.push(c);
    return c;
  };
  const legit = new LegitReads();
  try {
    const master = child('master', { ...o });
    const ports = (await master.ready) as { listen: number; api: number };
    const fleet = child('fleet', { ...o, master: ports.listen });
    const relay = child('relay', { master: ports.api });
    const attacker = child('attacker', {});
    const [relayUrl] = (await Promise.all([relay.ready, fleet.ready, attacker.ready])) as [
      string,
      unknown,
      unknown,
    ];
    const addresses: Addresses = {
      ...ports,
      relayUrl,
      relayPort: Number(new URL(relayUrl).port),
    };
    await until(async () => (await master.request<number>('online')) === o.concentrators, 20_000);
    const planned = soakScenario({ ...o, master: 0 });
    const targets: Target[] = fleetSummary(planned).concentrators.flatMap((c) =>
      c.ports.flatMap((p) => p.meters.map((m) => ({ concentrator: c.alias ?? c.id, meter: m.address }))),
    );
    const victim = planned.concentrators[0];
    console.log(
      `soak: master (login policy ${o.loginPolicy}, read policy ${o.readPolicy}), relay, fleet (${targets.length} meters behind ` +
        `${o.concentrators} concentrators) and an attacker in 4 processes; ${o.rate} legitimate reads/s; ` +
        `${o.quietSeconds} s quiet, then ${o.attackSeconds} s per attack, up to ${o.graceSeconds} s to drain`,
    );
    await legit.start(relayUrl, targets, o.rate);
    const rssOf = async () => ({
      master: await master.request<Memory>('rss'),
      relay: await relay.request<Memory>('rss'),
      fleet: await fleet.request<Memory>('rss'),
    });

    // Warm-up (JIT, sessions), not counted; then the quiet phase that every attack is compared with.
    legit.phase = 'warm-up';
    await sleep(2000);
    await legit.settle('warm-up', o.graceSeconds);
    legit.phase = 'quiet';
    await sleep(o.quietSeconds * 1000);
    legit.phase = 'between';
    await legit.settle('quiet', o.graceSeconds);
    const quiet = legit.stats('quiet');

    const rows: Row[] = [];
    for (const name of o.attacks) {
      const rssBefore = await rssOf();
      const logBefore = await master.request<Record<string, number>>('log');
      legit.phase = name;
      const outcome = await attacker.request<AttackOutcome>('attack', {
        name,
        seconds: o.attackSeconds,
        junkMBps: o.junkMBps,
        addresses,
        victim: { a1: victim.a1, a2: victim.a2, alias: victim.alias },
      });
      legit.phase = 'between';
      await legit.settle(name, o.graceSeconds);
      await sleep(500);
      const rssAfter = await rssOf();
      const logAfter = await master.request<Record<string, number>>('log');
      const masterLogLines = Object.entries(logAfter).reduce((n, [k, v]) => n + v - (logBefore[k] ?? 0), 0);
      const row: Row = { attack: name, ...legit.stats(name), outcome, rssBefore, rssAfter, masterLogLines };
      rows.push(row);
      console.log(formatRow(row, quiet.p99));
    }
    legit.stop();
    printTable(rows, quiet);
    console.log(
      JSON.stringify({
        bench: 'soak',
        options: o,
        quiet,
        rows: rows.map((r) => ({ ...r, p99VsQuiet: ratio(r.p99, quiet.p99) })),
      }),
    );
  } finally {
    legit.stop();
    await Promise.all(children.map((c) => c.stop()));
  }
}

// ---- the legitimate reads ----

interface PhaseStats {
  sent: number;
  answered: number;
  readings: number;
  errors: number;
  errorCodes: Record<string, number>;
  lost: number;
  twice: number;
  forged: number;
  p99: number;
  fresh: { ok: number; failed: number };
}

interface TrackedRead {
  phase: string;
  sentAt: number;
  answers: number;
  latencyMs?: number;
  code?: string;
  value?: number;
}

/** One steady client plus a fresh client per second, every read tracked by id. */
class LegitReads {
  phase = 'idle';
  readonly #reads = new Map<string, TrackedRead>();
  readonly #fresh = new Map<string, { ok: number; failed: number }>();
  #ws: WebSocket | undefined;
  #timers: NodeJS.Timeout[] = [];
  #next = 0;
  #stopped = false;
  #url = '';

  async start(url: string, targets: Target[], rate: number): Promise<void> {
    this.#url = url;
    await this.#connect();
    this.#timers.push(
      setInterval(() => {
        const ws = this.#ws;
        const target = targets[this.#next % targets.length];
        const id = `legit-${this.#next++}`;
        this.#reads.set(id, { phase: this.phase, sentAt: performance.now(), answers: 0 });
        if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'read', id, ...target }));
        // else: never answered, counted as lost (the client lost its connection)
      }, 1000 / rate),
      setInterval(() => void this.#freshRead(targets[this.#next % targets.length]), 1000),
    );
  }

  /** Waits until every read sent in `phase` has an answer, or `graceSeconds` pass. */
  async settle(phase: string, graceSeconds: number): Promise<void> {
    const deadline = performance.now() + graceSeconds * 1000;
    while (performance.now() < deadline) {
      const open = [...this.#reads.values()].some((r) => r.phase === phase && r.answers === 0);
      if (!open) return;
      await sleep(50);
    }
  }

  stats(phase: string): PhaseStats {
    const h = hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 3_600_000,
      numberOfSignificantValueDigits: 3,
    });
    const s: PhaseStats = {
      sent: 0,
      answered: 0,
      readings: 0,
      errors: 0,
      errorCodes: {},
      lost: 0,
      twice: 0,
      forged: 0,
      p99: Number.NaN,
      fresh: this.#fresh.get(phase) ?? { ok: 0, failed: 0 },
    };
    for (const r of this.#reads.values()) {
      if (r.phase !== phase) continue;
      s.sent++;
      if (r.answers === 0) {
        s.lost++;
        continue;
      }
      s.answered++;
      if (r.answers > 1) s.twice++;
      if (r.code) {
        s.errors++;
        s.errorCodes[r.code] = (s.errorCodes[r.code] ?? 0) + 1;
      } else s.readings++;
      if (r.value === FORGED_VALUE) s.forged++;
      h.recordValue(Math.max(1, Math.round(r.latencyMs ?? 0)));
    }
    if (s.answered > 0) s.p99 = h.getValueAtPercentile(99);
    h.destroy();
    return s;
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.#ws?.terminate();
  }

  async #connect(): Promise<void> {
    const ws = new WebSocket(this.#url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('error', () => {});
    ws.on('message', (data) => this.#onAnswer(String(data)));
    ws.on('close', () => {
      if (this.#stopped) return;
      // Reads in flight on this connection are lost; the stream goes on over a new one.
      setTimeout(() => void this.#connect().catch(() => {}), 100);
    });
    this.#ws = ws;
  }

  #onAnswer(text: string): void {
    let msg: { id?: string; type?: string; code?: string; value?: number };
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    const read = msg.id === undefined ? undefined : this.#reads.get(msg.id);
    if (!read) return;
    read.answers++;
    if (read.answers > 1) return;
    read.latencyMs = performance.now() - read.sentAt;
    if (msg.type === 'reading') read.value = msg.value;
    else read.code = msg.code ?? String(msg.type);
  }

  async #freshRead(target: Target): Promise<void> {
    const phase = this.phase;
    const tally = this.#fresh.get(phase) ?? { ok: 0, failed: 0 };
    this.#fresh.set(phase, tally);
    const ws = new WebSocket(this.#url);
    ws.on('error', () => {});
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      ws.once('open', () => ws.send(JSON.stringify({ type: 'read', id: 'fresh', ...target })));
      ws.once('message', (data) => {
        clearTimeout(timer);
        resolve(String(data).includes('"reading"'));
      });
      ws.once('close', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    ws.terminate();
    if (ok) tally.ok++;
    else tally.failed++;
  }
}

// ---- the table ----

/** Resident set and live heap (bytes, after a GC) of one process. */
interface Memory {
  rss: number;
  heap: number;
}

interface Rss {
  master: Memory;
  relay: Memory;
  fleet: Memory;
}

type AttackOutcome = Record<string, number | string>;

interface Row extends PhaseStats {
  attack: AttackName;
  outcome: AttackOutcome;
  rssBefore: Rss;
  rssAfter: Rss;
  /** Lines the master logged during the attack and its drain (throttled: one per kind per 10 s, plus "… N more"). */
  masterLogLines: number;
}

const mb = (bytes: number) => `${Math.round(bytes / 1e6)}`;
const memoryCell = (before: Memory, after: Memory) =>
  `${mb(before.rss)}→${mb(after.rss)} (${mb(before.heap)}→${mb(after.heap)})`;
const ratio = (a: number, b: number) => (Number.isFinite(a) && b > 0 ? round(a / b, 1) : Number.NaN);

function formatRow(r: Row, quietP99: number): string {
  const codes = Object.entries(r.errorCodes)
    .map(([c, n]) => `${c}×${n}`)
    .join(' ');
  const outcome = Object.entries(r.outcome)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return (
    `${r.attack}: ${r.sent} legitimate reads, ${r.answered} answered (${r.errors} errors${codes ? `: ${codes}` : ''}), ` +
    `${r.lost} lost, ${r.twice} twice, ${r.forged} forged; p99 ${r.p99} ms (${ratio(r.p99, quietP99)}× quiet); ` +
    `fresh clients ${r.fresh.ok} ok / ${r.fresh.failed} failed; ${r.masterLogLines} master log lines; attack: ${outcome}`
  );
}

function printTable(rows: Row[], quiet: PhaseStats): void {
  const header = [
    'attack',
    'sent',
    'answered',
    'errors',
    'lost',
    'twice',
    'forged',
    'p99 ms',
    '× quiet',
    'fresh ok/fail',
    'master log',
    'RSS MB (heap) master',
    'relay',
    'fleet',
  ];
  const lines = [
    [
      'quiet (no attack)',
      quiet.sent,
      quiet.answered,
      quiet.errors,
      quiet.lost,
      quiet.twice,
      quiet.forged,
      quiet.p99,
      1,
      `${quiet.fresh.ok}/${quiet.fresh.failed}`,
      '',
      '',
      '',
      '',
    ],
    ...rows.map((r) => [
      ATTACK_TEXT[r.attack],
      r.sent,
      r.answered,
      r.errors,
      r.lost,
      r.twice,
      r.forged,
      r.p99,
      ratio(r.p99, quiet.p99),
      `${r.fresh.ok}/${r.fresh.failed}`,
      r.masterLogLines,
      memoryCell(r.rssBefore.master, r.rssAfter.master),
      memoryCell(r.rssBefore.relay, r.rssAfter.relay),
      memoryCell(r.rssBefore.fleet, r.rssAfter.fleet),
    ]),
  ].map((cells) => cells.map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log('');
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(fmt(l));
  console.log('');
}

// ---- the child processes ----

/**
 * RSS and the live heap after a GC. The heap tells a leak (it grows attack after attack) from the allocator
 * keeping pages it used under load (RSS up, heap back where it was).
 */
function rss(): Memory {
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heap: heapUsed };
}

async function masterRole(config: SoakOptions): Promise<ChildRole> {
  const planned = soakScenario({ ...config, master: 0 });
  const logged = new Map<string, number>();
  const master = new MasterStation({
    listen: { host: '127.0.0.1', port: 0 },
    api: { host: '127.0.0.1', port: 0 },
    archive: archiveFromJson(fleetSummary(planned), planned.name),
    loginPolicy: config.loginPolicy,
    readPolicy: config.readPolicy,
    log: (entry) => logged.set(entry.event, (logged.get(entry.event) ?? 0) + 1),
  });
  const { listen, api } = await master.start();
  return {
    ready: { listen: listen.port, api: api!.port },
    handle: async ({ cmd }) => {
      if (cmd === 'rss') return rss();
      if (cmd === 'online') return master.sessions().filter((s) => s.state === 'online').length;
      if (cmd === 'log') return Object.fromEntries(logged);
      throw new Error(`unknown command ${cmd}`);
    },
    stop: () => master.stop(),
  };
}

async function fleetRole(config: SoakOptions & { master: number }): Promise<ChildRole> {
  const fleet = new Fleet({ scenario: soakScenario(config) });
  await fleet.start();
  return {
    ready: fleet.status().concentrators,
    handle: async ({ cmd }) => {
      if (cmd === 'rss') return rss();
      throw new Error(`unknown command ${cmd}`);
    },
    stop: () => fleet.stop(),
  };
}

async function relayRole(config: { master: number }): Promise<ChildRole> {
  const relay = new Relay({ host: '127.0.0.1', port: 0, master: { host: '127.0.0.1', port: config.master } });
  const { url } = await relay.start();
  return {
    ready: url,
    handle: async ({ cmd }) => {
      if (cmd === 'rss') return rss();
      throw new Error(`unknown command ${cmd}`);
    },
    stop: () => relay.stop(),
  };
}

interface AttackRequest {
  name: AttackName;
  /** Junk rate of the `junk` attack, MB/s. */
  junkMBps: number;
  seconds: number;
  addresses: Addresses;
  victim: { a1: string; a2: number; alias?: string };
}

async function attackerRole(): Promise<ChildRole> {
  return {
    ready: true,
    handle: async (request) => {
      if (request.cmd !== 'attack') throw new Error(`unknown command ${request.cmd}`);
      const r = request as unknown as AttackRequest;
      const deadline = performance.now() + r.seconds * 1000;
      return ATTACK_RUNNERS[r.name](r, deadline);
    },
    stop: async () => {},
  };
}

const ATTACK_RUNNERS: Record<AttackName, (r: AttackRequest, deadline: number) => Promise<AttackOutcome>> = {
  /** Runs of 68H, the worst case for a 376.1 framer, as fast as the socket takes them; reconnects when closed. */
  async junk(r, deadline) {
    const chunk = Buffer.alloc(65_536, 0x68);
    let bytes = 0;
    let closedByMaster = 0;
    while (performance.now() < deadline) {
      const socket = await tcp(r.addresses.listen);
      if (!socket) break;
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      let open = true;
      void closed.then(() => {
        open = false;
      });
      while (open && performance.now() < deadline) {
        bytes += chunk.length;
        const written = socket.write(chunk);
        // Paced at --junk-mbps (the issue's figure was a steady 256 KB/s); as fast as the socket takes it would
        // measure the attacker's own CPU on a 2-core machine more than the master.
        await Promise.race([
          Promise.all([
            written ? undefined : once(socket, 'drain'),
            sleep((chunk.length / (r.junkMBps * 1e6)) * 1000),
          ]),
          closed,
        ]);
      }
      if (open) socket.destroy();
      else closedByMaster++;
    }
    return { 'MB sent': round(bytes / 1e6, 1), 'connections closed by master': closedByMaster };
  },

  /** 10,000 logins with different addresses on one connection, again on a new one whenever it closes. */
  async logins(r, deadline) {
    const burst = Buffer.concat(
      Array.from({ length: 10_000 }, (_, i) =>
        encodeGdw376(buildLogin({ a1: '0999', a2: i + 1, seq: i & 15 })),
      ),
    );
    let connections = 0;
    let confirms = 0;
    let denies = 0;
    while (performance.now() < deadline) {
      const socket = await tcp(r.addresses.listen);
      if (!socket) break;
      connections++;
      const frames = new FrameAccumulator(decodeGdw376, { maxBufferedBytes: 4096 });
      socket.on('data', (d: Buffer) => {
        for (const e of frames.push(d)) {
          if (e.kind !== 'frame' || e.frame.afn !== 0x00) continue;
          if (e.frame.units[0]?.fn[0] === 1) confirms++;
          else denies++;
        }
      });
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write(burst);
      await Promise.race([closed, sleep(Math.max(0, Math.min(1000, deadline - performance.now())))]);
      socket.destroy();
    }
    return { connections, 'logins confirmed': confirms, denied: denies };
  },

  /** A forger logs in with the first concentrator's address and answers every forward with a forged value. */
  async takeover(r, deadline) {
    let confirmed = 0;
    let denied = 0;
    let forwards = 0;
    const forgers: FakeConcentrator[] = [];
    while (performance.now() < deadline) {
      const forger = await FakeConcentrator.connect(r.addresses.listen, r.victim.a1, r.victim.a2).catch(
        () => undefined,
      );
      if (!forger) break;
      forgers.push(forger);
      forger.meterReply = (request) =>
        encodeCjt188(buildWaterReadReply(decodeCjt188Frame(request), { current: FORGED_VALUE, time: null }));
      forger.on('frame', (f: Gdw376Frame) => {
        if (f.afn === 0x00) {
          if (f.units[0]?.fn[0] === 1) confirmed++;
          else denied++;
        } else if (f.afn === 0x10) forwards++;
      });
      forger.login();
      await sleep(250);
      forger.heartbeat();
      await sleep(250);
    }
    for (const f of forgers) f.close();
    return { 'logins confirmed': confirmed, denied, 'forwards received': forwards };
  },

  /** 255 sockets on the master's client API that never send a byte. */
  async 'api-idle'(r, deadline) {
    return holdSockets(255, deadline, () => tcp(r.addresses.api));
  },

  /** 1,000 WebSocket clients that connect and do nothing (the ws library answers pings). */
  async 'ws-idle'(r, deadline) {
    let opened = 0;
    let refused = 0;
    let closedEarly = 0;
    const clients: WebSocket[] = [];
    for (let batch = 0; batch < 10 && performance.now() < deadline; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, async () => {
          const ws = new WebSocket(r.addresses.relayUrl);
          ws.on('error', () => {});
          const ok = await new Promise<boolean>((resolve) => {
            ws.once('open', () => resolve(true));
            ws.once('close', () => resolve(false));
            ws.once('unexpected-response', () => resolve(false));
          });
          if (ok) {
            opened++;
            clients.push(ws);
            ws.once('close', () => {
              if (performance.now() < deadline) closedEarly++;
            });
          } else refused++;
        }),
      );
    }
    await sleep(Math.max(0, deadline - performance.now()));
    for (const ws of clients) ws.terminate();
    return { opened, refused, 'closed by relay': closedEarly };
  },

  /** 200 HTTP upgrade requests left unfinished (headers never end). */
  async upgrades(r, deadline) {
    return holdSockets(200, deadline, async () => {
      const socket = await tcp(r.addresses.relayPort);
      socket?.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`);
      return socket;
    });
  },

  /** A WebSocket client that sends reads as fast as it can and never reads its socket. */
  async 'slow-reader'(r, deadline): Promise<AttackOutcome> {
    const socket = await tcp(r.addresses.relayPort);
    if (!socket) return { error: 'could not connect' };
    socket.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${Buffer.from('meterlab-soak-01').toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    await Promise.race([once(socket, 'data'), sleep(2000)]);
    socket.pause(); // from here on nothing is read: the relay's answers pile up
    let sent = 0;
    let closedAfter = Number.NaN;
    const started = performance.now();
    socket.once('close', () => {
      closedAfter = performance.now() - started;
    });
    while (performance.now() < deadline && !socket.destroyed) {
      for (let i = 0; i < 200; i++) {
        socket.write(
          maskedText(JSON.stringify({ type: 'read', id: `s${sent}`, concentrator: '999999999', meter: '1' })),
        );
        sent++;
      }
      await sleep(1);
    }
    socket.destroy();
    return {
      'messages sent': sent,
      'closed by relay after ms': Number.isNaN(closedAfter) ? 'never' : Math.round(closedAfter),
    };
  },

  /** Reads of absent meters (explicit protocol and port) behind the first concentrator, 100 in flight. */
  async 'ws-flood'(r, deadline): Promise<AttackOutcome> {
    const ws = new WebSocket(r.addresses.relayUrl);
    ws.on('error', () => {});
    const open = await new Promise<boolean>((resolve) => {
      ws.once('open', () => resolve(true));
      ws.once('close', () => resolve(false));
    });
    if (!open) return { error: 'could not connect' };
    let sent = 0;
    let answered = 0;
    let inFlight = 0;
    const sendOne = () => {
      const meter = `9${String(sent).padStart(6, '0')}`;
      ws.send(
        JSON.stringify({
          type: 'read',
          id: `f${sent++}`,
          concentrator: r.victim.alias ?? '1',
          meter,
          protocol: 'cjt188',
          port: 1,
        }),
      );
      inFlight++;
    };
    ws.on('message', () => {
      answered++;
      inFlight--;
      if (performance.now() < deadline) sendOne();
    });
    while (inFlight < 100) sendOne();
    await sleep(Math.max(0, deadline - performance.now()));
    ws.terminate();
    return { 'reads sent': sent, answered };
  },
};

async function holdSockets(
  n: number,
  deadline: number,
  open: () => Promise<Socket | undefined>,
): Promise<AttackOutcome> {
  const sockets = (await Promise.all(Array.from({ length: n }, open))).filter((s): s is Socket => !!s);
  let closedEarly = 0;
  for (const s of sockets) {
    s.once('close', () => {
      if (performance.now() < deadline) closedEarly++;
    });
  }
  await sleep(Math.max(0, deadline - performance.now()));
  for (const s of sockets) s.destroy();
  return { opened: sockets.length, 'closed early by the server': closedEarly };
}

/** A masked WebSocket text frame (RFC 6455 §5.2; a client must mask), payload under 64 KiB. */
function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  const head =
    payload.length < 126
      ? Buffer.from([0x81, 0x80 | payload.length])
      : Buffer.from([0x81, 0xfe, payload.length >> 8, payload.length & 0xff]);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) masked[i] = payload[i] ^ mask[i & 3];
  return Buffer.concat([head, mask, masked]);
}

function tcp(port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    socket.once('connect', () => resolve(socket));
    socket.once('close', () => resolve(undefined));
  });
}

function once(emitter: Socket, event: string): Promise<void> {
  return new Promise((resolve) => emitter.once(event, () => resolve()));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`the chain did not come up within ${timeoutMs} ms`);
    await sleep(100);
  }
}

serveBenchChild({ master: masterRole, fleet: fleetRole, relay: relayRole, attacker: attackerRole });
