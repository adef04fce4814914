/**
 * Logins per remote host per minute, as pure state (every call takes the time): the master station asks
 * {@link LoginRate.admit} before a login that would create or take over a session, so one host cannot cycle
 * thousands of concentrator addresses through the session table (issue 13, item 2: 10,000 logins in under a
 * second filled it). A fixed one-minute window per host, started by the host's first login in it.
 *
 * Memory: one entry per host that logged in during the last minute; entries of ended windows are dropped when
 * the map is swept (at most once per window length).
 */

/** Default of `maxLoginsPerMinute`: 20 a second from one host, sustained. */
export const DEFAULT_MAX_LOGINS_PER_MINUTE = 1200;

const MINUTE_MS = 60_000;

interface HostWindow {
  startedAt: number;
  count: number;
}

export class LoginRate {
  readonly maxPerMinute: number;
  readonly #hosts = new Map<string, HostWindow>();
  #sweptAt = 0;

  constructor(maxPerMinute = DEFAULT_MAX_LOGINS_PER_MINUTE) {
    if (!Number.isInteger(maxPerMinute) || maxPerMinute < 1) {
      throw new TypeError(`"maxLoginsPerMinute" must be a positive integer, got ${String(maxPerMinute)}`);
    }
    this.maxPerMinute = maxPerMinute;
  }

  /** Counts one login from `host` and says whether it is within the limit; a refused login is not counted. */
  admit(host: string, now: number): boolean {
    this.#sweep(now);
    let window = this.#hosts.get(host);
    if (!window || now - window.startedAt >= MINUTE_MS) {
      window = { startedAt: now, count: 0 };
      this.#hosts.set(host, window);
    }
    if (window.count >= this.maxPerMinute) return false;
    window.count++;
    return true;
  }

  /** Hosts with a window open (for tests and reports). */
  get hosts(): number {
    return this.#hosts.size;
  }

  #sweep(now: number): void {
    if (now - this.#sweptAt < MINUTE_MS) return;
    this.#sweptAt = now;
    for (const [host, window] of this.#hosts) {
      if (now - window.startedAt >= MINUTE_MS) this.#hosts.delete(host);
    }
  }
}

/** The host part of a `host:port` remote ("::ffff:10.0.0.1:4059" → "::ffff:10.0.0.1"); as given without a port. */
export function hostOf(remote: string): string {
  const colon = remote.lastIndexOf(':');
  if (colon < 0) return remote;
  return /^\d+$/.test(remote.slice(colon + 1)) ? remote.slice(0, colon) : remote;
}
