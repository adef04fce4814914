import { Withdrawal, type WithdrawSignal } from '../../simulator/window/index.ts';
/**
 * Sharing of concurrent reads of one meter.
 *
 * The legacy relay answered a second request for a meter already being read with "不要重复发送" (do not send
 * twice). Users clicking "read" twice, or two operators looking at one meter, want the reading instead; and a
 * field read is expensive (seconds of RS-485 bus time behind a GPRS link). So while one read of a meter is in
 * flight, later identical requests join it: one field read, one result, handed to every requester, each of
 * which then answers its own client with its own id.
 */

/** What identifies "the same read". */
export interface ReadKeyParts {
  concentrator: string;
  meter: string;
  protocol?: string;
  port?: number;
}

/**
 * The sharing key. The meter address loses its leading zeros because the master left-pads addresses
 * (`"101001"` and `"00000000101001"` are one meter). The concentrator is kept as given: an alias and an
 * address might name the same concentrator but only the master knows. An explicit protocol or port is part of
 * the key: a request that insists on DL/T 645 must not be answered by a CJ/T 188 read.
 */
export function readKey(parts: ReadKeyParts): string {
  const meter = parts.meter.replace(/^0+(?=\d)/, '');
  return JSON.stringify([parts.concentrator, meter, parts.protocol ?? null, parts.port ?? null]);
}

/** A request's handle on a (possibly shared) read. */
export interface CoalescedRead<R> {
  /** Settles with the one result of the shared read. */
  result: Promise<R>;
  /** True when this request joined a read that was already in flight. */
  shared: boolean;
  /** How many requests the read serves so far, this one included. */
  sharers: number;
  /**
   * This requester no longer wants the result (its client left). When nobody else wants it either, the read is
   * withdrawn: the fetch's signal aborts and the key is free for a fresh read. Idempotent; a no-op once settled.
   */
  leave(): void;
}

interface Entry<R> {
  result: Promise<R>;
  /** Requests that joined, for logs. */
  sharers: number;
  /** Requests that joined and have not left. */
  wanted: number;
  readonly withdraw: Withdrawal;
}

/**
 * Runs at most one `fetch` per key at a time and shares its result. The entry is removed when the fetch
 * settles, so a request that arrives afterwards starts a fresh field read (a reading is never served stale).
 * It is also removed when every requester has left (issue 13 item 5): the fetch's signal then aborts — the master
 * link drops the read or tells the master to — and a later request starts a fresh read rather than joining one
 * that is being withdrawn. The map holds one entry per distinct in-flight read, so it is bounded by whatever
 * bounds the fetches (the master link's `maxPending`).
 */
export class ReadCoalescer<Req extends ReadKeyParts, R> {
  readonly #fetch: (req: Req, signal: WithdrawSignal, origin: string | undefined) => Promise<R>;
  readonly #inFlight = new Map<string, Entry<R>>();

  /**
   * @param fetch performs one field read; every requester of the same key gets what it settles with. Its signal
   * aborts when every requester has left; `origin` is that of the requester that started it.
   */
  constructor(fetch: (req: Req, signal: WithdrawSignal, origin: string | undefined) => Promise<R>) {
    this.#fetch = fetch;
  }

  /** Distinct reads in flight. */
  get size(): number {
    return this.#inFlight.size;
  }

  /**
   * Joins the read in flight for this request's key, or starts one. `origin` names the requester (a relay client)
   * and goes to `fetch` when this request starts the read; one that joins shares the read whoever started it.
   */
  read(req: Req, origin?: string): CoalescedRead<R> {
    const key = readKey(req);
    const existing = this.#inFlight.get(key);
    if (existing) {
      existing.sharers += 1;
      existing.wanted += 1;
      return {
        result: existing.result,
        shared: true,
        sharers: existing.sharers,
        leave: this.#leaver(key, existing),
      };
    }
    const withdraw = new Withdrawal(); // not an AbortController: one per read (docs/performance.md)
    let result: Promise<R>;
    try {
      result = this.#fetch(req, withdraw.signal, origin);
    } catch (error) {
      result = Promise.reject(error);
    }
    const entry: Entry<R> = { result, sharers: 1, wanted: 1, withdraw };
    const forget = () => {
      if (this.#inFlight.get(key) === entry) this.#inFlight.delete(key);
    };
    entry.result.then(forget, forget);
    this.#inFlight.set(key, entry);
    return { result: entry.result, shared: false, sharers: 1, leave: this.#leaver(key, entry) };
  }

  #leaver(key: string, entry: Entry<R>): () => void {
    let left = false;
    return () => {
      if (left || this.#inFlight.get(key) !== entry) return;
      left = true;
      entry.wanted -= 1;
      if (entry.wanted > 0) return;
      this.#inFlight.delete(key);
      entry.withdraw.abort();
    };
  }
}
