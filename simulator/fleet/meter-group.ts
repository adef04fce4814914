import { decodeMeterAuto, type MeterFrame } from '../../protocols/auto.ts';
import { FrameAccumulator } from '../../protocols/framer.ts';
import type { BusPort, Rs485Bus } from '../bus/index.ts';
import { type ConsumptionModel, createMeter, type SimulatedMeter } from '../meter/index.ts';
import type { MeterSpec } from '../scenario/index.ts';

/**
 * All the simulated meters of one port as a single device on its bus, made for fleets of a million meters:
 * one framer per bus instead of one per meter, and each meter object made only when it is first addressed.
 * A request is answered by the meter it names (a wildcard address asks every meter, as on a real bus).
 *
 * What it gives up compared with one {@link MeterOnBus} per meter: replies of several meters to one wildcard
 * request queue behind each other instead of colliding. Small fleets use one device per meter.
 */
export class MeterGroup {
  readonly port: BusPort;
  readonly bus: Rs485Bus;
  readonly specs: readonly MeterSpec[];
  readonly #model: ConsumptionModel;
  readonly #seed: number;
  readonly #maxEvents: number;
  readonly #meters = new Map<number, SimulatedMeter>();
  readonly #frames = new FrameAccumulator<MeterFrame>(decodeMeterAuto, { maxBufferedBytes: 512 });
  #lastEnd = Number.NEGATIVE_INFINITY;
  /** Bytes that formed no frame (noise, collisions, replies of other devices cut short). */
  droppedBytes = 0;

  constructor(
    bus: Rs485Bus,
    specs: readonly MeterSpec[],
    context: { model: ConsumptionModel; seed: number; maxEvents?: number; name?: string },
  ) {
    this.bus = bus;
    this.specs = specs;
    this.#model = context.model;
    this.#seed = context.seed;
    this.#maxEvents = context.maxEvents ?? 16;
    this.port = bus.attach({
      name: context.name ?? 'meters',
      onReceive: (bytes, at) => this.#hear(bytes, at),
    });
  }

  /** Meter objects made so far (the others exist only as their spec). */
  get created(): number {
    return this.#meters.size;
  }

  /** The meter at `index` of the specs, made on first use. */
  meter(index: number): SimulatedMeter {
    let meter = this.#meters.get(index);
    if (!meter) {
      meter = createMeter(this.specs[index], {
        model: this.#model,
        clock: this.bus.clock,
        seed: this.#seed,
        maxEvents: this.#maxEvents,
      });
      this.#meters.set(index, meter);
    }
    return meter;
  }

  detach(): void {
    this.port.detach();
  }

  #hear(bytes: Uint8Array, at: number): void {
    const start = at - this.bus.wireTimeMs(bytes.length);
    const events = [];
    // A pause ends a partial frame, as a meter's UART frame timer does (see MeterOnBus).
    if (this.#frames.buffered > 0 && start - this.#lastEnd > 100) events.push(...this.#frames.flush());
    this.#lastEnd = at;
    events.push(...this.#frames.push(bytes));
    for (const event of events) {
      if (event.kind === 'dropped') {
        this.droppedBytes += event.bytes.length;
        continue;
      }
      const frame = event.frame;
      for (const index of this.#addressed(frame)) {
        for (const plan of this.meter(index).respondToFrame(frame, at)) {
          this.port.reply(plan.bytes, this.bus.turnaroundMs + plan.delayMs).catch(() => undefined);
        }
      }
    }
  }

  /** Indexes of the meters a frame may be for: the one with its address, or all for a wildcard. */
  #addressed(frame: MeterFrame): number[] {
    const wildcard = /[^0-9]/.test(frame.address);
    const out: number[] = [];
    this.specs.forEach((spec, i) => {
      if (spec.protocol !== frame.protocol) return;
      if (wildcard || spec.address === frame.address) out.push(i);
    });
    return out;
  }
}
