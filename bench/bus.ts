/**
 * `npm run bench -- bus [--buses N] [--meters M] [--rounds R] [--real-reads K] [--baud B]`:
 *  (a) virtual clock: N RS-485 buses × M simulated CJ/T 188 meters on one VirtualClock; every round each bus's
 *      master reads one meter (901F). Every meter on a bus hears and decodes every frame, as on a real segment.
 *      Figure: point-reads completed per second of CPU (process.cpuUsage, user + system).
 *  (b) real speed: one simulated meter behind a socat pty pair opened with serialport at B baud 8E1, polled by
 *      MeterPoller on the other end. Per read: measured request→reply time minus the physical limit (wire time
 *      of both frames + turnaround), p50/p99 of that difference — the overhead of pty, event loop and timers.
 * Last line: one JSON object with the figures. Never passes or fails on time.
 */

import { MeterPoller } from '../harness/poller/index.ts';
import { buildReadRequest, encodeCjt188 } from '../protocols/cjt188/index.ts';
import { Rs485Bus } from '../simulator/bus/index.ts';
import { realClock, VirtualClock } from '../simulator/clock/index.ts';
import { createPtyPair, LinkError, SerialLink, wireTimeMs } from '../simulator/link/index.ts';
import { Cjt188Meter, ConsumptionModel, MeterHost, MeterOnBus } from '../simulator/meter/index.ts';
import { UsageError } from './flags.ts';
import { percentile, round } from './stats.ts';

interface Options {
  buses: number;
  meters: number;
  rounds: number;
  realReads: number;
  baud: number;
}

function parseArgs(args: string[]): Options {
  const o: Options = { buses: 1000, meters: 64, rounds: 5, realReads: 40, baud: 2400 };
  const names: Record<string, keyof Options> = {
    '--buses': 'buses',
    '--meters': 'meters',
    '--rounds': 'rounds',
    '--real-reads': 'realReads',
    '--baud': 'baud',
  };
  for (let i = 0; i < args.length; i += 2) {
    const key = names[args[i]];
    const value = Number(args[i + 1]);
    if (!key || !Number.isInteger(value) || value < 0) {
      throw new UsageError(`unknown option or bad value "${args[i]} ${args[i + 1] ?? ''}"`);
    }
    o[key] = value;
  }
  return o;
}

const START = Date.parse('2024-01-01T00:00:00Z');

/** (a) point-reads per CPU second on the virtual clock. */
function virtualBench(o: Options) {
  const clock = new VirtualClock({ start: START });
  const model = new ConsumptionModel({ seed: 1 });
  const setupStart = process.hrtime.bigint();
  const buses = Array.from({ length: o.buses }, (_, b) => {
    const bus = new Rs485Bus({ clock, seed: b });
    const state = { replies: 0 };
    const master = bus.attach({ name: 'master', onReceive: () => state.replies++ });
    const requests: Uint8Array[] = [];
    for (let m = 0; m < o.meters; m++) {
      const address = String(b * 1000 + m + 1);
      const meter = new Cjt188Meter({ address, model, clock, maxEvents: 16 });
      new MeterOnBus(meter, bus);
      requests.push(encodeCjt188(buildReadRequest(address, '901F', { diOrder: 'low-first' })));
    }
    return { bus, master, state, requests };
  });
  const setupMs = Number(process.hrtime.bigint() - setupStart) / 1e6;
  const cpu = process.cpuUsage();
  const wall = process.hrtime.bigint();
  for (let r = 0; r < o.rounds; r++) {
    for (const [b, x] of buses.entries()) void x.master.transmit(x.requests[(r * 7 + b) % o.meters]);
    clock.advance(1000);
  }
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const wallMs = Number(process.hrtime.bigint() - wall) / 1e6;
  const reads = buses.reduce((n, x) => n + x.state.replies, 0);
  const collisions = buses.reduce((n, x) => n + x.bus.stats.collisions, 0);
  return {
    buses: o.buses,
    metersPerBus: o.meters,
    reads,
    expectedReads: o.buses * o.rounds,
    collisions,
    cpuSeconds: round(cpuSeconds, 3),
    wallMs: round(wallMs, 1),
    setupMs: round(setupMs, 1),
    readsPerCpuSecond: Math.round(reads / cpuSeconds),
    simulatedSeconds: (o.rounds * 1000) / 1000,
  };
}

/** (b) request→reply time over a pty pair at real speed against the physical limit. */
async function realBench(o: Options) {
  let pair: Awaited<ReturnType<typeof createPtyPair>>;
  try {
    pair = await createPtyPair();
  } catch (error) {
    if (error instanceof LinkError && error.code === 'SOCAT_MISSING') return { skipped: error.message };
    throw error;
  }
  const settings = { baudRate: o.baud, dataBits: 8, parity: 'even', stopBits: 1 } as const;
  const model = new ConsumptionModel({ seed: 1 });
  const turnaroundMs = 20;
  const host = await MeterHost.start({
    link: new SerialLink({ path: pair.paths[1], settings }),
    meters: [new Cjt188Meter({ address: '101001', model, clock: realClock })],
    turnaroundMs,
    wire: 'simulated',
  });
  const link = new SerialLink({ path: pair.paths[0], settings });
  await link.open();
  const poller = new MeterPoller({ link, protocol: 'cjt188', timeoutMs: 5000, retries: 0 });
  const over: number[] = [];
  let limitMs = 0;
  try {
    await poller.read('101001'); // warm-up
    for (let i = 0; i < o.realReads; i++) {
      const r = await poller.read('101001');
      const sentBytes = r.sent.split(' ').length;
      const replyBytes = r.received.split(' ').length;
      limitMs = wireTimeMs(sentBytes + replyBytes, settings) + turnaroundMs;
      over.push(r.elapsedMs - limitMs);
    }
  } finally {
    await link.close();
    await host.close();
    await pair.close();
  }
  return {
    reads: over.length,
    baud: o.baud,
    physicalLimitMs: round(limitMs, 2),
    overheadP50Ms: round(percentile(over, 50), 2),
    overheadP99Ms: round(percentile(over, 99), 2),
    overheadMaxMs: round(Math.max(...over), 2),
  };
}

export async function main(args: string[]): Promise<void> {
  const o = parseArgs(args);
  console.log(
    `bus (a): ${o.buses} buses x ${o.meters} meters on one virtual clock, ${o.rounds} read(s) per bus`,
  );
  const a = virtualBench(o);
  console.log(
    `  ${a.reads}/${a.expectedReads} point-reads in ${a.cpuSeconds} s CPU (${a.wallMs} ms wall, setup ${a.setupMs} ms): ` +
      `${a.readsPerCpuSecond} reads per CPU second; ${a.collisions} collisions`,
  );
  let b: Awaited<ReturnType<typeof realBench>> | null = null;
  if (o.realReads > 0) {
    console.log(`bus (b): ${o.realReads} reads over a socat pty pair at ${o.baud} 8E1, real time`);
    b = await realBench(o);
    if ('skipped' in b) console.log(`  skipped: ${b.skipped}`);
    else {
      console.log(
        `  physical limit ${b.physicalLimitMs} ms (request + reply wire time + 20 ms turnaround); measured minus limit: ` +
          `p50 ${b.overheadP50Ms} ms, p99 ${b.overheadP99Ms} ms, max ${b.overheadMaxMs} ms`,
      );
    }
  }
  console.log(JSON.stringify({ bench: 'bus', virtual: a, real: b }));
}

// Run directly (`node --import tsx bench/bus.ts`) as well as through bench/run.ts.
if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
