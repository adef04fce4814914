import type { FaultKind } from './fault-plan.ts';

/**
 * What a simulated meter did, as data: every request it heard and answered, every reply it planned, every
 * fault that fired and every state change. The log is bounded; the oldest entries go first.
 * @packageDocumentation
 */

/** One entry of a meter's event log. `at` is the meter's clock time (ms) when it happened. */
export type MeterEvent =
  /** A request addressed to this meter (or to a wildcard it answers). */
  | { kind: 'request'; at: number; hex: string; summary: string }
  /** A reply the meter planned: `delayMs` after the bus turnaround, `hex` exactly as it goes on the wire. */
  | { kind: 'reply'; at: number; hex: string; summary: string; delayMs: number }
  /** A fault from the meter's plan changed (or suppressed) the reply. */
  | { kind: 'fault'; at: number; fault: FaultKind; detail: string }
  /** The valve moved by command. */
  | { kind: 'valve'; at: number; from: 'open' | 'closed'; to: 'open' | 'closed' }
  /** The meter took a new address (CJ/T 188 write address, A018). */
  | { kind: 'address'; at: number; from: string; to: string }
  /** The base reading was set (CJ/T 188 A016): from now on the reading is `value` plus consumption. */
  | { kind: 'base-reading'; at: number; value: number }
  /** The meter clock was set (CJ/T 188 A015, DL/T 645 broadcast time sync). */
  | { kind: 'clock'; at: number; time: string }
  /** Bytes the meter heard that formed no frame (line noise, collisions, other meters' bad replies). */
  | { kind: 'dropped'; at: number; hex: string; reason: string };

/** Kinds of {@link MeterEvent}. */
export type MeterEventKind = MeterEvent['kind'];

/** Default bound of a meter's event log. */
export const DEFAULT_MAX_METER_EVENTS = 1000;

/**
 * A bounded list of {@link MeterEvent}s with listeners. When full, the oldest entry is dropped and counted in
 * `dropped`; listeners still see every event. A log of `maxEvents` 0 keeps nothing: a fleet's meters use it,
 * since 1,000 events of ~670 bytes for each of thousands of meters came to gigabytes (see
 * {@link MeterEventLog.wanted}).
 */
export class MeterEventLog {
  readonly maxEvents: number;
  #events: MeterEvent[] = [];
  #dropped = 0;
  readonly #listeners = new Set<(event: MeterEvent) => void>();

  /**
   * @param maxEvents - most entries kept (0: none, listeners only). @defaultValue {@link DEFAULT_MAX_METER_EVENTS}
   * @throws TypeError when `maxEvents` is not an integer ≥ 0.
   */
  constructor(maxEvents = DEFAULT_MAX_METER_EVENTS) {
    if (!Number.isInteger(maxEvents) || maxEvents < 0) {
      throw new TypeError(`"maxEvents" must be an integer ≥ 0, got ${String(maxEvents)}`);
    }
    this.maxEvents = maxEvents;
  }

  /** The entries kept, oldest first (a copy). */
  list(): MeterEvent[] {
    return [...this.#events];
  }

  /** Entries of one kind, oldest first. */
  ofKind<K extends MeterEventKind>(kind: K): Extract<MeterEvent, { kind: K }>[] {
    return this.#events.filter((e): e is Extract<MeterEvent, { kind: K }> => e.kind === kind);
  }

  /** Number of entries kept. */
  get size(): number {
    return this.#events.length;
  }

  /** Entries dropped because the log was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Whether an event pushed now would be kept or heard. A meter builds its request and reply events (hex and a
   * summary of the frame, a few µs per read) only when one is.
   */
  get wanted(): boolean {
    return this.maxEvents > 0 || this.#listeners.size > 0;
  }

  /** Adds an entry and tells every listener. */
  push(event: MeterEvent): void {
    if (this.maxEvents === 0) {
      this.#dropped++;
    } else {
      if (this.#events.length >= this.maxEvents) {
        this.#events.shift();
        this.#dropped++;
      }
      this.#events.push(event);
    }
    for (const listener of this.#listeners) listener(event);
  }

  /** Calls `listener` for every later event; returns a function that unsubscribes it. */
  subscribe(listener: (event: MeterEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Forgets every entry (listeners stay). */
  clear(): void {
    this.#events = [];
    this.#dropped = 0;
  }
}
