import { afterEach } from 'vitest';
import { createPtyPair, type PtyPair } from '../../../simulator/link/index.ts';
import { CliProcess, runCli, stopAll } from './cli-process.ts';

/**
 * What the recording e2e tests start again and again, written once: pty pairs closed after each test, the
 * simulated CJ/T 188 meters, and `replay --as driver`. Test support only.
 * @packageDocumentation
 */

/**
 * Registers an `afterEach` that stops every CLI process and then closes every pty pair opened with the returned
 * function. Call it at a test file's top level, after the file's own `afterEach` hooks that must run last
 * (vitest runs after-hooks in reverse order).
 */
export function ptyPairsClosedAfterEach(): () => Promise<PtyPair> {
  const pairs: PtyPair[] = [];
  afterEach(async () => {
    await stopAll();
    await Promise.all(pairs.splice(0).map((p) => p.close()));
  });
  return async () => {
    const p = await createPtyPair();
    pairs.push(p);
    return p;
  };
}

/** `meterlab meters` serving the CJ/T 188 `meters` (comma-separated) on the serial `port`, plus `flags`. */
export function cjt188Meters(port: string, meters: string, ...flags: string[]): CliProcess {
  return new CliProcess(['meters', '--port', port, '--protocol', 'cjt188', '--meters', meters, ...flags]);
}

/** `meterlab replay RECORDING --as driver --target TARGET`, plus `flags`, run to its end. */
export function replayDriver(
  recording: string,
  target: string,
  ...flags: string[]
): ReturnType<typeof runCli> {
  return runCli(['replay', recording, '--as', 'driver', '--target', target, ...flags]);
}

/** `meterlab poll` of the CJ/T 188 `meter` on the serial `port`, plus `flags`, run to its end. */
export function cjt188Poll(port: string, meter: string, ...flags: string[]): ReturnType<typeof runCli> {
  return runCli(['poll', '--port', port, '--protocol', 'cjt188', '--meter', meter, ...flags]);
}

/**
 * `meterlab master` of `scenario` on loopback port 0, plus `flags`, once it has said where it listens: its
 * concentrator port and client API port.
 */
export async function startMaster(
  scenario: string,
  ...flags: string[]
): Promise<{ master: CliProcess; listen: string; api: string }> {
  const master = new CliProcess([
    'master',
    '--listen',
    '127.0.0.1:0',
    '--api',
    '127.0.0.1:0',
    '--scenario',
    scenario,
    ...flags,
  ]);
  const [, listen, api] = await master.waitFor(/concentrators on [\d.]+:(\d+), client API on [\d.]+:(\d+)/);
  return { master, listen, api };
}
