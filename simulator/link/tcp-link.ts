import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Clock } from '../clock/clock.ts';
import { realClock } from '../clock/real-clock.ts';
import { LinkError, messageOf } from './errors.ts';
import { LinkBase } from './link.ts';

/** Options for {@link TcpClientLink}. */
export interface TcpClientLinkOptions {
  /** Host name or address to connect to. */
  host: string;
  /** TCP port, 1…65535. */
  port: number;
  /**
   * How long `open()` waits for the connection before rejecting with `LINK_TIMEOUT`.
   * @defaultValue 5000
   */
  connectTimeoutMs?: number;
  /**
   * Clock for the connect timeout.
   * @defaultValue realClock
   */
  clock?: Clock;
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
  #socket: net.Socket | undefined;

  constructor(options: TcpClientLinkOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
    const { host, port, connectTimeoutMs = 5000, clock = realClock } = options;
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

  protected doWrite(bytes: Uint8Array): Promise<void> {
    const socket = this.#socket;
    if (!socket) return Promise.reject(new LinkError('LINK_CLOSED', `${this.description} is not connected`));
    return writeSocket(socket, bytes, this.description);
  }

  protected async doClose(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) await endSocket(socket);
  }
}

/** Options for {@link TcpServerLink}. */
export interface TcpServerLinkOptions {
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
  #server: net.Server | undefined;
  #socket: net.Socket | undefined;
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
      old.destroy();
      this.events.emit('disconnect', this.#remote);
    }
    this.#socket = socket;
    this.#remote = remote;
    wireSocket(socket, remote, {
      data: (bytes) => {
        if (this.#socket === socket) this.deliver(bytes);
      },
      lost: () => {
        // A dial-in peer going away is routine: the link keeps listening for the next connection.
        if (this.#socket !== socket) return;
        this.#socket = undefined;
        this.events.emit('disconnect', remote);
      },
    });
    this.events.emit('connection', remote);
  }

  protected doWrite(bytes: Uint8Array): Promise<void> {
    const socket = this.#socket;
    if (!socket) {
      return Promise.reject(
        new LinkError(
          'LINK_NOT_CONNECTED',
          `cannot write to ${this.description}: no connection accepted yet`,
        ),
      );
    }
    return writeSocket(socket, bytes, this.#remote);
  }

  protected async doClose(): Promise<void> {
    const server = this.#server;
    const socket = this.#socket;
    this.#socket = undefined;
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
  on: { data: (bytes: Uint8Array) => void; lost: (error?: LinkError) => void },
): void {
  let ended = false;
  let failure: LinkError | undefined;
  socket.on('data', (chunk: Buffer) => on.data(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
  socket.on('error', (error) => {
    failure = new LinkError('LINK_DISCONNECTED', `connection ${description} failed: ${messageOf(error)}`, {
      cause: error,
    });
  });
  // Half-open sockets are not useful to a byte link: when the peer ends, we end too.
  socket.on('end', () => socket.end());
  socket.on('close', () => {
    if (ended) return;
    ended = true;
    on.lost(failure);
  });
}

function writeSocket(socket: net.Socket, bytes: Uint8Array, description: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(bytes, (error) => {
      if (error) {
        reject(
          new LinkError('LINK_WRITE_FAILED', `write to ${description} failed: ${messageOf(error)}`, {
            cause: error,
          }),
        );
      } else resolve();
    });
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
