/**
 * `npm run bench -- <name> [options]`: runs one benchmark from bench/. Benchmarks print figures and end with
 * one JSON line; they never pass or fail on time.
 */
import { UsageError } from './flags.ts';

const BENCHES: Record<string, () => Promise<{ main: (args: string[]) => Promise<void> }>> = {
  codec: () => import('./codec.ts'),
  bus: () => import('./bus.ts'),
  fleet: () => import('./fleet.ts'),
  relay: () => import('./relay.ts'),
  forward: () => import('./forward.ts'),
  fuzz: () => import('./fuzz.ts'),
  recording: () => import('./recording.ts'),
  soak: () => import('./soak.ts'),
};

const [name, ...args] = process.argv.slice(2);
const load = name ? BENCHES[name] : undefined;
if (!load) {
  console.error(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}> [options]`);
  process.exit(2);
}
const bench = await load();
try {
  await bench.main(args);
} catch (error) {
  // A bad flag is the user's to fix: say which, without a stack trace.
  if (!(error instanceof UsageError)) throw error;
  console.error(`bench ${name}: ${error.message}`);
  process.exit(2);
}
