import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Clock, TimerHandle } from '../clock/clock.ts';
import { realClock } from '../clock/real-clock.ts';
import { LinkError, messageOf } from './errors.ts';
import { LinkBase } from './link.ts';

/**
 * Frame pacing default for links that carry Q/GDW 376.1 frames (the concentrator uplink, the master's socket
 * toward a concentrator): 20 ms between two frames on one connection. Some master stations treat each TCP read
 * as exactly one frame and close the connection when a read holds two (seen in the field: a heartbeat written
 * right after a forward reply). Nagle off and one `write()` per frame are not enough — the receiver's kernel
 * merges segments that arrive before the application reads. 20 ms is several scheduler slices of a busy host, so
 * a master that reads promptly has taken the first frame before the second lands, and it costs nothing at
 * 376.1 rates (a heartbeat a minute, a forward reply per meter read, each read itself ≥ 100 ms on the bus).
 * Hops carrying NDJSON (client API, relay ↔ master) need no pacing: their framing is the newline.
 */
export const GDW376_FRAME_GAP_MS = 20;

/** Write options every TCP link (client, server, accepted socket) shares. */
export interface TcpWriteOptions {
  /**
   * Frame pacing: the least time, in ms, between two `write()` calls reaching the socket (each write is one
   * frame for callers that pace). Measured from the moment the previous write was handed to the OS. Writes wait
   * in a queue, in order. 0 writes at once. Use {@link GDW376_FRAME_GAP_MS} for 376.1 links.
   * @defaultValue 0
   */
  minFrameGapMs?: number;
  /**
   * Writes that may wait for their pacing slot; one more rejects at once with `LINK_QUEUE_FULL`.
   * @defaultValue 1024
   */
  maxQueuedWrites?: number;
  /**
   * Backpressure: when this many bytes are already unsent (pacing queue plus the socket's own buffer), a write
   * rejects at once with `LINK_QUEUE_FULL` — a peer that stopped reading must not make memory grow without bound.
   * {@link TcpClientLink.bufferedBytes} gives the figure for callers that prefer to check it themselves.
   * @defaultValue 1048576 (1 MiB)
   */
  maxBufferedBytes?: number;
  /**
   * Clock for pacing (and the connect timeout of a client link). The byte path is a real socket, so keep real
   * time here even when the protocol above runs on a virtual clock.
   * @defaultValue realClock
   */
  clock?: Clock;
}

/** Options for {@link TcpClientLink}. */
export interface TcpClientLinkOptions extends TcpWriteOptions {
  /** Host name or address to connect to. */
  host: string;
  /** TCP port, 1…65535. */
  port: number;
  /**
   * How long `open()` waits for the connection before rejecting with `LINK_TIMEOUT`.
   * @defaultValue 5000
   */
  connectTimeoutMs?: number;
}

/**
 * A TCP client link: serial-over-TCP converters, meters with a network module, a concentrator's uplink.
 * Nagle is off, so each `write()` leaves as soon as possible and a frame is not held back waiting for more —
 * some master stations do no stream reassembly and choke on frames split or merged by batching.
 * When the peer closes or resets the connection, the link emits `'close'` (and `'error'` with
 * `LINK_DISCONNECTED` for a reset).
 */
export class TcpClientLink extends LinkBase {
  readonly description: string;
  readonly settings = undefined;
  readonly host: string;
  readonly port: number;
  readonly #connectTimeoutMs: number;
  readonly #clock: Clock;
  readonly #write: Required<TcpWriteOptions>;
  #socket: net.Socket | undefined;
  #writer: SocketWriter | undefined;

  constructor(options: TcpClientLinkOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
    const { host, port, connectTimeoutMs = 5000, clock = realClock } = options;
    this.#write = writeOptions(options);
    if (typeof host !== 'string' || host.length === 0)
      throw new TypeError('"host" must be a non-empty string');
    validatePort(port, 'port', false);
    if (typeof connectTimeoutMs !== 'number' || !(connectTimeoutMs > 0)) {
      throw new TypeError(`"connectTimeoutMs" must be a positive number, got ${String(connectTimeoutMs)}`);
    }
    this.host = host;
    this.port = port;
    this.#connectTimeoutMs = connectTimeoutMs;
    this.#clock = clock;
    this.description = `${host}:${port}`;
  }

  protected doOpen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
      const timer = this.#clock.setTimeout(() => {
        socket.destroy();
        reject(
          new LinkError(
            'LINK_TIMEOUT',
            `connecting to ${this.description} timed out after ${this.#connectTimeoutMs} ms`,
          ),
        );
      }, this.#connectTimeoutMs);
      const onError = (error: Error) => {
        this.#clock.clearTimeout(timer);
        socket.destroy();
        reject(
          new LinkError('CONNECT_FAILED', `cannot connect to ${this.description}: ${messageOf(error)}`, {
            cause: error,
          }),
        );
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        this.#clock.clearTimeout(timer);
        socket.off('error', onError);
        this.#socket = socket;
        this.#writer = new SocketWriter(socket, this.description, this.#write);
        wireSocket(socket, this.description, {
          data: (bytes) => this.deliver(bytes),
          lost: (error) => {
            if (this.#socket === socket) this.lost(error);
          },
        });
        resolve();
      });
    });
  }

  /** Bytes written but not yet handed to the peer: the pacing queue plus the socket's own buffer. */
  get bufferedBytes(): number {
    return this.#writer?.bufferedBytes ?? 0;
  }

  override peerHasRead(frame: Uint8Array): void {
    this.#writer?.peerHasRead(frame);
  }

  protected doWrite(bytes: Uint8Array): Promise<void> {
    const writer = this.#writer;
    if (!writer) return Promise.reject(new LinkError('LINK_CLOSED', `${this.description} is not connected`));
    return writer.write(bytes);
  }

  protected async doClose(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#writer?.stop();
    this.#writer = undefined;
    if (socket) await endSocket(socket);
  }
}

/** Options for {@link TcpServerLink}. */
export interface TcpServerLinkOptions extends TcpWriteOptions {
  /**
   * Address to listen on. Use `0.0.0.0` to accept connections from other machines.
   * @defaultValue '127.0.0.1'
   */
  host?: string;
  /** TCP port; 0 picks a free one (read it back with `address()`). */
  port: number;
  /**
   * What to do when a connection arrives while one is current. `'replace'` closes the old one and takes the
   * new one — a converter that lost its connection usually reconnects before we notice the old socket is
   * dead. `'reject'` keeps the current one and closes the newcomer.
   * @defaultValue 'replace'
   */
  onNewConnection?: 'replace' | 'reject';
}

/** Events of {@link TcpServerLink} besides the {@link LinkEvents}. */
export interface TcpServerEvents {
  /** A connection became the current one. */
  connection: [remote: string];
  /** The current connection ended; the link stays open and listening. */
  disconnect: [remote: string];
}

/**
 * A TCP server link: it listens, and the current accepted connection is the link — for serial-over-TCP
 * converters and meters that dial in. `open()` resolves once listening; writes while nobody is connected
 * reject with `LINK_NOT_CONNECTED`. Connection changes are announced on `events` (`'connection'`,
 * `'disconnect'`) so the `Link` events stay the same for every kind.
 */
export class TcpServerLink extends LinkBase {
  readonly settings = undefined;
  readonly host: string;
  /** Connection changes; see {@link TcpServerEvents}. */
  readonly events = new EventEmitter<TcpServerEvents>();
  readonly #port: number;
  readonly #policy: 'replace' | 'reject';
  readonly #write: Required<TcpWriteOptions>;
  #server: net.Server | undefined;
  #socket: net.Socket | undefined;
  #writer: SocketWriter | undefined;
  #remote = '';

  constructor(options: TcpServerLinkOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
    const { host = '127.0.0.1', port, onNewConnection = 'replace' } = options;
    if (typeof host !== 'string' || host.length === 0)
      throw new TypeError('"host" must be a non-empty string');
    validatePort(port, 'port', true);
    if (onNewConnection !== 'replace' && onNewConnection !== 'reject') {
      throw new TypeError(`"onNewConnection" must be 'replace' or 'reject', got ${String(onNewConnection)}`);
    }
    this.host = host;
    this.#port = port;
    this.#policy = onNewConnection;
    this.#write = writeOptions(options);
  }

  /** Bytes written to the current connection but not yet handed to the peer. */
  get bufferedBytes(): number {
    return this.#writer?.bufferedBytes ?? 0;
  }

  /** `host:port` being listened on (the real port once open, when 0 was asked for). */
  get description(): string {
    const address = this.address();
    return `${this.host}:${address ? address.port : this.#port}`;
  }

  /** The address actually listened on, or `undefined` when not listening. */
  address(): net.AddressInfo | undefined {
    const address = this.#server?.address();
    return address && typeof address === 'object' ? address : undefined;
  }

  /** `true` when a connection is current. */
  get connected(): boolean {
    return this.#socket !== undefined;
  }

  /** `host:port` of the current connection's peer, or `undefined`. */
  get remote(): string | undefined {
    return this.#socket ? this.#remote : undefined;
  }

  /**
   * Resolves when a connection is current (at once if one is).
   * @throws LinkError `LINK_TIMEOUT` after `timeoutMs` on `clock`, `LINK_CLOSED` if the link closes first.
   */
  waitForConnection(timeoutMs = 5000, clock: Clock = realClock): Promise<void> {
    if (this.#socket) return Promise.resolve();
    if (!this.isOpen) {
      return Promise.reject(new LinkError('LINK_CLOSED', `${this.description} is not listening`));
    }
    return new Promise((resolve, reject) => {
      const done = () => {
        clock.clearTimeout(timer);
        this.events.off('connection', onConnection);
        this.off('close', onClose);
      };
      const onConnection = () => {
        done();
        resolve();
      };
      const onClose = () => {
        done();
        reject(new LinkError('LINK_CLOSED', `${this.description} closed while waiting for a connection`));
      };
      const timer = clock.setTimeout(() => {
        done();
        reject(new LinkError('LINK_TIMEOUT', `no connection to ${this.description} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.events.on('connection', onConnection);
      this.on('close', onClose);
    });
  }

  protected doOpen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ noDelay: true }, (socket) => this.#accept(socket));
      server.once('error', (error) => {
        reject(
          new LinkError('LISTEN_FAILED', `cannot listen on ${this.host}:${this.#port}: ${messageOf(error)}`, {
            cause: error,
          }),
        );
      });
      server.listen(this.#port, this.host, () => {
        this.#server = server;
        server.on('error', (error) => {
          if (this.isOpen) {
            this.emit(
              'error',
              new LinkError('LISTEN_FAILED', `${this.description}: ${messageOf(error)}`, { cause: error }),
            );
          }
        });
        resolve();
      });
    });
  }

  #accept(socket: net.Socket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    if (!this.isOpen || (this.#socket && this.#policy === 'reject')) {
      socket.destroy();
      return;
    }
    const old = this.#socket;
    if (old) {
      this.#socket = undefined;
      this.#writer?.stop();
      old.destroy();
      this.events.emit('disconnect', this.#remote);
    }
    this.#socket = socket;
    this.#writer = new SocketWriter(socket, remote, this.#write);
    this.#remote = remote;
    wireSocket(socket, remote, {
      data: (bytes) => {
        if (this.#socket === socket) this.deliver(bytes);
      },
      lost: () => {
        // A dial-in peer going away is routine: the link keeps listening for the next connection.
        if (this.#socket !== socket) return;
        this.#socket = undefined;
        this.#writer?.stop();
        this.#writer = undefined;
        this.events.emit('disconnect', remote);
      },
    });
    this.events.emit('connection', remote);
  }

  override peerHasRead(frame: Uint8Array): void {
    this.#writer?.peerHasRead(frame);
  }

  protected doWrite(bytes: Uint8Array): Promise<void> {
    const writer = this.#writer;
    if (!writer) {
      return Promise.reject(
        new LinkError(
          'LINK_NOT_CONNECTED',
          `cannot write to ${this.description}: no connection accepted yet`,
        ),
      );
    }
    return writer.write(bytes);
  }

  protected async doClose(): Promise<void> {
    const server = this.#server;
    const socket = this.#socket;
    this.#socket = undefined;
    this.#writer?.stop();
    this.#writer = undefined;
    if (socket) {
      socket.destroy();
      this.events.emit('disconnect', this.#remote);
    }
    if (server) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      this.#server = undefined;
    }
  }
}

/** Options for {@link listenTcp}; the write options apply to every accepted connection. */
export interface TcpListenOptions extends TcpWriteOptions {
  /**
   * Address to listen on. Use `0.0.0.0` to accept connections from other machines.
   * @defaultValue '127.0.0.1'
   */
  host?: string;
  /** TCP port; 0 picks a free one (read it back with `address()`). */
  port: number;
  /**
   * Connections open at once; one more is closed at once (and counted in `refused`).
   * @defaultValue 10000
   */
  maxConnections?: number;
  /**
   * Keep an accepted link open for writing after its peer has finished sending (TCP half-close): the link emits
   * `'end'` on its `events` instead of ending too, and closes when its owner closes it — for a server that must
   * still answer requests sent just before the peer's FIN (the master's client API).
   * @defaultValue false
   */
  allowHalfOpen?: boolean;
}

/** Events of {@link TcpListener}. */
export interface TcpListenerEvents {
  /** A connection was accepted: an open Link whose `remote` is the peer's `host:port`. */
  connection: [link: TcpSocketLink];
  /** The listening socket failed after it started listening (rare: e.g. too many open files). */
  error: [error: LinkError];
}

/**
 * One accepted TCP connection as a Link — already open when the {@link TcpListener} hands it out. `open()` on it
 * rejects with `LINK_ALREADY_OPEN`; once closed (by either side) it stays closed.
 */
export class TcpSocketLink extends LinkBase {
  readonly settings = undefined;
  /** The peer's `host:port`. */
  readonly remote: string;
  readonly description: string;
  /** `'end'`: the peer finished sending (only with `allowHalfOpen`; otherwise the link closes). */
  readonly events = new EventEmitter<{ end: [] }>();
  readonly #socket: net.Socket;
  readonly #writer: SocketWriter;
  readonly #allowHalfOpen: boolean;
  #used = false;

  /** @internal Made by {@link TcpListener}. */
  constructor(socket: net.Socket, options: Required<TcpWriteOptions>, allowHalfOpen = false) {
    super();
    this.#socket = socket;
    this.#allowHalfOpen = allowHalfOpen;
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.description = this.remote;
    this.#writer = new SocketWriter(socket, this.remote, options);
  }

  /** Bytes written but not yet handed to the peer: the pacing queue plus the socket's own buffer. */
  get bufferedBytes(): number {
    return this.#writer.bufferedBytes;
  }

  protected async doOpen(): Promise<void> {
    // An accepted socket can be opened exactly once, by the listener; a closed one is gone for good.
    if (this.#used || this.#socket.destroyed) {
      throw new LinkError('LINK_CLOSED', `${this.description}: an accepted connection cannot be reopened`);
    }
    this.#used = true;
  }

  /** @internal Starts reading once the link counts as open, so no byte arrives before anyone can hear it. */
  startReading(): void {
    wireSocket(this.#socket, this.remote, {
      data: (bytes) => this.deliver(bytes),
      lost: (error) => this.lost(error),
      end: this.#allowHalfOpen ? () => this.events.emit('end') : undefined,
    });
    if (this.#socket.destroyed) this.lost();
  }

  override peerHasRead(frame: Uint8Array): void {
    this.#writer.peerHasRead(frame);
  }

  protected doWrite(bytes: Uint8Array): Promise<void> {
    return this.#writer.write(bytes);
  }

  protected async doClose(): Promise<void> {
    this.#writer.stop();
    await endSocket(this.#socket);
  }
}

/**
 * A listening TCP socket whose accepted connections are Links ({@link TcpSocketLink}, already open): the master
 * station's concentrator port, its client API, anything that serves many peers at once. Make one with
 * {@link listenTcp}.
 */
export class TcpListener extends EventEmitter<TcpListenerEvents> {
  readonly host: string;
  readonly #server: net.Server;
  readonly #links = new Set<TcpSocketLink>();
  readonly #maxConnections: number;
  #refused = 0;
  #closing: Promise<void> | undefined;

  /** @internal Made by {@link listenTcp}. */
  constructor(
    server: net.Server,
    host: string,
    options: Required<TcpWriteOptions>,
    maxConnections: number,
    allowHalfOpen = false,
  ) {
    super();
    this.host = host;
    this.#server = server;
    this.#maxConnections = maxConnections;
    server.on('connection', (socket) => void this.#accept(socket, options, allowHalfOpen));
    server.on('error', (error) => {
      if (this.listenerCount('error') > 0) {
        this.emit(
          'error',
          new LinkError('LISTEN_FAILED', `${this.description}: ${messageOf(error)}`, { cause: error }),
        );
      }
    });
  }

  /** The address listened on (the real port when 0 was asked for). */
  address(): { host: string; port: number } {
    const a = this.#server.address();
    return { host: this.host, port: a && typeof a === 'object' ? a.port : 0 };
  }

  /** `host:port` listened on. */
  get description(): string {
    const { host, port } = this.address();
    return `${host}:${port}`;
  }

  /** Accepted connections still open. */
  get connections(): number {
    return this.#links.size;
  }

  /** Connections closed at once because `maxConnections` were open. */
  get refused(): number {
    return this.#refused;
  }

  /** Stops listening and closes every accepted connection; resolves when all are closed. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      await Promise.all([...this.#links].map((link) => link.close()));
      await stopped;
    })();
    return this.#closing;
  }

  async #accept(
    socket: net.Socket,
    options: Required<TcpWriteOptions>,
    allowHalfOpen: boolean,
  ): Promise<void> {
    if (this.#closing || this.#links.size >= this.#maxConnections) {
      if (!this.#closing) this.#refused += 1;
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    // Errors before the link is open would otherwise be unhandled; 'close' follows and is seen by startReading.
    socket.on('error', () => undefined);
    const link = new TcpSocketLink(socket, options, allowHalfOpen);
    this.#links.add(link);
    link.once('close', () => this.#links.delete(link));
    await link.open();
    link.startReading();
    this.emit('connection', link);
  }
}

/**
 * Listens on `host:port` (port 0 picks a free one); each accepted connection is emitted as an open Link.
 * @throws LinkError `LISTEN_FAILED` (address in use, no permission), TypeError for bad options.
 */
export async function listenTcp(options: TcpListenOptions): Promise<TcpListener> {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
  const { host = '127.0.0.1', port, maxConnections = 10_000, allowHalfOpen = false } = options;
  if (typeof host !== 'string' || host.length === 0) throw new TypeError('"host" must be a non-empty string');
  validatePort(port, 'port', true);
  if (!Number.isInteger(maxConnections) || maxConnections < 1) {
    throw new TypeError(`"maxConnections" must be an integer >= 1, got ${String(maxConnections)}`);
  }
  const write = writeOptions(options);
  const server = net.createServer({ noDelay: true, allowHalfOpen });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) =>
      reject(
        new LinkError('LISTEN_FAILED', `cannot listen on ${host}:${port}: ${messageOf(error)}`, {
          cause: error,
        }),
      );
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return new TcpListener(server, host, write, maxConnections, allowHalfOpen);
}

/** Validated write options with their defaults. */
function writeOptions(options: TcpWriteOptions): Required<TcpWriteOptions> {
  const {
    minFrameGapMs = 0,
    maxQueuedWrites = 1024,
    maxBufferedBytes = 1024 * 1024,
    clock = realClock,
  } = options;
  if (!Number.isFinite(minFrameGapMs) || minFrameGapMs < 0) {
    throw new TypeError(`"minFrameGapMs" must be a finite number >= 0, got ${String(minFrameGapMs)}`);
  }
  if (!Number.isInteger(maxQueuedWrites) || maxQueuedWrites < 1) {
    throw new TypeError(`"maxQueuedWrites" must be an integer >= 1, got ${String(maxQueuedWrites)}`);
  }
  if (!Number.isInteger(maxBufferedBytes) || maxBufferedBytes < 1) {
    throw new TypeError(`"maxBufferedBytes" must be an integer >= 1, got ${String(maxBufferedBytes)}`);
  }
  return { minFrameGapMs, maxQueuedWrites, maxBufferedBytes, clock };
}

interface QueuedWrite {
  readonly bytes: Uint8Array;
  readonly resolve: () => void;
  readonly reject: (error: LinkError) => void;
}

/**
 * @internal Writes to one socket: at once when there is no pacing, otherwise one write at a time with at least
 * `minFrameGapMs` between the moment one is handed to the OS and the next one starts. Bounded by count
 * (`maxQueuedWrites`) and by bytes (`maxBufferedBytes`).
 */
class SocketWriter {
  readonly #socket: net.Socket;
  readonly #description: string;
  readonly #options: Required<TcpWriteOptions>;
  readonly #queue: QueuedWrite[] = [];
  #queuedBytes = 0;
  #writing = false;
  #timer: TimerHandle | undefined;
  #nextAt = Number.NEGATIVE_INFINITY;
  /** The last frame handed to the OS, while the gap after it still runs: what {@link peerHasRead} may lift. */
  #lastWritten: Uint8Array | undefined;
  #answeredWhileWriting = false;
  #stopped = false;

  constructor(socket: net.Socket, description: string, options: Required<TcpWriteOptions>) {
    this.#socket = socket;
    this.#description = description;
    this.#options = options;
  }

  get bufferedBytes(): number {
    return this.#queuedBytes + this.#socket.writableLength;
  }

  write(bytes: Uint8Array): Promise<void> {
    const { minFrameGapMs, maxQueuedWrites, maxBufferedBytes } = this.#options;
    if (this.bufferedBytes >= maxBufferedBytes) {
      return Promise.reject(
        new LinkError(
          'LINK_QUEUE_FULL',
          `${this.bufferedBytes} bytes are still unsent to ${this.#description} (maxBufferedBytes ${maxBufferedBytes}): the peer is not reading`,
        ),
      );
    }
    if (minFrameGapMs === 0) return writeSocket(this.#socket, bytes, this.#description);
    if (this.#queue.length >= maxQueuedWrites) {
      return Promise.reject(
        new LinkError(
          'LINK_QUEUE_FULL',
          `${this.#queue.length} writes already wait for their ${minFrameGapMs} ms slot on ${this.#description} (maxQueuedWrites)`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ bytes, resolve, reject });
      this.#queuedBytes += bytes.length;
      this.#pump();
    });
  }

  /**
   * The peer answered `frame`: if it is the last frame handed to the OS, it has been read, so the gap after it
   * protects nothing and the next frame may go at once. An older frame proves nothing about the ones after it.
   */
  peerHasRead(frame: Uint8Array): void {
    const last = this.#lastWritten;
    if (last === undefined || !sameBytes(last, frame)) return;
    this.#lastWritten = undefined;
    if (this.#writing) {
      // Answered before the OS reported the write done: the gap must not start when it does.
      this.#answeredWhileWriting = true;
      return;
    }
    this.#nextAt = Number.NEGATIVE_INFINITY;
    if (this.#timer !== undefined) {
      this.#options.clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#pump();
  }

  /** The socket is going away: fail what still waits (LINK_CLOSED) and write nothing more. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const waiting = this.#queue.splice(0);
    this.#queuedBytes = 0;
    for (const w of waiting) {
      w.reject(new LinkError('LINK_CLOSED', `write to ${this.#description} cut short: the link closed`));
    }
  }

  #pump(): void {
    if (this.#stopped || this.#writing || this.#timer !== undefined || this.#queue.length === 0) return;
    const clock = this.#options.clock;
    const wait = this.#nextAt - clock.now();
    if (wait > 0) {
      this.#timer = clock.setTimeout(() => {
        this.#timer = undefined;
        this.#pump();
      }, wait);
      return;
    }
    const head = this.#queue.shift()!;
    this.#queuedBytes -= head.bytes.length;
    this.#writing = true;
    this.#lastWritten = head.bytes;
    this.#answeredWhileWriting = false;
    // The socket's own callback, not writeSocket's promise: one closure per frame instead of a promise and three.
    this.#socket.write(head.bytes, (error) =>
      this.#written(head, error ? writeFailed(this.#description, error) : undefined),
    );
  }

  #written(head: QueuedWrite, error: LinkError | undefined): void {
    this.#writing = false;
    this.#nextAt = this.#answeredWhileWriting
      ? Number.NEGATIVE_INFINITY
      : this.#options.clock.now() + this.#options.minFrameGapMs;
    this.#answeredWhileWriting = false;
    if (error) head.reject(error);
    else head.resolve();
    this.#pump();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function validatePort(port: number, name: string, allowZero: boolean): void {
  const min = allowZero ? 0 : 1;
  if (!Number.isInteger(port) || port < min || port > 65535) {
    throw new TypeError(`"${name}" must be an integer from ${min} to 65535, got ${String(port)}`);
  }
}

/** Hooks a connected socket up: data as Uint8Array, and one `lost` call when it ends for any reason. */
function wireSocket(
  socket: net.Socket,
  description: string,
  on: { data: (bytes: Uint8Array) => void; lost: (error?: LinkError) => void; end?: () => void },
): void {
  let ended = false;
  let failure: LinkError | undefined;
  socket.on('data', (chunk: Buffer) => on.data(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
  socket.on('error', (error) => {
    failure = new LinkError('LINK_DISCONNECTED', `connection ${description} failed: ${messageOf(error)}`, {
      cause: error,
    });
  });
  // Half-open sockets are not useful to a byte link: when the peer ends, we end too — unless the owner asked to
  // hear about it and answer first (`allowHalfOpen`).
  socket.on('end', () => (on.end ? on.end() : socket.end()));
  socket.on('close', () => {
    if (ended) return;
    ended = true;
    on.lost(failure);
  });
}

function writeSocket(socket: net.Socket, bytes: Uint8Array, description: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(bytes, (error) => {
      if (error) reject(writeFailed(description, error));
      else resolve();
    });
  });
}

function writeFailed(description: string, error: Error): LinkError {
  return new LinkError('LINK_WRITE_FAILED', `write to ${description} failed: ${messageOf(error)}`, {
    cause: error,
  });
}

/** Ends politely (FIN after pending writes), but never waits more than a second for a peer that does not answer. */
function endSocket(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    const timer = setTimeout(() => socket.destroy(), 1000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.end();
  });
}
