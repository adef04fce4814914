/**
 * `npm run bench -- relay [--seconds S] [--clients 1,16,256]`: point-reads through the whole chain with zero wire
 * delay — K WebSocket clients, each reading its own meters one after another, through relay → master station →
 * concentrator → meter — for a few seconds per K: reads/s and p50/p99 latency. Baseline in the same run: the
 * same K clients against a bare `ws` echo server sending the same messages, and the ratio.
 */
import { WebSocket, WebSocketServer } from 'ws';
import { PointReadClient, summariseLatency } from '../harness/client/index.ts';
import { runDemo } from '../harness/demo/run-demo.ts';
import { generateFleet, type Scenario } from '../simulator/scenario/index.ts';
import { round } from './stats.ts';

const ephemeral = { host: '127.0.0.1', port: 0 };

function fleet(concentrators: number, meters: number): Scenario {
  const s = generateFleet({ concentrators, metersPerPort: meters, master: ephemeral, wireTiming: false });
  return {
    ...s,
    concentrators: s.concentrators.map((c) => ({
      ...c,
      ports: c.ports.map((p) => ({ ...p, turnaroundMs: 0 })),
    })),
  };
}

async function loop(k: number, seconds: number, once: (client: number, i: number) => Promise<void>) {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  let errors = 0;
  await Promise.all(
    Array.from({ length: k }, async (_, c) => {
      for (let i = 0; performance.now() < end; i++) {
        const t = performance.now();
        try {
          await once(c, i);
          latencies.push(performance.now() - t);
        } catch {
          errors++;
        }
      }
    }),
  );
  const s = summariseLatency(latencies);
  return {
    readsPerSec: Math.round(latencies.length / seconds),
    p50: round(s.p50),
    p99: round(s.p99),
    errors,
  };
}

export async function main(args: string[]): Promise<void> {
  const seconds = Number(args[args.indexOf('--seconds') + 1]) || 3;
  const ks = (args.includes('--clients') ? args[args.indexOf('--clients') + 1] : '1,16,256')
    .split(',')
    .map(Number);
  const scenario = fleet(64, 16);
  const demo = await runDemo({
    scenario,
    master: ephemeral,
    api: ephemeral,
    relay: ephemeral,
    concurrency: 64,
  });
  console.log(`chain up: ${demo.outcomes.length} meters behind 64 concentrators, warm-up read of all done`);
  const targets = demo.outcomes.map((o) => o.target);

  const echo = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  echo.on('connection', (ws) => ws.on('message', (m) => ws.send(m)));
  await new Promise((r) => echo.once('listening', r));
  const echoUrl = `ws://127.0.0.1:${(echo.address() as { port: number }).port}`;

  const results = [];
  for (const k of ks) {
    const clients = await Promise.all(
      Array.from({ length: k }, async () => {
        const c = new PointReadClient({ url: demo.relayUrl, reconnect: false, timeoutMs: 30_000 });
        await c.connect();
        return c;
      }),
    );
    // Client c reads meters c, c+K, c+2K … so no two clients share a field read.
    const chain = await loop(k, seconds, async (c, i) => {
      const t = targets[(c + i * k) % targets.length];
      await clients[c].read(t.concentrator, t.meter);
    });
    await Promise.all(clients.map((c) => c.close()));

    const sockets = await Promise.all(
      Array.from(
        { length: k },
        () =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(echoUrl);
            ws.once('open', () => resolve(ws));
            ws.once('error', reject);
          }),
      ),
    );
    const baseline = await loop(
      k,
      seconds,
      (c, i) =>
        new Promise<void>((resolve) => {
          sockets[c].once('message', () => resolve());
          sockets[c].send(
            JSON.stringify({ type: 'read', id: String(i), concentrator: '101', meter: '101001' }),
          );
        }),
    );
    for (const ws of sockets) ws.close();
    const row = {
      clients: k,
      chain,
      baseline,
      ratio: round(baseline.readsPerSec / Math.max(1, chain.readsPerSec), 1),
    };
    console.log(
      `K=${k}: chain ${chain.readsPerSec} reads/s (p50 ${chain.p50} ms, p99 ${chain.p99} ms, ${chain.errors} errors); ws echo ${baseline.readsPerSec}/s (p50 ${baseline.p50} ms); echo is ${row.ratio}× faster`,
    );
    results.push(row);
  }
  echo.close();
  await demo.stop();
  console.log(JSON.stringify({ bench: 'relay', seconds, meters: targets.length, results }));
}
