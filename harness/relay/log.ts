import { type Clock, type TimerHandle, unrefClock } from '../../simulator/clock/index.ts';

/**
 * The relay's log: structured entries handed to a callback the caller supplies (the command line prints
 * `message`; tests collect entries and wait for events). The relay itself never writes to stdout.
 */

/** One log entry. `message` is a complete human line; `fields` carries the same facts for machines. */
export interface RelayLogEntry {
  level: 'info' | 'warn' | 'error';
  /**
   * What happened, stable for filtering: `listening`, `stopped`, `client-open`, `client-close`,
   * `client-refused`, `client-error`, `bad-message`, `read-start`, `read`, `answer-dropped`, `slow-client`, `heartbeat-timeout`,
   * `idle-timeout`, `idle-evicted`, `handshake-timeout`, `handshake-evicted`,
   * `master-up`, `master-down`, `master-retry`, `master-bad-line`, `master-stray-answer`, `master-no-answer`.
   */
  event: string;
  message: string;
  fields?: Record<string, unknown>;
}

/** Receives every log entry. Must not throw. */
export type RelayLogger = (entry: RelayLogEntry) => void;

/** The default: discard. */
export const SILENT: RelayLogger = () => {};

/** What {@link throttleLog} needs of a log entry: a kind to count repeats by, and a line to print. */
export interface ThrottleableEntry {
  level: 'info' | 'warn' | 'error';
  event: string;
  message: string;
  fields?: Record<string, unknown>;
}

export interface ThrottleLogOptions<E extends ThrottleableEntry> {
  /** Length of the window in which one line per kind is passed on. @defaultValue 10000 */
  windowMs?: number;
  /**
   * The kind an entry counts under, or `undefined` to pass it on unthrottled. @defaultValue the `event` name of
   * entries whose event is in {@link PEER_DRIVEN_EVENTS}, with their `fields.status` (401 and 503 are kinds apart)
   */
  kindOf?: (entry: E) => string | undefined;
  /** Time for the windows (tests pass a VirtualClock). @defaultValue unrefClock */
  clock?: Clock;
}

/**
 * Events a peer can cause as often as it likes (a message, an upgrade attempt): a flood of them must not become a
 * flood of log lines (issue 13 item 9: 10,000 bad messages wrote 10,042 lines).
 */
export const PEER_DRIVEN_EVENTS: readonly string[] = [
  'bad-message',
  'client-refused',
  'client-error',
  'handshake-refused',
  'handshake-timeout',
  'idle-timeout',
  'heartbeat-timeout',
  'slow-client',
  'answer-dropped',
  'master-bad-line',
  'master-stray-answer',
];

/** A throttled log: call it like the sink; `flush()` writes the pending summaries now (call it on stop). */
export type ThrottledLog<E> = ((entry: E) => void) & { flush(): void };

/**
 * Wraps a log sink so that each kind of entry passes at most once per window: the first entry of a kind opens a
 * window and is passed on; repeats within the window are counted, and when it ends one summary entry
 * `… 9,999 more <event> in the last 10 s` (level of the first, `fields.suppressed` the count, `fields.kind`) is
 * passed on. Entries whose kind is `undefined` pass straight through. Memory: one counter per kind with an open
 * window. Used by `meterlab relay` for its printed lines; the master may wrap its own log the same way.
 *
 * @example
 * const log = throttleLog((e) => process.stderr.write(`${e.message}\n`));
 * const relay = new Relay({ master, log });
 * // … on stop: log.flush();
 */
export function throttleLog<E extends ThrottleableEntry>(
  sink: (entry: E) => void,
  options: ThrottleLogOptions<E> = {},
): ThrottledLog<E> {
  const windowMs = options.windowMs ?? 10_000;
  if (!Number.isFinite(windowMs) || windowMs < 0) {
    throw new TypeError(`"windowMs" must be a number of ms ≥ 0, got ${String(windowMs)}`);
  }
  const clock = options.clock ?? unrefClock;
  const kindOf =
    options.kindOf ??
    ((entry: E) => {
      if (!PEER_DRIVEN_EVENTS.includes(entry.event)) return undefined;
      const status = entry.fields?.status;
      return status === undefined ? entry.event : `${entry.event} ${String(status)}`;
    });
  const open = new Map<string, { first: E; suppressed: number; timer: TimerHandle }>();
  const seconds = windowMs % 1000 === 0 ? `${windowMs / 1000} s` : `${windowMs} ms`;
  const close = (kind: string): void => {
    const window = open.get(kind);
    if (!window) return;
    open.delete(kind);
    clock.clearTimeout(window.timer);
    if (window.suppressed === 0) return;
    const count = window.suppressed.toLocaleString('en-US');
    // The first entry's shape (level, event and whatever else the caller's entries carry) with the count.
    sink({
      ...window.first,
      message: `… ${count} more ${kind} in the last ${seconds}`,
      fields: { kind, suppressed: window.suppressed, throttled: true },
    });
  };
  const log = ((entry: E) => {
    const kind = windowMs === 0 ? undefined : kindOf(entry);
    if (kind === undefined) {
      sink(entry);
      return;
    }
    const window = open.get(kind);
    if (window) {
      window.suppressed += 1;
      return;
    }
    open.set(kind, { first: entry, suppressed: 0, timer: clock.setTimeout(() => close(kind), windowMs) });
    sink(entry);
  }) as ThrottledLog<E>;
  log.flush = () => {
    for (const kind of [...open.keys()]) close(kind);
  };
  return log;
}
