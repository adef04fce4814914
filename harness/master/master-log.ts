import type { Clock, TimerHandle } from '../../simulator/clock/index.ts';

/**
 * The master station's log of what peers did wrong: structured entries handed to a callback the caller supplies
 * (the command line prints `message`; tests collect entries). The station itself never writes to a stream.
 *
 * A hostile or broken peer can cause one entry per frame, so entries go through {@link ThrottledLog}: per event
 * kind at most one line per window (10 s), and when the window closes one summary line "… N more" (issue 13,
 * item 9: 10,000 bad messages made 10,042 lines). The relay has the same need (harness/relay/log.ts); the two may
 * share one throttle later.
 */

/** What happened, stable for filtering. */
export type MasterLogEvent =
  /** A connection sent more junk than `maxJunkBytes` without a whole frame and was closed. */
  | 'junk-limit'
  /** Bytes from a concentrator that were not a frame (bad checksum, bad length, junk). */
  | 'malformed'
  /** A frame other than login/heartbeat from a connection that has not logged in. */
  | 'before-login'
  /** A login with a second concentrator address on a connection that already carries one. */
  | 'second-address'
  /** Logins from one remote address over `maxLoginsPerMinute`. */
  | 'login-rate'
  /** A login refused by the login policy (keep: the owner still answers; archive: not archived; allowFrom). */
  | 'login-refused'
  /** A login that replaced another connection's session (login policy `replace`). */
  | 'login-replaced'
  /** A login refused because the session table is full of online sessions. */
  | 'table-full'
  /** The summary line of a throttled kind: "… N more". */
  | 'suppressed';

/** One log entry. `message` is a complete human line; `fields` carries the same facts for machines. */
export interface MasterLogEntry {
  level: 'info' | 'warn';
  event: MasterLogEvent;
  message: string;
  fields?: Record<string, unknown>;
}

/** Receives every log entry. Must not throw. */
export type MasterLogger = (entry: MasterLogEntry) => void;

/** The default: discard. */
export const SILENT_MASTER_LOG: MasterLogger = () => {};

/** How long one kind of entry is throttled after its first line. */
export const DEFAULT_LOG_THROTTLE_MS = 10_000;

interface Window {
  suppressed: number;
  timer: TimerHandle;
  last: MasterLogEntry;
}

/**
 * Passes the first entry of each event kind through at once, then counts the same kind for `windowMs`; when the
 * window ends it writes one `suppressed` line ("… 9,999 more malformed in the last 10 s; latest: …") if any were
 * held back. Memory: one window per event kind.
 */
export class ThrottledLog {
  readonly windowMs: number;
  readonly #sink: MasterLogger;
  readonly #clock: Clock;
  readonly #windows = new Map<MasterLogEvent, Window>();

  constructor(sink: MasterLogger, clock: Clock, windowMs = DEFAULT_LOG_THROTTLE_MS) {
    if (!(windowMs >= 0)) throw new TypeError(`"windowMs" must be a number of ms >= 0, got ${windowMs}`);
    this.#sink = sink;
    this.#clock = clock;
    this.windowMs = windowMs;
  }

  log(entry: MasterLogEntry): void {
    const open = this.#windows.get(entry.event);
    if (open) {
      open.suppressed++;
      open.last = entry;
      return;
    }
    this.#write(entry);
    if (this.windowMs === 0) return;
    const timer = this.#clock.setTimeout(() => this.#close(entry.event), this.windowMs);
    this.#windows.set(entry.event, { suppressed: 0, timer, last: entry });
  }

  /** Writes every pending summary now and cancels the timers (the station is stopping). */
  flush(): void {
    for (const event of [...this.#windows.keys()]) {
      const window = this.#windows.get(event);
      if (window) this.#clock.clearTimeout(window.timer);
      this.#close(event);
    }
  }

  #close(event: MasterLogEvent): void {
    const window = this.#windows.get(event);
    this.#windows.delete(event);
    if (!window || window.suppressed === 0) return;
    const seconds = Math.round(this.windowMs / 1000);
    this.#write({
      level: window.last.level,
      event: 'suppressed',
      message: `… ${window.suppressed.toLocaleString('en')} more ${event} in the last ${seconds} s; latest: ${window.last.message}`,
      fields: { of: event, count: window.suppressed, latest: window.last.fields },
    });
  }

  #write(entry: MasterLogEntry): void {
    try {
      this.#sink(entry);
    } catch {
      // A logger must not throw (see MasterLogger); if it does, the station carries on without that line.
    }
  }
}
