/**
 * A round-robin queue across clients: each client has its own FIFO, and clients take turns — one item per turn —
 * in the order they became waiting. So however many items one client queues, another client's item waits at most
 * one turn of each client ahead of it (issue 13 item 5: one client's backlog of reads of absent meters held a
 * concentrator port for minutes). A client's FIFO is bounded; {@link FairQueue.enqueue} says when it is full.
 *
 * Pure data structure, no I/O, no timers: the port scheduler (port-scheduler.ts) runs what it hands out.
 */

export interface FairQueueOptions {
  /** Items one client may have waiting; one more is refused. @defaultValue 256 */
  maxQueuedPerClient?: number;
}

export class FairQueue<C, T> {
  readonly maxQueuedPerClient: number;
  /**
   * Waiting items per client. A Map iterates in insertion order, and deleting then re-adding a key moves it to
   * the end: the first key is the client whose turn it is, and a client that was served goes to the back.
   */
  readonly #queues = new Map<C, T[]>();
  #size = 0;

  /** @throws TypeError when `maxQueuedPerClient` is not a positive integer. */
  constructor(options: FairQueueOptions = {}) {
    this.maxQueuedPerClient = options.maxQueuedPerClient ?? 256;
    if (!Number.isInteger(this.maxQueuedPerClient) || this.maxQueuedPerClient < 1) {
      throw new TypeError(
        `"maxQueuedPerClient" must be a positive integer, got ${String(options.maxQueuedPerClient)}`,
      );
    }
  }

  /** Items waiting, all clients together. */
  get size(): number {
    return this.#size;
  }

  /** Items of `client` waiting. */
  queuedFor(client: C): number {
    return this.#queues.get(client)?.length ?? 0;
  }

  /** Clients with items waiting, the one whose turn it is first. */
  clients(): C[] {
    return [...this.#queues.keys()];
  }

  /**
   * Adds `item` at the end of `client`'s FIFO; a client that had nothing waiting joins the back of the turn
   * order. False (and nothing added) when the client already has `maxQueuedPerClient` items waiting.
   */
  enqueue(client: C, item: T): boolean {
    const queue = this.#queues.get(client);
    if (!queue) {
      this.#queues.set(client, [item]);
    } else {
      if (queue.length >= this.maxQueuedPerClient) return false;
      queue.push(item);
    }
    this.#size++;
    return true;
  }

  /** The next item: the oldest of the client whose turn it is; that client goes to the back. */
  dequeue(): { client: C; item: T } | undefined {
    const first = this.#queues.entries().next();
    if (first.done) return undefined;
    const [client, queue] = first.value;
    const item = queue.shift() as T;
    this.#queues.delete(client);
    if (queue.length > 0) this.#queues.set(client, queue);
    this.#size--;
    return { client, item };
  }

  /** Takes `item` of `client` out of the queue (cancelled); false when it is not waiting. */
  remove(client: C, item: T): boolean {
    const queue = this.#queues.get(client);
    const at = queue?.indexOf(item) ?? -1;
    if (!queue || at < 0) return false;
    queue.splice(at, 1);
    if (queue.length === 0) this.#queues.delete(client);
    this.#size--;
    return true;
  }

  /** Takes the newest item of `client` out of the queue (to make room for another client); undefined if none. */
  popNewest(client: C): T | undefined {
    const queue = this.#queues.get(client);
    if (!queue) return undefined;
    const item = queue.pop() as T;
    if (queue.length === 0) this.#queues.delete(client);
    this.#size--;
    return item;
  }
}
