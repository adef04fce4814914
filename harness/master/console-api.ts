/**
 * The console's requests at the master station (issue 12): list the fleet, drive a valve, follow the frame log.
 * The client API hands each console request of a connection to that connection's {@link ConsoleSession}; the
 * answers go back on the same connection as NDJSON lines, like read answers.
 *
 * - `fleet`: the archive's concentrators (in archive order), then any that logged in without being archived,
 *   each with its online state and when the master last heard from it; paged (`offset`, `limit`).
 * - `valve`: the meter must be in the archive (its protocol, port and kind decide the command); a meter without
 *   a valve is NO_VALVE at once, without touching the network. Then one AFN 10H F1 forward of the CJ/T 188 valve
 *   command (see valve.ts); when the meter's reply carries no status word, a read follows to learn the state.
 * - `subscribe` / `unsubscribe`: a subscription of this connection to the {@link FrameFeed}; the connection
 *   closing ends them all.
 *
 * Limits: `maxValvesPerConnection` valve commands in flight per connection (16; one more is BUSY), the frame
 * feed's subscription limit, and the fleet page size (100 by default, at most MAX_FLEET_PAGE).
 */
import {
  type ConsoleMessage,
  type ConsoleRequest,
  type FleetAnswer,
  type FleetConcentrator,
  type FleetPort,
  MAX_FLEET_PAGE,
  type SubscribeRequest,
  type ValveRequest,
  type ValveStatus,
} from '../../protocols/point-read/console-messages.ts';
import {
  type MeterProtocol,
  parseConcentratorId,
  type ReadError,
  type ValveState,
} from '../../protocols/point-read/index.ts';
import type { Clock } from '../../simulator/clock/index.ts';
import { type Archive, type ArchiveSerial, stripZeros } from './archive.ts';
import { formatConcentratorId } from './concentrator-id.ts';
import { FrameFeed } from './frame-feed.ts';
import { MasterError, wireDetail } from './master-error.ts';
import type { MasterSession } from './master-station.ts';
import { meterAddressFor } from './point-read.ts';
import type { MasterReading, PointReadRequest } from './types.ts';
import { buildValveCommand, decodeValveReply, defaultMeterKind, hasValve } from './valve.ts';

/** Where a forward goes: what the master needs to build the AFN 10H F1 frame around the meter's bytes. */
export interface ForwardTarget {
  /** A1 + A2, 9 digits. */
  concentrator: string;
  port: number;
  serial?: ArchiveSerial;
  /** Names the operation in error messages ("meter 00000000101001 on concentrator 017102082 port 1"). */
  what: string;
}

/** What the console needs of the master station. */
export interface ConsoleHost {
  readonly archive: Archive;
  readonly clock: Clock;
  sessions(): MasterSession[];
  /**
   * Forwards `content` to a meter (AFN 10H F1) and resolves with the meter's reply bytes (empty when it stayed
   * silent). Rejects with a MasterError: CONCENTRATOR_OFFLINE, BUSY, METER_TIMEOUT, DENIED, BAD_REPLY, STOPPED.
   */
  forwardToMeter(
    target: ForwardTarget,
    content: Uint8Array,
  ): Promise<{ content: Uint8Array; latencyMs: number }>;
  pointRead(request: PointReadRequest): Promise<MasterReading>;
}

/** Failures particular to the console (beside MasterError's codes). */
export class ConsoleError extends Error {
  override readonly name = 'ConsoleError';
  constructor(
    readonly code: 'NO_VALVE' | 'SUBSCRIPTION_CLOSED' | 'SUBSCRIPTION_EXISTS' | 'TOO_MANY_SUBSCRIPTIONS',
    message: string,
  ) {
    super(message);
  }
}

/** One connection's way back: queues a message, and says false when the peer is not reading fast enough. */
export interface ConsolePeer {
  send(message: ConsoleMessage | ReadError): boolean;
}

export interface ConsoleApiOptions {
  /** Frame-log subscriptions across all connections. @defaultValue 64 */
  maxSubscriptions?: number;
  /** Valve commands in flight per connection. @defaultValue 16 */
  maxValvesPerConnection?: number;
  /** Concentrators per fleet page when the request gives no `limit`. @defaultValue 100 */
  fleetPageSize?: number;
}

export class ConsoleApi {
  readonly frames: FrameFeed;
  readonly maxValvesPerConnection: number;
  readonly fleetPageSize: number;
  readonly #host: ConsoleHost;
  /** concentrator id → stripped meter address → kind, from the archive (built on first use). */
  #kinds: Map<string, Map<string, string>> | undefined;

  constructor(host: ConsoleHost, options: ConsoleApiOptions = {}) {
    this.#host = host;
    this.frames = new FrameFeed({ maxSubscriptions: options.maxSubscriptions });
    this.maxValvesPerConnection = positive('maxValvesPerConnection', options.maxValvesPerConnection ?? 16);
    this.fleetPageSize = positive('fleetPageSize', options.fleetPageSize ?? 100);
    if (this.fleetPageSize > MAX_FLEET_PAGE) {
      throw new TypeError(`"fleetPageSize" must be at most ${MAX_FLEET_PAGE}, got ${this.fleetPageSize}`);
    }
  }

  /** A session for one client connection; `close()` it when the connection closes. */
  open(peer: ConsolePeer): ConsoleSession {
    return new ConsoleSession(this, peer);
  }

  /** The fleet page a `fleet` request asks for. */
  fleet(offset = 0, limit = this.fleetPageSize): { total: number; concentrators: FleetConcentrator[] } {
    const { archive } = this.#host;
    const sessions = new Map(this.#host.sessions().map((s) => [s.id, s]));
    const ids = archive.data.concentrators.map((c) => c.id);
    const archived = new Set(ids);
    ids.push(...[...sessions.keys()].filter((id) => !archived.has(id)).sort());
    const page = ids.slice(offset, offset + limit).map((id) => {
      const session = sessions.get(id);
      const entry = archive.concentrator(id);
      const out: FleetConcentrator = {
        id,
        ...(entry?.alias === undefined ? {} : { alias: entry.alias }),
        a1: entry?.a1 ?? session!.a1,
        a2: entry?.a2 ?? session!.a2,
        online: session?.state === 'online',
        ...(session === undefined ? {} : { lastHeartbeatAt: new Date(session.lastSeenAt).toISOString() }),
        ports: (entry?.ports ?? []).map(
          (p): FleetPort => ({
            port: p.port,
            meters: p.meters.map((m) => {
              const kind = (m as { kind?: string }).kind ?? defaultMeterKind(m.protocol);
              return { address: m.address, protocol: m.protocol, kind, valve: hasValve(m.protocol, kind) };
            }),
          }),
        ),
      };
      return out;
    });
    return { total: ids.length, concentrators: page };
  }

  /** 9-digit id of an alias or id known to the archive or the sessions. @throws MasterError */
  resolveConcentrator(text: string): string {
    const archived = this.#host.archive.concentrator(text);
    if (archived) return archived.id;
    const parsed = parseConcentratorId(text);
    if (parsed.kind === 'address') {
      const id = formatConcentratorId(parsed.a1, parsed.a2);
      if (this.#host.sessions().some((s) => s.id === id)) return id;
      throw new MasterError(
        'UNKNOWN_CONCENTRATOR',
        `concentrator ${id} has never logged in and is not in the archive`,
      );
    }
    if (parsed.kind === 'alias')
      throw new MasterError('UNKNOWN_CONCENTRATOR', `no concentrator has the alias "${text}"`);
    throw new MasterError('BAD_REQUEST', `concentrator "${text}" ${parsed.problem}`);
  }

  /** Opens or closes the valve of an archived meter; resolves with the state the meter reports. */
  async valve(request: ValveRequest): Promise<ValveStatus> {
    const id = this.resolveConcentrator(request.concentrator);
    const located = this.#host.archive.meter(id, request.meter);
    if (!located) {
      throw new MasterError(
        'UNKNOWN_METER',
        `meter ${request.meter} is not in the archive of concentrator ${id}; a valve command needs its protocol`,
      );
    }
    const kind = this.#kindOf(id, request.meter, located.protocol);
    if (!hasValve(located.protocol, kind)) {
      throw new ConsoleError(
        'NO_VALVE',
        `meter ${request.meter} on concentrator ${id} is a ${protocolName(located.protocol)} ${kind} meter, which has no valve`,
      );
    }
    const address = meterAddressFor(located.protocol, request.meter);
    const what = `meter ${address} on concentrator ${id} port ${located.port}`;
    const reply = await this.#host.forwardToMeter(
      { concentrator: id, port: located.port, serial: located.serial, what },
      buildValveCommand(address, request.action, { kind }),
    );
    const judged = decodeValveReply(address, reply.content, what);
    let valve: ValveState | undefined = judged.valve;
    let batteryLow = judged.batteryLow;
    if (valve === undefined) {
      // The meter took the command without saying the state (KINGDA form): its next reading says it.
      const reading = await this.#host.pointRead({ concentrator: id, meter: request.meter });
      valve = reading.status?.valve;
      batteryLow = reading.status?.batteryLow;
      if (valve === undefined) {
        throw new MasterError(
          'BAD_REPLY',
          `${what} took the valve command but reports no valve state`,
          'NO_STATUS',
        );
      }
    }
    const status: ValveStatus = {
      type: 'valve-status',
      id: request.id,
      concentrator: request.concentrator,
      meter: request.meter,
      valve,
    };
    if (batteryLow !== undefined) status.batteryLow = batteryLow;
    status.latencyMs = Math.max(0, Math.round(reply.latencyMs));
    status.at = new Date(this.#host.clock.now()).toISOString();
    return status;
  }

  #kindOf(concentrator: string, meter: string, protocol: MeterProtocol): string {
    if (!this.#kinds) {
      this.#kinds = new Map();
      for (const c of this.#host.archive.data.concentrators) {
        const kinds = new Map<string, string>();
        for (const p of c.ports) {
          for (const m of p.meters) {
            const kind = (m as { kind?: string }).kind;
            if (kind !== undefined) kinds.set(stripZeros(m.address), kind);
          }
        }
        this.#kinds.set(c.id, kinds);
      }
    }
    return this.#kinds.get(concentrator)?.get(stripZeros(meter)) ?? defaultMeterKind(protocol);
  }
}

/** The console requests of one client connection. */
export class ConsoleSession {
  readonly #api: ConsoleApi;
  readonly #peer: ConsolePeer;
  #valves = 0;
  #open = true;

  constructor(api: ConsoleApi, peer: ConsolePeer) {
    this.#api = api;
    this.#peer = peer;
  }

  /** True while a valve command waits for its meter or a frame-log subscription is open (not idle). */
  get busy(): boolean {
    return this.#valves > 0 || this.#api.frames.owns(this);
  }

  /** Valve commands of this connection waiting for the meter. */
  get valvesInFlight(): number {
    return this.#valves;
  }

  /** Handles one request; every request gets exactly one answer (a subscription, its frames after). */
  handle(request: ConsoleRequest): void {
    if (!this.#open) return;
    switch (request.type) {
      case 'fleet': {
        const { total, concentrators } = this.#api.fleet(request.offset, request.limit);
        const answer: FleetAnswer = {
          type: 'fleet',
          id: request.id,
          total,
          offset: request.offset ?? 0,
          concentrators,
        };
        this.#peer.send(answer);
        return;
      }
      case 'valve':
        this.#valve(request);
        return;
      case 'subscribe':
        this.#subscribe(request);
        return;
      case 'unsubscribe':
        if (this.#api.frames.unsubscribe(this, request.id)) {
          this.#peer.send({ type: 'unsubscribed', id: request.id });
        } else {
          this.#error(
            request.id,
            new ConsoleError(
              'SUBSCRIPTION_CLOSED',
              `no open subscription has the id ${JSON.stringify(request.id)}`,
            ),
          );
        }
        return;
    }
  }

  /** The connection closed: its subscriptions end, answers still to come are dropped. */
  close(): void {
    this.#open = false;
    this.#api.frames.closeOwner(this);
  }

  #valve(request: ValveRequest): void {
    if (this.#valves >= this.#api.maxValvesPerConnection) {
      this.#error(
        request.id,
        new MasterError(
          'BUSY',
          `${this.#valves} valve commands already in flight on this connection; valve of meter ${request.meter} refused`,
        ),
        request,
      );
      return;
    }
    this.#valves++;
    let result: Promise<ValveStatus>;
    try {
      result = this.#api.valve(request);
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      (status) => {
        this.#valves--;
        if (this.#open) this.#peer.send(status);
      },
      (error: unknown) => {
        this.#valves--;
        if (this.#open) this.#error(request.id, error, request);
      },
    );
  }

  #subscribe(request: SubscribeRequest): void {
    let concentrator: string | undefined;
    try {
      if (request.concentrator !== undefined)
        concentrator = this.#api.resolveConcentrator(request.concentrator);
    } catch (error) {
      this.#error(request.id, error);
      return;
    }
    const outcome = this.#api.frames.subscribe(
      this,
      request.id,
      { concentrator, meter: request.meter },
      (event) => this.#open && this.#peer.send(event),
      () =>
        this.#peer.send({
          type: 'error',
          id: request.id,
          code: 'SLOW_SUBSCRIBER',
          message:
            'the frame log went faster than this connection read it; the subscription is closed (subscribe again)',
        }),
    );
    if (outcome === 'subscribed') {
      this.#peer.send({ type: 'subscribed', id: request.id, stream: request.stream });
    } else if (outcome === 'SUBSCRIPTION_EXISTS') {
      this.#error(
        request.id,
        new ConsoleError(outcome, `a subscription with the id ${JSON.stringify(request.id)} is open`),
      );
    } else {
      this.#error(
        request.id,
        new ConsoleError(
          outcome,
          `the master already serves ${this.#api.frames.maxSubscriptions} frame-log subscriptions`,
        ),
      );
    }
  }

  #error(id: string, error: unknown, request?: { concentrator: string; meter: string }): void {
    const coded = error instanceof MasterError || error instanceof ConsoleError;
    const answer: ReadError = {
      type: 'error',
      id,
      code: coded ? error.code : 'BAD_REPLY',
      message: error instanceof Error ? error.message : String(error),
    };
    if (request) {
      answer.concentrator = request.concentrator;
      answer.meter = request.meter;
    }
    // The meter's side of a failure, as a read's error carries it (one reason name per failure).
    if (error instanceof MasterError && error.detail !== undefined) answer.detail = wireDetail(error.detail);
    else if (coded && (error.code === 'METER_TIMEOUT' || error.code === 'BAD_REPLY')) {
      answer.detail = { reason: error.code };
    }
    this.#peer.send(answer);
  }
}

function protocolName(p: MeterProtocol): string {
  return p === 'cjt188' ? 'CJ/T 188' : 'DL/T 645';
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new TypeError(`"${name}" must be a positive integer, got ${value}`);
  return value;
}
