import { EventEmitter } from 'node:events';
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
  unrefClock,
} from '../clock/index.ts';
import {
  GDW376_FRAME_GAP_MS,
  type Link,
  type LinkError,
  TcpClientLink,
  TcpServerLink,
} from '../link/index.ts';
import { SeededRandom } from '../random.ts';
import type { UpstreamSpec } from '../scenario/index.ts';
import { ConcentratorError } from './errors.ts';

/**
 * The concentrator's upstream Q/GDW 376.1 link (docs/gdw376.md §3.5).
 *
 * Client mode (the GPRS case): connect to the master, log in (AFN 02 F1, CON set), heartbeat (F3) every
 * period, wait for each confirm; when the socket drops, the login is denied, or `maxMissedConfirms` confirms in
 * a row do not come, close and reconnect after an exponential back-off with seeded jitter, then log in again.
 * Server mode: listen and serve one master connection at a time (a new connection replaces the old one, as a
 * master reconnecting after a half-open link expects); no login or heartbeat.
 *
 * All protocol timing runs on the {@link Clock}. The bytes go through a Link ({@link TcpClientLink} or
 * {@link TcpServerLink}, optionally wrapped by `wrapLink`): every frame is one `write`, Nagle off, and at least
 * `minFrameGapMs` after the previous frame (frame pacing, see {@link GDW376_FRAME_GAP_MS}) — some masters do no
 * stream reassembly and take each TCP read as one frame (a field defect, issue 9).
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
  /**
   * Heartbeat period. Below 5 minutes: some masters drop sockets idle that long (docs/field-notes.md §8).
   * @defaultValue 60000
   */
  heartbeatMs?: number;
  /**
   * How long to wait for a login or heartbeat confirm: the terminal's own response timeout (the "response timeout
   * seconds" of the Q/GDW 376.1 AFN 04 F1 parameters), not tied to the heartbeat period. Real master stations hold a
   * heartbeat confirm while a forward is in flight, for up to 10 s (issue 9): with a 2 s heartbeat, a timeout of
   * min(30 s, heartbeat) dropped the link after three such holds and failed the read in flight. 30 s outlasts
   * that with room to spare and still finds a dead link within `maxMissedConfirms` × 30 s.
   * @defaultValue DEFAULT_CONFIRM_TIMEOUT_MS (30000)
   */
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
  /**
   * Least time between two frames written to the master, in ms, on real time (the socket is real even when the
   * protocol runs on a virtual clock). 0 turns pacing off.
   * @defaultValue GDW376_FRAME_GAP_MS (20)
   */
  minFrameGapMs?: number;
  /**
   * Wraps the session's link before use: a tap, a recorder, a fault injector (see LinkWrapper). The session
   * neither knows nor cares. @defaultValue none
   */
  wrapLink?: (link: Link) => Link;
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
/** The default login/heartbeat confirm timeout; see {@link UpstreamSessionOptions.confirmTimeoutMs}. */
export const DEFAULT_CONFIRM_TIMEOUT_MS = 30_000;
/** How many of the latest received bytes a session keeps to look back at a rejected frame. */
export const RECENT_BYTES = 1024;

interface Connection {
  /** The link frames are written to (wrapped, when `wrapLink` is given). */
  readonly link: Link;
  readonly frames: FrameAccumulator<Gdw376Frame>;
  readonly recent: RecentBytes;
  /** Lets go of this connection's socket (client: closes the link; server: the next master replaces it). */
  readonly drop: () => void;
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
  readonly #minFrameGapMs: number;
  readonly #wrapLink: (link: Link) => Link;
  #state: UpstreamState = 'idle';
  #conn: Connection | undefined;
  /** The unwrapped link of the current connection (client) or the listening link (server), for its buffer. */
  #tcp: TcpClientLink | TcpServerLink | undefined;
  #server: TcpServerLink | undefined;
  /** The listening link as the session uses it (wrapped, when `wrapLink` is given). */
  #serverLink: Link | undefined;
  #timer: TimerHandle | undefined;
  #confirmTimer: TimerHandle | undefined;
  #pending: 'login' | 'heartbeat' | undefined;
  #lastHeartbeatAt = 0;
  #missed = 0;
  #attempt = 0;
  #pseq = 0;
  /** Frames we started (login, heartbeat, logout) by PSEQ, and the last answer sent: see {@link #peerHasRead}. */
  readonly #initiated = new Map<number, Uint8Array>();
  #lastAnswer: Uint8Array | undefined;

  constructor(options: UpstreamSessionOptions) {
    super();
    this.a1 = options.a1;
    this.a2 = options.a2;
    this.upstream = options.upstream;
    this.heartbeatMs = positive(options.heartbeatMs ?? 60_000, 'heartbeatMs');
    this.confirmTimeoutMs = positive(
      options.confirmTimeoutMs ?? DEFAULT_CONFIRM_TIMEOUT_MS,
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
    this.#minFrameGapMs = options.minFrameGapMs ?? GDW376_FRAME_GAP_MS;
    if (!Number.isFinite(this.#minFrameGapMs) || this.#minFrameGapMs < 0) {
      throw new TypeError(
        `"minFrameGapMs" must be a finite number ≥ 0, got ${String(options.minFrameGapMs)}`,
      );
    }
    this.#wrapLink = options.wrapLink ?? ((link) => link);
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
  address(): { address: string; port: number } | undefined {
    const a = this.#server?.address();
    return a ? { address: a.address, port: a.port } : undefined;
  }

  /** Client: starts connecting now. Server: resolves once listening (rejects `LISTEN_FAILED`). */
  async start(): Promise<void> {
    if (this.#state !== 'idle') return;
    if (this.upstream.mode === 'client') {
      this.#connect();
      return;
    }
    const server = new TcpServerLink({
      host: this.upstream.host,
      port: this.upstream.port,
      onNewConnection: 'replace',
      ...this.#linkOptions(),
    });
    this.#server = server;
    this.#tcp = server;
    const link = this.#wrapLink(server);
    this.#serverLink = link;
    link.on('error', () => undefined); // a listening error is rare and changes nothing here
    link.on('data', (chunk) => {
      const conn = this.#conn;
      if (conn) this.#receive(conn, chunk);
    });
    server.events.on('connection', () => this.#accept(link));
    server.events.on('disconnect', () => {
      // A replacement announces the old peer's disconnect just before the new connection: let it land first, so
      // that a master reconnecting after a half-open link does not flap the session offline and online.
      const conn = this.#conn;
      if (conn)
        queueMicrotask(() => this.#lose(conn, conn.closeReason ?? 'the master closed the connection'));
    });
    try {
      await link.open();
    } catch (error) {
      this.#server = undefined;
      this.#serverLink = undefined;
      throw new ConcentratorError(
        'LISTEN_FAILED',
        `concentrator ${this.a1}/${this.a2} cannot listen on ${this.upstream.host}:${this.upstream.port}: ${messageOf(error)}`,
        { cause: error },
      );
    }
    this.#state = 'listening';
  }

  /** Logs out when online, closes the link (and the listener), cancels every timer. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    const logout =
      this.#state === 'online' && this.upstream.mode === 'client'
        ? this.#write(buildLogout({ a1: this.a1, a2: this.a2, seq: this.#nextSeq() }))
        : undefined;
    const wasOnline = this.#state === 'online';
    this.#state = 'stopped';
    this.#clearTimers();
    const conn = this.#conn;
    this.#conn = undefined;
    if (wasOnline) this.emit('offline', 'stopped');
    // Let the logout leave (it may wait for its pacing slot), but never wait long for it.
    if (logout) await Promise.race([logout.catch(() => undefined), unrefClock.sleep(1000)]);
    const closing =
      this.upstream.mode === 'client' ? conn?.link.close() : (this.#serverLink ?? this.#server)?.close();
    // A link still connecting settles only at its connect timeout: do not hold stop() up for that long.
    if (closing) await Promise.race([closing.catch(() => undefined), unrefClock.sleep(1500)]);
    this.#server = undefined;
    this.#serverLink = undefined;
    this.#tcp = undefined;
  }

  /**
   * Sends one frame with one write. Returns false (and emits `'send-failed'`) when there is no connection or
   * its unsent buffer is over `maxWriteBufferBytes`; a write that fails later (the link closed, its pacing queue
   * full) emits `'send-failed'` then.
   */
  send(frame: Gdw376Frame): boolean {
    return this.#write(frame) !== undefined;
  }

  /** The write behind {@link send}: its promise, or undefined when refused at once. */
  #write(frame: Gdw376Frame): Promise<void> | undefined {
    const link = this.#conn?.link;
    const buffered = this.#tcp?.bufferedBytes ?? 0;
    const reason =
      !link?.isOpen || (this.#server && !this.#server.connected)
        ? 'no connection to the master'
        : buffered > this.#maxWriteBuffer
          ? `the socket holds ${buffered} unsent bytes (maxWriteBufferBytes ${this.#maxWriteBuffer})`
          : undefined;
    if (reason !== undefined || !link) {
      this.emit('send-failed', { frame, reason: reason ?? 'no connection to the master' });
      return undefined;
    }
    const bytes = encodeGdw376(frame);
    if (frame.control.prm) this.#initiated.set(frame.seq.seq, bytes);
    else this.#lastAnswer = bytes;
    const written = link.write(bytes);
    written.catch((error: unknown) => this.emit('send-failed', { frame, reason: messageOf(error) }));
    return written;
  }

  /** Options of the TCP links the session makes. */
  #linkOptions() {
    return {
      minFrameGapMs: this.#minFrameGapMs,
      maxBufferedBytes: this.#maxWriteBuffer + 1,
      // The socket is real: pacing runs on real time even when the protocol's clock is virtual.
      clock: realClock,
    };
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
    const tcp = new TcpClientLink({
      host: this.upstream.host,
      port: this.upstream.port,
      connectTimeoutMs: this.connectTimeoutMs,
      ...this.#linkOptions(),
    });
    const link = this.#wrapLink(tcp);
    const conn = this.#wire(link, () => void link.close().catch(() => undefined));
    this.#tcp = tcp;
    link.on('data', (chunk) => {
      if (this.#conn === conn) this.#receive(conn, chunk);
    });
    link.on('close', () => this.#lose(conn, conn.closeReason ?? 'the master closed the connection'));
    this.#timer = this.clock.setTimeout(() => {
      this.#lose(conn, `connect to ${this.upstream.host}:${this.upstream.port} timed out`);
    }, this.connectTimeoutMs);
    link.open().then(
      () => {
        if (this.#conn !== conn) {
          void link.close().catch(() => undefined);
          return;
        }
        this.#clearTimers();
        this.#state = 'logging-in';
        this.#pending = 'login';
        this.send(buildLogin({ a1: this.a1, a2: this.a2, seq: this.#nextSeq() }));
        this.#armConfirm();
      },
      (error: unknown) => this.#lose(conn, messageOf(error)),
    );
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

  /**
   * An AFN 00 from the master: F1 (any, docs/field-notes.md §8) or F3 with items for AFN 02 confirms; F2 or a
   * denied item denies.
   */
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

  /** A master connected (server mode): a fresh connection replaces whatever was current. */
  #accept(link: Link): void {
    if (this.#state === 'stopped') return;
    const old = this.#conn;
    if (old) old.closeReason = 'replaced by a new master connection';
    // The TcpServerLink already closed the old socket; nothing to drop.
    this.#wire(link, () => undefined);
    if (this.#state !== 'online') {
      this.#state = 'online';
      this.emit('online');
    }
  }

  // ---- both --------------------------------------------------------------------------------------------

  /** Makes `link` the current connection, with a fresh framer. */
  #wire(link: Link, drop: () => void): Connection {
    const conn: Connection = {
      link,
      frames: new FrameAccumulator(decodeGdw376, { maxBufferedBytes: 16_391 }),
      recent: new RecentBytes(),
      drop,
    };
    this.#conn = conn;
    link.on('error', (error: LinkError) => {
      conn.closeReason ??= error.message;
    });
    return conn;
  }

  /** Bytes from the master on `conn`: frame them, take confirms, pass every frame and drop on. */
  #receive(conn: Connection, chunk: Uint8Array): void {
    conn.recent.push(chunk);
    for (const event of conn.frames.push(chunk)) {
      if (event.kind === 'dropped') {
        this.emit('dropped', event, conn.recent.from(event.offset));
        continue;
      }
      const frame = event.frame;
      if (frame.control.dir === 'down' && this.#addressed(frame)) this.#peerHasRead(conn, frame);
      if (frame.afn === AFN_CONFIRM && frame.control.dir === 'down' && this.#addressed(frame)) {
        this.#onConfirmFrame(frame);
      }
      this.emit('frame', event);
      if (this.#conn !== conn) return;
    }
  }

  /**
   * Frame pacing evidence (docs/gdw376.md "Frame pacing"): a confirm of a frame we started (login, heartbeat)
   * shows the master read it; a new request shows it read our last answer — the masters that take each TCP read
   * as one frame are the request–answer kind, which send the next request only after reading the last answer.
   * The link then lets the next frame go without waiting out the gap.
   */
  #peerHasRead(conn: Connection, frame: Gdw376Frame): void {
    const read = frame.control.prm ? this.#lastAnswer : this.#initiated.get(frame.seq.seq);
    if (read === undefined) return;
    if (frame.control.prm) this.#lastAnswer = undefined;
    else this.#initiated.delete(frame.seq.seq);
    conn.link.peerHasRead(read);
  }

  #addressed(frame: Gdw376Frame): boolean {
    return frame.a1 === this.a1 && frame.a2 === this.a2;
  }

  /** The connection ended (or is given up): tidy up and, in client mode, reconnect after a back-off. */
  #lose(conn: Connection, reason: string): void {
    if (this.#conn !== conn) return;
    this.#conn = undefined;
    conn.drop();
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

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
