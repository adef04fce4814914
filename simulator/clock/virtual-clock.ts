import { type Clock, normaliseDelay, type TimerHandle } from './clock.ts';

/** Options for {@link VirtualClock}. */
export interface VirtualClockOptions {
  /**
   * The clock's time before anything is advanced, in ms. Pass an epoch time (e.g.
   * `Date.parse('2024-01-01T00:00:00Z')`) when devices derive calendar dates from the clock.
   * @defaultValue 0
   */
  start?: number;
  /**
   * How many timers one `advance`, `advanceAsync`, `runAll` or `runAllAsync` call may fire before it gives up
   * with a `RangeError`. A device that re-arms a zero-delay timer forever would otherwise hang the test.
   * @defaultValue 1_000_000
   */
  maxTimersPerRun?: number;
}

interface VirtualTimer {
  readonly at: number;
  /** Insertion order: timers due at the same time fire in the order they were scheduled. */
  readonly seq: number;
  readonly fn: () => void;
  readonly owner: VirtualClock;
  cancelled: boolean;
}

/**
 * A clock that only moves when a test moves it. Timers fire in time order; timers due at the same time
 * fire in the order they were set; timers set by a firing timer fire in the same `advance` if they fall
 * inside its window. An exception thrown by a timer propagates out of `advance` (time stays at that timer's
 * time, the remaining timers stay pending), as an uncaught exception in a real timer would surface.
 *
 * @example
 * const clock = new VirtualClock();
 * const bus = new Rs485Bus({ clock });
 * void port.transmit(frame);
 * clock.advance(wireTimeMs(frame.length, bus.settings));
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  /** Binary min-heap ordered by (at, seq). Cancelled timers stay in it until they reach the top. */
  #heap: VirtualTimer[] = [];
  #live = 0;
  readonly #maxTimersPerRun: number;

  constructor(options: VirtualClockOptions = {}) {
    const { start = 0, maxTimersPerRun = 1_000_000 } = options;
    if (typeof start !== 'number' || !Number.isFinite(start)) {
      throw new TypeError(`"start" must be a finite number of ms, got ${String(start)}`);
    }
    if (!Number.isInteger(maxTimersPerRun) || maxTimersPerRun < 1) {
      throw new TypeError(`"maxTimersPerRun" must be a positive integer, got ${String(maxTimersPerRun)}`);
    }
    this.#now = start;
    this.#maxTimersPerRun = maxTimersPerRun;
  }

  now(): number {
    return this.#now;
  }

  /** Number of timers scheduled and not yet fired or cancelled. */
  get pending(): number {
    return this.#live;
  }

  /** Time of the next live timer, or `undefined` when none is pending. */
  nextTimerAt(): number | undefined {
    return this.#peek()?.at;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    if (typeof fn !== 'function') throw new TypeError('"fn" must be a function');
    const timer: VirtualTimer = {
      at: this.#now + normaliseDelay(ms),
      seq: this.#seq++,
      fn,
      owner: this,
      cancelled: false,
    };
    this.#push(timer);
    this.#live++;
    return timer as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = handle as unknown as VirtualTimer;
    // Only our own live timers count; a handle from another clock or a fired timer is ignored.
    if (timer && typeof timer === 'object' && timer.owner === this && !timer.cancelled) {
      timer.cancelled = true;
      this.#live--;
    }
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /**
   * Moves time forward by `ms`, firing every timer due up to and including `now() + ms` in order, and ends
   * with `now()` at exactly the target. Promise continuations do not run in between: use
   * {@link VirtualClock.advanceAsync} when the code under test awaits between timers.
   * @throws RangeError if `ms` is negative or not finite, or more than `maxTimersPerRun` timers fire.
   */
  advance(ms: number): void {
    const target = this.#target(ms);
    let fired = 0;
    for (let timer = this.#peek(); timer && timer.at <= target; timer = this.#peek()) {
      this.#countFired(++fired);
      this.#fire(timer);
    }
    this.#now = target;
  }

  /**
   * Like {@link VirtualClock.advance}, but lets pending promise continuations (and `setImmediate` work)
   * run before each timer and at the end, so `await clock.sleep(10); await port.transmit(x)` chains progress
   * inside one call. Timers those continuations set inside the window fire too.
   */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.#target(ms);
    let fired = 0;
    for (;;) {
      await flushMicrotasks();
      const timer = this.#peek();
      if (!timer || timer.at > target) break;
      this.#countFired(++fired);
      this.#fire(timer);
    }
    this.#now = target;
    await flushMicrotasks();
    // Continuations that ran after the last flush may have set zero-delay timers at the target time.
    for (let timer = this.#peek(); timer && timer.at <= target; timer = this.#peek()) {
      this.#countFired(++fired);
      this.#fire(timer);
      await flushMicrotasks();
    }
  }

  /**
   * Fires every pending timer, including ones they set, until none is left; `now()` ends at the last one.
   * @returns how many timers fired.
   * @throws RangeError after `maxTimersPerRun` timers (a timer that keeps re-arming itself).
   */
  runAll(): number {
    let fired = 0;
    for (let timer = this.#peek(); timer; timer = this.#peek()) {
      this.#countFired(++fired);
      this.#fire(timer);
    }
    return fired;
  }

  /** {@link VirtualClock.runAll} with promise continuations flushed before each timer and at the end. */
  async runAllAsync(): Promise<number> {
    let fired = 0;
    for (;;) {
      await flushMicrotasks();
      const timer = this.#peek();
      if (!timer) return fired;
      this.#countFired(++fired);
      this.#fire(timer);
    }
  }

  #target(ms: number): number {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`advance: "ms" must be a finite number >= 0, got ${String(ms)}`);
    }
    return this.#now + ms;
  }

  #countFired(fired: number): void {
    if (fired > this.#maxTimersPerRun) {
      throw new RangeError(
        `VirtualClock fired more than maxTimersPerRun (${this.#maxTimersPerRun}) timers in one run; ` +
          'a timer probably re-arms itself forever',
      );
    }
  }

  #fire(timer: VirtualTimer): void {
    this.#pop();
    timer.cancelled = true;
    this.#live--;
    this.#now = timer.at;
    timer.fn();
  }

  /** Top live timer, discarding cancelled ones on the way. */
  #peek(): VirtualTimer | undefined {
    while (this.#heap.length > 0 && this.#heap[0].cancelled) this.#pop();
    return this.#heap[0];
  }

  #push(timer: VirtualTimer): void {
    const heap = this.#heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && before(heap[left], heap[smallest])) smallest = left;
      if (right < heap.length && before(heap[right], heap[smallest])) smallest = right;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest], heap[i]];
      i = smallest;
    }
  }
}

function before(a: VirtualTimer, b: VirtualTimer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/**
 * Lets every queued promise continuation run: a `setImmediate` callback runs only after the microtask queue
 * is empty, and chains that await other chains get several rounds.
 */
async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
