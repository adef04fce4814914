import { EventEmitter } from 'node:events';
import { Rs485Bus } from '../bus/index.ts';
import { type Clock, realClock } from '../clock/index.ts';
import {
  busTransport,
  Concentrator,
  type ConcentratorOptions,
  type LinkTransportStatus,
  linkTransport,
  MeterPort,
} from '../concentrator/index.ts';
import { createLink, createPtyPair, type PtyPair, type SerialSettings } from '../link/index.ts';
import { ConsumptionModel, createMeter, MeterHost, MeterOnBus } from '../meter/index.ts';
import type { ConcentratorSpec, PortSpec, Scenario } from '../scenario/index.ts';
import { MeterGroup } from './meter-group.ts';

/**
 * A whole simulated fleet from a {@link Scenario}: concentrators, their RS-485 ports, the buses and simulated
 * meters behind them, and a socat pty pair for every `pty` port. `start()` connects every concentrator to its
 * master; `stop()` logs them out and releases every socket, pty and process.
 *
 * Memory is what limits a fleet, so a `memory` port costs a bus object and no pty; every meter reads from one
 * shared {@link ConsumptionModel}; and in large fleets a port's meters are one {@link MeterGroup} device whose
 * meter objects are made on first use.
 */

/** How simulated meters sit on a memory port's bus. */
export type MeterDevices = 'per-meter' | 'shared' | 'auto';

export interface FleetOptions {
  scenario: Scenario;
  /** @defaultValue realClock */
  clock?: Clock;
  /**
   * `'per-meter'`: one bus device per meter (collisions between meters are real); `'shared'`: one
   * {@link MeterGroup} per port, meters made on first use; `'auto'`: per-meter up to 20,000 meters.
   * @defaultValue 'auto'
   */
  meterDevices?: MeterDevices;
  /**
   * Spread the concentrators' first connections over this many ms, so that 10,000 of them do not hit the
   * master's accept queue in the same instant. @defaultValue 0.5 ms per concentrator beyond 100
   */
  startSpreadMs?: number;
  /** Upstream options for every concentrator (confirm timeout, back-off …). */
  session?: ConcentratorOptions['session'];
  /** Zone of every meter's clock, minutes east of UTC (meter times carry no zone). @defaultValue 480 (UTC+8) */
  meterUtcOffsetMinutes?: number;
  /** Receives one line per notable event (online, offline, reconnect back-off). @defaultValue none */
  log?: (line: string) => void;
}

/** Counters for the live status line. */
export interface FleetStatus {
  concentrators: number;
  online: number;
  meters: number;
  /** Logins confirmed since start. */
  logins: number;
  /** Times a concentrator went offline. */
  offline: number;
  /** AFN 10 F1 forwards answered (denied ones included). */
  forwards: number;
  /** Forwards answered empty (silent meter). */
  silent: number;
  /** Requests denied (AFN 00 F2). */
  denied: number;
  /** Byte runs from masters that were no frame. */
  dropped: number;
  /** Poll reads that failed. */
  pollFaults: number;
  ptys: number;
}

export interface FleetEvents {
  online: [concentrator: Concentrator];
  offline: [concentrator: Concentrator, reason: string];
  /**
   * A port's serial device went away (`lost`, with the link's reason) or came back and was reopened (`back`).
   * Forwards to the port are denied while it is gone (issue 14 item 16).
   */
  'port-status': [event: PortStatusEvent];
}

/** A port's device lost or back: which concentrator and port, the device, and what happened. */
export interface PortStatusEvent {
  concentrator: string;
  port: number;
  device: string;
  status: LinkTransportStatus;
}

/** How often a port whose device went away tries to reopen it. */
const REOPEN_EVERY_MS = 500;

const PER_METER_LIMIT = 20_000;

/**
 * Events a fleet's meter keeps in its log: none. Nothing reads a fleet meter's log, and kept it cost ~670 bytes
 * per event, 1,000 events per meter — 670 kB per meter once read a few hundred times, gigabytes for a fleet of
 * thousands. The meters then skip building their events altogether (~8 µs per read); a listener
 * (`events.subscribe`) still makes them build and hear every one.
 */
const FLEET_METER_EVENTS = 0;

export class Fleet extends EventEmitter<FleetEvents> {
  readonly scenario: Scenario;
  readonly clock: Clock;
  readonly model: ConsumptionModel;
  readonly concentrators: Concentrator[] = [];
  readonly #options: FleetOptions;
  readonly #ptys: PtyPair[] = [];
  readonly #hosts: MeterHost[] = [];
  readonly #status: FleetStatus;
  #built = false;
  #started = false;
  #stopped = false;
  #startTimers: ReturnType<typeof setTimeout>[] = [];

  constructor(options: FleetOptions) {
    super();
    this.#options = options;
    this.scenario = options.scenario;
    this.clock = options.clock ?? realClock;
    this.model = new ConsumptionModel({
      seed: this.scenario.seed,
      utcOffsetMinutes: options.meterUtcOffsetMinutes ?? 480,
    });
    let meters = 0;
    for (const c of this.scenario.concentrators) for (const p of c.ports) meters += p.meters.length;
    this.#status = {
      concentrators: this.scenario.concentrators.length,
      online: 0,
      meters,
      logins: 0,
      offline: 0,
      forwards: 0,
      silent: 0,
      denied: 0,
      dropped: 0,
      pollFaults: 0,
      ptys: 0,
    };
  }

  /** A snapshot of the counters. */
  status(): FleetStatus {
    return { ...this.#status, ptys: this.#ptys.length };
  }

  /** The concentrator with this id (9 digits) or alias. */
  concentrator(idOrAlias: string): Concentrator | undefined {
    return this.concentrators.find((c) => c.spec.id === idOrAlias || c.spec.alias === idOrAlias);
  }

  /**
   * Builds everything (pty pairs included) and starts every concentrator, spread over `startSpreadMs`.
   * Resolves once every concentrator has been started (not once they are online: see the `'online'` events).
   * On a failure while building, whatever was made is released before the error is thrown.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.build();
    const n = this.concentrators.length;
    const spread = this.#options.startSpreadMs ?? Math.max(0, n - 100) * 0.5;
    const started: Promise<void>[] = [];
    this.concentrators.forEach((c, i) => {
      const delay = n > 1 ? (spread * i) / (n - 1) : 0;
      started.push(
        new Promise<void>((resolve, reject) => {
          const go = () => {
            if (this.#stopped) return resolve();
            c.start().then(resolve, reject);
          };
          if (delay < 1) go();
          else this.#startTimers.push(setTimeout(go, delay));
        }),
      );
    });
    await Promise.all(started);
  }

  /**
   * Builds every concentrator, port, bus, meter device and pty pair without connecting anything; `start()` calls
   * it. On a failure, whatever was made is released before the error is thrown.
   */
  async build(): Promise<void> {
    if (this.#built) return;
    this.#built = true;
    try {
      for (const spec of this.scenario.concentrators) this.concentrators.push(await this.#build(spec));
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Logs out and closes every concentrator, port, link, meter host and pty pair. Harmless twice. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#startTimers) clearTimeout(t);
    await Promise.all(this.concentrators.map((c) => c.stop().catch(() => undefined)));
    await Promise.all(this.#hosts.map((h) => h.close().catch(() => undefined)));
    await Promise.all(this.#ptys.map((p) => p.close().catch(() => undefined)));
  }

  async #build(spec: ConcentratorSpec): Promise<Concentrator> {
    const ports: MeterPort[] = [];
    for (const portSpec of spec.ports) ports.push(await this.#buildPort(spec, portSpec));
    const c = new Concentrator({
      spec,
      ports,
      clock: this.clock,
      seed: this.scenario.seed,
      session: this.#options.session,
    });
    const s = this.#status;
    const log = this.#options.log;
    c.on('online', () => {
      s.online++;
      s.logins++;
      log?.(`${spec.id} online`);
      this.emit('online', c);
    });
    c.on('offline', (reason) => {
      s.online--;
      s.offline++;
      log?.(`${spec.id} offline: ${reason}`);
      this.emit('offline', c, reason);
    });
    c.on('backoff', (b) =>
      log?.(`${spec.id} reconnect #${b.attempt} in ${Math.round(b.delayMs)} ms (${b.reason})`),
    );
    c.on('forward', (r) => {
      s.forwards++;
      if (r.outcome === 'silence') s.silent++;
    });
    c.on('denied', () => s.denied++);
    c.on('dropped', () => s.dropped++);
    c.on('poll', (round) => {
      s.pollFaults += round.failed;
    });
    c.on('error', (error) => log?.(`${spec.id} error: ${error.message}`));
    return c;
  }

  async #buildPort(c: ConcentratorSpec, p: PortSpec): Promise<MeterPort> {
    const serial = p.serial as SerialSettings;
    const name = `${c.id} port ${p.port}`;
    if (p.link.kind === 'memory') {
      const bus = new Rs485Bus({
        clock: this.clock,
        // Without wire timing the line is as fast as memory: a huge baud rate makes wire time negligible.
        settings: p.wireTiming ? serial : { ...serial, baudRate: 1e9 },
        turnaroundMs: p.turnaroundMs,
        seed: `${this.scenario.seed}:${name}`,
      });
      bus.on('error', () => undefined);
      const total = this.#status.meters;
      const mode = this.#options.meterDevices ?? 'auto';
      if (mode === 'per-meter' || (mode === 'auto' && total <= PER_METER_LIMIT)) {
        for (const m of p.meters) new MeterOnBus(this.#meter(m), bus);
      } else {
        new MeterGroup(bus, p.meters, { model: this.model, seed: this.scenario.seed });
      }
      return new MeterPort({
        port: p.port,
        serial,
        clock: this.clock,
        transport: busTransport(bus, 'concentrator'),
      });
    }
    if (p.link.kind === 'pty') {
      const pair = await createPtyPair();
      this.#ptys.push(pair);
      const meterEnd = createLink({
        kind: 'serial',
        path: pair.paths[1],
        settings: serial,
        clock: this.clock,
      });
      this.#hosts.push(
        await MeterHost.start({
          link: meterEnd,
          meters: p.meters.map((m) => this.#meter(m)),
          clock: this.clock,
          turnaroundMs: p.turnaroundMs,
          seed: `${this.scenario.seed}:${name}`,
        }),
      );
      const concentratorEnd = createLink({
        kind: 'serial',
        path: pair.paths[0],
        settings: serial,
        clock: this.clock,
      });
      await concentratorEnd.open();
      return new MeterPort({
        port: p.port,
        serial,
        clock: this.clock,
        transport: linkTransport(concentratorEnd),
      });
    }
    const link = createLink({
      kind: 'serial',
      path: p.link.path,
      settings: serial,
      echoDiscard: p.link.echoDiscard,
      rtsDirection: p.link.rts,
      clock: this.clock,
    });
    await link.open();
    return new MeterPort({
      port: p.port,
      serial,
      clock: this.clock,
      transport: linkTransport(link, {
        reopenEveryMs: REOPEN_EVERY_MS,
        onStatus: (status) =>
          this.emit('port-status', { concentrator: c.id, port: p.port, device: link.description, status }),
      }),
      onSerialMismatch: 'send',
    });
  }

  #meter(spec: PortSpec['meters'][number]) {
    return createMeter(spec, {
      model: this.model,
      clock: this.clock,
      seed: this.scenario.seed,
      maxEvents: FLEET_METER_EVENTS,
    });
  }
}
