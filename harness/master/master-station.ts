import { EventEmitter } from 'node:events';
import { bytesToHex } from '../../protocols/bytes.ts';
import type { Cjt188DiOrder } from '../../protocols/cjt188/index.ts';
import type { DroppedBytes, FramedFrame } from '../../protocols/framer.ts';
import {
  AFN_LINK_CHECK,
  type Gdw376Frame,
  type Gdw376FrameTimeout,
  type Gdw376SerialSettings,
} from '../../protocols/gdw376/index.ts';
import {
  MAX_DETAIL_REPLY_BYTES,
  type MeterProtocol,
  parseConcentratorId,
  type TextEncodingName,
} from '../../protocols/point-read/index.ts';
import { isMeterProtocolName, meterProtocolList } from '../../protocols/registry.ts';
import { type Clock, realClock, type TimerHandle } from '../../simulator/clock/index.ts';
import {
  GDW376_FRAME_GAP_MS,
  type Link,
  listenTcp,
  type TcpListener,
  type TcpSocketLink,
} from '../../simulator/link/index.ts';
import { Archive, type ArchiveData, type ArchiveSerial, type MeterLocation } from './archive.ts';
import { ClientApiServer, type PointReadContext } from './client-api.ts';
import {
  ConcentratorConnection,
  type ConfirmForm,
  DEFAULT_MAX_JUNK_BYTES,
  type JunkLimitEvent,
} from './concentrator-connection.ts';
import { type ConcentratorAddress, formatConcentratorId } from './concentrator-id.ts';
import { ConsoleApi, type ForwardTarget } from './console-api.ts';
import { hostOf, LoginRate } from './login-rate.ts';
import { failureReasonOf, MasterError, type MasterFailureDetail } from './master-error.ts';
import { type MasterLogEntry, type MasterLogger, SILENT_MASTER_LOG, ThrottledLog } from './master-log.ts';
import { buildMeterRequest, decodeMeterReply, meterAddressFor } from './point-read.ts';
import { LOCAL_CLIENT, PortScheduler } from './port-scheduler.ts';
import { type SessionSnapshot, SessionTable, type SessionUpdate } from './session-table.ts';
import type { MasterReading, PointReadRequest } from './types.ts';

/**
 * The master station (front-end, the seed system's "clientserver"): concentrators connect to it over TCP and
 * speak Q/GDW 376.1; clients connect to its API port and ask for point-reads in NDJSON. It tracks sessions by
 * A1/A2, confirms link checks, turns a point-read into an AFN 10 F1 forward of a CJ/T 188 or DL/T 645 read, and
 * answers with a typed reading or a typed error.
 */

export interface ListenAddress {
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** 0 picks a free port (tests). */
  port?: number;
}

/**
 * Who may log in with a concentrator address (issue 13, item 3):
 * - `replace`: anyone; a login of an address that is online on another connection takes the session and the
 *   older connection is closed (a GPRS terminal that reconnected, docs/field-notes.md §8). Logged with both
 *   remote addresses.
 * - `keep`: a login of an address that is online on another connection is refused while that connection still
 *   answers (heard from within `keepWindowMs`); a silent one is replaced as above. A forger cannot take the
 *   session of a concentrator that heartbeats.
 * - `archive`: only concentrators in the archive may log in (takeover as `replace`).
 * An archived concentrator's `allowFrom` is checked under every policy.
 */
export type LoginPolicy = 'replace' | 'keep' | 'archive';

export const LOGIN_POLICIES: readonly LoginPolicy[] = ['replace', 'keep', 'archive'];

/**
 * Which meters a client may point-read (issue 13 item 5):
 * - `any`: a request that names the protocol and port may read a meter the archive lacks — what a test bench
 *   wants, to reach a device before it is archived.
 * - `archived`: only meters in the archive, on their archived port and protocol; anything else is UNKNOWN_METER
 *   at once. A master station reads its archive (档案) and nothing else; on a half-duplex bus a read of a meter
 *   that is not there holds the port for the whole frame wait (`meterFrameTimeoutMs`), and fair turns cannot
 *   call a frame back once it is on the wire, so a client that floods such reads delays everyone's reads at
 *   that port by up to a frame wait each. Under `archived` those reads never reach the field.
 */
export type ReadPolicy = 'any' | 'archived';

export const READ_POLICIES: readonly ReadPolicy[] = ['any', 'archived'];

/** `'refused'` event payload: a login (or a heartbeat taken as one) the station denied. */
export interface LoginRefusedEvent extends ConcentratorAddress {
  connection: number;
  remote: string;
  reason: 'table-full' | 'second-address' | 'login-rate' | 'not-archived' | 'source' | 'kept';
}

export interface MasterStationOptions {
  /** Where concentrators connect. @defaultValue 127.0.0.1:9093 */
  listen?: ListenAddress;
  /** Where point-read clients connect; `false` runs no client API. @defaultValue 127.0.0.1:9092 */
  api?: ListenAddress | false;
  /**
   * How login/heartbeat/logout are confirmed: AFN 00 F1, or F3 per item (docs/gdw376.md §3.5).
   * @defaultValue 'F1'
   */
  confirmForm?: ConfirmForm;
  /** Heartbeat period the concentrators use. @defaultValue 60000 */
  heartbeatPeriodMs?: number;
  /** Heartbeat periods without a frame before a concentrator is offline. @defaultValue 3 */
  missedHeartbeats?: number;
  /**
   * How long the concentrator waits for the meter: the AFN 10 F1 frame-wait timeout, sent as ms when ≤ 127 ms,
   * else rounded up to whole seconds (at most 127 s, D7 = unit, docs/gdw376.md §3.4). @defaultValue 10000
   */
  meterFrameTimeoutMs?: number;
  /** How long the master waits for the AFN 10 reply. @defaultValue meterFrameTimeoutMs + 10000 */
  forwardTimeoutMs?: number;
  /** Client API text encoding; `gb2312` for legacy clients. @defaultValue 'utf8' */
  encoding?: TextEncodingName;
  /** Meters behind each concentrator; a fleet JSON loads as is (see archive.ts). @defaultValue empty */
  archive?: Archive | ArchiveData;
  /** Source of time for heartbeat expiry, forward timeouts and `readAt`. @defaultValue realClock */
  clock?: Clock;
  /**
   * Serial settings of a port the archive says nothing about. @defaultValue 2400 8E1 (docs/cjt188.md §1.1,
   * docs/dlt645.md §2.1)
   */
  defaultSerial?: Gdw376SerialSettings;
  /** CJ/T 188 DI byte order in read requests (docs/cjt188.md §1.6). @defaultValue 'low-first' */
  cjt188DiOrder?: Cjt188DiOrder;
  /**
   * How long the SEQ of a timed-out forward stays unused unless its late reply arrives first, so that the late
   * reply cannot settle a newer forward (see ConcentratorConnection). @defaultValue max(30000, forwardTimeoutMs)
   */
  seqQuarantineMs?: number;
  /** Forwards in flight per concentrator (≤ 16, the SEQ space); more are answered BUSY. @defaultValue 8 */
  maxInFlightPerConcentrator?: number;
  /** Forwards queued per concentrator behind those in flight; more are answered BUSY. @defaultValue 256 */
  maxQueuedPerConcentrator?: number;
  /** Reads in flight per client connection (a relay is one connection for all its users). @defaultValue 256 */
  maxInFlightPerClient?: number;
  /**
   * Forwards the master has at one concentrator port at once; the rest wait at the master, where clients take
   * turns (fair queueing, port-scheduler.ts). @defaultValue 1
   */
  maxInFlightPerPort?: number;
  /** Reads of one client connection waiting for one concentrator port; more are answered BUSY. @defaultValue 256 */
  maxQueuedPerClientPort?: number;
  /**
   * A client-API connection with no request for this long and nothing in flight is closed (IDLE_TIMEOUT); 0
   * never. @defaultValue 300000
   */
  clientIdleTimeoutMs?: number;
  /** Concentrator connections at once. @defaultValue 10000 */
  maxConcentratorConnections?: number;
  /** Sessions remembered (see SessionTable). @defaultValue 10000 */
  maxSessions?: number;
  /**
   * A connection that has not logged in (or sent a heartbeat) after this long is closed, so idle or garbage-only
   * sockets do not pile up. @defaultValue heartbeatPeriodMs × missedHeartbeats
   */
  loginTimeoutMs?: number;
  /** Master station address MSA in A3 (0–127). @defaultValue 0 */
  msa?: number;
  /**
   * Frame pacing toward concentrators: the least time between two frames written on one connection (a confirm
   * right after a forward, say), so that a concentrator which takes each TCP read as one frame never gets two in
   * one read (issue 9; `GDW376_FRAME_GAP_MS` in simulator/link says why 20 ms). 0 turns pacing off.
   * @defaultValue 20
   */
  minFrameGapMs?: number;
  /**
   * Wraps each accepted concentrator link before the station uses it: a tap, a recorder, a byte counter, a fault
   * injector (`LinkWrapper` in simulator/link). The station sees only the returned Link.
   * @defaultValue none
   */
  wrapConcentratorLink?: (link: TcpSocketLink) => Link;
  /** Wraps each accepted client-API link the same way (a recorder: `master --record`). @defaultValue none */
  wrapClientLink?: (link: TcpSocketLink) => Link;
  /** Who may log in with a concentrator address (see {@link LoginPolicy}). @defaultValue 'replace' */
  loginPolicy?: LoginPolicy;
  /** Which meters a client may read (see {@link ReadPolicy}). @defaultValue 'any' */
  readPolicy?: ReadPolicy;
  /**
   * Under `keep`: how recently the connection owning a session must have been heard from (any frame) for a login
   * from elsewhere to be refused. A concentrator that heartbeats on time is always heard within one period;
   * the half period more is for a slow network. @defaultValue 1.5 × heartbeatPeriodMs
   */
  keepWindowMs?: number;
  /**
   * Logins that would create or take over a session, per remote host (IP address) per minute; more are denied
   * (re-logins and heartbeats of a connection's own session are not counted). @defaultValue 1200
   */
  maxLoginsPerMinute?: number;
  /**
   * Bytes a concentrator connection may send without a whole frame before it is closed (see
   * ConcentratorConnection). @defaultValue 65536
   */
  maxJunkBytes?: number;
  /**
   * Receives what peers did wrong (junk, malformed frames, frames before login, refused or replaced logins), each
   * naming the remote address; throttled per kind to one line per `logThrottleMs` plus a "… N more" summary
   * (see master-log.ts). @defaultValue discard
   */
  log?: MasterLogger;
  /** @defaultValue 10000 */
  logThrottleMs?: number;
}

/** A session as {@link MasterStation.sessions} reports it. */
export interface MasterSession extends SessionSnapshot {
  /** The archive alias, if any. */
  alias?: string;
  /** Peer address of the owning connection while online. */
  remote?: string;
}

/** `'login'` event payload. */
export interface LoginEvent {
  session: MasterSession;
  /** True when a heartbeat from an unknown connection was taken as a login. */
  implicit: boolean;
  /** True when the login replaced another live connection of the same A1/A2 (docs/field-notes.md §8). */
  replaced: boolean;
}

/** `'frame'` event payload: every frame a concentrator sent. */
export interface ConcentratorFrameEvent {
  connection: number;
  remote: string;
  frame: Gdw376Frame;
  raw: Uint8Array;
}

/** `'dropped'` event payload: bytes from a concentrator that were not a frame, and why. */
export interface ConcentratorDroppedEvent {
  connection: number;
  remote: string;
  dropped: DroppedBytes;
}

/** An address listened on: the host as given (e.g. `127.0.0.1`) and the real port (when 0 was asked for). */
export interface ListenedAddress {
  address: string;
  port: number;
}

/** Bound addresses after {@link MasterStation.start}. */
export interface MasterAddresses {
  listen: ListenedAddress;
  api?: ListenedAddress;
}

/**
 * Refused logins one connection may make before the station closes it: a concentrator whose login is refused
 * retries after a back-off, so more than a few refusals on one connection is a peer cycling addresses (issue 13,
 * item 2: 10,000 logins on one connection) or a forger retrying; answering each would cost a deny frame apiece.
 */
export const MAX_REFUSED_LOGINS_PER_CONNECTION = 16;

const SERIAL_2400_8E1: Gdw376SerialSettings = { baud: 2400, parity: 'even', dataBits: 8, stopBits: 1 };

/**
 * Events:
 * - `'login'` ({@link LoginEvent}), `'logout'` (MasterSession), `'offline'` (MasterSession: heartbeats missed or
 *   connection closed);
 * - `'frame'` ({@link ConcentratorFrameEvent}), `'dropped'` ({@link ConcentratorDroppedEvent}), `'unmatched'`
 *   (a reply whose SEQ matches no request), `'refused'` (a login refused because the session table is full);
 * - `'error'`: only the master's own failures (a listener that cannot bind after start, a handler or listener
 *   that threw while a frame was handled), and only when someone listens — a peer's bad bytes are `'dropped'`,
 *   never an error, and the station never crashes on them.
 */
export class MasterStation extends EventEmitter {
  readonly options: Readonly<MasterStationOptions>;
  readonly archive: Archive;
  /** The web console's requests (fleet, valve, frame log) and the frame log's subscribers (issue 12). */
  readonly console: ConsoleApi;
  readonly clock: Clock;
  readonly meterFrameTimeoutMs: number;
  readonly forwardTimeoutMs: number;
  readonly loginTimeoutMs: number;
  readonly loginPolicy: LoginPolicy;
  readonly keepWindowMs: number;
  readonly readPolicy: ReadPolicy;
  readonly #table: SessionTable;
  readonly #loginRate: LoginRate;
  readonly #log: ThrottledLog;
  readonly #connections = new Map<number, ConcentratorConnection>();
  /** Refused logins per connection (see {@link MAX_REFUSED_LOGINS_PER_CONNECTION}). */
  readonly #refusals = new Map<number, number>();
  #listener: TcpListener | undefined;
  readonly #api: ClientApiServer | undefined;
  /** Fair queueing of reads per concentrator port (issue 13 item 5). */
  readonly #ports: PortScheduler;
  /** The AFN 10 F1 frame-wait field for {@link MasterStation.meterFrameTimeoutMs}. */
  readonly #frameTimeout: Gdw376FrameTimeout;
  /** Read request bytes of archived meters, built on their first read (see #meterRequest). */
  readonly #meterRequests = new WeakMap<MeterLocation, Uint8Array>();
  #nextConnectionId = 1;
  #expiryTimer: { handle: TimerHandle; at: number } | undefined;
  #started = false;

  constructor(options: MasterStationOptions = {}) {
    super();
    this.options = options;
    this.clock = options.clock ?? realClock;
    this.archive =
      options.archive instanceof Archive
        ? options.archive
        : new Archive(options.archive ?? { concentrators: [] });
    this.#table = new SessionTable({
      heartbeatPeriodMs: options.heartbeatPeriodMs,
      missedHeartbeats: options.missedHeartbeats,
      maxSessions: options.maxSessions,
    });
    this.meterFrameTimeoutMs = options.meterFrameTimeoutMs ?? 10_000;
    if (!(this.meterFrameTimeoutMs >= 0 && this.meterFrameTimeoutMs <= 127_000)) {
      throw new TypeError(
        `"meterFrameTimeoutMs" must be 0–127000 (127 s is the most docs/gdw376.md §3.4 allows), got ${this.meterFrameTimeoutMs}`,
      );
    }
    this.#frameTimeout = frameTimeoutFor(this.meterFrameTimeoutMs);
    this.forwardTimeoutMs = options.forwardTimeoutMs ?? this.meterFrameTimeoutMs + 10_000;
    if (!(this.forwardTimeoutMs > 0)) {
      throw new TypeError(
        `"forwardTimeoutMs" must be a positive number of ms, got ${String(options.forwardTimeoutMs)}`,
      );
    }
    this.loginTimeoutMs = options.loginTimeoutMs ?? this.#table.silenceLimitMs;
    this.loginPolicy = options.loginPolicy ?? 'replace';
    if (!LOGIN_POLICIES.includes(this.loginPolicy)) {
      throw new TypeError(
        `"loginPolicy" must be ${LOGIN_POLICIES.join(', ')}, got ${String(options.loginPolicy)}`,
      );
    }
    this.readPolicy = options.readPolicy ?? 'any';
    if (!READ_POLICIES.includes(this.readPolicy)) {
      throw new TypeError(
        `"readPolicy" must be ${READ_POLICIES.join(' or ')}, got ${String(options.readPolicy)}`,
      );
    }
    this.keepWindowMs = options.keepWindowMs ?? this.#table.heartbeatPeriodMs * 1.5;
    if (!(this.keepWindowMs >= 0)) {
      throw new TypeError(`"keepWindowMs" must be a number of ms >= 0, got ${String(options.keepWindowMs)}`);
    }
    this.#loginRate = new LoginRate(options.maxLoginsPerMinute);
    this.#log = new ThrottledLog(options.log ?? SILENT_MASTER_LOG, this.clock, options.logThrottleMs);
    if (options.confirmForm !== undefined && options.confirmForm !== 'F1' && options.confirmForm !== 'F3') {
      throw new TypeError(`"confirmForm" must be 'F1' or 'F3', got ${String(options.confirmForm)}`);
    }
    if (options.minFrameGapMs !== undefined && !(options.minFrameGapMs >= 0)) {
      throw new TypeError(
        `"minFrameGapMs" must be a number of ms >= 0, got ${String(options.minFrameGapMs)}`,
      );
    }
    this.#ports = new PortScheduler({
      maxInFlightPerPort: options.maxInFlightPerPort,
      maxQueuedPerClientPort: options.maxQueuedPerClientPort,
      maxPerConcentrator:
        (options.maxInFlightPerConcentrator ?? 8) + (options.maxQueuedPerConcentrator ?? 256),
    });
    this.console = new ConsoleApi(this);
    if (options.api !== false) {
      this.#api = new ClientApiServer((req, context) => this.pointRead(req, context), {
        clock: this.clock,
        idleTimeoutMs: options.clientIdleTimeoutMs,
        console: this.console,
        host: options.api?.host,
        port: options.api?.port ?? 9092,
        encoding: options.encoding,
        maxInFlightPerConnection: options.maxInFlightPerClient,
        wrapLink: options.wrapClientLink,
      });
      this.#api.on('error', (err) => this.#emitError(err));
    }
  }

  /** Starts both listeners; resolves with their bound addresses. */
  async start(): Promise<MasterAddresses> {
    const listener = await listenTcp({
      host: this.options.listen?.host ?? '127.0.0.1',
      port: this.options.listen?.port ?? 9093,
      maxConnections: this.options.maxConcentratorConnections ?? 10_000,
      minFrameGapMs: this.options.minFrameGapMs ?? GDW376_FRAME_GAP_MS,
    });
    listener.on('connection', (link) => this.#accept(link));
    listener.on('error', (err) => this.#emitError(err));
    this.#listener = listener;
    const { host, port } = listener.address();
    const listen = { address: host, port };
    this.#started = true;
    const api = this.#api ? await this.#api.listen() : undefined;
    return api ? { listen, api } : { listen };
  }

  /** Closes both listeners and every connection; reads in flight fail. */
  async stop(): Promise<void> {
    this.#started = false;
    if (this.#expiryTimer) this.clock.clearTimeout(this.#expiryTimer.handle);
    this.#expiryTimer = undefined;
    for (const conn of this.#connections.values()) conn.close();
    this.#log.flush();
    const listener = this.#listener;
    this.#listener = undefined;
    await Promise.all([listener?.close(), this.#api?.close()]);
  }

  /** Point-reads waiting for their turn at a port of the concentrator `id` (not yet sent; port-scheduler.ts). */
  queuedReads(id: string): number {
    return this.#ports.queued(id);
  }

  /** Every session the master knows, online or not. */
  sessions(): MasterSession[] {
    return this.#table.list().map((s) => this.#describe(s));
  }

  /**
   * Reads one meter now. Resolves with the reading or rejects with a {@link MasterError}:
   * BAD_REQUEST, UNKNOWN_CONCENTRATOR, UNKNOWN_METER, CONCENTRATOR_OFFLINE (at once, without touching the
   * network), BUSY, METER_TIMEOUT, DENIED or BAD_REPLY; STOPPED when `context.signal` aborts while the read
   * still waits for its turn at the port (it is then never sent), CANCELLED when `context.cancel` does. Reads
   * of one `context.client` take turns with other clients' at each port (port-scheduler.ts); without a context
   * they are the station's own.
   */
  async pointRead(request: PointReadRequest, context?: Partial<PointReadContext>): Promise<MasterReading> {
    if (typeof request?.concentrator !== 'string' || typeof request.meter !== 'string') {
      throw new MasterError('BAD_REQUEST', 'a point-read needs "concentrator" and "meter" strings');
    }
    if (!/^\d{1,14}$/.test(request.meter)) {
      throw new MasterError('BAD_REQUEST', `meter address "${request.meter}" must be 1–14 decimal digits`);
    }
    const id = this.#resolveConcentrator(request.concentrator);
    const located = this.archive.meter(id, request.meter);
    if (this.readPolicy === 'archived') this.#checkArchived(id, request, located);
    const protocol = request.protocol ?? located?.protocol;
    const port = request.port ?? located?.port;
    if (protocol === undefined || port === undefined) {
      const missing = [protocol === undefined && 'protocol', port === undefined && 'port']
        .filter(Boolean)
        .join(' and ');
      throw new MasterError(
        'UNKNOWN_METER',
        `meter ${request.meter} is not in the archive of concentrator ${id} and the request gives no ${missing}`,
      );
    }
    if (!isMeterProtocolName(protocol)) {
      throw new MasterError('BAD_REQUEST', `protocol "${String(protocol)}" is not ${meterProtocolList()}`);
    }
    if (!Number.isInteger(port) || port < 1 || port > 31) {
      throw new MasterError('BAD_REQUEST', `port ${port} is not a concentrator port 1–31`);
    }
    const address = meterAddressFor(protocol, request.meter);
    const what = `meter ${address} on concentrator ${id} port ${port}`;
    const now = this.clock.now();
    const session = this.#table.get(id);
    const conn = session?.connection === undefined ? undefined : this.#connections.get(session.connection);
    if (!session || !this.#table.isOnline(id, now) || !conn || conn.closed) {
      throw new MasterError(
        'CONCENTRATOR_OFFLINE',
        `concentrator ${id} is offline${offlineText(session, now)}; ${what} not read`,
      );
    }
    const serial =
      located && located.port === port && located.serial ? toGdwSerial(located.serial) : undefined;
    const who = { client: context?.client ?? LOCAL_CLIENT, signal: context?.signal, cancel: context?.cancel };
    // The reply is judged against the very request that was forwarded (its DI order and meter type).
    const meterRequest = this.#meterRequest(protocol, address, located);
    const reply = await this.#ports.run({ concentrator: id, port }, who, what, () => {
      // The read may have waited for its turn: the session it goes to is the one online now.
      const at = this.clock.now();
      const current = this.#table.get(id);
      const link = current?.connection === undefined ? undefined : this.#connections.get(current.connection);
      if (!current || !this.#table.isOnline(id, at) || !link || link.closed) {
        throw new MasterError(
          'CONCENTRATOR_OFFLINE',
          `concentrator ${id} is offline${offlineText(current, at)}; ${what} not read`,
        );
      }
      return link.forward({
        a1: current.a1,
        a2: current.a2,
        port,
        serial: serial ?? this.options.defaultSerial ?? SERIAL_2400_8E1,
        frameTimeout: this.#frameTimeout,
        content: meterRequest,
        timeoutMs: this.forwardTimeoutMs,
        what,
      });
    });
    if (reply.port !== port) {
      throw new MasterError(
        'BAD_REPLY',
        `${what}: the forward reply came back for port ${reply.port}`,
        'PORT_MISMATCH',
      );
    }
    let value: ReturnType<typeof decodeMeterReply>;
    try {
      value = decodeMeterReply(protocol, address, reply.content, what, meterRequest);
    } catch (error) {
      throw withReadContext(error, protocol, address, reply.content);
    }
    const reading: MasterReading = {
      concentrator: id,
      meter: value.meter,
      protocol,
      value: value.value,
      unit: value.unit,
      latencyMs: Math.max(0, Math.round(reply.latencyMs)),
      readAt: new Date(this.clock.now()).toISOString(),
    };
    if (value.meterTime !== undefined) reading.meterTime = value.meterTime;
    if (value.status !== undefined) reading.status = value.status;
    return reading;
  }

  /**
   * Forwards `content` to a meter behind a concentrator (one AFN 10H F1 request) and resolves with the meter's
   * reply bytes, empty when it stayed silent. For the console's valve commands (see console-api.ts). Rejects with
   * a {@link MasterError}: CONCENTRATOR_OFFLINE (at once), BUSY, METER_TIMEOUT, DENIED, BAD_REPLY (PORT_MISMATCH).
   */
  async forwardToMeter(
    target: ForwardTarget,
    content: Uint8Array,
  ): Promise<{ content: Uint8Array; latencyMs: number }> {
    const { concentrator: id, port, what } = target;
    const now = this.clock.now();
    const session = this.#table.get(id);
    const conn = session?.connection === undefined ? undefined : this.#connections.get(session.connection);
    if (!session || !this.#table.isOnline(id, now) || !conn || conn.closed) {
      throw new MasterError(
        'CONCENTRATOR_OFFLINE',
        `concentrator ${id} is offline${offlineText(session, now)}; ${what}`,
      );
    }
    const reply = await conn.forward({
      a1: session.a1,
      a2: session.a2,
      port,
      serial: (target.serial && toGdwSerial(target.serial)) ?? this.options.defaultSerial ?? SERIAL_2400_8E1,
      frameTimeout: this.#frameTimeout,
      content,
      timeoutMs: this.forwardTimeoutMs,
      what,
    });
    if (reply.port !== port) {
      throw new MasterError(
        'BAD_REPLY',
        `${what}: the forward reply came back for port ${reply.port}`,
        'PORT_MISMATCH',
      );
    }
    return { content: reply.content, latencyMs: reply.latencyMs };
  }

  /**
   * The meter frame to forward. A read request is the same bytes on every read of a meter (SER 0), so an archived
   * meter's is built once and kept with its archive entry; a meter outside the archive, or read with another
   * protocol than the archive's, gets a fresh one.
   */
  #meterRequest(protocol: MeterProtocol, address: string, located: MeterLocation | undefined): Uint8Array {
    const archived = located?.protocol === protocol ? located : undefined;
    const known = archived && this.#meterRequests.get(archived);
    if (known) return known;
    const request = buildMeterRequest(protocol, address, {
      cjt188DiOrder: this.options.cjt188DiOrder,
      kind: archived?.kind,
    });
    if (archived) this.#meterRequests.set(archived, request);
    return request;
  }

  /** Under the `archived` read policy: UNKNOWN_METER unless the archive has this meter where the request says. */
  #checkArchived(id: string, request: PointReadRequest, located: MeterLocation | undefined): void {
    const where = !located
      ? 'is not in the archive'
      : request.port !== undefined && request.port !== located.port
        ? `is archived on port ${located.port}, not ${request.port}`
        : request.protocol !== undefined && request.protocol !== located.protocol
          ? `is archived as ${located.protocol}, not ${request.protocol}`
          : undefined;
    if (where === undefined) return;
    throw new MasterError(
      'UNKNOWN_METER',
      `meter ${request.meter} ${where} of concentrator ${id}; this master reads archived meters only (read policy archived)`,
    );
  }

  /** 9-digit id of an alias or id; UNKNOWN_CONCENTRATOR when neither the archive nor a session knows it. */
  #resolveConcentrator(text: string): string {
    const archived = this.archive.concentrator(text);
    if (archived) return archived.id;
    const parsed = parseConcentratorId(text);
    if (parsed.kind === 'address') {
      const id = formatConcentratorId(parsed.a1, parsed.a2);
      if (this.#table.get(id)) return id;
      throw new MasterError(
        'UNKNOWN_CONCENTRATOR',
        `concentrator ${id} has never logged in and is not in the archive`,
      );
    }
    if (parsed.kind === 'alias') {
      throw new MasterError('UNKNOWN_CONCENTRATOR', `no concentrator has the alias "${text}"`);
    }
    throw new MasterError('BAD_REQUEST', `concentrator "${text}" ${parsed.problem}`);
  }

  #accept(accepted: TcpSocketLink): void {
    const link = this.options.wrapConcentratorLink?.(accepted) ?? accepted;
    const conn = new ConcentratorConnection(link, {
      id: this.#nextConnectionId++,
      remote: accepted.remote,
      confirmForm: this.options.confirmForm,
      msa: this.options.msa,
      maxInFlight: this.options.maxInFlightPerConcentrator,
      maxQueued: this.options.maxQueuedPerConcentrator,
      seqQuarantineMs: this.options.seqQuarantineMs ?? Math.max(30_000, this.forwardTimeoutMs),
      maxJunkBytes: this.options.maxJunkBytes ?? DEFAULT_MAX_JUNK_BYTES,
      clock: this.clock,
    });
    this.#connections.set(conn.id, conn);
    // A socket that never logs in is closed rather than held forever (every resource is bounded).
    const loginTimer = this.clock.setTimeout(() => {
      if (!conn.address) conn.close();
    }, this.loginTimeoutMs);
    conn.on('frame', (event: FramedFrame<Gdw376Frame>) => this.#onFrame(conn, event));
    // The console's frame log: frames written to the concentrator (uplink frames are published in #onFrame).
    conn.on('sent', ({ frame, raw }: { frame: Gdw376Frame; raw: Uint8Array }) =>
      this.console.frames.publish({
        at: this.clock.now(),
        direction: 'down',
        concentrator: formatConcentratorId(frame.a1, frame.a2),
        raw,
        frame,
      }),
    );
    conn.on('dropped', (dropped: DroppedBytes) => {
      this.#warn(
        'malformed',
        `${conn.remote}: dropped ${dropped.bytes.length} bytes (${dropped.error.message})`,
        {
          remote: conn.remote,
          bytes: dropped.bytes.length,
          code: dropped.error.code,
        },
      );
      this.emit('dropped', {
        connection: conn.id,
        remote: conn.remote,
        dropped,
      } satisfies ConcentratorDroppedEvent);
    });
    conn.on('junk-limit', (event: JunkLimitEvent) =>
      this.#warn(
        'junk-limit',
        `${conn.remote}: closed after ${event.droppedBytes} bytes that formed no frame (limit ${conn.maxJunkBytes})`,
        { remote: conn.remote, ...event },
      ),
    );
    conn.on('unmatched', (frame: Gdw376Frame) => this.emit('unmatched', frame));
    conn.on('frame-error', (event: { error: unknown }) =>
      this.#emitError(event.error instanceof Error ? event.error : new Error(String(event.error))),
    );
    conn.on('close', () => {
      this.clock.clearTimeout(loginTimer);
      this.#connections.delete(conn.id);
      this.#refusals.delete(conn.id);
      const now = this.clock.now();
      for (const s of this.#table.disconnected(conn.id, now)) this.emit('offline', this.#describe(s));
      this.#scheduleExpiry();
    });
    if (!this.#started) conn.close();
  }

  #onFrame(conn: ConcentratorConnection, event: FramedFrame<Gdw376Frame>): void {
    const { frame, raw } = event;
    this.console.frames.publish({
      at: this.clock.now(),
      direction: 'up',
      concentrator: formatConcentratorId(frame.a1, frame.a2),
      raw,
      frame,
    });
    this.emit('frame', {
      connection: conn.id,
      remote: conn.remote,
      frame,
      raw,
    } satisfies ConcentratorFrameEvent);
    if (frame.control.dir !== 'up') return; // a downlink frame from a concentrator is nonsense; reported, ignored
    const now = this.clock.now();
    const address: ConcentratorAddress = { a1: frame.a1, a2: frame.a2 };
    const kind = frame.afn === AFN_LINK_CHECK && frame.control.prm ? frame.units[0]?.body.kind : undefined;
    if (kind === 'login' || kind === 'heartbeat') {
      const refusal = this.#loginRefusal(conn, address, now);
      const update = refusal
        ? undefined
        : kind === 'login'
          ? this.#table.login(address, conn.id, now)
          : this.#table.heartbeat(address, conn.id, now);
      if (!update?.session) {
        conn.deny(frame);
        const reason = refusal?.reason ?? 'table-full';
        const id = formatConcentratorId(address.a1, address.a2);
        this.#warn(
          reason === 'table-full' || reason === 'second-address' || reason === 'login-rate'
            ? reason
            : 'login-refused',
          `${conn.remote}: ${kind} of concentrator ${id} refused: ${refusal?.why ?? `the session table is full (${this.#table.maxSessions} online)`}`,
          { remote: conn.remote, concentrator: id, reason },
        );
        this.emit('refused', {
          connection: conn.id,
          remote: conn.remote,
          a1: frame.a1,
          a2: frame.a2,
          reason,
        } satisfies LoginRefusedEvent);
        const refusals = (this.#refusals.get(conn.id) ?? 0) + 1;
        this.#refusals.set(conn.id, refusals);
        if (refusals >= MAX_REFUSED_LOGINS_PER_CONNECTION) conn.close();
      } else {
        const replacedRemote =
          update.replacedConnection === undefined
            ? undefined
            : this.#connections.get(update.replacedConnection)?.remote;
        conn.address = address;
        conn.confirm(frame);
        if (update.replacedConnection !== undefined) {
          this.#warn(
            'login-replaced',
            `${conn.remote}: ${kind} of concentrator ${update.session.id} replaced its session on ${replacedRemote ?? 'a closed connection'}`,
            { remote: conn.remote, replaced: replacedRemote, concentrator: update.session.id },
            'info',
          );
        }
        this.#afterTakeOver(update, kind === 'heartbeat');
      }
    } else if (kind === 'logout') {
      const session = this.#table.logout(address, conn.id, now);
      conn.confirm(frame);
      if (session) this.emit('logout', this.#describe(session));
    } else if (kind !== undefined) {
      conn.deny(frame); // an AFN 02 function other than F1–F3
    } else if (!conn.address) {
      this.#warn(
        'before-login',
        `${conn.remote}: AFN ${frame.afn.toString(16).padStart(2, '0').toUpperCase()}H frame for concentrator ${formatConcentratorId(frame.a1, frame.a2)} before any login; ignored`,
        { remote: conn.remote, afn: frame.afn },
      );
    } else {
      this.#table.seen(address, conn.id, now);
    }
    this.#scheduleExpiry();
  }

  /**
   * Why a login (or a heartbeat that would be taken as one) on `conn` must be refused, or undefined when it may
   * go to the session table. A connection's own online session never changes hands, so its re-logins and
   * heartbeats pass without counting toward the rate.
   */
  #loginRefusal(
    conn: ConcentratorConnection,
    address: ConcentratorAddress,
    now: number,
  ): { reason: LoginRefusedEvent['reason']; why: string } | undefined {
    const id = formatConcentratorId(address.a1, address.a2);
    if (conn.address && (conn.address.a1 !== address.a1 || conn.address.a2 !== address.a2)) {
      const own = formatConcentratorId(conn.address.a1, conn.address.a2);
      return {
        reason: 'second-address',
        why: `the connection already carries concentrator ${own} (one address per connection)`,
      };
    }
    const row = this.#table.get(id);
    if (row?.state === 'online' && row.connection === conn.id && this.#table.isOnline(id, now))
      return undefined;
    const host = hostOf(conn.remote);
    if (this.loginPolicy === 'archive' && !this.archive.concentrator(id)) {
      return { reason: 'not-archived', why: 'it is not in the archive (login policy "archive")' };
    }
    if (!this.archive.allowsSource(id, host)) {
      return { reason: 'source', why: `${host} is not in its allowFrom list` };
    }
    if (this.loginPolicy === 'keep' && row?.state === 'online' && row.connection !== undefined) {
      const owner = this.#connections.get(row.connection);
      const heardAgo = now - row.lastSeenAt;
      if (owner && !owner.closed && heardAgo <= this.keepWindowMs) {
        return {
          reason: 'kept',
          why: `it is online on ${owner.remote}, heard ${Math.round(heardAgo)} ms ago (login policy "keep")`,
        };
      }
    }
    if (!this.#loginRate.admit(host, now)) {
      return {
        reason: 'login-rate',
        why: `more than ${this.#loginRate.maxPerMinute} logins from ${host} in a minute`,
      };
    }
    return undefined;
  }

  #warn(
    event: MasterLogEntry['event'],
    message: string,
    fields: Record<string, unknown>,
    level: MasterLogEntry['level'] = 'warn',
  ): void {
    this.#log.log({ level, event, message, fields });
  }

  #afterTakeOver(update: SessionUpdate, viaHeartbeat: boolean): void {
    const session = update.session!;
    const old = update.replacedConnection;
    if (old !== undefined) this.#closeIfIdle(old);
    if (!viaHeartbeat || update.implicitLogin) {
      this.emit('login', {
        session: this.#describe(session),
        implicit: viaHeartbeat,
        replaced: old !== undefined,
      } satisfies LoginEvent);
    }
  }

  /** Closes a connection unless it still owns an online session (a socket may carry several terminals). */
  #closeIfIdle(connectionId: number): void {
    const stillOwns = this.#table.list().some((s) => s.state === 'online' && s.connection === connectionId);
    if (!stillOwns) this.#connections.get(connectionId)?.close();
  }

  #expire(now: number): void {
    for (const s of this.#table.expire(now)) {
      this.emit('offline', this.#describe(s));
      // The session's connection is presumed dead (a half-open GPRS link); close it so the terminal reconnects.
      this.#closeIfIdle(s.lastConnection);
    }
  }

  /**
   * Keeps one timer at (or before) the earliest session expiry. Frames only move expiries later and a new
   * session expires after every existing one, so a pending timer is never late and the O(n) scan runs only when
   * it fires — not on every heartbeat of a large fleet. Reads check expiry lazily and never wait for the timer.
   */
  #scheduleExpiry(): void {
    if (!this.#started || this.#expiryTimer) return;
    const at = this.#table.nextExpiry();
    if (at === undefined) return;
    const fire = at + 1; // expiry is "more than" the silence limit
    const handle = this.clock.setTimeout(() => {
      this.#expiryTimer = undefined;
      this.#expire(this.clock.now());
      this.#scheduleExpiry();
    }, fire - this.clock.now());
    this.#expiryTimer = { handle, at: fire };
  }

  #describe(s: SessionSnapshot): MasterSession {
    const out: MasterSession = { ...s };
    const alias = this.archive.concentrator(s.id)?.alias;
    if (alias !== undefined) out.alias = alias;
    const conn = s.connection === undefined ? undefined : this.#connections.get(s.connection);
    if (conn) out.remote = conn.remote;
    return out;
  }

  #emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

/**
 * A failed judgement of the meter's reply with its reason folded into the five shared names and what the master
 * knows about the read added to its detail (the protocol, the address asked for, the reply bytes) where the
 * judge left them out.
 */
function withReadContext(
  error: unknown,
  protocol: MeterProtocol,
  address: string,
  content: Uint8Array,
): unknown {
  if (!(error instanceof MasterError)) return error;
  if (error.code !== 'METER_TIMEOUT' && error.code !== 'BAD_REPLY') return error;
  const detail: MasterFailureDetail = {
    ...error.detail,
    reason: failureReasonOf(error.detail?.reason ?? error.code),
  };
  detail.protocol ??= protocol;
  if (detail.reason === 'ADDRESS_MISMATCH') detail.expected ??= address;
  if (content.length > 0) detail.reply ??= bytesToHex(content.subarray(0, MAX_DETAIL_REPLY_BYTES));
  const enriched = new MasterError(error.code, error.message, detail);
  enriched.stack = error.stack;
  return enriched;
}

function offlineText(session: SessionSnapshot | undefined, now: number): string {
  if (!session) return ' (never logged in)';
  const reason =
    session.state === 'online'
      ? 'heartbeats missed'
      : session.offlineReason === 'heartbeat-timeout'
        ? 'heartbeats missed'
        : session.offlineReason === 'logout'
          ? 'logged out'
          : 'connection closed';
  return ` (${reason}; last heard ${Math.round(now - session.lastSeenAt)} ms ago)`;
}

/**
 * The AFN 10 F1 frame-wait byte for a timeout in ms (docs/gdw376.md §3.4: D7 = 1 seconds, 0 milliseconds;
 * D6–D0 value).
 */
export function frameTimeoutFor(ms: number): Gdw376FrameTimeout {
  if (ms <= 127) return { value: Math.max(0, Math.round(ms)), unit: 'ms' };
  return { value: Math.min(127, Math.ceil(ms / 1000)), unit: 's' };
}

function toGdwSerial(s: ArchiveSerial): Gdw376SerialSettings {
  return { baud: s.baudRate, parity: s.parity, dataBits: s.dataBits, stopBits: s.stopBits };
}
