/**
 * The relay's queue of reads waiting for a slot toward the master, fair across browsers (issue 13): one FIFO per
 * origin (the browser's `ws-<n>`), and origins take turns, one read each, in the order they started waiting. So a
 * browser that queued 500 reads delays another browser's one read by at most one read of each other waiting
 * browser, not by all 500. The same idea as the master's per-port queue (harness/master/fair-queue.ts), written
 * for the relay's needs: removal of any waiting read in O(1) (a browser cancels or leaves, a read times out), and
 * no per-origin cap (the master link bounds the total with `maxPending`; the session bounds each browser with
 * `maxInFlightPerClient`).
 *
 * Pure data structure: no I/O, no timers.
 */
export class OriginQueue<T> {
  /**
   * Waiting items per origin. A Map iterates in insertion order and deleting then setting a key moves it to the
   * end: the first key is the origin whose turn it is, and an origin that was served goes to the back. A Set per
   * origin keeps its items in arrival order and deletes any of them at once.
   */
  readonly #queues = new Map<string, Set<T>>();
  #size = 0;

  /** Items waiting, all origins together. */
  get size(): number {
    return this.#size;
  }

  /** Adds `item` at the end of `origin`'s FIFO; an origin that had nothing waiting joins the back of the turns. */
  push(origin: string, item: T): void {
    const queue = this.#queues.get(origin);
    if (queue) queue.add(item);
    else this.#queues.set(origin, new Set([item]));
    this.#size++;
  }

  /** The oldest item of the origin whose turn it is; that origin goes to the back. Undefined when empty. */
  shift(): T | undefined {
    const first = this.#queues.entries().next();
    if (first.done) return undefined;
    const [origin, queue] = first.value;
    const item = queue.values().next().value as T;
    queue.delete(item);
    this.#queues.delete(origin);
    if (queue.size > 0) this.#queues.set(origin, queue);
    this.#size--;
    return item;
  }

  /** Takes `item` of `origin` out; false when it is not waiting. Its origin keeps its place in the turns. */
  delete(origin: string, item: T): boolean {
    const queue = this.#queues.get(origin);
    if (!queue?.delete(item)) return false;
    if (queue.size === 0) this.#queues.delete(origin);
    this.#size--;
    return true;
  }

  /** Empties the queue; returns every item that was waiting, origin by origin. */
  clear(): T[] {
    const items: T[] = [];
    for (const queue of this.#queues.values()) for (const item of queue) items.push(item);
    this.#queues.clear();
    this.#size = 0;
    return items;
  }
}
