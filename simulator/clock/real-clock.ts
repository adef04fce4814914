import { type Clock, normaliseDelay, type TimerHandle } from './clock.ts';

/**
 * Wall-clock time for a running simulator. `now()` is `performance.timeOrigin + performance.now()`: epoch
 * milliseconds (so devices can turn it into a calendar date for DL/T 645 or 376.1 time fields) that are also
 * monotonic within the process, unlike `Date.now()`, which jumps when NTP steps the system clock — a jump
 * would make a frame's wire time negative.
 */
export const realClock: Clock = {
  now(): number {
    return performance.timeOrigin + performance.now();
  },
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return globalThis.setTimeout(fn, normaliseDelay(ms)) as unknown as TimerHandle;
  },
  clearTimeout(handle: TimerHandle): void {
    globalThis.clearTimeout(handle as unknown as NodeJS.Timeout);
  },
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => globalThis.setTimeout(resolve, normaliseDelay(ms)));
  },
};
