import type { Link } from '../../simulator/link/index.ts';

/**
 * Writes to a link, holding chunks back until the I/O callbacks of the current turn of the event loop have run,
 * so that every line queued for that link in the turn leaves in one `write()` — one system call.
 *
 * Why: each socket write is a system call, and on a busy NDJSON connection (the master's answers to the relay,
 * the relay's requests to the master) it was the largest single cost of a read. Answers finishing in the same turn
 * (replies from many concentrators read in one poll) now share a call. The bytes and their order are unchanged; a
 * line waits at most until the end of the turn (`setImmediate`), never for a timer. Only for hops whose framing
 * does not depend on write boundaries (NDJSON: the newline); a 376.1 link writes one frame per `write()`.
 */
export class CoalescedWriter {
  readonly #link: Link;
  readonly #onError: (error: unknown) => void;
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  #scheduled = false;

  /** @param onError called when the link refuses or loses a write (closed, reset, its buffer full). */
  constructor(link: Link, onError: (error: unknown) => void) {
    this.#link = link;
    this.#onError = onError;
  }

  /** Queues `chunk` for the end of this turn. */
  write(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Writes what is queued now (also called at the end of the turn). */
  flush(): void {
    this.#scheduled = false;
    const chunks = this.#chunks;
    if (chunks.length === 0) return;
    const bytes = chunks.length === 1 ? chunks[0] : concat(chunks, this.#bytes);
    this.#chunks = [];
    this.#bytes = 0;
    if (!this.#link.isOpen) return;
    this.#link.write(bytes).catch(this.#onError);
  }
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
