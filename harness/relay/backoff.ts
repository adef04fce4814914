/**
 * Reconnect back-off and the timer seam that lets tests run it without sleeping.
 *
 * Both the relay's master link and the point-read client reconnect with the same schedule: exponential
 * growth from `initialMs` by `factor` up to `maxMs`, with ±`jitter` spread so that many clients cut off by
 * the same restart do not all come back in the same millisecond (the "thundering herd" a relay restart
 * would otherwise cause).
 */

/** An opaque handle returned by {@link Timers.setTimeout}. */
export type TimerHandle = unknown;

/**
 * The two timer calls the reconnect and timeout code makes. Real time by default ({@link REAL_TIMERS});
 * tests may pass their own to drive delays by hand.
 */
export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Node's own timers, unref'd so a pending reconnect never keeps a process alive on its own. */
export const REAL_TIMERS: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

/** How long to wait between reconnect attempts. */
export interface BackoffOptions {
  /**
   * Delay before the first retry, in ms.
   * @defaultValue 250
   */
  initialMs?: number;
  /**
   * Longest delay, in ms. Ten seconds keeps a restarted master reachable within seconds without flooding
   * its log with refused connections while it is down for longer.
   * @defaultValue 10000
   */
  maxMs?: number;
  /**
   * Growth per failed attempt.
   * @defaultValue 2
   */
  factor?: number;
  /**
   * Random spread as a fraction of the delay: 0.2 means ±20 %.
   * @defaultValue 0.2
   */
  jitter?: number;
  /**
   * Source of randomness in [0, 1) for the jitter; inject a constant for reproducible tests.
   * @defaultValue Math.random
   */
  random?: () => number;
}

/** The defaults of {@link BackoffOptions}. */
export const DEFAULT_BACKOFF = { initialMs: 250, maxMs: 10_000, factor: 2, jitter: 0.2 } as const;

/**
 * The reconnect schedule. `next()` gives the delay before the next attempt and counts the attempt;
 * `reset()` after a successful connection starts again from `initialMs`.
 *
 * @throws TypeError when an option is out of range (named in the message).
 */
export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly jitter: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? DEFAULT_BACKOFF.initialMs;
    this.maxMs = options.maxMs ?? DEFAULT_BACKOFF.maxMs;
    this.factor = options.factor ?? DEFAULT_BACKOFF.factor;
    this.jitter = options.jitter ?? DEFAULT_BACKOFF.jitter;
    this.#random = options.random ?? Math.random;
    if (!(Number.isFinite(this.initialMs) && this.initialMs >= 0)) {
      throw new TypeError(`"initialMs" must be a finite number ≥ 0, got ${String(this.initialMs)}`);
    }
    if (!(Number.isFinite(this.maxMs) && this.maxMs >= this.initialMs)) {
      throw new TypeError(`"maxMs" must be a finite number ≥ initialMs, got ${String(this.maxMs)}`);
    }
    if (!(Number.isFinite(this.factor) && this.factor >= 1)) {
      throw new TypeError(`"factor" must be a finite number ≥ 1, got ${String(this.factor)}`);
    }
    if (!(Number.isFinite(this.jitter) && this.jitter >= 0 && this.jitter <= 1)) {
      throw new TypeError(`"jitter" must be between 0 and 1, got ${String(this.jitter)}`);
    }
  }

  /** Failed attempts since the last {@link Backoff.reset}. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt, in whole ms, never above `maxMs`. */
  next(): number {
    // Cap the exponent so a link down for days does not overflow to Infinity before the clamp.
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** Math.min(this.#attempt, 64));
    this.#attempt += 1;
    const spread = base * this.jitter * (2 * this.#random() - 1);
    return Math.max(0, Math.min(this.maxMs, Math.round(base + spread)));
  }

  /** Call after a successful connection. */
  reset(): void {
    this.#attempt = 0;
  }
}
