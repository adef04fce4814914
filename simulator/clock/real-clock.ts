import { type Clock, normaliseDelay, type TimerHandle } from './clock.ts';

/**
 * A real-clock timer: Node's `setTimeout` never fires sooner than 1 ms (a delay under 1 becomes 1), so a
 * zero-delay step — a bus with wire timing off, a meter that answers at once — runs on `setImmediate`
 * instead. Otherwise each such hop in a read would cost a whole millisecond of idle time. A delay under a
 * microsecond counts as zero: it is the rounding left over from summing fractional wire times (an end time
 * computed as start + 0 ms a few floating-point steps ago), not a wait anyone asked for.
 */
const ROUNDING_NOISE_MS = 0.001;
type RealTimer = { immediate: NodeJS.Immediate } | { timeout: NodeJS.Timeout };

function realTimeClock(unref: boolean): Clock {
  const clock: Clock = {
    now(): number {
      return performance.timeOrigin + performance.now();
    },
    setTimeout(fn: () => void, ms: number): TimerHandle {
      const delay = normaliseDelay(ms);
      const timer: RealTimer =
        delay < ROUNDING_NOISE_MS ? { immediate: setImmediate(fn) } : { timeout: setTimeout(fn, delay) };
      if (unref) ('immediate' in timer ? timer.immediate : timer.timeout).unref();
      return timer as unknown as TimerHandle;
    },
    clearTimeout(handle: TimerHandle): void {
      const timer = handle as unknown as RealTimer;
      if ('immediate' in timer) clearImmediate(timer.immediate);
      else clearTimeout(timer.timeout);
    },
    sleep(ms: number): Promise<void> {
      return new Promise((resolve) => clock.setTimeout(resolve, ms));
    },
  };
  return clock;
}

/**
 * Wall-clock time for a running simulator. `now()` is `performance.timeOrigin + performance.now()`: epoch
 * milliseconds (so devices can turn it into a calendar date for DL/T 645 or 376.1 time fields) that are also
 * monotonic within the process, unlike `Date.now()`, which jumps when NTP steps the system clock — a jump
 * would make a frame's wire time negative.
 */
export const realClock: Clock = realTimeClock(false);

/**
 * {@link realClock}, but its timers do not keep the process alive on their own (Node's `unref`): for a library
 * embedded in someone else's process — the relay's reconnect and read timeouts, the point-read client — where a
 * pending reconnect or timeout must not stop a script from exiting once its own work is done.
 */
export const unrefClock: Clock = realTimeClock(true);
