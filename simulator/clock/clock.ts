/**
 * The one source of time for the simulator. Links, the RS-485 bus, meters and concentrators take a `Clock`
 * instead of calling `Date.now()`/`setTimeout` themselves, so that a test can swap in a {@link VirtualClock}
 * and run a day of polling, or a frame's exact wire time, deterministically and in milliseconds.
 */

declare const timerHandleBrand: unique symbol;

/**
 * An opaque timer returned by {@link Clock.setTimeout}. Only the clock that made it can cancel it; passing
 * it to another clock's `clearTimeout` does nothing.
 */
export type TimerHandle = { readonly [timerHandleBrand]: true };

/** Time, as seen by everything in the simulator. All values are milliseconds and may be fractional. */
export interface Clock {
  /**
   * Current time in ms since the Unix epoch (the real clock) or since the virtual clock's start. Fractional
   * (wire times at 2400 bit/s are not whole milliseconds) and never decreasing.
   */
  now(): number;
  /** Calls `fn` once after `ms` (negative or NaN counts as 0). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; harmless if it already fired or was cancelled. */
  clearTimeout(handle: TimerHandle): void;
  /** Resolves after `ms`, on this clock's time. */
  sleep(ms: number): Promise<void>;
}

/** @internal Negative, NaN and infinite delays become 0, as Node's timers treat out-of-range values. */
export function normaliseDelay(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}
