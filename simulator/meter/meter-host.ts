import { type BusBridge, Rs485Bus } from '../bus/rs485-bus.ts';
import type { Clock } from '../clock/clock.ts';
import { realClock } from '../clock/real-clock.ts';
import type { LinkError } from '../link/errors.ts';
import type { Link } from '../link/link.ts';
import type { SimulatedMeter } from './create-meter.ts';
import type { MeterEvent } from './events.ts';
import { MeterOnBus } from './meter-on-bus.ts';

/** Options of {@link MeterHost.start}. */
export interface MeterHostOptions {
  /** The link the master is on: a serial device or one end of a pty pair. Opened by `start` if closed. */
  link: Link;
  /** The meters to serve; addresses must differ. */
  meters: readonly SimulatedMeter[];
  /** @defaultValue realClock */
  clock?: Clock;
  /** Pause between a request's end and a reply, ms. @defaultValue 20 */
  turnaroundMs?: number;
  /**
   * `'simulated'` for a link without wire time of its own (pty pair, memory): the bus adds it, so the master
   * sees 2400-baud timing. `'physical'` for a real RS-485 adapter. @defaultValue 'simulated'
   */
  wire?: 'simulated' | 'physical';
  /** Receives one line per request, reply, fault, state change, collision and bus error. @defaultValue none */
  log?: (line: string) => void;
  /** Also log bytes the meters dropped (noise, collisions) — once per bus, not once per meter. @defaultValue false */
  logDropped?: boolean;
  /** Seed of the bus's collision noise. @defaultValue 1 */
  seed?: number | string;
}

/**
 * Serves simulated meters on a link: an {@link Rs485Bus} bridged to the link, with every meter attached to
 * the bus. What is used by `meterlab meters`; also the way a test puts meters behind a pty pair.
 */
export class MeterHost {
  readonly link: Link;
  readonly bus: Rs485Bus;
  readonly meters: readonly SimulatedMeter[];
  readonly #attached: MeterOnBus[];
  readonly #bridge: BusBridge;
  readonly #unsubscribe: (() => void)[] = [];
  #closed = false;

  private constructor(options: MeterHostOptions) {
    const {
      link,
      meters,
      clock = realClock,
      turnaroundMs = 20,
      wire = 'simulated',
      log,
      logDropped = false,
    } = options;
    const seen = new Set<string>();
    for (const meter of meters) {
      const key = `${meter.protocol}:${meter.address}`;
      if (seen.has(key)) throw new TypeError(`"meters": address ${meter.address} is given twice`);
      seen.add(key);
    }
    this.link = link;
    this.meters = meters;
    this.bus = new Rs485Bus({ clock, settings: link.settings, turnaroundMs, seed: options.seed });
    this.#attached = meters.map((m) => new MeterOnBus(m, this.bus));
    this.#bridge = this.bus.bridge(link, { name: 'master', wire });
    if (log) {
      meters.forEach((meter, i) => {
        this.#unsubscribe.push(
          meter.events.subscribe((event) => {
            if (event.kind === 'dropped' && !(logDropped && i === 0)) return;
            log(formatMeterEvent(meter, event));
          }),
        );
      });
      this.bus.on('collision', (c) => log(`${stamp(c.at)} bus collision: ${c.parties.join(' + ')}`));
      this.bus.on('error', (e) => log(`${stamp(clock.now())} bus error ${e.code}: ${e.message}`));
    } else {
      this.bus.on('error', () => undefined);
    }
    // A device that goes away (socat ends, an adapter is unplugged) is reported by the link as an 'error' before
    // its 'close' (simulator/link/link.ts, `lost`); an 'error' event nobody hears ends a Node process with a
    // stack trace. For the meters it is their bus's upstream failing, so it is reported as a bus error.
    const onLinkError = (error: LinkError) => this.bus.emit('error', error);
    link.on('error', onLinkError);
    this.#unsubscribe.push(() => link.off('error', onLinkError));
  }

  /**
   * Builds the bus, attaches the meters, bridges the link and opens it if it is closed.
   * @throws LinkError from opening the link (LINK_NOT_FOUND, LINK_BUSY …); TypeError for duplicate meters.
   */
  static async start(options: MeterHostOptions): Promise<MeterHost> {
    const host = new MeterHost(options);
    try {
      if (!options.link.isOpen) await options.link.open();
    } catch (error) {
      host.#detach();
      throw error;
    }
    return host;
  }

  /** Detaches everything and closes the link. Harmless twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#detach();
    await this.link.close();
  }

  #detach(): void {
    this.#closed = true;
    for (const u of this.#unsubscribe) u();
    this.#bridge.detach();
    for (const a of this.#attached) a.detach();
  }
}

function stamp(at: number): string {
  // A real clock gives epoch ms; a virtual one starts near 0: print whichever reads well.
  return at > 1e11 ? new Date(at).toISOString() : `t=${at.toFixed(1)}ms`;
}

/** One log line for a meter event: time, protocol and address, arrow, hex and the decoded frame. */
export function formatMeterEvent(meter: SimulatedMeter, event: MeterEvent): string {
  const who = `${stamp(event.at)} ${meter.protocol} ${meter.address}`;
  switch (event.kind) {
    case 'request':
      return `${who} <- ${event.hex}\n    ${event.summary}`;
    case 'reply':
      return `${who} -> ${event.hex}${event.delayMs > 0 ? ` (after +${event.delayMs} ms)` : ''}\n    ${event.summary}`;
    case 'fault':
      return `${who} fault ${event.fault}: ${event.detail}`;
    case 'valve':
      return `${who} valve ${event.from} -> ${event.to}`;
    case 'address':
      return `${who} address ${event.from} -> ${event.to}`;
    case 'base-reading':
      return `${who} base reading set to ${event.value}`;
    case 'clock':
      return `${who} clock set to ${event.time}`;
    case 'dropped':
      return `${who} dropped ${event.hex} (${event.reason})`;
  }
}
