/**
 * A point-read client for the relay: `await client.read('017102082', '00000000101001')` gives a reading or
 * rejects with a {@link PointReadError} whose `code` says why.
 *
 * - Many reads may be in flight on one connection; each gets a unique id and its own answer.
 * - The connection is re-opened with back-off when it drops (relay restart, network blip) until `close()`.
 *   Reads never wait for a reconnection: while disconnected they are rejected `DISCONNECTED` at once, like the
 *   relay answers `MASTER_UNAVAILABLE` at once, so a caller decides itself whether and when to retry.
 * - Every read settles exactly once: with the answer, or TIMEOUT / DISCONNECTED / CLOSED / CANCELLED, whichever
 *   is first.
 * - A read is cancelled with an AbortSignal (`read(c, m, { signal })`, like `fetch`): the client sends the relay
 *   `{"type":"cancel","id":…}` (README "Point-read messages"), so a read still queued is never sent to the field,
 *   and the read rejects CANCELLED at once — it does not wait for the relay's own CANCELLED answer, and an answer
 *   that crossed the cancel is dropped.
 */
import { EventEmitter } from 'node:events';
import type { ClientOptions, WebSocket as WebSocketType } from 'ws';
import { WebSocket } from 'ws';
import {
  decodePointReadMessage,
  encodePointReadMessage,
  type MeterProtocol,
  type Reading,
  type ReadRequest,
} from '../../protocols/point-read/index.ts';
import {
  Backoff,
  type BackoffOptions,
  type Clock,
  type TimerHandle,
  unrefClock,
} from '../../simulator/clock/index.ts';
import type { WithdrawSignal } from '../../simulator/window/index.ts';
import { PointReadError } from './errors.ts';

export interface PointReadClientOptions {
  /** The relay, `ws://host:port` or `wss://host:port`. */
  url: string;
  /** Bearer token, sent in the `Authorization` header. @defaultValue none */
  token?: string;
  /** `Origin` header to send, for relays with an allowed-origins list. @defaultValue none */
  origin?: string;
  /**
   * Default per-read limit. A little above the relay's own 15 s, so its more specific answer (TIMEOUT from
   * the relay, METER_TIMEOUT from the master) normally arrives first.
   * @defaultValue 20000
   */
  timeoutMs?: number;
  /**
   * Most reads waiting for answers; one more is rejected QUEUE_FULL at once. The relay's own default per
   * connection (`maxInFlightPerClient`) is the same.
   * @defaultValue 100
   */
  maxInFlight?: number;
  /** Re-open the connection when it drops. @defaultValue true */
  reconnect?: boolean;
  /** Reconnect schedule. @defaultValue 250 ms doubling to 10 s, ±20 % */
  backoff?: BackoffOptions;
  /** Opening handshake limit. @defaultValue 10000 */
  handshakeTimeoutMs?: number;
  /** Extra `ws` client options (e.g. `ca` for a relay with a self-signed certificate). */
  wsOptions?: ClientOptions;
  /**
   * Time for read timeouts and reconnect delays: real time whose timers do not keep a script alive once its reads
   * are done; tests pass a VirtualClock. @defaultValue unrefClock
   */
  clock?: Clock;
  /**
   * Send the text heartbeat `Ping` every this many ms while connected, as clients built like the original .NET
   * ones do (README "Text heartbeat"); the relay answers `Pong`. A Ping still unanswered at the next tick means
   * the connection is dead: it is dropped (and re-opened if `reconnect`). Off when absent; WebSocket ping
   * frames from the relay are answered either way.
   * @defaultValue off
   */
  textPingIntervalMs?: number;
}

/** The text heartbeat (README "Text heartbeat"). */
const TEXT_PING = 'Ping';
const TEXT_PONG = 'Pong';

/** Per-read options. */
export interface ReadOptions {
  /** Overrides the client's `timeoutMs` for this read. */
  timeoutMs?: number;
  /** Meter protocol, when the master's archive should not decide. */
  protocol?: MeterProtocol;
  /** Concentrator port (1–31), when the master's archive should not decide. */
  port?: number;
  /**
   * Cancels the read when it aborts: the relay is told (`cancel`) and the read rejects CANCELLED at once. Already
   * aborted: the read rejects CANCELLED and nothing is sent. An `AbortSignal`, or any object with its
   * `aborted`/`reason`/`addEventListener`/`removeEventListener`.
   */
  signal?: WithdrawSignal;
}

export interface PointReadClientEvents {
  /** The connection is open (first time or again). */
  open: [];
  /** The connection closed; in-flight reads were rejected DISCONNECTED. */
  close: [code: number, reason: string];
  /** A reconnection attempt is scheduled in `delayMs`; `reason` says what failed. */
  reconnecting: [delayMs: number, reason: string];
  /** The relay answered a text `Ping` with `Pong` (only with `textPingIntervalMs`). */
  pong: [];
}

interface Pending {
  resolve: (reading: Reading) => void;
  reject: (error: PointReadError) => void;
  timer: TimerHandle;
  concentrator: string;
  meter: string;
  /** Stops listening to the read's signal (when it has one). */
  unlisten?: () => void;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`"${name}" must be a positive integer, got ${String(value)}`);
  }
  return value;
}

export class PointReadClient extends EventEmitter<PointReadClientEvents> {
  readonly url: string;
  readonly timeoutMs: number;
  readonly maxInFlight: number;
  readonly #options: PointReadClientOptions;
  readonly #backoff: Backoff;
  readonly #clock: Clock;
  readonly #pending = new Map<string, Pending>();
  #ws: WebSocketType | undefined;
  #state: 'idle' | 'connecting' | 'open' | 'waiting' | 'closed' = 'idle';
  #connecting: Promise<void> | undefined;
  #retryTimer: TimerHandle | undefined;
  #seq = 0;
  /** Set by the first successful open: from then on, drops are healed by reconnecting. */
  #everOpened = false;
  readonly #textPingIntervalMs: number | undefined;
  #textPingTimer: TimerHandle | undefined;
  /** A text Ping was sent and its Pong has not come yet. */
  #awaitingPong = false;

  /** @throws TypeError naming a bad option. */
  constructor(options: PointReadClientOptions) {
    super();
    if (typeof options.url !== 'string' || !/^wss?:\/\//i.test(options.url)) {
      throw new TypeError(`"url" must be a ws:// or wss:// URL, got ${String(options.url)}`);
    }
    this.url = options.url;
    this.timeoutMs = positiveInteger('timeoutMs', options.timeoutMs ?? 20_000);
    this.maxInFlight = positiveInteger('maxInFlight', options.maxInFlight ?? 100);
    positiveInteger('handshakeTimeoutMs', options.handshakeTimeoutMs ?? 10_000);
    this.#textPingIntervalMs =
      options.textPingIntervalMs === undefined
        ? undefined
        : positiveInteger('textPingIntervalMs', options.textPingIntervalMs);
    this.#options = options;
    this.#backoff = new Backoff(options.backoff);
    this.#clock = options.clock ?? unrefClock;
  }

  /** True while reads can be sent. */
  get connected(): boolean {
    return this.#state === 'open';
  }

  /** Reads waiting for their answer. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /**
   * Opens the connection. Rejects with `UNAUTHORIZED` (HTTP 401/403) or `CONNECT_FAILED` if this first attempt
   * fails — a wrong URL or token should fail loudly, not retry for ever; once it has succeeded, drops are
   * healed by reconnecting. Calling it again while connecting or connected returns the same outcome.
   */
  connect(): Promise<void> {
    if (this.#state === 'closed') {
      return Promise.reject(new PointReadError('CLOSED', 'the client was closed'));
    }
    if (this.#state === 'open') return Promise.resolve();
    if (this.#connecting) return this.#connecting;
    this.#connecting = this.#open().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /**
   * Reads one meter now.
   * @param concentrator A1+A2 (9 digits, e.g. `"017102082"`) or an alias the master knows (e.g. `"101"`).
   * @param meter 1–14 decimal digits; the master pads it.
   * @returns the reading (value and unit, and whatever else the master reported).
   * @throws PointReadError (as a rejection) — see `errors.ts` for the codes.
   */
  read(concentrator: string, meter: string, options: ReadOptions = {}): Promise<Reading> {
    const fail = (code: PointReadError['code'], message: string, cause?: unknown) =>
      Promise.reject(new PointReadError(code, message, { concentrator, meter, cause }));
    if (this.#state === 'closed') return fail('CLOSED', 'the client was closed');
    const ws = this.#ws;
    if (this.#state !== 'open' || ws === undefined) {
      return fail(
        'DISCONNECTED',
        this.#state === 'idle'
          ? 'not connected: call connect() first'
          : `not connected to ${this.url} (reconnecting)`,
      );
    }
    if (this.#pending.size >= this.maxInFlight) {
      return fail('QUEUE_FULL', `${this.#pending.size} reads already in flight (maxInFlight)`);
    }
    const { signal } = options;
    if (signal?.aborted) return fail('CANCELLED', 'the read was cancelled before it was sent', signal.reason);
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
      return fail('BAD_REQUEST', `"timeoutMs" must be a positive integer, got ${String(timeoutMs)}`);
    }
    const id = `c${++this.#seq}`;
    const request: ReadRequest = { type: 'read', id, concentrator, meter };
    if (options.protocol !== undefined) request.protocol = options.protocol;
    if (options.port !== undefined) request.port = options.port;
    let text: string;
    try {
      text = encodePointReadMessage(request);
    } catch (error) {
      return fail('BAD_REQUEST', error instanceof Error ? error.message : String(error), error);
    }
    return new Promise<Reading>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        const pending = this.#pending.get(id);
        if (pending) {
          this.#pending.delete(id);
          pending.unlisten?.();
          reject(new PointReadError('TIMEOUT', `no answer within ${timeoutMs} ms`, { concentrator, meter }));
        }
      }, timeoutMs);
      const pending: Pending = { resolve, reject, timer, concentrator, meter };
      this.#pending.set(id, pending);
      if (signal) {
        const onAbort = (): void => this.#cancel(id, signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        pending.unlisten = () => signal.removeEventListener('abort', onAbort);
      }
      ws.send(text);
    });
  }

  /** Closes the connection and stops reconnecting. Reads in flight are rejected CLOSED. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#stopTextPing();
    if (this.#retryTimer !== undefined) this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#failAll('CLOSED', 'the client was closed');
    const ws = this.#ws;
    this.#ws = undefined;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const grace = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1000);
      grace.unref();
      ws.once('close', () => {
        clearTimeout(grace);
        resolve();
      });
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000, 'client closing');
    });
  }

  /** One connection attempt; settles when it is open or has failed. */
  #open(): Promise<void> {
    this.#state = 'connecting';
    const headers: Record<string, string> = {};
    if (this.#options.token !== undefined) headers.Authorization = `Bearer ${this.#options.token}`;
    const ws = new WebSocket(this.url, {
      handshakeTimeout: this.#options.handshakeTimeoutMs ?? 10_000,
      ...this.#options.wsOptions,
      headers: { ...this.#options.wsOptions?.headers, ...headers },
      ...(this.#options.origin === undefined ? {} : { origin: this.#options.origin }),
    });
    this.#ws = ws;
    return new Promise<void>((resolve, reject) => {
      let opened = false;
      let failure: PointReadError | undefined;
      ws.on('unexpected-response', (_req, res) => {
        const status = res.statusCode ?? 0;
        const code = status === 401 || status === 403 ? 'UNAUTHORIZED' : 'CONNECT_FAILED';
        failure = new PointReadError(code, `the relay at ${this.url} refused the connection: HTTP ${status}`);
        res.resume();
        ws.terminate();
      });
      ws.on('error', (error) => {
        failure ??= new PointReadError('CONNECT_FAILED', `cannot connect to ${this.url}: ${error.message}`, {
          cause: error,
        });
      });
      ws.on('open', () => {
        if (this.#ws !== ws) {
          ws.terminate(); // superseded by a newer attempt (connect() during a reconnect)
          return;
        }
        opened = true;
        this.#everOpened = true;
        this.#state = 'open';
        this.#backoff.reset();
        this.#startTextPing(ws);
        this.emit('open');
        resolve();
      });
      ws.on('message', (data, isBinary) => {
        if (!isBinary) this.#message(String(data), ws);
      });
      ws.on('close', (code, reasonBuffer) => {
        if (this.#ws !== ws) return;
        this.#stopTextPing();
        this.#ws = undefined;
        const reason = reasonBuffer.toString() || failure?.message || '';
        this.#failAll(
          'DISCONNECTED',
          `the connection to ${this.url} closed (${code}${reason ? ` ${reason}` : ''})`,
        );
        if (opened) this.emit('close', code, reason);
        if (this.#state === 'closed') {
          if (!opened) reject(new PointReadError('CLOSED', 'the client was closed while connecting'));
          return;
        }
        if (!opened) {
          reject(failure ?? new PointReadError('CONNECT_FAILED', `cannot connect to ${this.url} (${code})`));
          // Until a connection has once succeeded, connect() reports failure instead of retrying for ever.
          if (!this.#everOpened) {
            this.#state = 'idle';
            return;
          }
        }
        this.#scheduleReconnect(reason || `closed with ${code}`);
      });
    });
  }

  #scheduleReconnect(reason: string): void {
    if (this.#options.reconnect === false) {
      this.#state = 'idle';
      return;
    }
    this.#state = 'waiting';
    const delay = this.#backoff.next();
    this.emit('reconnecting', delay, reason);
    this.#retryTimer = this.#clock.setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#state !== 'waiting') return;
      // Failures are handled by the close handler (which schedules the next attempt); nothing to catch here.
      this.#open().catch(() => {});
    }, delay);
  }

  /** Starts the text heartbeat on a freshly opened socket, when the option asks for it. */
  #startTextPing(ws: WebSocketType): void {
    const interval = this.#textPingIntervalMs;
    if (interval === undefined) return;
    this.#awaitingPong = false;
    const tick = (): void => {
      this.#textPingTimer = undefined;
      if (this.#ws !== ws || ws.readyState !== WebSocket.OPEN) return;
      if (this.#awaitingPong) {
        // No Pong within a whole interval: the peer or the path is gone (the .NET clients' rule).
        ws.terminate();
        return;
      }
      this.#awaitingPong = true;
      ws.send(TEXT_PING);
      this.#textPingTimer = this.#clock.setTimeout(tick, interval);
    };
    this.#textPingTimer = this.#clock.setTimeout(tick, interval);
  }

  #stopTextPing(): void {
    if (this.#textPingTimer !== undefined) this.#clock.clearTimeout(this.#textPingTimer);
    this.#textPingTimer = undefined;
    this.#awaitingPong = false;
  }

  /**
   * The read's signal aborted: the relay is told, the read rejects CANCELLED now, and its id is forgotten, so the
   * relay's CANCELLED answer (or an answer that crossed the cancel) is dropped like any answer to a settled read.
   */
  #cancel(id: string, reason: unknown): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    this.#clock.clearTimeout(pending.timer);
    const ws = this.#ws;
    if (ws?.readyState === WebSocket.OPEN) ws.send(encodePointReadMessage({ type: 'cancel', id }));
    pending.reject(
      new PointReadError('CANCELLED', 'the read was cancelled (its signal aborted); the relay was told', {
        concentrator: pending.concentrator,
        meter: pending.meter,
        cause: reason,
      }),
    );
  }

  #message(text: string, ws: WebSocketType): void {
    if (text === TEXT_PONG) {
      if (this.#awaitingPong) {
        this.#awaitingPong = false;
        this.emit('pong');
      }
      return;
    }
    if (text === TEXT_PING) {
      // A server of the original kind sends text Pings too and expects Pong.
      if (ws.readyState === WebSocket.OPEN) ws.send(TEXT_PONG);
      return;
    }
    const decoded = decodePointReadMessage(text);
    if (!decoded.ok || !('type' in decoded.message)) return;
    const msg = decoded.message;
    if (msg.type === 'read' || msg.type === 'cancel' || msg.id === undefined) return;
    const pending = this.#pending.get(msg.id);
    if (!pending) return; // the answer to a read that already timed out here
    this.#pending.delete(msg.id);
    this.#clock.clearTimeout(pending.timer);
    pending.unlisten?.();
    if (msg.type === 'reading') {
      pending.resolve(msg);
      return;
    }
    pending.reject(
      new PointReadError(msg.code, msg.message, {
        source: 'remote',
        concentrator: pending.concentrator,
        meter: pending.meter,
        detail: msg.detail,
      }),
    );
  }

  #failAll(code: 'DISCONNECTED' | 'CLOSED', message: string): void {
    for (const [id, pending] of [...this.#pending]) {
      this.#pending.delete(id);
      this.#clock.clearTimeout(pending.timer);
      pending.unlisten?.();
      pending.reject(
        new PointReadError(code, message, { concentrator: pending.concentrator, meter: pending.meter }),
      );
    }
  }
}
