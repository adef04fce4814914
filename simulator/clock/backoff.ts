/**
 * The one reconnect back-off of the code base (the relay's master link, the point-read client and the
 * concentrator's upstream session all use it), moved here from harness/relay/backoff.ts so that all time-related
 * code sits beside the Clock.
 *
 * Exponential growth from `initialMs` by `factor` up to `maxMs`, with a random spread so that many clients cut off
 * by the same restart do not all come back in the same millisecond (the "thundering herd" a relay or master restart
 * would otherwise cause).
 */

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
   * Source of randomness in [0, 1) for the jitter; inject a constant for reproducible tests, or a seeded
   * generator for reproducible runs (the concentrator seeds it with its address).
   * @defaultValue Math.random
   */
  random?: () => number;
  /**
   * Which way the jitter spreads: `'both'` gives `base·(1 ± jitter)`; `'down'` gives `base·(1 − jitter·u)`, so the
   * nominal delay is an upper bound (a field concentrator's habit: never wait longer than configured).
   * @defaultValue 'both'
   */
  jitterDirection?: 'both' | 'down';
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
  readonly jitterDirection: 'both' | 'down';
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? DEFAULT_BACKOFF.initialMs;
    this.maxMs = options.maxMs ?? DEFAULT_BACKOFF.maxMs;
    this.factor = options.factor ?? DEFAULT_BACKOFF.factor;
    this.jitter = options.jitter ?? DEFAULT_BACKOFF.jitter;
    this.jitterDirection = options.jitterDirection ?? 'both';
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
    if (this.jitterDirection !== 'both' && this.jitterDirection !== 'down') {
      throw new TypeError(`"jitterDirection" must be 'both' or 'down', got ${String(this.jitterDirection)}`);
    }
  }

  /** Failed attempts since the last {@link Backoff.reset}. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt, in whole ms, never above `maxMs`. */
  next(): number {
    this.#attempt += 1;
    return this.delayFor(this.#attempt);
  }

  /** The nominal (un-jittered) delay of attempt `attempt` (1-based). */
  nominal(attempt: number): number {
    // Cap the exponent so a link down for days does not overflow to Infinity before the clamp.
    return Math.min(this.maxMs, this.initialMs * this.factor ** Math.min(Math.max(attempt - 1, 0), 64));
  }

  /**
   * The delay of attempt `attempt` (1-based), drawing one random number; does not count an attempt. For callers
   * that keep their own attempt count.
   */
  delayFor(attempt: number): number {
    const base = this.nominal(attempt);
    const u = this.#random();
    const jittered =
      this.jitterDirection === 'down'
        ? base * (1 - this.jitter * u)
        : base + base * this.jitter * (2 * u - 1);
    return Math.max(0, Math.min(this.maxMs, Math.round(jittered)));
  }

  /** Call after a successful connection. */
  reset(): void {
    this.#attempt = 0;
  }
}
