import { EventEmitter } from 'node:events';
import type { Clock } from '../clock/clock.ts';
import { realClock } from '../clock/real-clock.ts';
import { LinkError } from '../link/errors.ts';
import type { Link } from '../link/link.ts';
import {
  DEFAULT_METER_SERIAL,
  type SerialSettings,
  validateSerialSettings,
  wireTimeMs,
} from '../link/serial-settings.ts';
import { SeededRandom } from '../random.ts';

/** Something on the bus that listens: a meter, a concentrator port, a bridge to a real link. */
export interface BusDevice {
  /** Unique on the bus; used in events and messages. */
  readonly name: string;
  /**
   * Called with each transmission of another device once its last byte has left the wire, at clock time
   * `at` (the transmission's end). Bytes are whole transmissions (a bridge delivers the chunks its link
   * received), so devices run a streaming framer over them. Called synchronously from the clock's timer:
   * reply via {@link BusPort.reply} rather than blocking.
   */
  onReceive(bytes: Uint8Array, at: number): void;
}

/** One transmission, as reported by the bus's `'start'` and `'transmission'` events. */
export interface Transmission {
  /** Name of the sending device. */
  readonly from: string;
  /** The bytes as sent. */
  readonly bytes: Uint8Array;
  /** Clock time the first bit went on the wire. */
  readonly start: number;
  /** Clock time the last bit left the wire: `start + wireTimeMs(bytes.length)`. */
  readonly end: number;
  /** `true` once another transmission has overlapped this one. */
  readonly collided: boolean;
  /** What listeners heard (set when the transmission ends): `bytes`, with overlapped bytes corrupted. */
  readonly received?: Uint8Array;
}

/** Reported when a transmission starts while another is on the wire. */
export interface Collision {
  /** Clock time the overlap began. */
  readonly at: number;
  /** Names of the devices talking at once. */
  readonly parties: readonly string[];
  /** The transmissions involved (each is now `collided`). */
  readonly transmissions: readonly Transmission[];
}

/** Events of {@link Rs485Bus}. */
export interface BusEvents {
  /** A transmission began (bytes as sent). */
  start: [transmission: Transmission];
  /** A transmission ended and was delivered (with `received`). */
  transmission: [transmission: Transmission];
  /** Two or more devices talked at once. */
  collision: [collision: Collision];
  /** A bridge could not write to or read from its link. */
  error: [error: LinkError];
}

/** Options for {@link Rs485Bus}. */
export interface Rs485BusOptions {
  /**
   * The clock all bus timing runs on.
   * @defaultValue realClock
   */
  clock?: Clock;
  /**
   * Line settings of the segment; decide the wire time of every transmission.
   * @defaultValue {@link DEFAULT_METER_SERIAL} (2400 8E1, 11 bits per byte)
   */
  settings?: Partial<SerialSettings>;
  /**
   * Pause between the end of a request and the start of a reply made with {@link BusPort.reply}.
   * DL/T 645-2007 asks a meter to wait at least 20 ms (and answer within 500 ms) so that the master's
   * transceiver has turned around to receive.
   * @defaultValue 20
   */
  turnaroundMs?: number;
  /**
   * Seed of the noise that corrupts collided bytes, so a collision garbles the same way every run.
   * @defaultValue 1
   */
  seed?: number | string;
  /**
   * Most devices (bridges included) the segment takes. RS-485 specifies 32 unit loads; 1/8-load
   * transceivers allow 256.
   * @defaultValue 256
   */
  maxDevices?: number;
  /**
   * Longest single transmission in bytes; longer ones reject with `FRAME_TOO_LONG`.
   * @defaultValue 65536
   */
  maxTransmissionBytes?: number;
  /**
   * Transmissions one device may have queued behind the one on the wire; more reject with `QUEUE_FULL`.
   * @defaultValue 64
   */
  maxQueuedTransmissions?: number;
}

interface Job {
  readonly bytes: Uint8Array;
  /** Start time given by a physical-wire bridge (bytes that already crossed the wire); else now. */
  readonly startAt?: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

interface Active {
  readonly port: BusPort;
  readonly bytes: Uint8Array;
  readonly start: number;
  readonly end: number;
  /** Time ranges in which another transmission overlapped this one. */
  readonly overlaps: [number, number][];
  readonly record: { -readonly [K in keyof Transmission]: Transmission[K] };
}

/**
 * A device's connection to the bus, returned by {@link Rs485Bus.attach}. A device transmits one thing at a
 * time, like a UART: transmissions made while one is on the wire queue behind it.
 */
export class BusPort {
  readonly name: string;
  readonly #bus: Rs485Bus;
  /** @internal */
  readonly device: BusDevice;
  #queue: Job[] = [];
  #sending = false;
  #attached = true;

  /** @internal Use {@link Rs485Bus.attach}. */
  constructor(bus: Rs485Bus, device: BusDevice) {
    this.#bus = bus;
    this.device = device;
    this.name = device.name;
  }

  /** `false` after {@link BusPort.detach}. */
  get attached(): boolean {
    return this.#attached;
  }

  /**
   * Puts bytes on the wire now (or after this device's earlier transmissions). Resolves when the last byte
   * has left the wire, `wireTimeMs(bytes.length)` after it started. Every other attached device hears it
   * then, corrupted if another transmission overlapped it.
   * @throws LinkError `FRAME_TOO_LONG`, `QUEUE_FULL`, or `LINK_CLOSED` when detached.
   */
  transmit(bytes: Uint8Array): Promise<void> {
    return this.#enqueue(bytes, undefined);
  }

  /**
   * Waits the bus's turnaround (or `turnaroundMs`), then transmits: how a meter answers a request from
   * inside `onReceive`. Resolves when the reply's last byte has left the wire.
   */
  reply(bytes: Uint8Array, turnaroundMs: number = this.#bus.turnaroundMs): Promise<void> {
    if (typeof turnaroundMs !== 'number' || !Number.isFinite(turnaroundMs) || turnaroundMs < 0) {
      return Promise.reject(
        new TypeError(`"turnaroundMs" must be a number >= 0, got ${String(turnaroundMs)}`),
      );
    }
    const refused = this.#check(bytes);
    if (refused) return Promise.reject(refused);
    // Copied now: what the device does with its buffer during the turnaround does not change the reply.
    const copy = Uint8Array.from(bytes);
    return new Promise((resolve, reject) => {
      // A timer callback, not `await sleep()`: the reply starts exactly at the turnaround's end even when a
      // test advances the virtual clock synchronously.
      this.#bus.clock.setTimeout(() => {
        this.#enqueueOwned(copy, undefined).then(resolve, reject);
      }, turnaroundMs);
    });
  }

  /** Leaves the bus. What is on the wire finishes; queued transmissions reject with `LINK_CLOSED`. */
  detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.#bus._detach(this);
    const queued = this.#queue.splice(0);
    for (const job of queued) {
      job.reject(new LinkError('LINK_CLOSED', `${this.name} left the bus before transmitting`));
    }
  }

  /** @internal Bytes that already crossed a physical wire: they occupied it until `end` (now). */
  _transmitEndedNow(bytes: Uint8Array): Promise<void> {
    const now = this.#bus.clock.now();
    return this.#enqueue(bytes, now - wireTimeMs(bytes.length, this.#bus.settings));
  }

  /** Why `bytes` cannot be transmitted now, or undefined when they can. */
  #check(bytes: Uint8Array): Error | undefined {
    if (!(bytes instanceof Uint8Array)) return new TypeError('"bytes" must be a Uint8Array');
    if (!this.#attached) return new LinkError('LINK_CLOSED', `${this.name} is not attached to the bus`);
    if (bytes.length > this.#bus.maxTransmissionBytes) {
      return new LinkError(
        'FRAME_TOO_LONG',
        `${this.name}: ${bytes.length} bytes exceed maxTransmissionBytes (${this.#bus.maxTransmissionBytes})`,
      );
    }
    return undefined;
  }

  #enqueue(bytes: Uint8Array, startAt: number | undefined): Promise<void> {
    const refused = this.#check(bytes);
    if (refused) return Promise.reject(refused);
    return this.#enqueueOwned(Uint8Array.from(bytes), startAt);
  }

  /** {@link BusPort.#enqueue} for bytes the bus already holds its own copy of. */
  #enqueueOwned(copy: Uint8Array, startAt: number | undefined): Promise<void> {
    const refused = this.#check(copy);
    if (refused) return Promise.reject(refused);
    if (copy.length === 0) return Promise.resolve();
    if (this.#queue.length >= this.#bus.maxQueuedTransmissions) {
      return Promise.reject(
        new LinkError(
          'QUEUE_FULL',
          `${this.name}: ${this.#queue.length} transmissions already queued (maxQueuedTransmissions)`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ bytes: copy, startAt, resolve, reject });
      this.#next();
    });
  }

  #next(): void {
    if (this.#sending) return;
    const job = this.#queue.shift();
    if (!job) return;
    this.#sending = true;
    this.#bus._start(this, job.bytes, job.startAt, () => {
      this.#sending = false;
      job.resolve();
      this.#next();
    });
  }
}

/** Options for {@link Rs485Bus.bridge}. */
export interface BusBridgeOptions {
  /**
   * The bridge's device name on the bus.
   * @defaultValue `upstream <link.description>`
   */
  name?: string;
  /**
   * Who accounts for wire time at the link. `'simulated'`: the link has none of its own (pty pair, memory,
   * TCP), so bytes from the link occupy the bus for their wire time before devices hear them, and device
   * transmissions go to the link once they have crossed the bus. `'physical'`: the link is a real RS-485
   * adapter whose wire already took the time, so bytes from the link are taken as having just ended, and
   * device transmissions are written to the link as they start.
   * @defaultValue 'simulated'
   */
  wire?: 'simulated' | 'physical';
}

/** A bridge between the bus and a link, from {@link Rs485Bus.bridge}. */
export interface BusBridge {
  /** The bridge's port on the bus. */
  readonly port: BusPort;
  /** Unhooks the link and leaves the bus (the link stays open). */
  detach(): void;
}

/**
 * A half-duplex multi-drop RS-485 segment on a clock.
 *
 * - A transmission occupies the wire for `bytes × bitsPerChar / baud` from the moment it starts; every
 *   other attached device hears it as a whole when its last byte has left the wire (a device that is not
 *   talking hears everything, as an enabled RS-485 receiver does). The sender does not hear itself.
 * - Two transmissions that overlap in time collide: both are marked, a `'collision'` is emitted, and the
 *   bytes of each that were on the wire during the overlap reach listeners XOR-ed with non-zero seeded noise
 *   (so every overlapped byte differs from what was sent; bytes outside the overlap arrive intact, as a UART
 *   would receive them). All listeners hear the same garbage.
 * - {@link BusPort.reply} waits `turnaroundMs` before transmitting.
 * - {@link Rs485Bus.bridge} connects a link as the upstream side (a master on the other end of a pty pair,
 *   or a real adapter): bytes from the link are delivered to devices in the chunks they arrived in.
 */
export class Rs485Bus extends EventEmitter<BusEvents> {
  readonly clock: Clock;
  readonly settings: SerialSettings;
  readonly maxDevices: number;
  readonly maxTransmissionBytes: number;
  readonly maxQueuedTransmissions: number;
  #turnaroundMs: number;
  readonly #random: SeededRandom;
  readonly #ports = new Map<string, BusPort>();
  /**
   * The attached ports as an array, made again only after an attach or detach: every transmission is
   * delivered to this snapshot (a device detached while one is being delivered still hears it).
   */
  #listeners: readonly BusPort[] | undefined;
  readonly #active = new Set<Active>();
  #transmissions = 0;
  #collisions = 0;

  constructor(options: Rs485BusOptions = {}) {
    super();
    const {
      clock = realClock,
      turnaroundMs = 20,
      seed = 1,
      maxDevices = 256,
      maxTransmissionBytes = 65_536,
      maxQueuedTransmissions = 64,
    } = options;
    if (typeof clock !== 'object' || clock === null || typeof clock.setTimeout !== 'function') {
      throw new TypeError('"clock" must be a Clock');
    }
    this.settings = validateSerialSettings(options.settings, 'settings', DEFAULT_METER_SERIAL);
    this.#turnaroundMs = checkTurnaround(turnaroundMs);
    if (typeof seed !== 'number' && typeof seed !== 'string') {
      throw new TypeError('"seed" must be a number or a string');
    }
    for (const [name, value] of Object.entries({
      maxDevices,
      maxTransmissionBytes,
      maxQueuedTransmissions,
    })) {
      if (!Number.isInteger(value) || value < 1) {
        throw new TypeError(`"${name}" must be a positive integer, got ${String(value)}`);
      }
    }
    this.clock = clock;
    this.maxDevices = maxDevices;
    this.maxTransmissionBytes = maxTransmissionBytes;
    this.maxQueuedTransmissions = maxQueuedTransmissions;
    this.#random = new SeededRandom(seed);
  }

  /** Pause before {@link BusPort.reply} transmits, in ms. */
  get turnaroundMs(): number {
    return this.#turnaroundMs;
  }

  set turnaroundMs(ms: number) {
    this.#turnaroundMs = checkTurnaround(ms);
  }

  /** `true` while anything is on the wire. */
  get busy(): boolean {
    return this.#active.size > 0;
  }

  /** Names of the attached devices, in attach order. */
  get devices(): string[] {
    return [...this.#ports.keys()];
  }

  /** Counters since the bus was made. */
  get stats(): { transmissions: number; collisions: number } {
    return { transmissions: this.#transmissions, collisions: this.#collisions };
  }

  /** Wire time of `bytes` bytes on this bus, in ms. */
  wireTimeMs(bytes: number): number {
    return wireTimeMs(bytes, this.settings);
  }

  /**
   * Connects a device to the bus.
   * @throws TypeError for a device without a name or `onReceive`, or a name already on the bus.
   * @throws LinkError `BUS_FULL` beyond `maxDevices`.
   */
  attach(device: BusDevice): BusPort {
    if (typeof device !== 'object' || device === null || typeof device.onReceive !== 'function') {
      throw new TypeError('"device" must have an onReceive(bytes, at) method');
    }
    if (typeof device.name !== 'string' || device.name.length === 0) {
      throw new TypeError('"device.name" must be a non-empty string');
    }
    if (this.#ports.has(device.name)) {
      throw new TypeError(`"device.name": a device named "${device.name}" is already on the bus`);
    }
    if (this.#ports.size >= this.maxDevices) {
      throw new LinkError(
        'BUS_FULL',
        `cannot attach "${device.name}": the bus has maxDevices (${this.maxDevices})`,
      );
    }
    const port = new BusPort(this, device);
    this.#ports.set(device.name, port);
    this.#listeners = undefined;
    return port;
  }

  /**
   * Makes a link the bus's upstream side: bytes arriving from the link are transmissions of the bridge
   * device (delivered to devices in the chunks they arrived in), and what devices transmit is written to the
   * link. The link should be open; the bridge does not open or close it.
   */
  bridge(link: Link, options: BusBridgeOptions = {}): BusBridge {
    const { name = `upstream ${link.description}`, wire = 'simulated' } = options;
    if (wire !== 'simulated' && wire !== 'physical') {
      throw new TypeError(`"wire" must be 'simulated' or 'physical', got ${String(wire)}`);
    }
    const report = (error: unknown) => {
      const linkError =
        error instanceof LinkError
          ? error
          : new LinkError('LINK_WRITE_FAILED', `bridge ${name}: ${String(error)}`, { cause: error });
      this.emit('error', linkError);
    };
    const forward = (bytes: Uint8Array) => {
      if (link.isOpen) link.write(bytes).catch(report);
    };
    const port = this.attach({
      name,
      onReceive: (bytes) => {
        if (wire === 'simulated') forward(bytes);
      },
    });
    const onStart = (t: Transmission) => {
      if (wire === 'physical' && t.from !== name) forward(t.bytes);
    };
    const onData = (bytes: Uint8Array) => {
      const sent = wire === 'simulated' ? port.transmit(bytes) : port._transmitEndedNow(bytes);
      sent.catch(report);
    };
    link.on('data', onData);
    this.on('start', onStart);
    return {
      port,
      detach: () => {
        link.off('data', onData);
        this.off('start', onStart);
        port.detach();
      },
    };
  }

  /** @internal */
  _detach(port: BusPort): void {
    if (this.#ports.get(port.name) === port) {
      this.#ports.delete(port.name);
      this.#listeners = undefined;
    }
  }

  /** @internal Puts a transmission on the wire; `done` runs when its last byte has left. */
  _start(port: BusPort, bytes: Uint8Array, startAt: number | undefined, done: () => void): void {
    const now = this.clock.now();
    const start = startAt ?? now;
    const end = start + wireTimeMs(bytes.length, this.settings);
    const record = { from: port.name, bytes, start, end, collided: false } as Active['record'];
    const tx: Active = { port, bytes, start, end, overlaps: [], record };
    const others: Active[] = [];
    for (const a of this.#active) if (a.port !== port && a.start < end && start < a.end) others.push(a);
    this.#active.add(tx);
    this.#transmissions++;
    this.emit('start', record);
    if (others.length > 0) {
      for (const other of others) {
        const from = Math.max(start, other.start);
        const to = Math.min(end, other.end);
        tx.overlaps.push([from, to]);
        other.overlaps.push([from, to]);
        tx.record.collided = true;
        other.record.collided = true;
      }
      this.#collisions++;
      this.emit('collision', {
        at: Math.max(start, ...others.map((o) => o.start)),
        parties: [port.name, ...others.map((o) => o.port.name)],
        transmissions: [record, ...others.map((o) => o.record)],
      });
    }
    this.clock.setTimeout(() => this.#finish(tx, done), end - now);
  }

  #finish(tx: Active, done: () => void): void {
    this.#active.delete(tx);
    const received = tx.record.collided ? this.#corrupt(tx) : tx.bytes;
    tx.record.received = received;
    let failure: unknown;
    this.#listeners ??= [...this.#ports.values()];
    for (const port of this.#listeners) {
      if (port === tx.port) continue;
      try {
        // Each listener gets its own copy: a device that mutates its buffer must not garble the others'.
        port.device.onReceive(received.slice(), tx.end);
      } catch (error) {
        failure ??= error;
      }
    }
    this.emit('transmission', tx.record);
    done();
    // A device that throws has a bug; let it surface (from the clock's timer) after everyone was served.
    if (failure !== undefined) throw failure;
  }

  /** XORs every byte that was on the wire during an overlap with non-zero noise. */
  #corrupt(tx: Active): Uint8Array {
    const out = Uint8Array.from(tx.bytes);
    const charMs = wireTimeMs(1, this.settings);
    for (let i = 0; i < out.length; i++) {
      const from = tx.start + i * charMs;
      const to = from + charMs;
      if (tx.overlaps.some(([s, e]) => s < to && e > from)) out[i] ^= this.#random.int(1, 255);
    }
    return out;
  }
}

function checkTurnaround(ms: number): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new TypeError(`"turnaroundMs" must be a number >= 0, got ${String(ms)}`);
  }
  return ms;
}
