import type { VirtualClock } from '../../../simulator/clock/virtual-clock.ts';

/**
 * Runs `work` on a {@link VirtualClock}: whenever the process has nothing else to do (one turn of the event
 * loop passed), time jumps to the next timer. A suite of silence waits and wire times then takes milliseconds,
 * and every timing is exact. `limitMs` of virtual time bounds a run that never settles.
 */
export async function driveVirtualClock<T>(
  clock: VirtualClock,
  work: Promise<T>,
  limitMs = 600_000,
): Promise<T> {
  let settled = false;
  const done = work.then(
    (value) => {
      settled = true;
      return value;
    },
    (error: unknown) => {
      settled = true;
      throw error;
    },
  );
  const start = clock.now();
  let idleTurns = 0;
  while (!settled) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (settled) break;
    const next = clock.nextTimerAt();
    if (next === undefined) {
      // Nothing scheduled: real I/O may still be under way; give it a few turns before calling it stuck.
      if (++idleTurns > 10_000)
        throw new Error('driveVirtualClock: nothing scheduled and the work never settles');
      continue;
    }
    idleTurns = 0;
    if (next - start > limitMs)
      throw new Error(`driveVirtualClock: still running after ${limitMs} ms of virtual time`);
    await clock.advanceAsync(Math.max(0, next - clock.now()));
  }
  return done;
}
