/**
 * What a withdrawable request listens to: the part of `AbortSignal` meterlab uses, so a real `AbortSignal` fits
 * as well as a {@link Withdrawal}'s signal.
 */
export interface WithdrawSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * A one-shot withdrawal of one request: a light `AbortController`. Why not `AbortController` itself: the relay
 * and the master make one per point-read (a browser that leaves withdraws its reads), and on Node 20 creating one
 * and listening to it cost about 6 µs of a read's CPU in each process (docs/performance.md); this costs a small
 * object and an array. Listeners run once, in the order they were added, when {@link abort} is first called.
 */
export class Withdrawal {
  readonly signal: WithdrawSignal;
  readonly #signal: LightSignal;

  constructor() {
    this.#signal = new LightSignal();
    this.signal = this.#signal;
  }

  /** Withdraws: `signal.aborted` becomes true and every listener runs once. Later calls do nothing. */
  abort(reason?: unknown): void {
    this.#signal.abort(reason);
  }
}

class LightSignal implements WithdrawSignal {
  aborted = false;
  reason: unknown = undefined;
  #listeners: (() => void)[] | undefined;

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return; // as with AbortSignal: an 'abort' event is fired once, never again
    this.#listeners ??= [];
    this.#listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const listeners = this.#listeners;
    if (!listeners) return;
    const at = listeners.indexOf(listener);
    if (at >= 0) listeners.splice(at, 1);
  }

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    // The same reason an AbortController gives when none is passed, so callers can tell it apart alike.
    this.reason =
      reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    let failure: unknown;
    for (const listener of listeners ?? []) {
      try {
        listener();
      } catch (error) {
        failure ??= error; // every listener runs; a throwing one is a bug that surfaces after
      }
    }
    if (failure !== undefined) throw failure;
  }
}
