import { bytesToHex } from '../../protocols/bytes.ts';
import { FrameAccumulator, type FramerEvent } from '../../protocols/framer.ts';
import type { BusPort, Rs485Bus } from '../bus/rs485-bus.ts';
import { LinkError } from '../link/errors.ts';
import type { SimulatedMeter } from './create-meter.ts';
import type { MeterEvent } from './events.ts';

/** Options of {@link MeterOnBus}. */
export interface MeterOnBusOptions {
  /** Device name on the bus. @defaultValue `meter <address>` */
  name?: string;
  /**
   * A silence on the bus longer than this ends whatever partial frame the meter was holding (as a UART
   * receiver's frame timer does), so a reply some other meter cut short cannot swallow the next request.
   * @defaultValue 100
   */
  idleResetMs?: number;
  /** Called when a planned transmission fails (the bus refused it). @defaultValue emits on the bus as 'error' */
  onError?: (error: LinkError) => void;
}

/**
 * A simulated meter attached to an {@link Rs485Bus}: it runs a streaming framer of its protocol over what it
 * hears, asks the meter to respond to each whole frame at the bus time the frame ended, and transmits the
 * planned replies after the bus turnaround plus each transmission's delay. Bytes that form no frame are logged
 * in the meter's event log as 'dropped'.
 */
export class MeterOnBus {
  readonly meter: SimulatedMeter;
  readonly bus: Rs485Bus;
  readonly port: BusPort;
  readonly idleResetMs: number;
  readonly #accumulator: FrameAccumulator<unknown>;
  readonly #onError: (error: LinkError) => void;
  #lastEnd = Number.NEGATIVE_INFINITY;

  /** @throws TypeError for a bad option or a name already on the bus; LinkError BUS_FULL. */
  constructor(meter: SimulatedMeter, bus: Rs485Bus, options: MeterOnBusOptions = {}) {
    const { idleResetMs = 100 } = options;
    if (typeof idleResetMs !== 'number' || !(idleResetMs >= 0)) {
      throw new TypeError(`"idleResetMs" must be a number >= 0, got ${String(idleResetMs)}`);
    }
    this.meter = meter;
    this.bus = bus;
    this.idleResetMs = idleResetMs;
    this.#onError =
      options.onError ??
      ((error) => {
        if (bus.listenerCount('error') > 0) bus.emit('error', error);
      });
    this.#accumulator = new FrameAccumulator<unknown>((buf) => meter.decodeHeard(buf), {
      maxBufferedBytes: 512,
    });
    this.port = bus.attach({
      name: options.name ?? `meter ${meter.address}`,
      onReceive: (bytes, at) => this.#hear(bytes, at),
    });
  }

  /** Leaves the bus. */
  detach(): void {
    this.port.detach();
  }

  #hear(bytes: Uint8Array, at: number): void {
    if (this.#accumulator.buffered === 0) {
      // Fast path, the common case on a busy bus: one whole frame. One for someone else is dropped without
      // framer work or copies; one for this meter is answered as the framer would have framed it.
      const heard = this.meter.decodeHeard(bytes);
      if (heard.kind === 'frame' && heard.consumed === bytes.length) {
        this.#lastEnd = at;
        if (heard.frame.protocol !== 'ignored') this.#respond(heard.frame, at);
        return;
      }
    }
    const start = at - this.bus.wireTimeMs(bytes.length);
    const events: FramerEvent<unknown>[] = [];
    if (this.#accumulator.buffered > 0 && start - this.#lastEnd > this.idleResetMs) {
      events.push(...this.#accumulator.flush());
    }
    this.#lastEnd = at;
    events.push(...this.#accumulator.push(bytes));
    for (const event of events) {
      if (event.kind === 'dropped') {
        if (!this.meter.events.wanted) continue;
        const dropped: MeterEvent = {
          kind: 'dropped',
          at,
          hex: bytesToHex(event.bytes),
          reason: `${event.error.code}: ${event.error.message}`,
        };
        this.meter.events.push(dropped);
        continue;
      }
      this.#respond(event.frame as { protocol: string }, at);
    }
  }

  /** Has the meter answer a frame it heard, and puts the replies on the bus. */
  #respond(frame: { protocol: string }, at: number): void {
    for (const plan of this.meter.respondToFrame(frame, at)) {
      this.port.reply(plan.bytes, this.bus.turnaroundMs + plan.delayMs).catch((error: unknown) => {
        this.#onError(
          error instanceof LinkError
            ? error
            : new LinkError('LINK_WRITE_FAILED', `meter ${this.meter.address}: ${String(error)}`, {
                cause: error,
              }),
        );
      });
    }
  }
}
