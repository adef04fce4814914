import { EventEmitter } from 'node:events';
import { type AddressInfo, createConnection, createServer, type Server, type Socket } from 'node:net';
import { type DroppedBytes, FrameAccumulator, type FramedFrame } from '../../protocols/framer.ts';
import {
  AFN_CONFIRM,
  buildHeartbeat,
  buildLogin,
  buildLogout,
  decodeGdw376,
  encodeGdw376,
  type Gdw376Frame,
} from '../../protocols/gdw376/index.ts';
import {
  Backoff,
  type Clock,
  type BackoffOptions as ClockBackoffOptions,
  realClock,
  type TimerHandle,
} from '../clock/index.ts';
import { SeededRandom } from '../random.ts';
import type { UpstreamSpec } from '../scenario/index.ts';
import { ConcentratorError } from './errors.ts';

/**
 * The concentrator's upstream Q/GDW 376.1 link (REFERENCE §3.5).
 *
 * Client mode (the GPRS case): connect to the master, log in (AFN 02 F1, CON set), heartbeat (F3) every
 * period, wait for each confirm; when the socket drops, the login is denied, or `maxMissedConfirms` confirms in
 * a row do not come, close and reconnect after an exponential back-off with seeded jitter, then log in again.
 * Server mode: listen and serve one master connection at a time (a new connection replaces the old one, as a
 * master reconnecting after a half-open link expects); no login or heartbeat.
 *
 * All timing runs on the {@link Clock}; every frame is written with one `write` and Nagle off (§8: some masters
 * do no stream reassembly).
 */

/**
 * Back-off between reconnects: the code base's one {@link Backoff} (simulator/clock), with the concentrator's
 * defaults — 1 s doubling to 60 s, the nominal delay an upper bound and up to half of it taken off at random
 * (`jitterDirection: 'down'`, jitter 0.5), drawn from the session's seeded generator so a run is reproducible.
 */
export type BackoffOptions = Omit<ClockBackoffOptions, 'random'>;

/** The concentrator's back-off defaults (see {@link BackoffOptions}). */
export const UPSTREAM_BACKOFF = {
  initialMs: 1000,
  maxMs: 60_000,
  factor: 2,
  jitter: 0.5,
  jitterDirection: 'down',
} as const satisfies BackoffOptions;

export interface UpstreamSessionOptions {
  /** Area code A1, 4 digits. */
  a1: string;
  /** Terminal address A2, 1–65535. */
  a2: number;
  upstream: UpstreamSpec;
  /** Heartbeat period. Below 5 minutes: some masters drop sockets idle that long (§8). @defaultValue 60000 */
  heartbeatMs?: number;
  /** How long to wait for a login or heartbeat confirm. @defaultValue min(30000, heartbeatMs) */
  confirmTimeoutMs?: number;
  /** Heartbeat confirms missed in a row before the link is taken as dead. @defaultValue 3 */
  maxMissedConfirms?: number;
  backoff?: BackoffOptions;
  /** @defaultValue 10000 */
  connectTimeoutMs?: number;
  /** Send the 2013 heartbeat carrying the terminal clock (data format A.1, UTC+8). @defaultValue false */
  heartbeatClock?: boolean;
  /** Source of the back-off jitter. @defaultValue a generator seeded with A1/A2 */
  random?: SeededRandom;
  /** @defaultValue realClock */
  clock?: Clock;
  /** Bytes the socket may hold unsent before further frames are refused. @defaultValue 1 MiB */
  maxWriteBufferBytes?: number;
}

/** Where the session is. */
export type UpstreamState =
  | 'idle'
  | 'connecting'
  | 'logging-in'
  | 'online'
  | 'waiting'
  | 'listening'
  | 'stopped';

export interface UpstreamSessionEvents {
  /** Client mode: a connection attempt starts (attempt 0 is the first after start or after an online period). */
  connecting: [info: { attempt: number }];
  /** Logged in and confirmed (client), or a master connected (server). */
  online: [];
  /** No longer online; `reason` says why. */
  offline: [reason: string];
  /** Every frame the master sent, decoded. */
  frame: [event: FramedFrame<Gdw376Frame>];
  /**
   * Bytes from the master that were not a frame, and why. `from` holds the received bytes from the drop's first
   * byte on (up to {@link RECENT_BYTES} of them): for a frame whose framing and checksum were right but whose
   * fields were not, the whole frame, so its header can still be answered.
   */
  dropped: [dropped: DroppedBytes, from: Uint8Array];
  /** A reconnect is scheduled after `delayMs`. */
  backoff: [info: { attempt: number; delayMs: number; reason: string }];
  /** A heartbeat confirm did not come in time (`missed` in a row). */
  missed: [info: { missed: number }];
  /** A frame could not be sent (socket gone or its buffer full). */
  'send-failed': [info: { frame: Gdw376Frame; reason: string }];
}

const KIB = 1024;
/** How many of the latest received bytes a session keeps to look back at a rejected frame. */
export const RECENT_BYTES = 1024;

interface Connection {
  readonly socket: Socket;
  readonly frames: FrameAccumulator<Gdw376Frame>;
  readonly recent: RecentBytes;
  closeReason?: string;
}

/**
 * The latest bytes received, to look back at a rejected frame: the chunk being handled and up to
 * {@link RECENT_BYTES} before it. The chunks are kept as they came (a socket never reuses a chunk's buffer)
 * and joined only when something is dropped, which is rare; copying a kilobyte window on every chunk cost
 * more than decoding the frame in it.
 */
class RecentBytes {
  readonly #chunks: Uint8Array[] = [];
  /** Bytes in `#chunks`. */
  #length = 0;
  /** Stream position just after the last chunk. */
  #end = 0;

  /** Adds the chunk just received, after letting go of chunks the look-back no longer reaches. */
  push(chunk: Uint8Array): void {
    while (this.#chunks.length > 0 && this.#length - this.#chunks[0].length >= RECENT_BYTES) {
      this.#length -= this.#chunks[0].length;
      this.#chunks.shift();
    }
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    this.#end += chunk.length;
  }

  /**
   * A copy of the bytes from stream position `position` to the end of the last chunk, reaching back no
   * further than {@link RECENT_BYTES} before that chunk.
   */
  from(position: number): Uint8Array {
    const last = this.#chunks.at(-1)?.length ?? 0;
    const reach = this.#end - last - Math.min(RECENT_BYTES, this.#length - last);
    const start = Math.max(position, reach);
    const out = new Uint8Array(Math.max(0, this.#end - start));
    let chunkAt = this.#end - this.#length;
    for (const chunk of this.#chunks) {
      const skip = start - chunkAt;
      if (skip < chunk.length) out.set(skip > 0 ? chunk.subarray(skip) : chunk, Math.max(0, -skip));
      chunkAt += chunk.length;
    }
    return out;
  }
}

/** One upstream link; see the module comment. Never throws on the master's bytes. */
export class UpstreamSession extends EventEmitter<UpstreamSessionEvents> {
  readonly a1: string;
  readonly a2: number;
  readonly upstream: UpstreamSpec;
  readonly heartbeatMs: number;
  readonly confirmTimeoutMs: number;
  readonly maxMissedConfirms: number;
  readonly connectTimeoutMs: number;
  readonly clock: Clock;
  readonly #backoff: Backoff;
  readonly #random: SeededRandom;
  readonly #heartbeatClock: boolean;
  readonly #maxWriteBuffer: number;
  #state: UpstreamState = 'idle';
  #conn: Connection | undefined;
  #server: Server | undefined;
  #timer: TimerHandle | undefined;
  #confirmTimer: TimerHandle | undefined;
  #pending: 'login' | 'heartbeat' | undefined;
  #lastHeartbeatAt = 0;
  #missed = 0;
  #attempt = 0;
  #pseq = 0;

  constructor(options: UpstreamSessionOptions) {
    super();
    this.a1 = options.a1;
    this.a2 = options.a2;
    this.upstream = options.upstream;
    this.heartbeatMs = positive(options.heartbeatMs ?? 60_000, 'heartbeatMs');
    this.confirmTimeoutMs = positive(
      options.confirmTimeoutMs ?? Math.min(30_000, this.heartbeatMs),
      'confirmTimeoutMs',
    );
    this.maxMissedConfirms = options.maxMissedConfirms ?? 3;
    if (!Number.isInteger(this.maxMissedConfirms) || this.maxMissedConfirms < 1) {
      throw new TypeError(
        `"maxMissedConfirms" must be an integer ≥ 1, got ${String(options.maxMissedConfirms)}`,
      );
    }
    this.connectTimeoutMs = positive(options.connectTimeoutMs ?? 10_000, 'connectTimeoutMs');
    this.#random = options.random ?? new SeededRandom(`${this.a1}:${this.a2}`);
    const random = this.#random;
    this.#backoff = new Backoff({ ...UPSTREAM_BACKOFF, ...options.backoff, random: () => random.next() });
    this.#heartbeatClock = options.heartbeatClock ?? false;
    this.#maxWriteBuffer = options.maxWriteBufferBytes ?? 1024 * KIB;
    this.clock = options.clock ?? realClock;
  }

  get state(): UpstreamState {
    return this.#state;
  }

  /** `true` while logged in (client) or while a master is connected (server). */
  get online(): boolean {
    return this.#state === 'online';
  }

  /** Reconnect attempts since the last successful login. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The listening address in server mode (after `start()`). */
  address(): AddressInfo | undefined {
    const a = this.#server?.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  /** Client: starts connecting now. Server: resolves once listening (rejects `LISTEN_FAILED`). */
  async start(): Promise<void> {
    if (this.#state !== 'idle') return;
    if (this.upstream.mode === 'client') {
      this.#connect();
      return;
    }
    const server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) =>
        reject(
          new ConcentratorError(
            'LISTEN_FAILED',
            `concentrator ${this.a1}/${this.a2} cannot listen on ${this.upstream.host}:${this.upstream.port}: ${error.message}`,
            { cause: error },
          ),
        ),
      );
      server.listen(this.upstream.port, this.upstream.host, () => resolve());
    });
    server.on('error', () => undefined);
    this.#state = 'listening';
  }

  /** Logs out when online, closes the socket (and the server), cancels every timer. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    if (this.#state === 'online' && this.upstream.mode === 'client') {
      this.send(buildLogout({ a1: this.a1, a2: this.a2, seq: this.#nextSeq() }));
    }
    const wasOnline = this.#state === 'online';
    this.#state = 'stopped';
    this.#clearTimers();
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn) {
      // end() lets the logout leave; destroy() shortly after in case the master never closes its side.
      conn.socket.end();
      setTimeout(() => conn.socket.destroy(), 1000).unref();
    }
    if (wasOnline) this.emit('offline', 'stopped');
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Sends one frame with one write. Returns false (and emits `'send-failed'`) when there is no connection or
   * its unsent buffer is over `maxWriteBufferBytes`.
   */
  send(frame: Gdw376Frame): boolean {
    const socket = this.#conn?.socket;
    const reason =
      !socket || socket.destroyed || !socket.writable
        ? 'no connection to the master'
        : socket.writableLength > this.#maxWriteBuffer
          ? `the socket holds ${socket.writableLength} unsent bytes (maxWriteBufferBytes ${this.#maxWriteBuffer})`
          : undefined;
    if (reason !== undefined || !socket) {
      this.emit('send-failed', { frame, reason: reason ?? 'no connection to the master' });
      return false;
    }
    const bytes = encodeGdw376(frame);
    socket.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return true;
  }

  /** Back-off delay before reconnect attempt `attempt` (1-based), drawing the jitter. */
  backoffDelay(attempt: number): number {
    return this.#backoff.delayFor(attempt);
  }

  /** The nominal (un-jittered) delay of attempt `attempt`: the upper bound of {@link backoffDelay}. */
  nominalBackoff(attempt: number): number {
    return this.#backoff.nominal(attempt);
  }

  // ---- client mode -------------------------------------------------------------------------------------

  #connect(): void {
    this.#state = 'connecting';
    this.emit('connecting', { attempt: this.#attempt });
    const socket = createConnection({ host: this.upstream.host, port: this.upstream.port, noDelay: true });
    const conn = this.#wire(socket);
    this.#timer = this.clock.setTimeout(() => {
      this.#lose(conn, `connect to ${this.upstream.host}:${this.upstream.port} timed out`);
    }, this.connectTimeoutMs);
    socket.once('connect', () => {
      if (this.#conn !== conn) return;
      this.#clearTimers();
      socket.setNoDelay(true);
      this.#state = 'logging-in';
      this.#pending = 'login';
      this.send(buildLogin({ a1: this.a1, a2: this.a2, seq: this.#nextSeq() }));
      this.#armConfirm();
    });
  }

  #armConfirm(): void {
    if (this.#confirmTimer) this.clock.clearTimeout(this.#confirmTimer);
    this.#confirmTimer = this.clock.setTimeout(() => {
      this.#confirmTimer = undefined;
      this.#confirmMissed();
    }, this.confirmTimeoutMs);
  }

  #confirmMissed(): void {
    const conn = this.#conn;
    if (!conn) return;
    if (this.#pending === 'login') {
      this.#lose(conn, `login not confirmed within ${this.confirmTimeoutMs} ms`);
      return;
    }
    this.#missed += 1;
    this.emit('missed', { missed: this.#missed });
    if (this.#missed >= this.maxMissedConfirms) {
      this.#lose(conn, `${this.#missed} heartbeats in a row not confirmed`);
    } else {
      this.#sendHeartbeat();
    }
  }

  #armHeartbeat(delay: number): void {
    if (this.#timer) this.clock.clearTimeout(this.#timer);
    this.#timer = this.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#sendHeartbeat();
    }, delay);
  }

  #sendHeartbeat(): void {
    this.#pending = 'heartbeat';
    this.#lastHeartbeatAt = this.clock.now();
    const clock = this.#heartbeatClock ? clockA1(this.clock.now()) : undefined;
    this.send(buildHeartbeat({ a1: this.a1, a2: this.a2, seq: this.#nextSeq(), clock }));
    this.#armConfirm();
  }

  /** An AFN 00 from the master: F1 (any, §8) or F3 with items for AFN 02 confirms; F2 or a denied item denies. */
  #onConfirmFrame(frame: Gdw376Frame): void {
    if (this.upstream.mode !== 'client' || this.#pending === undefined) return;
    let confirmed = false;
    let denied = false;
    for (const unit of frame.units) {
      const body = unit.body;
      if (body.kind === 'confirm-all') confirmed = true;
      else if (body.kind === 'deny-all') denied = true;
      else if (body.kind === 'confirm-items' && body.afn === 0x02) {
        if (body.items.every((i) => i.ok)) confirmed = true;
        else denied = true;
      }
    }
    const conn = this.#conn;
    if (!conn) return;
    if (denied && this.#pending === 'login') {
      this.#lose(conn, 'the master denied the login');
      return;
    }
    if (!confirmed) return;
    if (this.#confirmTimer) this.clock.clearTimeout(this.#confirmTimer);
    this.#confirmTimer = undefined;
    const was = this.#pending;
    this.#pending = undefined;
    this.#missed = 0;
    if (was === 'login') {
      this.#attempt = 0;
      this.#state = 'online';
      this.#lastHeartbeatAt = this.clock.now();
      this.emit('online');
    }
    this.#armHeartbeat(Math.max(0, this.#lastHeartbeatAt + this.heartbeatMs - this.clock.now()));
  }

  #scheduleReconnect(reason: string): void {
    this.#attempt += 1;
    const delayMs = this.backoffDelay(this.#attempt);
    this.#state = 'waiting';
    this.emit('backoff', { attempt: this.#attempt, delayMs, reason });
    this.#timer = this.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#connect();
    }, delayMs);
  }

  // ---- server mode -------------------------------------------------------------------------------------

  #accept(socket: Socket): void {
    if (this.#state === 'stopped') {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const old = this.#conn;
    this.#wire(socket);
    if (old) {
      old.closeReason = 'replaced by a new master connection';
      old.socket.destroy();
    }
    if (this.#state !== 'online') {
      this.#state = 'online';
      this.emit('online');
    }
  }

  // ---- both --------------------------------------------------------------------------------------------

  /** Hooks a socket up as the current connection. */
  #wire(socket: Socket): Connection {
    const conn: Connection = {
      socket,
      frames: new FrameAccumulator(decodeGdw376, { maxBufferedBytes: 16_391 }),
      recent: new RecentBytes(),
    };
    this.#conn = conn;
    socket.on('data', (chunk: Buffer) => {
      if (this.#conn !== conn) return;
      conn.recent.push(chunk);
      for (const event of conn.frames.push(chunk)) {
        if (event.kind === 'dropped') {
          this.emit('dropped', event, conn.recent.from(event.offset));
          continue;
        }
        const frame = event.frame;
        if (frame.afn === AFN_CONFIRM && frame.control.dir === 'down' && this.#addressed(frame)) {
          this.#onConfirmFrame(frame);
        }
        this.emit('frame', event);
        if (this.#conn !== conn) return;
      }
    });
    socket.on('error', (error) => {
      conn.closeReason ??= error.message;
    });
    socket.on('close', () => this.#lose(conn, conn.closeReason ?? 'the master closed the connection'));
    return conn;
  }

  #addressed(frame: Gdw376Frame): boolean {
    return frame.a1 === this.a1 && frame.a2 === this.a2;
  }

  /** The connection ended (or is given up): tidy up and, in client mode, reconnect after a back-off. */
  #lose(conn: Connection, reason: string): void {
    if (this.#conn !== conn) return;
    this.#conn = undefined;
    conn.socket.destroy();
    this.#clearTimers();
    this.#pending = undefined;
    this.#missed = 0;
    const wasOnline = this.#state === 'online';
    if (this.#state === 'stopped') return;
    if (wasOnline) this.emit('offline', reason);
    if (this.upstream.mode === 'client') this.#scheduleReconnect(reason);
    else this.#state = 'listening';
  }

  #clearTimers(): void {
    if (this.#timer) this.clock.clearTimeout(this.#timer);
    if (this.#confirmTimer) this.clock.clearTimeout(this.#confirmTimer);
    this.#timer = undefined;
    this.#confirmTimer = undefined;
  }

  #nextSeq(): number {
    const seq = this.#pseq;
    this.#pseq = (this.#pseq + 1) & 0x0f;
    return seq;
  }
}

function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new TypeError(`"${name}" must be a positive number of ms, got ${String(value)}`);
  }
  return value;
}

/** "YYYY-MM-DD hh:mm:ss" at UTC+8 for the 2013 heartbeat, or undefined outside the A.1 years 2000–2099. */
function clockA1(t: number): string | undefined {
  const d = new Date(t + 8 * 3_600_000);
  const y = d.getUTCFullYear();
  if (y < 2000 || y > 2099) return undefined;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${y}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}
