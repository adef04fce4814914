/**
 * The relay's one TCP connection to the master station's client API.
 *
 * Contract (DESIGN.md, "Relay"): newline-delimited JSON, one message per line, in UTF-8 or GB2312; every
 * `read` request gets exactly one `reading` or `error` line with the same `id`. This module owns the ids on
 * that connection (clients' ids can collide, so they never go upstream), the bounded table of reads waiting
 * for an answer, the per-read timeout, and reconnection with back-off.
 *
 * Flow control: at most `maxInFlight` requests are outstanding at the master at once (the master station
 * answers BUSY beyond its own per-connection limit, 32 by default); further reads wait in a FIFO queue here,
 * their timeout already running, up to `maxPending` reads in all. A request that timed out here still holds
 * its slot until the master's late answer arrives (the master is still working on it), or for one more
 * `readTimeoutMs` at most, so a master that never answers cannot shrink the window for ever.
 *
 * Every call to {@link MasterLink.read} settles exactly once and never rejects: with the master's answer, or
 * with a local `error` message — `MASTER_UNAVAILABLE` at once while the master is away (a read must not hang
 * waiting for a master that may be gone for hours), `QUEUE_FULL` when `maxPending` reads are already
 * waiting, `TIMEOUT` after `readTimeoutMs`, `BAD_REPLY` when the answer line with that id is not a valid
 * message.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import {
  type AnyPointReadMessage,
  encodeLine,
  type MeterProtocol,
  NdjsonDecoder,
  type ReadError,
  type Reading,
  type TextEncodingName,
} from '../../protocols/point-read/index.ts';
import { writeCoalesced } from '../master/coalesced-write.ts';
import { Backoff, type BackoffOptions, REAL_TIMERS, type TimerHandle, type Timers } from './backoff.ts';
import { type RelayLogger, SILENT } from './log.ts';

/** What the relay asks the master for: a v1 `read` without its id (the link assigns one). */
export interface UpstreamRead {
  concentrator: string;
  meter: string;
  protocol?: MeterProtocol;
  port?: number;
}

/** The one answer to an upstream read; its `id` is the link's upstream id, for logs only. */
export type UpstreamAnswer = Reading | ReadError;

export interface MasterLinkOptions {
  /** Master station client API host. */
  host: string;
  /** Master station client API TCP port. */
  port: number;
  /**
   * Character set of the NDJSON lines. GB2312 is what the legacy clientserver spoke.
   * @defaultValue 'utf8'
   */
  encoding?: TextEncodingName;
  /**
   * Most reads waiting for the master's answer; one more is answered `QUEUE_FULL` at once.
   * It also bounds what the link can buffer towards a slow master (a request line is ~150 bytes).
   * @defaultValue 1000
   */
  maxPending?: number;
  /**
   * Most requests outstanding at the master at once; keep it at or below the master's per-connection limit
   * (meterlab's master station: `maxInFlightPerConnection`, 256).
   * @defaultValue 256
   */
  maxInFlight?: number;
  /**
   * How long a read may wait for its answer before it is answered `TIMEOUT`. Should exceed the master's own
   * field-read timeout so its more precise METER_TIMEOUT / CONCENTRATOR_OFFLINE normally arrives first.
   * @defaultValue 15000
   */
  readTimeoutMs?: number;
  /**
   * Longest answer line accepted from the master, in bytes; a longer one is dropped and logged.
   * @defaultValue 65536
   */
  maxLineLength?: number;
  /**
   * Give up a connection attempt after this long (a black-holed address would otherwise wait for the OS's
   * own timeout, minutes).
   * @defaultValue 5000
   */
  connectTimeoutMs?: number;
  /** Reconnect schedule. @defaultValue {@link DEFAULT_BACKOFF} (250 ms doubling to 10 s, ±20 %) */
  backoff?: BackoffOptions;
  /** Timer seam for tests. @defaultValue {@link REAL_TIMERS} */
  timers?: Timers;
  /** Log sink. @defaultValue silent */
  log?: RelayLogger;
}

/** Connection states: `connecting` (attempt under way), `up`, `waiting` (back-off before retry), `stopped`. */
export type MasterLinkState = 'idle' | 'connecting' | 'up' | 'waiting' | 'stopped';

export interface MasterLinkEvents {
  /** The connection is open; reads are forwarded from now on. */
  up: [];
  /** The connection is gone (or an attempt failed); `reason` says why. */
  down: [reason: string];
}

interface Pending {
  resolve: (answer: UpstreamAnswer) => void;
  timer: TimerHandle;
  /** The request line, sent when a window slot is free. */
  line: Uint8Array;
  sent: boolean;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`"${name}" must be a positive integer, got ${String(value)}`);
  }
  return value;
}

export class MasterLink extends EventEmitter<MasterLinkEvents> {
  readonly host: string;
  readonly port: number;
  readonly encoding: TextEncodingName;
  readonly maxPending: number;
  readonly maxInFlight: number;
  readonly readTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly #maxLineLength: number;
  readonly #backoff: Backoff;
  readonly #timers: Timers;
  readonly #log: RelayLogger;
  /** Reads waiting for their answer, queued or sent. */
  readonly #pending = new Map<string, Pending>();
  /** Ids of pending reads not yet sent, oldest first. */
  #queue: string[] = [];
  /** Ids sent and not yet answered by the master (the window), with the stale timer of timed-out ones. */
  readonly #outstanding = new Map<string, TimerHandle | undefined>();
  #state: MasterLinkState = 'idle';
  #socket: net.Socket | undefined;
  #retryTimer: TimerHandle | undefined;
  #retryAt = 0;
  #seq = 0;
  #lastProblem = 'not connected yet';

  /** @throws TypeError naming the first bad option. */
  constructor(options: MasterLinkOptions) {
    super();
    if (typeof options.host !== 'string' || options.host === '') {
      throw new TypeError(`"master.host" must be a non-empty string, got ${String(options.host)}`);
    }
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
      throw new TypeError(`"master.port" must be an integer 1–65535, got ${String(options.port)}`);
    }
    this.host = options.host;
    this.port = options.port;
    this.encoding = options.encoding ?? 'utf8';
    if (this.encoding !== 'utf8' && this.encoding !== 'gb2312') {
      throw new TypeError(`"encoding" must be "utf8" or "gb2312", got ${String(this.encoding)}`);
    }
    this.maxPending = positiveInteger('maxPendingUpstream', options.maxPending ?? 1000);
    this.maxInFlight = positiveInteger('maxInFlightUpstream', options.maxInFlight ?? 256);
    this.readTimeoutMs = positiveInteger('readTimeoutMs', options.readTimeoutMs ?? 15_000);
    this.connectTimeoutMs = positiveInteger('connectTimeoutMs', options.connectTimeoutMs ?? 5000);
    this.#maxLineLength = positiveInteger('maxLineLength', options.maxLineLength ?? 64 * 1024);
    this.#backoff = new Backoff(options.backoff);
    this.#timers = options.timers ?? REAL_TIMERS;
    this.#log = options.log ?? SILENT;
  }

  get state(): MasterLinkState {
    return this.#state;
  }

  /** True while reads are being forwarded. */
  get connected(): boolean {
    return this.#state === 'up';
  }

  /** Reads waiting for an answer (queued here or sent). */
  get pending(): number {
    return this.#pending.size;
  }

  /** Requests sent and not yet answered by the master. */
  get outstanding(): number {
    return this.#outstanding.size;
  }

  /** `host:port`, for messages. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** Starts connecting (and reconnecting whenever the connection is lost) until {@link MasterLink.stop}. */
  start(): void {
    if (this.#state !== 'idle') return;
    this.#connect();
  }

  /**
   * Closes the connection and stops reconnecting. Reads still waiting are answered `MASTER_UNAVAILABLE`.
   */
  stop(): void {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    if (this.#retryTimer !== undefined) this.#timers.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#socket?.destroy();
    this.#socket = undefined;
    this.#failAll('the relay is stopping');
  }

  /** Asks the master for one reading. Settles exactly once; never rejects (see the module comment). */
  read(req: UpstreamRead): Promise<UpstreamAnswer> {
    const id = `u${++this.#seq}`;
    if (this.#state !== 'up' || this.#socket === undefined) {
      return Promise.resolve(this.#localError(id, req, 'MASTER_UNAVAILABLE', this.#unavailableText()));
    }
    if (this.#pending.size >= this.maxPending) {
      return Promise.resolve(
        this.#localError(
          id,
          req,
          'QUEUE_FULL',
          `${this.#pending.size} reads are already waiting for the master (maxPendingUpstream); try again later`,
        ),
      );
    }
    let line: Uint8Array;
    try {
      line = encodeLine({ type: 'read', id, ...req }, this.encoding);
    } catch (error) {
      // Requests were validated by the codec on the way in, so this means a bug, but the read still gets
      // its one answer rather than an exception in the relay's message handler.
      const reason = error instanceof Error ? error.message : String(error);
      return Promise.resolve(this.#localError(id, req, 'BAD_REQUEST', `cannot forward the read: ${reason}`));
    }
    return new Promise<UpstreamAnswer>((resolve) => {
      const timer = this.#timers.setTimeout(() => this.#timeout(id, req), this.readTimeoutMs);
      this.#pending.set(id, { resolve, timer, line, sent: false });
      this.#queue.push(id);
      this.#pump();
    });
  }

  /** Sends queued requests while the window has room. */
  #pump(): void {
    const socket = this.#socket;
    if (this.#state !== 'up' || socket === undefined) return;
    while (this.#outstanding.size < this.maxInFlight && this.#queue.length > 0) {
      const id = this.#queue.shift()!;
      const pending = this.#pending.get(id);
      if (!pending) continue;
      pending.sent = true;
      this.#outstanding.set(id, undefined);
      writeCoalesced(socket, pending.line);
    }
  }

  #timeout(id: string, req: UpstreamRead): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    if (pending.sent) {
      // The master is still on it: keep the slot until its answer, or one more readTimeoutMs at most.
      this.#outstanding.set(
        id,
        this.#timers.setTimeout(() => {
          if (this.#outstanding.delete(id)) {
            this.#log({
              level: 'warn',
              event: 'master-no-answer',
              message: `the master never answered read ${id}; its slot is freed`,
              fields: { id },
            });
            this.#pump();
          }
        }, this.readTimeoutMs),
      );
    } else {
      this.#queue.splice(this.#queue.indexOf(id), 1);
    }
    const where = pending.sent
      ? 'from the master'
      : `(queued behind ${this.maxInFlight} reads at the master)`;
    pending.resolve(
      this.#localError(id, req, 'TIMEOUT', `no answer ${where} within ${this.readTimeoutMs} ms`),
    );
  }

  #localError(id: string, req: UpstreamRead, code: string, message: string): ReadError {
    return { type: 'error', id, code, message, concentrator: req.concentrator, meter: req.meter };
  }

  #unavailableText(): string {
    const retry =
      this.#state === 'waiting'
        ? `; retrying in ${Math.max(0, Math.ceil((this.#retryAt - Date.now()) / 1000))} s`
        : this.#state === 'connecting'
          ? '; connecting'
          : '';
    return `the master station at ${this.address} is not connected (${this.#lastProblem}${retry})`;
  }

  /** The master answered `id`: frees its slot and delivers the answer if the read still waits. */
  #settle(id: string, answer: UpstreamAnswer): boolean {
    if (this.#outstanding.has(id)) {
      const stale = this.#outstanding.get(id);
      if (stale !== undefined) this.#timers.clearTimeout(stale);
      this.#outstanding.delete(id);
      // Deferred so the answer below is delivered before the next request goes out.
      queueMicrotask(() => this.#pump());
    }
    const pending = this.#pending.get(id);
    if (!pending) return false;
    this.#pending.delete(id);
    this.#timers.clearTimeout(pending.timer);
    pending.resolve(answer);
    return true;
  }

  #failAll(reason: string): void {
    this.#queue = [];
    for (const stale of this.#outstanding.values()) if (stale !== undefined) this.#timers.clearTimeout(stale);
    this.#outstanding.clear();
    for (const [id, pending] of [...this.#pending]) {
      this.#pending.delete(id);
      this.#timers.clearTimeout(pending.timer);
      pending.resolve({
        type: 'error',
        id,
        code: 'MASTER_UNAVAILABLE',
        message: `lost the master station at ${this.address} before it answered (${reason})`,
      });
    }
  }

  #connect(): void {
    this.#state = 'connecting';
    this.#retryTimer = undefined;
    const socket = net.connect({ host: this.host, port: this.port });
    this.#socket = socket;
    const decoder = new NdjsonDecoder({ maxLineLength: this.#maxLineLength, charset: this.encoding });
    let wasUp = false;
    let problem = '';
    socket.setTimeout(this.connectTimeoutMs);
    socket.on('timeout', () => {
      problem = `no connection after ${this.connectTimeoutMs} ms`;
      socket.destroy();
    });
    socket.on('connect', () => {
      if (this.#socket !== socket) return;
      socket.setTimeout(0);
      socket.setNoDelay(true);
      // TCP keep-alive finds a master that vanished without a FIN (pulled cable, VM paused) eventually;
      // the per-read timeout covers the reads in flight meanwhile.
      socket.setKeepAlive(true, 10_000);
      wasUp = true;
      this.#state = 'up';
      this.#backoff.reset();
      this.#log({
        level: 'info',
        event: 'master-up',
        message: `connected to the master station at ${this.address} (${this.encoding})`,
        fields: { master: this.address, encoding: this.encoding },
      });
      this.emit('up');
    });
    socket.on('data', (chunk: Buffer) => {
      for (const event of decoder.push(chunk)) {
        if (event.kind === 'message') this.#message(event.message);
        else this.#badLine(event.error.code, event.error.message, event.id);
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      problem = error.code ? `${error.code}: ${error.message}` : error.message;
    });
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      const reason = problem || (wasUp ? 'the master closed the connection' : 'connection closed');
      this.#lastProblem = reason;
      if (this.#state === 'stopped') return;
      this.#failAll(reason);
      const delay = this.#backoff.next();
      this.#state = 'waiting';
      this.#retryAt = Date.now() + delay;
      this.#log({
        level: wasUp ? 'warn' : 'info',
        event: wasUp ? 'master-down' : 'master-retry',
        message: `${wasUp ? 'lost' : 'cannot reach'} the master station at ${this.address} (${reason}); retrying in ${delay} ms`,
        fields: { master: this.address, reason, retryInMs: delay, attempt: this.#backoff.attempt },
      });
      this.emit('down', reason);
      this.#retryTimer = this.#timers.setTimeout(() => this.#connect(), delay);
    });
  }

  #message(msg: AnyPointReadMessage): void {
    if (!('type' in msg) || msg.type === 'read' || msg.id === undefined) {
      this.#badLine('BAD_MESSAGE', 'the master sent something that is not an answer with an id', undefined);
      return;
    }
    if (!this.#settle(msg.id, msg)) {
      // Usually the answer to a read that already timed out here; harmless, but worth seeing in the log.
      this.#log({
        level: 'warn',
        event: 'master-stray-answer',
        message: `answer for unknown or timed-out read ${msg.id} from the master ignored`,
        fields: { id: msg.id },
      });
    }
  }

  /** A line that is not a valid answer. If it names a waiting read, that read is answered BAD_REPLY. */
  #badLine(code: string, problem: string, id: string | undefined): void {
    const settled =
      id !== undefined &&
      this.#settle(id, {
        type: 'error',
        id,
        code: 'BAD_REPLY',
        message: `the master's answer is not a valid point-read message: ${problem}`,
      });
    this.#log({
      level: 'warn',
      event: 'master-bad-line',
      message: `bad line from the master (${code}: ${problem})${settled ? `; read ${id} answered BAD_REPLY` : ''}`,
      fields: { code, problem, id },
    });
  }
}
