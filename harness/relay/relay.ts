/**
 * The WebSocket relay: browsers and scripts speak point-read JSON to it over `ws`/`wss`; it forwards reads to
 * the master station's client API over TCP (see `master-link.ts`) and answers each requester.
 *
 * This file is the server: listening (with TLS when configured), refusing upgrades that fail auth, the
 * connection limit, the heartbeat, startup and shutdown. Per-client message handling is `client-session.ts`,
 * read sharing `read-coalescer.ts`, access rules `auth.ts`.
 *
 * Limits, all options with defaults (STYLE.md habit 3):
 * - `maxPayload` 64 KiB: a larger message closes the connection with 1009 (ws enforces it while receiving,
 *   so an oversized message is never buffered whole);
 * - `maxInFlightPerClient` 100, `maxPendingUpstream` 1000: the next read is answered `QUEUE_FULL` at once;
 * - `maxInFlightUpstream` 256: requests outstanding at the master; more wait in the relay (per browser, in turn);
 * - `pauseReadingAboveBytes` 64 KiB per client: backpressure — while more of a client's answers are unsent, its
 *   socket is not read (no new request taken; the rest of a socket read already parsed is held, at most one
 *   read's worth), and it is read again once they have gone out (the socket's `drain`);
 * - `maxMessagesPerTurn` 64: after that many messages of one client in a row the relay serves the others first;
 * - `maxMessagesPerSecond` 2000 per client (a burst of as many allowed): beyond it the client's socket is not
 *   read until its allowance has refilled — nothing is refused, TCP holds the rest; a client flooding requests
 *   that are answered at once (reads of meters the master refuses) cannot take the relay's and master's CPU;
 * - `maxBufferedBytes` 1 MiB per client: a slow reader is closed with 1013 (see `client-session.ts`);
 * - `maxClients` 1000: further upgrades get HTTP 503 — unless a client has sent nothing for `evictIdleAfterMs`
 *   (2 s) and has nothing under way (no read in flight, no console connection to the master): one such client is
 *   closed (1000 "idle; slot needed") to make room, so clients that only answer pings cannot hold every slot
 *   (issue 13 item 7). Which one: a client that has never sent a message before any that has (an attacker's
 *   idle sockets before a page that was used), then the one idle longest. A client that has never sent a message
 *   may go once it has been connected `evictSilentAfterMs` (500 ms). See `evictIdleAfterMs` for the trade-off;
 * - `idleTimeoutMs` off: when set, a client that sends nothing for that long with no read in flight is closed
 *   (1000 "idle …"); off by default because an old page opened once and clicked now and then must keep working;
 * - `handshakeTimeoutMs` 10 s, `maxPendingHandshakes` 100: a TCP connection that has not finished its HTTP
 *   request head (the upgrade) within the timeout is destroyed, and beyond the cap the oldest unfinished one is
 *   destroyed to make room, so a slowloris of half-sent upgrades cannot lock anyone out;
 * - `heartbeatIntervalMs` 30 s: a client that has not answered the previous ping is terminated;
 * - `slowReaderGraceMs` 1 s: a slow reader closed with 1013 is no longer read from at once and is terminated
 *   after this grace if its close handshake has not finished.
 */
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { ConsoleRequest } from '../../protocols/point-read/console-messages.ts';
import type { TextEncodingName } from '../../protocols/point-read/index.ts';
import {
  type BackoffOptions,
  type Clock,
  type TimerHandle,
  unrefClock,
} from '../../simulator/clock/index.ts';
import type { Link } from '../../simulator/link/index.ts';
import { type ConsoleHandler, createConsoleHandler } from '../console/console-handler.ts';
import { checkUpgrade, redactUrl } from './auth.ts';
import { CLOSE_SLOW_READER, ClientSession, type ClientSocketLike } from './client-session.ts';
import { ConsoleUpstream } from './console-upstream.ts';
import { RelayError } from './errors.ts';
import { type RelayLogger, SILENT } from './log.ts';
import { MasterLink, type MasterProtocol, type UpstreamAnswer, type UpstreamRead } from './master-link.ts';
import { ReadCoalescer } from './read-coalescer.ts';

/** The legacy system's port, kept so an old page's `new WebSocket("ws://host:7759")` still works. */
export const DEFAULT_RELAY_PORT = 7759;

export interface RelayOptions {
  /**
   * Address to listen on. Loopback by default: exposing meter reads to a network is a decision to make
   * explicitly (and then with `token` and `tls`).
   * @defaultValue '127.0.0.1'
   */
  host?: string;
  /** TCP port; 0 picks a free one (see the `url` that `start()` returns). @defaultValue 7759 */
  port?: number;
  /** The master station's client API. */
  master: { host: string; port: number };
  /**
   * What the master connection speaks: meterlab's NDJSON, or `legacy` to drive a clientserver of the original
   * kind (flat ClickToCopyModel objects back to back; see `master-link.ts`). @defaultValue 'ndjson'
   */
  masterProtocol?: MasterProtocol;
  /** Character set on the master connection. @defaultValue 'utf8' ('gb2312' with masterProtocol 'legacy') */
  encoding?: TextEncodingName;
  /** Bearer token clients must present (header or `?token=`). @defaultValue none: no auth */
  token?: string;
  /** Browser origins allowed to connect. @defaultValue none: any origin */
  allowedOrigins?: readonly string[];
  /** Serve `wss` with this PEM certificate and key (file paths). @defaultValue plain `ws` */
  tls?: { cert: string; key: string };
  /** Per-read limit, from when the field read starts. @defaultValue 15000 */
  readTimeoutMs?: number;
  /** Largest WebSocket message accepted, in bytes; larger closes with 1009. @defaultValue 65536 */
  maxPayload?: number;
  /** Ping interval; a client silent for a whole interval is terminated. @defaultValue 30000 */
  heartbeatIntervalMs?: number;
  /** Reads one client may have outstanding. @defaultValue 100 */
  maxInFlightPerClient?: number;
  /** Distinct reads waiting for the master, queued or sent. @defaultValue 1000 */
  maxPendingUpstream?: number;
  /**
   * Requests outstanding at the master at once (more wait in the relay's queue); at most the master's
   * per-connection limit. With reads of ~0.3 s on a 2400-baud bus, 256 lets ~850 reads/s through.
   * @defaultValue 256
   */
  maxInFlightUpstream?: number;
  /** Unsent bytes per client before it is closed as a slow reader (1013). @defaultValue 1048576 */
  maxBufferedBytes?: number;
  /**
   * Backpressure (issue 13 item 7): while more than this many bytes of a client's answers are unsent, the relay
   * stops reading the client's socket — it takes no new request from it — and reads on once they have all gone
   * out. A client that asks and does not read its answers is then held by TCP's own flow control instead of
   * making the relay work (and the master answer) for answers that pile up. Answers already under way still
   * arrive; if they pass `maxBufferedBytes` the client is closed as a slow reader. Never less than the socket's
   * own 16 KiB high-water mark in effect. @defaultValue 65536 (at most `maxBufferedBytes`)
   */
  pauseReadingAboveBytes?: number;
  /**
   * Messages of one client handled in a row before the relay lets the event loop serve others (the client's
   * socket is paused until the next turn). One socket read can hold hundreds of small messages, all parsed at
   * once; without this a client sending as fast as it can holds the relay for every other client's read for
   * tens of milliseconds per read, however its answers are then refused. @defaultValue 64
   */
  maxMessagesPerTurn?: number;
  /**
   * Messages per second one client may send, on average, with a burst of as many; beyond it its socket is not
   * read until the allowance refills (a token bucket, as brokers rate-limit a client: nothing is refused, TCP
   * backpressure holds the rest). 0 = no limit. @defaultValue 2000
   */
  maxMessagesPerSecond?: number;
  /** Simultaneous WebSocket clients. @defaultValue 1000 */
  maxClients?: number;
  /**
   * Close a client that has sent no message for this long and has no read in flight (close code 1000, reason
   * `idle for N s`); 0 = never. Pongs do not count: a client that only answers pings is idle.
   * @defaultValue 0 (off: see the module comment)
   */
  idleTimeoutMs?: number;
  /**
   * When `maxClients` are connected, a new client may take the slot of a client idle at least this long (no
   * message, no read in flight, no console connection), which is closed with 1000 `idle; slot needed`; 0 = never
   * evict (the new client gets 503). Clients that never sent a message go first (the one idle longest first),
   * then those that did (again the one idle longest first).
   *
   * The trade-off: an old page left open must keep working, and a newcomer must not be locked out by sockets that
   * only answer pings (issue 13 item 7: with 60 s here, 1,000 idle sockets shut every new browser out for a
   * minute). Eviction happens only when the relay is full, which honest use does not reach; then a few seconds of
   * silence is enough, and an attacker's idle sockets (never a message) go before any page that has read. A page
   * that is evicted all the same sees its connection close normally (1000) and gets a slot again when it
   * reconnects (the web console does so by itself). @defaultValue 2000
   */
  evictIdleAfterMs?: number;
  /**
   * Like `evictIdleAfterMs`, for a client that has sent no message since it connected. Every client of meterlab
   * speaks at once (a script sends its read, the web console subscribes, and console clients are never evicted);
   * a socket that connected and stays silent only holds a slot. Without this, a burst of 1,000 silent sockets
   * refused every newcomer for the first 2 s after the relay filled (issue 13 item 7, the soak's ws-idle row).
   * @defaultValue 500
   */
  evictSilentAfterMs?: number;
  /**
   * A connection must deliver its HTTP request head (the WebSocket upgrade) within this long of connecting,
   * or it is destroyed. @defaultValue 10000
   */
  handshakeTimeoutMs?: number;
  /**
   * Connections still in their handshake at once; beyond it the oldest is destroyed to make room (a new peer is
   * never refused for the sake of a stalled one). @defaultValue 100
   */
  maxPendingHandshakes?: number;
  /**
   * Beyond `maxPendingHandshakes`, only a handshake pending at least this long is destroyed to make room. A burst
   * of honest clients connecting at once (256 browsers after a relay restart) is all pending for a moment before
   * the relay reads their request heads; none of them is a stalled peer. @defaultValue 1000
   */
  evictHandshakeAfterMs?: number;
  /**
   * A slow reader closed with 1013 is no longer read from; it is terminated if its close handshake has not ended
   * after this long. @defaultValue 1000
   */
  slowReaderGraceMs?: number;
  /** Master reconnect schedule. @defaultValue 250 ms doubling to 10 s, ±20 % */
  masterBackoff?: BackoffOptions;
  /**
   * Time for the master reconnect, read timeouts and the heartbeat: real time whose timers do not keep the process
   * alive; tests pass a VirtualClock. @defaultValue unrefClock
   */
  clock?: Clock;
  /**
   * Makes the link to the master for each connection attempt, e.g. a wrapped one (a tap, a byte counter); the
   * relay sees only a Link. @defaultValue a TCP link to `master.host:master.port`
   */
  masterLink?: () => Link;
  /**
   * Serve the web console (`/`, `/legacy` and their assets) on this port, and pass its requests (fleet, valve,
   * frame-log subscriptions) to the master, each console client on a connection of its own (see
   * harness/console/README.md). @defaultValue true
   */
  console?: boolean;
  /** Console clients with a connection to the master at once; one more is answered BUSY. @defaultValue 64 */
  maxConsoleClients?: number;
  /** Receives the startup line, the per-read lines and everything else worth knowing. @defaultValue silent */
  log?: RelayLogger;
}

export interface RelayEvents {
  /** Connected (again) to the master station. */
  'master-up': [];
  /** Lost the master station, or an attempt to reach it failed. */
  'master-down': [reason: string];
  /** A WebSocket client was accepted. */
  'client-open': [clientId: number];
  /** A WebSocket client's connection ended; `code` is the close code. */
  'client-close': [clientId: number, code: number];
}

interface Client {
  id: number;
  ws: WebSocket;
  session: ClientSession;
  alive: boolean;
  closed: Promise<void>;
  /** Clock time of the last message from the client (or of its connection). */
  lastMessageAt: number;
  /** Whether the client has sent any message (see `evictIdleAfterMs`). */
  spoke: boolean;
  /** Whether the client has a console connection to the master open (a frame-log view is not idle). */
  consoleOpen: () => boolean;
  idleTimer: TimerHandle | undefined;
  /** Messages that arrived after the relay stopped reading the client (at most what was already received). */
  ignoredAfterClose: number;
  /** Set once the relay closed the client as a slow reader: its socket is paused, a terminate timer runs. */
  graceTimer: TimerHandle | undefined;
  /** Not read while its unsent answers exceed `pauseReadingAboveBytes` (backpressure). */
  paused: boolean;
  /** Not read until the next turn of the event loop: it had `maxMessagesPerTurn` messages handled in a row. */
  yielding: boolean;
  /** Messages handled since the client last yielded. */
  taken: number;
  /** Messages the client may still send now (`maxMessagesPerSecond`), as of `allowanceAt`. */
  allowance: number;
  allowanceAt: number;
  /** Not read until its allowance has refilled: it sent more than `maxMessagesPerSecond`. */
  throttled: TimerHandle | undefined;
  /**
   * Messages that arrived while paused or yielding: the rest of the socket read that was being parsed when the
   * pause came (ws parses a whole read). At most one read of the socket, so at most 64 KiB of messages; handled,
   * in order, before the socket is read again.
   */
  held: [Buffer, boolean][];
}

function checkedInteger(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new TypeError(`"${name}" must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

/** `address:port` of a connection, for logs. */
function remoteOf(socket: Duplex): string {
  const s = socket as Duplex & { remoteAddress?: string; remotePort?: number };
  return `${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`;
}

/** `[::1]` for IPv6 hosts in URLs. */
function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The relay server. `start()` listens and begins connecting to the master; `stop()` closes everything.
 *
 * @example
 * const relay = new Relay({ port: 7759, master: { host: '127.0.0.1', port: 9092 }, log: (e) => console.error(e.message) });
 * const { url } = await relay.start();
 */
export class Relay extends EventEmitter<RelayEvents> {
  readonly host: string;
  readonly port: number;
  readonly maxPayload: number;
  readonly heartbeatIntervalMs: number;
  readonly maxInFlightPerClient: number;
  readonly maxBufferedBytes: number;
  readonly pauseReadingAboveBytes: number;
  readonly maxMessagesPerTurn: number;
  readonly maxMessagesPerSecond: number;
  readonly maxClients: number;
  readonly idleTimeoutMs: number;
  readonly evictIdleAfterMs: number;
  readonly evictSilentAfterMs: number;
  readonly handshakeTimeoutMs: number;
  readonly maxPendingHandshakes: number;
  readonly evictHandshakeAfterMs: number;
  readonly slowReaderGraceMs: number;
  /** Connections that have not delivered their request head yet, oldest first, with their timeout. */
  readonly #handshakes = new Map<Duplex, { timer: TimerHandle; since: number }>();
  readonly #options: RelayOptions;
  readonly #console: ConsoleHandler | undefined;
  readonly maxConsoleClients: number;
  #consoleClients = 0;
  readonly #log: RelayLogger;
  readonly #clock: Clock;
  readonly #master: MasterLink;
  readonly #coalescer: ReadCoalescer<UpstreamRead, UpstreamAnswer>;
  readonly #clients = new Map<number, Client>();
  #state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  #server: http.Server | https.Server | undefined;
  #wss: WebSocketServer | undefined;
  #heartbeat: TimerHandle | undefined;
  #nextClientId = 1;
  #url = '';

  /** @throws TypeError naming the first bad option. */
  constructor(options: RelayOptions) {
    super();
    if (options.master === undefined || typeof options.master !== 'object') {
      throw new TypeError('"master" ({ host, port }) is required');
    }
    this.#options = options;
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? DEFAULT_RELAY_PORT;
    if (!Number.isInteger(this.port) || this.port < 0 || this.port > 65535) {
      throw new TypeError(`"port" must be an integer 0–65535, got ${String(this.port)}`);
    }
    this.maxPayload = checkedInteger('maxPayload', options.maxPayload ?? 64 * 1024, 64);
    this.heartbeatIntervalMs = checkedInteger(
      'heartbeatIntervalMs',
      options.heartbeatIntervalMs ?? 30_000,
      1,
    );
    this.maxInFlightPerClient = checkedInteger(
      'maxInFlightPerClient',
      options.maxInFlightPerClient ?? 100,
      1,
    );
    this.maxBufferedBytes = checkedInteger('maxBufferedBytes', options.maxBufferedBytes ?? 1024 * 1024, 0);
    this.pauseReadingAboveBytes = checkedInteger(
      'pauseReadingAboveBytes',
      options.pauseReadingAboveBytes ?? Math.min(64 * 1024, this.maxBufferedBytes),
      0,
    );
    this.maxMessagesPerTurn = checkedInteger('maxMessagesPerTurn', options.maxMessagesPerTurn ?? 64, 1);
    this.maxMessagesPerSecond = checkedInteger(
      'maxMessagesPerSecond',
      options.maxMessagesPerSecond ?? 2000,
      0,
    );
    this.maxClients = checkedInteger('maxClients', options.maxClients ?? 1000, 1);
    this.idleTimeoutMs = checkedInteger('idleTimeoutMs', options.idleTimeoutMs ?? 0, 0);
    this.evictIdleAfterMs = checkedInteger('evictIdleAfterMs', options.evictIdleAfterMs ?? 2000, 0);
    this.evictSilentAfterMs = checkedInteger('evictSilentAfterMs', options.evictSilentAfterMs ?? 500, 0);
    this.handshakeTimeoutMs = checkedInteger('handshakeTimeoutMs', options.handshakeTimeoutMs ?? 10_000, 1);
    this.maxPendingHandshakes = checkedInteger(
      'maxPendingHandshakes',
      options.maxPendingHandshakes ?? 100,
      1,
    );
    this.evictHandshakeAfterMs = checkedInteger(
      'evictHandshakeAfterMs',
      options.evictHandshakeAfterMs ?? 1000,
      0,
    );
    this.slowReaderGraceMs = checkedInteger('slowReaderGraceMs', options.slowReaderGraceMs ?? 1000, 0);
    if (options.token !== undefined && (typeof options.token !== 'string' || options.token === '')) {
      throw new TypeError('"token" must be a non-empty string when given');
    }
    if (options.allowedOrigins !== undefined && !Array.isArray(options.allowedOrigins)) {
      throw new TypeError('"allowedOrigins" must be an array of origins');
    }
    if (
      options.masterProtocol !== undefined &&
      options.masterProtocol !== 'ndjson' &&
      options.masterProtocol !== 'legacy'
    ) {
      throw new TypeError(
        `"masterProtocol" must be "ndjson" or "legacy", got ${String(options.masterProtocol)}`,
      );
    }
    this.#log = options.log ?? SILENT;
    this.maxConsoleClients = checkedInteger('maxConsoleClients', options.maxConsoleClients ?? 64, 0);
    this.#console =
      options.console === false
        ? undefined
        : createConsoleHandler({ token: options.token, allowedOrigins: options.allowedOrigins });
    this.#clock = options.clock ?? unrefClock;
    this.#master = new MasterLink({
      host: options.master.host,
      port: options.master.port,
      protocol: options.masterProtocol,
      encoding: options.encoding,
      maxPending: options.maxPendingUpstream,
      maxInFlight: options.maxInFlightUpstream,
      readTimeoutMs: options.readTimeoutMs,
      backoff: options.masterBackoff,
      clock: this.#clock,
      link: options.masterLink,
      log: this.#log,
    });
    this.#master.on('up', () => this.emit('master-up'));
    this.#master.on('down', (reason) => this.emit('master-down', reason));
    // A shared read goes to the master under the origin of the client that started it; it is withdrawn (cancel
    // upstream) when the last client that wants it has left (read-coalescer.ts).
    this.#coalescer = new ReadCoalescer<UpstreamRead, UpstreamAnswer>((req, signal, origin) =>
      this.#master.read(req, { origin, signal }),
    );
  }

  /** `ws://host:port` or `wss://host:port` once started. */
  get url(): string {
    return this.#url;
  }

  /** The web console's address, `http://host:port/` (https with TLS); empty before `start()` or without it. */
  get consoleUrl(): string {
    if (!this.#url || !this.#console) return '';
    return `${this.#url.replace(/^ws/, 'http')}/`;
  }

  /** Whether reads are currently forwarded to the master. */
  get masterConnected(): boolean {
    return this.#master.connected;
  }

  /** Connected WebSocket clients. */
  get clientCount(): number {
    return this.#clients.size;
  }

  /** Clients not read at the moment because their unsent answers exceed `pauseReadingAboveBytes`. */
  get pausedClients(): number {
    let n = 0;
    for (const c of this.#clients.values()) if (c.paused) n++;
    return n;
  }

  /** TCP connections that have not finished their HTTP request head (the upgrade) yet. */
  get pendingHandshakes(): number {
    return this.#handshakes.size;
  }

  /** Distinct field reads in flight (shared reads count once). */
  get readsInFlight(): number {
    return this.#coalescer.size;
  }

  /**
   * Listens, logs the startup line (`listening`), and starts connecting to the master in the background:
   * the relay is useful before the master is (reads are answered MASTER_UNAVAILABLE until it is up).
   * @throws RelayError RELAY_ERR_TLS (unreadable cert/key), RELAY_ERR_LISTEN, RELAY_ERR_STATE.
   */
  async start(): Promise<{ url: string }> {
    if (this.#state !== 'new')
      throw new RelayError('RELAY_ERR_STATE', `start() on a relay that is ${this.#state}`);
    this.#state = 'starting';
    const server = await this.#createServer();
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.maxPayload,
      clientTracking: false,
      // Answers are ~200 bytes; compression would cost CPU and memory per connection for nothing.
      perMessageDeflate: false,
    });
    // With TLS a connection counts once its TLS handshake is done (the TLS server's own handshakeTimeout covers
    // the part before); without, from the TCP connect.
    server.on(this.#options.tls ? 'secureConnection' : 'connection', (socket: Duplex) =>
      this.#handshakeStarted(socket),
    );
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#handshakeDone(req.socket);
      this.#upgrade(req, socket, head);
    });
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.#handshakeDone(req.socket);
      if (this.#console?.(req, res)) return;
      const body = 'meterlab relay: this is a WebSocket endpoint for point-read JSON messages\n';
      res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket' }).end(body);
    });
    server.on('clientError', (_error: Error, socket: Duplex) => socket.destroy());
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.port, this.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      this.#state = 'stopped';
      const reason = error instanceof Error ? error.message : String(error);
      throw new RelayError('RELAY_ERR_LISTEN', `cannot listen on ${this.host}:${this.port}: ${reason}`, {
        cause: error,
      });
    }
    this.#server = server;
    const { port } = server.address() as { port: number }; // a TCP server: never a pipe name
    this.#url = `${this.#options.tls ? 'wss' : 'ws'}://${urlHost(this.host)}:${port}`;
    this.#state = 'running';
    this.#logStartup();
    this.#master.start();
    this.#scheduleHeartbeat();
    return { url: this.#url };
  }

  /**
   * Closes every client with 1001 "Going Away" (terminating those that do not finish the close handshake
   * within a second), stops the master link and the server. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'new') {
      this.#state = 'stopped';
      return;
    }
    this.#state = 'stopped';
    if (this.#heartbeat !== undefined) this.#clock.clearTimeout(this.#heartbeat);
    this.#heartbeat = undefined;
    for (const [socket, { timer }] of this.#handshakes) {
      this.#clock.clearTimeout(timer);
      socket.destroy();
    }
    this.#handshakes.clear();
    const clients = [...this.#clients.values()];
    for (const client of clients) this.#clearClientTimers(client);
    for (const client of clients) {
      client.session.closed();
      client.ws.close(1001, 'relay stopping');
    }
    const grace = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1000);
      t.unref();
    });
    await Promise.race([Promise.all(clients.map((c) => c.closed)), grace]);
    for (const client of clients) client.ws.terminate();
    this.#master.stop();
    this.#wss?.close();
    const server = this.#server;
    this.#server = undefined;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    this.#log({ level: 'info', event: 'stopped', message: `meterlab relay on ${this.#url} stopped` });
  }

  async #createServer(): Promise<http.Server | https.Server> {
    const tls = this.#options.tls;
    if (!tls) return http.createServer();
    let cert: Buffer;
    let key: Buffer;
    try {
      [cert, key] = await Promise.all([readFile(tls.cert), readFile(tls.key)]);
    } catch (error) {
      this.#state = 'stopped';
      const reason = error instanceof Error ? error.message : String(error);
      throw new RelayError('RELAY_ERR_TLS', `cannot read the TLS certificate or key: ${reason}`, {
        cause: error,
      });
    }
    try {
      return https.createServer({ cert, key, handshakeTimeout: this.handshakeTimeoutMs });
    } catch (error) {
      this.#state = 'stopped';
      const reason = error instanceof Error ? error.message : String(error);
      throw new RelayError('RELAY_ERR_TLS', `the TLS certificate or key is not usable: ${reason}`, {
        cause: error,
      });
    }
  }

  #logStartup(): void {
    const { token, allowedOrigins, tls } = this.#options;
    const auth = token
      ? 'auth: bearer token required'
      : 'auth: OFF (anyone who can reach this address may read meters)';
    const origins = allowedOrigins ? `origins: ${allowedOrigins.join(', ') || '(none)'}` : 'origins: any';
    const master = `master: ${this.#master.address} (${this.#master.protocol}, ${this.#master.encoding})`;
    const consoleText = this.consoleUrl
      ? `; console: ${this.consoleUrl}${token ? '?token=<token>' : ''}`
      : '; console: off';
    this.#log({
      level: token ? 'info' : 'warn',
      event: 'listening',
      message: `meterlab relay listening on ${this.#url} — ${auth}; ${origins}; TLS ${tls ? 'on' : 'off'}; ${master}${consoleText}`,
      fields: {
        url: this.#url,
        console: this.consoleUrl || null,
        auth: Boolean(token),
        origins: allowedOrigins ?? null,
        tls: Boolean(tls),
        master: this.#master.address,
      },
    });
  }

  #upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    const refuse = (status: number, reason: string) => {
      this.#log({
        level: 'warn',
        event: 'client-refused',
        message: `refused ${remote} ${redactUrl(req.url)}: ${status} ${reason}`,
        fields: { remote, status, reason },
      });
      const headers = [
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}`,
        'Connection: close',
        'Content-Type: text/plain; charset=utf-8',
        `Content-Length: ${Buffer.byteLength(reason)}`,
      ];
      if (status === 401) headers.push('WWW-Authenticate: Bearer realm="meterlab relay"');
      socket.once('finish', () => socket.destroy());
      socket.end(`${headers.join('\r\n')}\r\n\r\n${reason}`);
    };
    if (this.#state !== 'running' || !this.#wss) {
      refuse(503, 'the relay is stopping');
      return;
    }
    const verdict = checkUpgrade(req, this.#options);
    if (!verdict.ok) {
      refuse(verdict.status, verdict.reason);
      return;
    }
    if (this.#clients.size >= this.maxClients && !this.#evictIdleClient()) {
      refuse(503, `too many clients (maxClients ${this.maxClients})`);
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, remote, socket));
  }

  /** `raw` is the client's TCP (or TLS) socket under `ws`: its `drain` says when the unsent answers went out. */
  #accept(ws: WebSocket, remote: string, raw: Duplex): void {
    const clientId = this.#nextClientId++;
    // The console's requests go to the master on a connection of this client's own, opened on the first one.
    let upstream: ConsoleUpstream | undefined;
    const consoleRequests = this.#console
      ? {
          send: (request: ConsoleRequest) => {
            if (!upstream) {
              if (this.#consoleClients >= this.maxConsoleClients) {
                session.sendConsole({
                  type: 'error',
                  id: request.id,
                  code: 'BUSY',
                  message: `${this.#consoleClients} console clients already use the master (maxConsoleClients)`,
                });
                return;
              }
              this.#consoleClients++;
              upstream = new ConsoleUpstream({
                master: this.#options.master,
                encoding: this.#options.encoding,
                log: this.#log,
                client: clientId,
                onMessage: (message) => session.sendConsole(message),
              });
            }
            upstream.send(request);
          },
        }
      : undefined;
    // The session closes a slow reader through this; the relay then stops reading it (issue 13 item 7).
    const socket: ClientSocketLike = {
      get readyState() {
        return ws.readyState;
      },
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
      send: (data) => {
        ws.send(data);
        if (!client.paused && ws.bufferedAmount > this.pauseReadingAboveBytes && raw.writableNeedDrain) {
          this.#pauseReading(clientId, client, raw);
        }
      },
      close: (code, reason) => {
        ws.close(code, reason);
        if (code === CLOSE_SLOW_READER) this.#stopReading(client);
      },
    };
    const origin = `ws-${clientId}`;
    const session = new ClientSession({
      clientId,
      remote,
      socket,
      console: consoleRequests,
      // The client's origin on the master connection: the master takes turns per browser (issue 13 item 5).
      read: (req) => this.#coalescer.read(req, origin),
      maxInFlight: this.maxInFlightPerClient,
      maxBufferedBytes: this.maxBufferedBytes,
      log: this.#log,
    });
    let markClosed = () => {};
    const closed = new Promise<void>((resolve) => {
      markClosed = resolve;
    });
    const client: Client = {
      id: clientId,
      ws,
      session,
      alive: true,
      closed,
      lastMessageAt: this.#clock.now(),
      spoke: false,
      consoleOpen: () => upstream !== undefined,
      idleTimer: undefined,
      ignoredAfterClose: 0,
      graceTimer: undefined,
      paused: false,
      yielding: false,
      taken: 0,
      allowance: this.maxMessagesPerSecond,
      allowanceAt: this.#clock.now(),
      throttled: undefined,
      held: [],
    };
    this.#clients.set(clientId, client);
    if (this.idleTimeoutMs > 0) this.#armIdleTimer(clientId, client, this.idleTimeoutMs);
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('message', (data, isBinary) => {
      if (!session.open) {
        client.ignoredAfterClose += 1;
        return;
      }
      client.lastMessageAt = this.#clock.now();
      client.spoke = true;
      const bytes = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data);
      if (client.paused || client.yielding || client.throttled) client.held.push([bytes, isBinary]);
      else this.#take(client, bytes, isBinary);
    });
    ws.on('error', (error: Error & { code?: string }) => {
      // ws has already closed the connection with the right code (1009 for maxPayload, 1002/1007 for
      // protocol errors); this only reports why.
      this.#log({
        level: 'warn',
        event: 'client-error',
        message: `client #${clientId} (${remote}): ${error.code ?? 'error'}: ${error.message}`,
        fields: { client: clientId, code: error.code },
      });
    });
    ws.on('close', (code: number, reason: Buffer) => {
      session.closed();
      this.#clearClientTimers(client);
      if (upstream) {
        upstream.close();
        upstream = undefined;
        this.#consoleClients--;
      }
      this.#clients.delete(clientId);
      markClosed();
      this.#log({
        level: 'info',
        event: 'client-close',
        message: `client #${clientId} (${remote}) closed: ${code}${reason.length ? ` ${reason.toString()}` : ''}`,
        fields: {
          client: clientId,
          code,
          inFlight: session.inFlight,
          ignoredAfterClose: client.ignoredAfterClose,
        },
      });
      this.emit('client-close', clientId, code);
    });
    this.#log({
      level: 'info',
      event: 'client-open',
      message: `client #${clientId} connected from ${remote}`,
      fields: { client: clientId, remote },
    });
    this.emit('client-open', clientId);
  }

  /** A connection began: it has `handshakeTimeoutMs` to deliver its request head; the oldest goes beyond the cap. */
  #handshakeStarted(socket: Duplex): void {
    if (this.#state !== 'running') {
      socket.destroy();
      return;
    }
    const [first] = this.#handshakes;
    if (
      this.#handshakes.size >= this.maxPendingHandshakes &&
      first !== undefined &&
      this.#clock.now() - first[1].since >= this.evictHandshakeAfterMs
    ) {
      const oldest = first[0];
      this.#handshakeDone(oldest);
      this.#log({
        level: 'warn',
        event: 'handshake-evicted',
        message: `${this.maxPendingHandshakes} connections have not finished their upgrade (maxPendingHandshakes); the oldest, ${remoteOf(oldest)}, is closed`,
        fields: { remote: remoteOf(oldest) },
      });
      oldest.destroy();
    }
    const timer = this.#clock.setTimeout(() => {
      this.#handshakes.delete(socket);
      this.#log({
        level: 'warn',
        event: 'handshake-timeout',
        message: `${remoteOf(socket)} did not finish its upgrade within ${this.handshakeTimeoutMs} ms (handshakeTimeoutMs); closed`,
        fields: { remote: remoteOf(socket) },
      });
      socket.destroy();
    }, this.handshakeTimeoutMs);
    this.#handshakes.set(socket, { timer, since: this.#clock.now() });
    socket.once('close', () => this.#handshakeDone(socket));
  }

  #handshakeDone(socket: Duplex): void {
    const pending = this.#handshakes.get(socket);
    if (pending === undefined) return;
    this.#clock.clearTimeout(pending.timer);
    this.#handshakes.delete(socket);
  }

  /** Whether a client idle long enough was closed to make room for a new one (see `evictIdleAfterMs`). */
  #evictIdleClient(): boolean {
    if (this.evictIdleAfterMs === 0) return false;
    const now = this.#clock.now();
    let idlest: [number, Client] | undefined;
    for (const entry of this.#clients) {
      const [, c] = entry;
      if (!c.session.open || c.session.inFlight > 0 || c.consoleOpen()) continue;
      if (now - c.lastMessageAt < (c.spoke ? this.evictIdleAfterMs : this.evictSilentAfterMs)) continue;
      const first = idlest?.[1];
      // Never spoke before spoke; then idle longest. Ties keep the earlier client.
      if (
        !first ||
        (first.spoke && !c.spoke) ||
        (first.spoke === c.spoke && c.lastMessageAt < first.lastMessageAt)
      ) {
        idlest = entry;
      }
    }
    if (!idlest) return false;
    const [clientId, client] = idlest;
    const idleS = Math.round((now - client.lastMessageAt) / 1000);
    this.#log({
      level: 'info',
      event: 'idle-evicted',
      message: `client #${clientId} idle for ${idleS} s closed to make room (maxClients ${this.maxClients})`,
      fields: { client: clientId, idleMs: now - client.lastMessageAt },
    });
    this.#closeClient(clientId, client, 1000, 'idle; slot needed');
    return true;
  }

  /** Closes the client now, counting it gone at once (its slot is free for the caller). */
  #closeClient(clientId: number, client: Client, code: number, reason: string): void {
    client.session.closed();
    this.#clearClientTimers(client);
    this.#clients.delete(clientId);
    client.ws.close(code, reason);
    // A client that does not answer the close is not waited for: the relay is done with it.
    client.graceTimer = this.#clock.setTimeout(() => client.ws.terminate(), this.slowReaderGraceMs);
  }

  /** Fires `idleTimeoutMs` after the last message; re-armed for the rest when the client spoke meanwhile. */
  #armIdleTimer(clientId: number, client: Client, delay: number): void {
    client.idleTimer = this.#clock.setTimeout(() => {
      client.idleTimer = undefined;
      if (!this.#clients.has(clientId) || !client.session.open) return;
      const idle = this.#clock.now() - client.lastMessageAt;
      if (idle < this.idleTimeoutMs) {
        this.#armIdleTimer(clientId, client, this.idleTimeoutMs - idle);
        return;
      }
      if (client.session.inFlight > 0) {
        // Waiting for an answer is not idleness; look again a whole timeout later.
        this.#armIdleTimer(clientId, client, this.idleTimeoutMs);
        return;
      }
      const seconds = Math.round(this.idleTimeoutMs / 1000);
      this.#log({
        level: 'info',
        event: 'idle-timeout',
        message: `client #${clientId} sent nothing for ${seconds} s (idleTimeoutMs); closed`,
        fields: { client: clientId },
      });
      this.#closeClient(clientId, client, 1000, `idle for ${seconds} s`);
    }, delay);
  }

  /**
   * Backpressure: the client's unsent answers passed `pauseReadingAboveBytes`; its socket is not read (no new
   * request taken) until they have all been written out (`drain`), unless it is closed meanwhile.
   */
  #pauseReading(clientId: number, client: Client, raw: Duplex): void {
    client.paused = true;
    client.ws.pause();
    const buffered = client.ws.bufferedAmount;
    this.#log({
      level: 'info',
      event: 'client-paused',
      message: `client #${clientId} has ${buffered} bytes of answers unsent (> pauseReadingAboveBytes ${this.pauseReadingAboveBytes}); not reading it until they are sent`,
      fields: { client: clientId, buffered },
    });
    raw.once('drain', () => {
      client.paused = false;
      this.#readOn(client);
    });
  }

  /**
   * Handles one message of the client; after `maxMessagesPerTurn` in a row it yields to the event loop, and once
   * its `maxMessagesPerSecond` allowance is spent it is not read until the allowance has refilled.
   */
  #take(client: Client, bytes: Buffer, isBinary: boolean): void {
    if (this.maxMessagesPerSecond > 0 && !this.#spend(client)) {
      client.held.unshift([bytes, isBinary]); // first again when the allowance has refilled
      return;
    }
    client.session.handle(bytes, isBinary);
    if (++client.taken < this.maxMessagesPerTurn || client.yielding) return;
    client.taken = 0;
    client.yielding = true;
    client.ws.pause();
    setImmediate(() => {
      client.yielding = false;
      this.#readOn(client);
    });
  }

  /**
   * Spends one message of the client's allowance (refilled at `maxMessagesPerSecond`, at most a second's worth)
   * and says whether there was one; when there was not, stops reading the client until one message's worth has
   * come back.
   */
  #spend(client: Client): boolean {
    if (client.throttled) return false;
    const now = this.#clock.now();
    const rate = this.maxMessagesPerSecond;
    client.allowance = Math.min(rate, client.allowance + ((now - client.allowanceAt) * rate) / 1000);
    client.allowanceAt = now;
    if (client.allowance >= 1) {
      client.allowance -= 1;
      return true;
    }
    const waitMs = Math.ceil(((1 - client.allowance) * 1000) / rate);
    client.ws.pause();
    client.throttled = this.#clock.setTimeout(() => {
      client.throttled = undefined;
      this.#readOn(client);
    }, waitMs);
    this.#log({
      level: 'info',
      event: 'client-throttled',
      message: `client #${client.id} sends more than maxMessagesPerSecond ${rate}: not read for ${waitMs} ms`,
      fields: { client: client.id, waitMs },
    });
    return false;
  }

  /** Handles the held messages, in order, while nothing holds the client back, then reads its socket again. */
  #readOn(client: Client): void {
    // A client being closed (slow reader, idle, stopping) stays unread.
    if (!client.session.open || client.graceTimer !== undefined) return;
    while (
      client.held.length > 0 &&
      !client.paused &&
      !client.yielding &&
      !client.throttled &&
      client.session.open
    ) {
      const [bytes, isBinary] = client.held.shift() as [Buffer, boolean];
      this.#take(client, bytes, isBinary);
    }
    if (!client.paused && !client.yielding && !client.throttled && client.held.length === 0)
      client.ws.resume();
  }

  /** The session closed a slow reader with 1013: read nothing more from it, terminate it after the grace. */
  #stopReading(client: Client): void {
    if (client.graceTimer !== undefined) return;
    client.ws.pause();
    client.graceTimer = this.#clock.setTimeout(() => client.ws.terminate(), this.slowReaderGraceMs);
  }

  #clearClientTimers(client: Client): void {
    if (client.idleTimer !== undefined) this.#clock.clearTimeout(client.idleTimer);
    client.idleTimer = undefined;
    if (client.throttled !== undefined) this.#clock.clearTimeout(client.throttled);
    client.throttled = undefined;
    // The grace timer stays: it must still terminate a client that never completes the close.
  }

  /**
   * The ws-documented heartbeat: each tick, terminate clients that did not answer the last ping, then ping
   * the rest. Dead peers (a laptop closed mid-session, a NAT that dropped the mapping) leave no FIN, so
   * without this their sessions and reads would be held for ever.
   */
  #scheduleHeartbeat(): void {
    this.#heartbeat = this.#clock.setTimeout(() => {
      if (this.#state !== 'running') return;
      for (const [clientId, client] of this.#clients) {
        if (!client.alive) {
          this.#log({
            level: 'warn',
            event: 'heartbeat-timeout',
            message: `client #${clientId} did not answer a ping within ${this.heartbeatIntervalMs} ms; terminated`,
            fields: { client: clientId },
          });
          client.session.closed();
          client.ws.terminate();
          continue;
        }
        client.alive = false;
        client.ws.ping();
      }
      this.#scheduleHeartbeat();
    }, this.heartbeatIntervalMs);
  }
}
