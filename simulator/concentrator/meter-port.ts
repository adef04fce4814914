import { decodeMeterAuto, type MeterFrame } from '../../protocols/auto.ts';
import { FrameAccumulator } from '../../protocols/framer.ts';
import type { BusPort, Rs485Bus } from '../bus/index.ts';
import type { Clock, TimerHandle } from '../clock/index.ts';
import { realClock } from '../clock/index.ts';
import type { Link, SerialSettings } from '../link/index.ts';
import { RequestWindow, RequestWindowError, singleId } from '../window/index.ts';
import { ConcentratorError } from './errors.ts';

/**
 * One RS-485 port of the concentrator: how it reaches its meters, and the one-at-a-time discipline of a
 * half-duplex bus. A forward waits its turn in a bounded queue, goes on the wire, and waits for the meter's
 * reply frame within the forward's frame timeout; silence gives an empty reply, as AFN 10 F1 answers it
 * (docs/gdw376.md §3.4: "content length k … k = 0").
 */

/** How a port's bytes reach the meters: a device on an in-process bus, or a link (pty end, serial device). */
export interface MeterPortTransport {
  /** What the port is wired to, for messages. */
  readonly description: string;
  /** Sends one request; resolves when its last byte has left the wire (bus) or was handed to the device. */
  send(bytes: Uint8Array): Promise<void>;
  /** Sets the one function that hears everything the port receives. */
  onReceive(fn: (bytes: Uint8Array) => void): void;
  /** Lets go of the bus or closes the link. */
  close(): Promise<void>;
}

/**
 * The concentrator as a device on an in-process {@link Rs485Bus}: no pty, no socket, so 10,000 concentrators
 * fit in one process. The bus accounts for wire time and turnaround.
 */
export function busTransport(bus: Rs485Bus, name: string): MeterPortTransport {
  let receiver: (bytes: Uint8Array) => void = () => undefined;
  const port: BusPort = bus.attach({ name, onReceive: (bytes) => receiver(bytes) });
  return {
    description: `bus device "${name}"`,
    send: (bytes) => port.transmit(bytes),
    onReceive: (fn) => {
      receiver = fn;
    },
    close: async () => port.detach(),
  };
}

/** What a link transport says about its device: it went away, or it is back and reopened. */
export type LinkTransportStatus = { kind: 'lost'; reason: string } | { kind: 'back' };

export interface LinkTransportOptions {
  /**
   * When the device goes away while open (a USB adapter unplugged), try to reopen it this often, in ms, until it
   * is back. 0: never (the port stays down). @defaultValue 0
   */
  reopenEveryMs?: number;
  /** Hears when the device goes away and when it is back. */
  onStatus?: (status: LinkTransportStatus) => void;
}

/**
 * A port that reaches its meters over a link: one end of a socat pty pair (simulated meters on the other end)
 * or a real serial device with real meters. The link must be open; `close()` closes it.
 *
 * A device that goes away is the link's loss, not the meters' silence (issue 14 item 16): while it is gone every
 * send fails with `PORT_DOWN` naming the device, which the port turns into a deny instead of an empty reply that
 * a master would read as METER_TIMEOUT; with `reopenEveryMs` the link is reopened when the device is back.
 */
export function linkTransport(link: Link, options: LinkTransportOptions = {}): MeterPortTransport {
  const { reopenEveryMs = 0, onStatus } = options;
  let receiver: (bytes: Uint8Array) => void = () => undefined;
  let closing = false;
  let down: string | undefined;
  let lastError: string | undefined;
  let retry: NodeJS.Timeout | undefined;
  link.on('data', (bytes) => receiver(bytes));
  // A link error ends in 'close' (handled below); it must never throw as an unhandled 'error' event.
  link.on('error', (error) => {
    lastError = error.message;
  });
  const reopen = (): void => {
    retry = undefined;
    if (closing) return;
    link.open().then(
      () => {
        down = undefined;
        lastError = undefined;
        onStatus?.({ kind: 'back' });
      },
      () => {
        if (!closing) retry = setTimeout(reopen, reopenEveryMs).unref();
      },
    );
  };
  link.on('close', () => {
    if (closing) return;
    down = lastError ?? `${link.description} closed`;
    onStatus?.({ kind: 'lost', reason: down });
    if (reopenEveryMs > 0) retry = setTimeout(reopen, reopenEveryMs).unref();
  });
  return {
    description: link.description,
    send: (bytes) => {
      if (down !== undefined) {
        const again = reopenEveryMs > 0 ? '; reopened when it is back' : '';
        return Promise.reject(new ConcentratorError('PORT_DOWN', `${down}${again}`));
      }
      return link.write(bytes);
    },
    onReceive: (fn) => {
      receiver = fn;
    },
    close: () => {
      closing = true;
      if (retry) clearTimeout(retry);
      return link.close();
    },
  };
}

/** What one forward asks of the port (from the AFN 10 F1 request). */
export interface PortForwardOptions {
  /** Serial settings the request asks for; compared with the port's line settings. */
  serial?: SerialSettings;
  /** Frame-wait timeout, ms; 0 or absent means the port's default. */
  frameTimeoutMs?: number;
  /** Byte-wait timeout, ms: how long a partial reply may pause before it is returned as it is. */
  byteTimeoutMs?: number;
}

/**
 * How a forward ended:
 * - `frame`: a whole meter frame came back (the reply is that frame's bytes);
 * - `silence`: nothing at all within the frame timeout (empty reply);
 * - `partial`: bytes came back but no whole frame (a truncated or garbled reply; the bytes are returned as
 *   received, so the master can tell a bad reply from a silent meter);
 * - `serial-mismatch`: the request asked for other line settings than the port runs at; the meters cannot
 *   understand such a request, so the port stays silent (only with `onSerialMismatch: 'silent'`);
 * - `send-failed`: the bytes could not be put on the wire (empty reply).
 */
export type PortForwardOutcome = 'frame' | 'silence' | 'partial' | 'serial-mismatch' | 'send-failed';

/** The result of {@link MeterPort.forward}. */
export interface PortForwardResult {
  /** The meter's reply (empty when silent). */
  reply: Uint8Array;
  outcome: PortForwardOutcome;
  /** Clock time the forward reached the head of the queue. */
  startedAt: number;
  /** Clock time the forward finished. */
  endedAt: number;
  /** The reason, for `send-failed` and `serial-mismatch`. */
  note?: string;
}

/** Options of {@link MeterPort}. */
export interface MeterPortOptions {
  /** Port number as AFN 10 F1 addresses it, 1–31. */
  port: number;
  transport: MeterPortTransport;
  /** Line settings the port runs at. @defaultValue 2400 8E1 */
  serial?: SerialSettings;
  /** @defaultValue realClock */
  clock?: Clock;
  /**
   * Forwards that may wait behind the one on the wire; more reject with `PORT_QUEUE_FULL`.
   * @defaultValue 16
   */
  maxQueued?: number;
  /** Frame timeout when a request gives 0. @defaultValue 2000 */
  defaultFrameTimeoutMs?: number;
  /** Byte timeout when a request gives none (or less than this floor). @defaultValue 50 */
  minByteTimeoutMs?: number;
  /**
   * What a forward asking other line settings does: `'silent'` (the simulated meters would hear garbage and
   * not answer) or `'send'` (send anyway at the port's settings; right for a real device whose settings are
   * fixed by its open).
   * @defaultValue 'silent'
   */
  onSerialMismatch?: 'silent' | 'send';
}

/** How a forward on the wire ended before its frame timeout (a whole frame, a stalled one, or a failed send). */
interface EarlyEnd {
  outcome: PortForwardOutcome;
  reply: Uint8Array;
  note?: string;
}

/** Most reply bytes kept for one forward; a meter frame is far shorter. */
const MAX_REPLY_BYTES = 512;
const DEFAULT_SERIAL: SerialSettings = { baudRate: 2400, dataBits: 8, parity: 'even', stopBits: 1 };

/**
 * One RS-485 port. Forwards run one at a time in arrival order (the bus is half-duplex); forwards to
 * different ports are independent and overlap.
 */
export class MeterPort {
  readonly port: number;
  readonly serial: SerialSettings;
  readonly clock: Clock;
  readonly maxQueued: number;
  readonly defaultFrameTimeoutMs: number;
  readonly minByteTimeoutMs: number;
  readonly onSerialMismatch: 'silent' | 'send';
  readonly #transport: MeterPortTransport;
  /**
   * The bus as a request window with one id (simulator/window): a bounded queue of forwards, one on the wire,
   * the frame timeout counted from the moment the request has left.
   */
  readonly #window: RequestWindow<'only', EarlyEnd>;
  #closed = false;
  /** The timing of the forward that last went on the wire. */
  #onTheWire: { startedAt: number; endedAt?: number } | undefined;
  /** Receives bytes for the forward on the wire; bytes at other times are stray. */
  #receiver: ((bytes: Uint8Array) => void) | undefined;
  /** Bytes heard while no forward waited (late replies, duplicates, noise). */
  strayBytes = 0;

  constructor(options: MeterPortOptions) {
    const { port, transport, maxQueued = 16, defaultFrameTimeoutMs = 2000, minByteTimeoutMs = 50 } = options;
    if (!Number.isInteger(port) || port < 1 || port > 31) {
      throw new TypeError(`"port" must be a concentrator port 1–31, got ${String(port)}`);
    }
    if (!Number.isInteger(maxQueued) || maxQueued < 0) {
      throw new TypeError(`"maxQueued" must be an integer ≥ 0, got ${String(maxQueued)}`);
    }
    if (!(defaultFrameTimeoutMs > 0)) {
      throw new TypeError(`"defaultFrameTimeoutMs" must be > 0, got ${String(defaultFrameTimeoutMs)}`);
    }
    if (!(minByteTimeoutMs >= 0)) {
      throw new TypeError(`"minByteTimeoutMs" must be ≥ 0, got ${String(minByteTimeoutMs)}`);
    }
    this.port = port;
    this.serial = options.serial ?? DEFAULT_SERIAL;
    this.clock = options.clock ?? realClock;
    this.maxQueued = maxQueued;
    this.defaultFrameTimeoutMs = defaultFrameTimeoutMs;
    this.minByteTimeoutMs = minByteTimeoutMs;
    this.onSerialMismatch = options.onSerialMismatch ?? 'silent';
    this.#transport = transport;
    this.#window = new RequestWindow<'only', EarlyEnd>({
      ids: singleId(),
      window: 1,
      maxQueued,
      quarantineMs: 0,
      clock: this.clock,
    });
    transport.onReceive((bytes) => {
      if (this.#receiver) this.#receiver(bytes);
      else this.strayBytes += bytes.length;
    });
  }

  /** What the port is wired to. */
  get description(): string {
    return `port ${this.port} (${this.#transport.description})`;
  }

  /** Forwards waiting behind the one on the wire. */
  get queued(): number {
    return this.#window.queued;
  }

  /** `true` while a forward is on the wire or waiting for its reply. */
  get busy(): boolean {
    return this.#window.inFlight > 0;
  }

  /**
   * Sends `content` to the meters and waits for the reply, after the forwards already queued.
   * @throws ConcentratorError `PORT_QUEUE_FULL` when `maxQueued` forwards already wait, `PORT_CLOSED` after
   *   {@link MeterPort.close}.
   */
  forward(content: Uint8Array, options: PortForwardOptions = {}): Promise<PortForwardResult> {
    if (this.#closed) {
      return Promise.reject(new ConcentratorError('PORT_CLOSED', `${this.description} is closed`));
    }
    const frameTimeoutMs = options.frameTimeoutMs || this.defaultFrameTimeoutMs;
    const asked = options.serial;
    const mismatch =
      asked && !sameSerial(asked, this.serial) && this.onSerialMismatch === 'silent'
        ? `request asks ${serialText(asked)}, the line runs at ${serialText(this.serial)}`
        : undefined;
    const byteTimeoutMs = Math.max(options.byteTimeoutMs ?? 0, this.minByteTimeoutMs);
    // When the forward ended, taken before the window starts the next one (which it does at once).
    const timing: { startedAt: number; endedAt?: number } = { startedAt: this.clock.now() };
    const collector = new ReplyCollector(content, this.clock, byteTimeoutMs, (end) => {
      timing.endedAt = this.clock.now();
      this.#window.settle('only', end);
    });
    const receive = (bytes: Uint8Array) => collector.push(bytes);
    const send = (): Promise<void> | undefined => {
      // The one before has ended (timed out, if nothing ended it earlier): the bus is ours from now.
      if (this.#onTheWire && this.#onTheWire.endedAt === undefined)
        this.#onTheWire.endedAt = this.clock.now();
      this.#onTheWire = timing;
      timing.startedAt = this.clock.now();
      // A request at other line settings would reach the meters as garbage: nothing answers, the port stays
      // silent for the frame timeout.
      if (mismatch !== undefined) return undefined;
      this.#receiver = receive;
      return this.#transport.send(content).catch((error: unknown) => {
        // The device is gone: the forward is denied, naming it, rather than answered as a silent meter.
        if (error instanceof ConcentratorError && error.code === 'PORT_DOWN') throw error;
        const note = error instanceof Error ? error.message : String(error);
        timing.endedAt = this.clock.now();
        this.#window.settle('only', { outcome: 'send-failed', reply: new Uint8Array(0), note });
      });
    };
    return this.#window
      .request(send, { timeoutMs: frameTimeoutMs, timeoutFrom: 'sent' })
      .then(
        ({ reply: end }) => this.#ended(timing, end.outcome, end.reply, end.note),
        (error: unknown) => {
          if (!(error instanceof RequestWindowError)) throw error;
          if (error.code === 'WINDOW_FULL') {
            throw new ConcentratorError(
              'PORT_QUEUE_FULL',
              `${this.description}: ${this.#window.queued} forwards already wait (maxQueued ${this.maxQueued})`,
            );
          }
          if (error.code === 'WINDOW_CLOSED') {
            throw new ConcentratorError('PORT_CLOSED', `${this.description} closed before the forward ended`);
          }
          // The frame timeout: what came back by now (a partial reply, or nothing) is the answer.
          if (mismatch !== undefined)
            return this.#ended(timing, 'serial-mismatch', new Uint8Array(0), mismatch);
          const end = collector.final();
          return this.#ended(timing, end.outcome, end.reply);
        },
      )
      .finally(() => {
        collector.stop();
        if (this.#receiver === receive) this.#receiver = undefined;
      });
  }

  /** Rejects the queued forwards and the one on the wire with `PORT_CLOSED`, and releases the transport. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#window.close();
    await this.#transport.close();
  }

  #ended(
    timing: { startedAt: number; endedAt?: number },
    outcome: PortForwardOutcome,
    reply: Uint8Array,
    note?: string,
  ): PortForwardResult {
    timing.endedAt ??= this.clock.now();
    const result: PortForwardResult = {
      reply,
      outcome,
      startedAt: timing.startedAt,
      endedAt: timing.endedAt,
    };
    if (note !== undefined) result.note = note;
    return result;
  }
}

/**
 * Gathers the bytes of one reply and decides when it is complete: at the first whole frame (not our own echo),
 * or at a pause of `byteTimeoutMs` inside a frame that has begun — then `onEnd` is called once. The frame
 * timeout is the request window's; at it, {@link ReplyCollector.final} says what came back.
 */
class ReplyCollector {
  readonly #request: Uint8Array;
  readonly #clock: Clock;
  readonly #byteTimeoutMs: number;
  readonly #onEnd: (end: EarlyEnd) => void;
  /** Made on the first chunk that is not one whole reply by itself (see {@link ReplyCollector.push}). */
  #frames: FrameAccumulator<MeterFrame> | undefined;
  #received: Uint8Array[] = [];
  #receivedLength = 0;
  #frame: Uint8Array | undefined;
  /** The byte timeout, armed while a partial frame is held. */
  #idle: TimerHandle | undefined;
  #ended = false;

  constructor(request: Uint8Array, clock: Clock, byteTimeoutMs: number, onEnd: (end: EarlyEnd) => void) {
    this.#request = stripPreamble(request);
    this.#clock = clock;
    this.#byteTimeoutMs = byteTimeoutMs;
    this.#onEnd = onEnd;
  }

  push(bytes: Uint8Array): void {
    if (this.#ended || this.#frame) return;
    // Fast path, the common case on a bus (which delivers whole transmissions): nothing held yet and the chunk
    // is exactly one meter frame, not our own echo. The framer would find the same frame; skip its copies.
    if (this.#buffered === 0) {
      const whole = decodeMeterAuto(bytes);
      if (whole.kind === 'frame' && whole.consumed === bytes.length && !this.#isEcho(bytes)) {
        this.#frame = Uint8Array.from(bytes);
        this.#end({ outcome: 'frame', reply: this.#frame });
        return;
      }
    }
    if (this.#receivedLength < MAX_REPLY_BYTES) {
      const part = bytes.subarray(0, MAX_REPLY_BYTES - this.#receivedLength);
      this.#received.push(part.slice());
      this.#receivedLength += part.length;
    }
    this.#frames ??= new FrameAccumulator<MeterFrame>(decodeMeterAuto, { maxBufferedBytes: MAX_REPLY_BYTES });
    for (const event of this.#frames.push(bytes)) {
      if (event.kind === 'frame' && !this.#isEcho(event.raw)) {
        this.#frame = event.raw;
        this.#end({ outcome: 'frame', reply: this.#frame });
        return;
      }
    }
    if (this.#idle) this.#clock.clearTimeout(this.#idle);
    // Only a frame that has begun and stalled ends the wait early; junk alone does not.
    this.#idle =
      this.#buffered > 0
        ? this.#clock.setTimeout(
            () => this.#end({ outcome: 'partial', reply: this.#all() }),
            this.#byteTimeoutMs,
          )
        : undefined;
  }

  /** What came back by the frame timeout: the bytes as received (partial), or nothing (silence). */
  final(): EarlyEnd {
    if (this.#frame) return { outcome: 'frame', reply: this.#frame };
    if (this.#receivedLength > 0) return { outcome: 'partial', reply: this.#all() };
    return { outcome: 'silence', reply: new Uint8Array(0) };
  }

  /** The forward is over: no timer left behind. */
  stop(): void {
    this.#ended = true;
    if (this.#idle) this.#clock.clearTimeout(this.#idle);
    this.#idle = undefined;
  }

  #end(end: EarlyEnd): void {
    if (this.#ended) return;
    this.stop();
    this.#onEnd(end);
  }

  /** Bytes the framer holds (a partial frame or undecided junk). */
  get #buffered(): number {
    return this.#frames?.buffered ?? 0;
  }

  /** An adapter echo of our own request is not the meter's reply. */
  #isEcho(frame: Uint8Array): boolean {
    return sameBytes(stripPreamble(frame), this.#request);
  }

  #all(): Uint8Array {
    const out = new Uint8Array(this.#receivedLength);
    let at = 0;
    for (const part of this.#received) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

function stripPreamble(bytes: Uint8Array): Uint8Array {
  let at = 0;
  while (at < bytes.length && bytes[at] === 0xfe) at++;
  return bytes.subarray(at);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameSerial(a: SerialSettings, b: SerialSettings): boolean {
  return (
    a.baudRate === b.baudRate &&
    a.dataBits === b.dataBits &&
    a.parity === b.parity &&
    a.stopBits === b.stopBits
  );
}

function serialText(s: SerialSettings): string {
  return `${s.baudRate} ${s.dataBits}${s.parity[0].toUpperCase()}${s.stopBits}`;
}
