import { bytesToHex } from '../../protocols/bytes.ts';
import type { Clock } from '../../simulator/clock/clock.ts';
import type { TraceEntry } from './types.ts';

/**
 * The evidence of one case: every frame sent and heard, every run of bytes that formed no frame, every wait
 * that ended in silence, timestamped on the suite's clock from the start of the case.
 */
export class Trace {
  readonly entries: TraceEntry[] = [];
  readonly #clock: Clock;
  readonly #startedAt: number;
  /** Bound of entries kept: a device that floods the line must not exhaust memory. */
  static readonly MAX_ENTRIES = 500;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#startedAt = clock.now();
  }

  /** Milliseconds since the case started. */
  get elapsedMs(): number {
    return this.#clock.now() - this.#startedAt;
  }

  add(kind: TraceEntry['kind'], text: string, bytes?: Uint8Array): void {
    if (this.entries.length >= Trace.MAX_ENTRIES) {
      if (this.entries.length === Trace.MAX_ENTRIES) {
        this.entries.push({ atMs: round(this.elapsedMs), kind: 'note', text: 'trace truncated here' });
      }
      return;
    }
    const entry: TraceEntry = { atMs: round(this.elapsedMs), kind, text };
    if (bytes) entry.hex = bytesToHex(bytes);
    this.entries.push(entry);
  }

  note(text: string): void {
    this.add('note', text);
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
