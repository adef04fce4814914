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
