/**
 * `npm run bench -- <name> [options]`: runs one benchmark from bench/. Benchmarks print figures and end with
 * one JSON line; they never pass or fail on time.
 */
const BENCHES: Record<string, () => Promise<{ main: (args: string[]) => Promise<void> }>> = {
  codec: () => import('./codec.ts'),
  bus: () => import('./bus.ts'),
  fleet: () => import('./fleet.ts'),
  relay: () => import('./relay.ts'),
  forward: () => import('./forward.ts'),
};

const [name, ...args] = process.argv.slice(2);
const load = name ? BENCHES[name] : undefined;
if (!load) {
  console.error(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}> [options]`);
  process.exit(2);
}
const bench = await load();
await bench.main(args);
