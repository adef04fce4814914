import type { Clock, TimerHandle } from '../clock/index.ts';
import type { IdSpace } from './id-space.ts';
import type { WithdrawSignal } from './withdrawal.ts';

/**
 * | code           | meaning                                                                                   |
 * | -------------- | ----------------------------------------------------------------------------------------- |
 * | WINDOW_FULL    | the window is full and `maxQueued` requests already wait: refused at once, nothing sent     |
 * | WINDOW_TIMEOUT | no answer within the request's `timeoutMs` (its id, if it was sent, is now quarantined)     |
 * | WINDOW_CLOSED  | `close()` was called (the link went away) before an answer, or `request()` after it          |
 */
export type RequestWindowErrorCode = 'WINDOW_FULL' | 'WINDOW_TIMEOUT' | 'WINDOW_CLOSED';

/** The window's own failures; a `fail(id, error)` or a failed `send` rejects with the caller's error instead. */
export class RequestWindowError extends Error {
  override readonly name = 'RequestWindowError';
  constructor(
    readonly code: RequestWindowErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Options for {@link RequestWindow}; every limit is validated in the constructor (TypeError naming it). */
export interface RequestWindowOptions<Id> {
  /** Where correlation ids come from: {@link sequenceIds}, {@link counterIds} or {@link singleId}. */
  ids: IdSpace<Id>;
  /** Requests in flight at once (>= 1, <= `ids.size`). */
  window: number;
  /** Requests waiting for a slot (>= 0); one more is refused at once with WINDOW_FULL. */
  maxQueued: number;
  /**
   * How long (ms, >= 0) a timed-out or withdrawn id stays unusable when no late answer arrives. Pick it longer
   * than the longest time a peer may still answer; 0 frees the id at once (only safe when ids never repeat).
   */
  quarantineMs: number;
  /** All time (timeouts, quarantine, latency) is measured on this clock. */
  clock: Clock;
}

/** Per-request options for {@link RequestWindow.request}. */
export interface RequestOptions {
  /** How long (ms, > 0) to wait for the answer. */
  timeoutMs: number;
  /**
   * Where `timeoutMs` starts: `'send'` (default) when the request gets its id and `send` is called; `'sent'` when
   * `send` has returned (or its promise resolved) — the bytes are out, as a bus's frame timeout counts; `'request'`
   * when `request()` is called, so time spent queued counts too — a caller's whole deadline. A request that times
   * out while still queued was never sent: it fails with WINDOW_TIMEOUT and no id is quarantined.
   * @defaultValue 'send'
   */
  timeoutFrom?: 'send' | 'sent' | 'request';
  /** Withdraws the request: queued, it is dropped; in flight, its id is quarantined. Rejects with `signal.reason`. */
  signal?: WithdrawSignal;
}

/** What a settled request resolves with. */
export interface WindowReply<Id, Reply> {
  id: Id;
  reply: Reply;
  /** Clock time from `send(id)` to the answer, ms. */
  latencyMs: number;
}

/** The outcome of an answer handed to {@link RequestWindow.settle} or {@link RequestWindow.fail}. */
export type AnswerMatch = 'settled' | 'late' | 'unknown';

interface Waiting<Id, Reply> {
  readonly send: (id: Id) => void | Promise<void>;
  readonly options: RequestOptions;
  readonly resolve: (value: WindowReply<Id, Reply>) => void;
  readonly reject: (error: unknown) => void;
  timer: TimerHandle | undefined;
  onAbort: (() => void) | undefined;
  id?: Id;
  sentAt?: number;
}

/**
 * One request/answer correlator for every hop (STYLE.md "one limiter"): a bounded queue, a window of requests in
 * flight each holding a correlation id, a per-request timeout, and quarantine of timed-out ids until a late answer
 * arrives or `quarantineMs` passes — so a late answer can never settle a newer request that reused its id.
 *
 * `send(id)` is called synchronously from `request()` (or later, from whatever freed a slot) with the request
 * already counted in flight, so an answer that arrives while `send` is still running is matched.
 */
export class RequestWindow<Id, Reply> {
  readonly #ids: IdSpace<Id>;
  readonly #window: number;
  readonly #maxQueued: number;
  readonly #quarantineMs: number;
  readonly #clock: Clock;
  readonly #queue: Waiting<Id, Reply>[] = [];
  readonly #inFlight = new Map<Id, Waiting<Id, Reply>>();
  readonly #quarantine = new Map<Id, TimerHandle>();
  #closed: Error | undefined;

  constructor(options: RequestWindowOptions<Id>) {
    const { ids, window, maxQueued, quarantineMs, clock } = options;
    if (!Number.isInteger(window) || window < 1 || window > ids.size) {
      throw new TypeError(
        `RequestWindow: "window" must be an integer 1–${ids.size} (${ids.description}), got ${String(window)}`,
      );
    }
    if (!Number.isInteger(maxQueued) || maxQueued < 0) {
      throw new TypeError(`RequestWindow: "maxQueued" must be an integer >= 0, got ${String(maxQueued)}`);
    }
    if (!Number.isFinite(quarantineMs) || quarantineMs < 0) {
      throw new TypeError(
        `RequestWindow: "quarantineMs" must be a finite number >= 0, got ${String(quarantineMs)}`,
      );
    }
    this.#ids = ids;
    this.#window = window;
    this.#maxQueued = maxQueued;
    this.#quarantineMs = quarantineMs;
    this.#clock = clock;
  }

  /** Requests sent and not yet answered, timed out or withdrawn. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Requests waiting for a slot or a free id. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Ids waiting for a late answer or for their quarantine to pass. */
  get quarantined(): number {
    return this.#quarantine.size;
  }

  /** Whether `id` is in quarantine (timed out or withdrawn, no late answer yet). */
  isQuarantined(id: Id): boolean {
    return this.#quarantine.has(id);
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /**
   * Queues a request; calls `send(id)` when a slot and a free id exist. Resolves with the answer given to
   * `settle(id, …)`. Rejects with RequestWindowError WINDOW_FULL / WINDOW_TIMEOUT / WINDOW_CLOSED, with the error
   * given to `fail(id, …)`, with what `send` threw or rejected with (its id is then freed at once: nothing went
   * out), or with `signal.reason`.
   */
  request(send: (id: Id) => void | Promise<void>, options: RequestOptions): Promise<WindowReply<Id, Reply>> {
    if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
      return Promise.reject(
        new TypeError(
          `RequestWindow.request: "timeoutMs" must be a finite number > 0, got ${options.timeoutMs}`,
        ),
      );
    }
    if (this.#closed) return Promise.reject(this.#closed);
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    return new Promise<WindowReply<Id, Reply>>((resolve, reject) => {
      const entry: Waiting<Id, Reply> = {
        send,
        options,
        resolve,
        reject,
        timer: undefined,
        onAbort: undefined,
      };
      if (options.timeoutFrom === 'request') {
        entry.timer = this.#clock.setTimeout(() => this.#timedOut(entry), options.timeoutMs);
      }
      const signal = options.signal;
      if (signal) {
        entry.onAbort = () => this.#withdraw(entry, signal.reason);
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.#queue.push(entry);
      this.#pump();
      // Still waiting (no slot, or every free slot's id is quarantined) and the queue was already full: refuse.
      if (this.#queue.length > this.#maxQueued && this.#queue[this.#queue.length - 1] === entry) {
        this.#queue.pop();
        this.#release(entry);
        reject(
          new RequestWindowError(
            'WINDOW_FULL',
            `${this.#inFlight.size} requests in flight and ${this.#maxQueued} queued (the limit): try again later`,
          ),
        );
      }
    });
  }

  /** An answer for `id`: `'settled'` a request got it; `'late'` the id was quarantined (now released); `'unknown'`. */
  settle(id: Id, reply: Reply): AnswerMatch {
    return this.#answer(id, (entry) => {
      entry.resolve({ id, reply, latencyMs: this.#clock.now() - (entry.sentAt ?? this.#clock.now()) });
    });
  }

  /** A failure answer for `id` (e.g. a deny): the request rejects with `error`. Same return values as settle. */
  fail(id: Id, error: Error): AnswerMatch {
    return this.#answer(id, (entry) => entry.reject(error));
  }

  /**
   * Fails every queued and in-flight request with `error` (default WINDOW_CLOSED), forgets the quarantine, and
   * refuses every later request with the same error. Idempotent.
   */
  close(error?: Error): void {
    if (this.#closed) return;
    const reason = error ?? new RequestWindowError('WINDOW_CLOSED', 'the link closed before an answer');
    this.#closed = reason;
    const entries = [...this.#queue, ...this.#inFlight.values()];
    this.#queue.length = 0;
    this.#inFlight.clear();
    for (const timer of this.#quarantine.values()) this.#clock.clearTimeout(timer);
    this.#quarantine.clear();
    for (const entry of entries) {
      this.#release(entry);
      entry.reject(reason);
    }
  }

  #answer(id: Id, deliver: (entry: Waiting<Id, Reply>) => void): AnswerMatch {
    const entry = this.#inFlight.get(id);
    if (entry) {
      this.#inFlight.delete(id);
      this.#release(entry);
      deliver(entry);
      this.#pump();
      return 'settled';
    }
    const quarantine = this.#quarantine.get(id);
    if (quarantine !== undefined) {
      this.#clock.clearTimeout(quarantine);
      this.#quarantine.delete(id);
      this.#pump();
      return 'late';
    }
    return 'unknown';
  }

  #busy = (id: Id): boolean => this.#inFlight.has(id) || this.#quarantine.has(id);

  /** Starts queued requests, in order, while a slot and a free id exist. */
  #pump(): void {
    while (!this.#closed && this.#queue.length > 0 && this.#inFlight.size < this.#window) {
      const id = this.#ids.take(this.#busy);
      if (id === undefined) return;
      const entry = this.#queue.shift()!;
      this.#start(entry, id);
    }
  }

  #start(entry: Waiting<Id, Reply>, id: Id): void {
    entry.id = id;
    entry.sentAt = this.#clock.now();
    this.#inFlight.set(id, entry);
    const afterSend = entry.options.timeoutFrom === 'sent';
    if (entry.timer === undefined && !afterSend) this.#armTimeout(entry);
    let sent: void | Promise<void>;
    try {
      sent = entry.send(id);
    } catch (error) {
      this.#sendFailed(entry, error);
      return;
    }
    if (sent && typeof sent.then === 'function') {
      sent.then(
        () => {
          if (afterSend) this.#armTimeout(entry);
        },
        (error) => this.#sendFailed(entry, error),
      );
    } else if (afterSend) this.#armTimeout(entry);
  }

  /** Starts the request's timeout, unless it already ended (answered while `send` was still running). */
  #armTimeout(entry: Waiting<Id, Reply>): void {
    if (entry.timer !== undefined || entry.id === undefined || this.#inFlight.get(entry.id) !== entry) return;
    entry.timer = this.#clock.setTimeout(() => this.#timedOut(entry), entry.options.timeoutMs);
  }

  /** Nothing went out (or the caller says so): the id is free again at once, no quarantine. */
  #sendFailed(entry: Waiting<Id, Reply>, error: unknown): void {
    if (entry.id === undefined || this.#inFlight.get(entry.id) !== entry) return; // already answered or ended
    this.#inFlight.delete(entry.id);
    this.#release(entry);
    entry.reject(error);
    this.#pump();
  }

  #timedOut(entry: Waiting<Id, Reply>): void {
    entry.timer = undefined;
    const queuedAt = this.#queue.indexOf(entry);
    if (queuedAt >= 0) {
      this.#queue.splice(queuedAt, 1);
      this.#release(entry);
      entry.reject(
        new RequestWindowError(
          'WINDOW_TIMEOUT',
          `no slot within ${entry.options.timeoutMs} ms (still queued)`,
        ),
      );
      return;
    }
    if (entry.id === undefined || this.#inFlight.get(entry.id) !== entry) return;
    this.#quarantineId(entry);
    entry.reject(
      new RequestWindowError(
        'WINDOW_TIMEOUT',
        `no answer within ${entry.options.timeoutMs} ms (id ${String(entry.id)} quarantined for ${this.#quarantineMs} ms)`,
      ),
    );
    this.#pump();
  }

  #withdraw(entry: Waiting<Id, Reply>, reason: unknown): void {
    const queuedAt = this.#queue.indexOf(entry);
    if (queuedAt >= 0) {
      this.#queue.splice(queuedAt, 1);
      this.#release(entry);
      entry.reject(reason);
      return;
    }
    if (entry.id === undefined || this.#inFlight.get(entry.id) !== entry) return;
    this.#quarantineId(entry);
    entry.reject(reason);
    this.#pump();
  }

  /** Takes an in-flight entry out and holds its id until a late answer or `quarantineMs`. */
  #quarantineId(entry: Waiting<Id, Reply>): void {
    const id = entry.id as Id;
    this.#inFlight.delete(id);
    this.#release(entry);
    if (this.#quarantineMs === 0) return;
    const timer = this.#clock.setTimeout(() => {
      if (this.#quarantine.get(id) !== timer) return;
      this.#quarantine.delete(id);
      this.#pump();
    }, this.#quarantineMs);
    this.#quarantine.set(id, timer);
  }

  /** Clears the entry's timer and abort listener. */
  #release(entry: Waiting<Id, Reply>): void {
    if (entry.timer !== undefined) this.#clock.clearTimeout(entry.timer);
    entry.timer = undefined;
    if (entry.onAbort) entry.options.signal?.removeEventListener('abort', entry.onAbort);
    entry.onAbort = undefined;
  }
}
