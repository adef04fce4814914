import type { WithdrawSignal } from '../../simulator/window/index.ts';
import { FairQueue } from './fair-queue.ts';
import { MasterError } from './master-error.ts';

/**
 * Fair queueing of point-reads per concentrator port (issue 13 item 5). An RS-485 port is half-duplex: the
 * concentrator serves its forwards one at a time (docs/gdw376.md §3.4, AFN 10 F1 carries one frame and waits
 * up to its frame timeout for the meter), and a read of an absent meter holds the port for that whole timeout.
 * Before this, every read went straight into the concentrator connection's FIFO, so one client's 100 reads of
 * absent meters held a port for minutes and every other client's read waited behind all of them.
 *
 * Now the master sends at most `maxInFlightPerPort` forwards to a port at once and keeps the rest here, one
 * {@link FairQueue} per port: clients take turns, so a client's read waits at most one read of each other client
 * (plus the ones already at the concentrator). What the queue holds is bounded three ways, each answered BUSY at
 * once with a message that says which bound: a client's reads for one port (`maxQueuedPerClientPort`), and all reads
 * for one concentrator (`maxPerConcentrator`, its reads in flight and queued) — when that is full, a client with
 * fewer reads waiting takes the place of the newest read of the client with the most, so no client can fill the
 * shared bound to lock the others out. A read whose client went away (its `signal` aborted: the socket closed)
 * is taken out of the queue before it is sent (STOPPED), never forwarded to the field; so is a read its client
 * withdrew (its own `cancel` aborted: a v1 `cancel` message), answered CANCELLED.
 */

export interface PortSchedulerOptions {
  /**
   * Forwards the master has at a concentrator port at once. 1: the port serves one at a time anyway, and a
   * read waiting here can still be reordered or cancelled, one waiting at the concentrator cannot.
   * @defaultValue 1
   */
  maxInFlightPerPort?: number;
  /** Reads of one client waiting for one port. @defaultValue 256 */
  maxQueuedPerClientPort?: number;
  /**
   * Reads in flight and waiting for one concentrator, all ports and clients together (the master station sets
   * it to its `maxInFlightPerConcentrator + maxQueuedPerConcentrator`). @defaultValue 264
   */
  maxPerConcentrator?: number;
}

/** Where a read goes. */
export interface PortTarget {
  /** The concentrator's 9-digit id. */
  concentrator: string;
  port: number;
}

/**
 * Who asks: `client` is the same object for all reads of one client — a client-API connection, or one origin behind
 * it (a relay's browser: the `origin` of a v1 read) — and its reads take turns with other clients' reads. `signal`
 * aborts when the connection is gone: its reads still waiting are answered STOPPED. `cancel` is this read's own:
 * it aborts when the client withdrew it (a v1 `cancel`), and the read, if still waiting, is answered CANCELLED.
 */
export interface PortClient {
  client: object;
  signal?: WithdrawSignal;
  cancel?: WithdrawSignal;
}

interface Job {
  readonly send: () => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly fail: (error: unknown) => void;
  readonly what: string;
  readonly client: object;
  readonly port: PortState;
  /** The client's signal, when the job is listed under it in `#waiting` while it waits. */
  listedUnder: WithdrawSignal | undefined;
  /** The read's own `cancel` and the listener on it, while it waits. */
  cancel: WithdrawSignal | undefined;
  onCancel: (() => void) | undefined;
}

interface PortState {
  readonly number: number;
  readonly concentrator: ConcentratorState;
  readonly queue: FairQueue<object, Job>;
  inFlight: number;
  /** Called once when a read sent to this port settles (one function per port, not one per read). */
  readonly settled: () => void;
}

interface ConcentratorState {
  readonly id: string;
  readonly ports: Map<number, PortState>;
  inFlight: number;
  queued: number;
}

/**
 * Idle port states kept for reuse before the scheduler forgets idle ones: a read of a port used before costs no
 * new state, and a master that sees many more ports still holds only the ones in use beyond this many.
 */
const KEPT_IDLE_PORTS = 4096;

/** The client of reads that name none (the station's own callers: the console, tests, scripts). */
const LOCAL_CLIENT = {};

export class PortScheduler {
  readonly maxInFlightPerPort: number;
  readonly maxQueuedPerClientPort: number;
  readonly maxPerConcentrator: number;
  readonly #concentrators = new Map<string, ConcentratorState>();
  /** Queued jobs per client signal (a connection's), to cancel them when it aborts. */
  readonly #waiting = new Map<WithdrawSignal, Set<Job>>();
  /** Signals already listened to (one listener per signal for its whole life, not one per read). */
  readonly #watched = new WeakSet<WithdrawSignal>();
  /** Port states held (see {@link KEPT_IDLE_PORTS}). */
  #ports = 0;

  /** @throws TypeError for a limit that is not a positive integer, naming the option. */
  constructor(options: PortSchedulerOptions = {}) {
    this.maxInFlightPerPort = positiveInt('maxInFlightPerPort', options.maxInFlightPerPort, 1);
    this.maxQueuedPerClientPort = positiveInt('maxQueuedPerClientPort', options.maxQueuedPerClientPort, 256);
    this.maxPerConcentrator = positiveInt('maxPerConcentrator', options.maxPerConcentrator, 264);
  }

  /** Reads waiting (not yet sent) for a concentrator, or for one of its ports. */
  queued(concentrator: string, port?: number): number {
    const c = this.#concentrators.get(concentrator);
    if (port === undefined) return c?.queued ?? 0;
    return c?.ports.get(port)?.queue.size ?? 0;
  }

  /** Reads sent and not yet settled for a concentrator, or for one of its ports. */
  inFlight(concentrator: string, port?: number): number {
    const c = this.#concentrators.get(concentrator);
    if (port === undefined) return c?.inFlight ?? 0;
    return c?.ports.get(port)?.inFlight ?? 0;
  }

  /**
   * Runs `send` (which forwards the read and settles when its answer came) when it is this read's turn at the
   * port, and settles with it. Rejects at once with BUSY when a bound is full, with STOPPED when the client's
   * signal aborts before the read was sent (or had already aborted), and with CANCELLED when the read's own
   * `cancel` does. Once sent, a read is no longer cancelled: the port is already serving it. `what` names the
   * read in messages.
   */
  run<T>(target: PortTarget, who: PortClient, what: string, send: () => Promise<T>): Promise<T> {
    const client = who.client;
    if (who.signal?.aborted) return Promise.reject(cancelled(what));
    if (who.cancel?.aborted) return Promise.reject(withdrawn(what));
    const c = this.#concentrator(target.concentrator);
    const port = this.#port(c, target.port);
    if (port.inFlight < this.maxInFlightPerPort && port.queue.size === 0) {
      // The port is free and nobody waits for it (the usual case): send now, no job, no waiting promise.
      if (c.inFlight + c.queued >= this.maxPerConcentrator && !this.#makeRoom(c, client)) {
        this.#forget(port);
        return Promise.reject(this.#full(c, what));
      }
      return this.#start(port, send) as Promise<T>;
    }
    if (port.queue.queuedFor(client) >= this.maxQueuedPerClientPort) {
      return Promise.reject(
        new MasterError(
          'BUSY',
          `${this.maxQueuedPerClientPort} reads of this client already wait for concentrator ${c.id} port ${target.port} (maxQueuedPerClientPort); ${what} refused`,
        ),
      );
    }
    if (c.inFlight + c.queued >= this.maxPerConcentrator && !this.#makeRoom(c, client)) {
      return Promise.reject(this.#full(c, what));
    }
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        send,
        resolve: resolve as (value: unknown) => void,
        fail: reject,
        what,
        client,
        port,
        listedUnder: undefined,
        cancel: undefined,
        onCancel: undefined,
      };
      port.queue.enqueue(client, job);
      c.queued++;
      this.#watch(who, job);
    });
  }

  /** Sends a read to the port now; the port's count drops when it settles. */
  #start(port: PortState, send: () => Promise<unknown>): Promise<unknown> {
    port.inFlight++;
    port.concentrator.inFlight++;
    let sent: Promise<unknown>;
    try {
      sent = send();
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(port.settled, port.settled);
    return sent;
  }

  #done(port: PortState): void {
    port.inFlight--;
    port.concentrator.inFlight--;
    this.#pump(port);
  }

  /** Starts the next reads of the port, in turn, while it has room. */
  #pump(port: PortState): void {
    while (port.inFlight < this.maxInFlightPerPort) {
      const next = port.queue.dequeue();
      if (!next) break;
      const job = next.item;
      port.concentrator.queued--;
      this.#unwatch(job);
      this.#start(port, job.send).then(job.resolve, job.fail);
    }
    this.#forget(port);
  }

  /**
   * The concentrator's bound is full: if some client has more reads waiting for it than `client` (after this
   * one), its newest read is refused to make room. False when no client has more (then `client` is refused).
   */
  #makeRoom(c: ConcentratorState, client: object): boolean {
    const waiting = new Map<object, number>();
    for (const p of c.ports.values()) {
      for (const k of p.queue.clients()) waiting.set(k, (waiting.get(k) ?? 0) + p.queue.queuedFor(k));
    }
    let heaviest: object | undefined;
    let most = (waiting.get(client) ?? 0) + 1;
    for (const [k, n] of waiting) {
      if (n > most) {
        heaviest = k;
        most = n;
      }
    }
    if (heaviest === undefined) return false;
    // The heaviest client's newest read, from its longest port queue.
    let from: PortState | undefined;
    for (const p of c.ports.values()) {
      if (!from || p.queue.queuedFor(heaviest) > from.queue.queuedFor(heaviest)) from = p;
    }
    const victim = from?.queue.popNewest(heaviest);
    if (!victim) return false;
    c.queued--;
    this.#unwatch(victim);
    victim.fail(
      new MasterError(
        'BUSY',
        `concentrator ${c.id} has ${this.maxPerConcentrator} reads in flight and waiting (maxInFlightPerConcentrator + maxQueuedPerConcentrator) and this client the most of them; ${victim.what} refused to give another client its turn`,
      ),
    );
    return true;
  }

  #full(c: ConcentratorState, what: string): MasterError {
    return new MasterError(
      'BUSY',
      `${c.inFlight} forwards in flight and ${c.queued} queued for concentrator ${c.id}; ${what} refused`,
    );
  }

  /**
   * Lists the job under its client's signal (one listener per signal for its whole life: a connection has many
   * reads) and listens to its own `cancel` (one read: a plain listener, no bookkeeping), to cancel it when either
   * aborts.
   */
  #watch(who: PortClient, job: Job): void {
    const signal = who.signal;
    if (signal) {
      let jobs = this.#waiting.get(signal);
      if (!jobs) {
        jobs = new Set();
        this.#waiting.set(signal, jobs);
      }
      jobs.add(job);
      job.listedUnder = signal;
      if (!this.#watched.has(signal)) {
        this.#watched.add(signal);
        signal.addEventListener('abort', () => this.#cancelAll(signal), { once: true });
      }
    }
    const cancel = who.cancel;
    if (cancel) {
      job.cancel = cancel;
      job.onCancel = () => this.#cancel(job, withdrawn);
      cancel.addEventListener('abort', job.onCancel, { once: true });
    }
  }

  #unwatch(job: Job): void {
    const signal = job.listedUnder;
    if (signal) {
      const jobs = this.#waiting.get(signal);
      if (jobs?.delete(job) && jobs.size === 0) this.#waiting.delete(signal);
      job.listedUnder = undefined;
    }
    if (job.cancel && job.onCancel) job.cancel.removeEventListener('abort', job.onCancel);
    job.cancel = undefined;
    job.onCancel = undefined;
  }

  /** The client went away: each of its reads still waiting is answered STOPPED. */
  #cancelAll(signal: WithdrawSignal): void {
    const jobs = this.#waiting.get(signal);
    this.#waiting.delete(signal);
    for (const job of jobs ?? []) this.#cancel(job, cancelled);
  }

  /** Takes a waiting read out of its queue and fails it; nothing when it was already sent or settled. */
  #cancel(job: Job, error: (what: string) => MasterError): void {
    if (!job.port.queue.remove(job.client, job)) return;
    this.#unwatch(job);
    job.port.concentrator.queued--;
    job.fail(error(job.what));
    this.#forget(job.port);
  }

  #concentrator(id: string): ConcentratorState {
    let c = this.#concentrators.get(id);
    if (!c) {
      c = { id, ports: new Map(), inFlight: 0, queued: 0 };
      this.#concentrators.set(id, c);
    }
    return c;
  }

  #port(c: ConcentratorState, port: number): PortState {
    let p = c.ports.get(port);
    if (!p) {
      const state: PortState = {
        number: port,
        concentrator: c,
        queue: new FairQueue({ maxQueuedPerClient: this.maxQueuedPerClientPort }),
        inFlight: 0,
        settled: () => this.#done(state),
      };
      p = state;
      c.ports.set(port, p);
      this.#ports++;
    }
    return p;
  }

  /**
   * Drops the state of an idle port (and concentrator) once more than {@link KEPT_IDLE_PORTS} are held, so the
   * maps stay bounded whatever ports reads name, without rebuilding a busy fleet's port state on every read.
   */
  #forget(port: PortState): void {
    if (port.inFlight > 0 || port.queue.size > 0 || this.#ports <= KEPT_IDLE_PORTS) return;
    const c = port.concentrator;
    if (c.ports.get(port.number) === port) {
      c.ports.delete(port.number);
      this.#ports--;
    }
    if (c.ports.size === 0 && this.#concentrators.get(c.id) === c) this.#concentrators.delete(c.id);
  }
}

/** The client of reads that name none. @internal */
export { LOCAL_CLIENT };

function cancelled(what: string): MasterError {
  return new MasterError('STOPPED', `the client went away; ${what} cancelled before it was sent`);
}

function withdrawn(what: string): MasterError {
  return new MasterError('CANCELLED', `the client cancelled the read; ${what} was not sent`);
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) {
    throw new TypeError(`"${name}" must be a positive integer, got ${String(value)}`);
  }
  return v;
}
