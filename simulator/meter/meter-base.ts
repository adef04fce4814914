import { bytesToHex } from '../../protocols/bytes.ts';
import type { DecodeResult } from '../../protocols/decode-result.ts';
import { METER_PROTOCOLS } from '../../protocols/registry.ts';
import type { Clock } from '../clock/clock.ts';
import { realClock } from '../clock/real-clock.ts';
import { SeededRandom } from '../random.ts';
import type { ConsumptionModel } from './consumption.ts';
import { MeterEventLog } from './events.ts';
import { FaultPlan, type FaultRule } from './fault-plan.ts';

/**
 * What every simulated meter shares: address, consumption, valve/battery/clock state, the fault plan and the
 * event log. The protocol classes ({@link Cjt188Meter}, {@link Dlt645Meter}) decide what a request means;
 * this class turns their answer into planned transmissions and applies the faults.
 * @packageDocumentation
 */

/** One transmission a meter wants to make in answer to a request. */
export interface PlannedTransmission {
  /**
   * Wait this long after the bus turnaround (which the bus adds) before transmitting, ms: the meter's
   * `replyDelayMs` quirk plus any `late` fault. Transmissions with the same delay go out back to back.
   */
  delayMs: number;
  /** The bytes exactly as they go on the wire (preamble, faults applied). */
  bytes: Uint8Array;
}

/** Valve position a meter reports. */
export type ValvePosition = 'open' | 'closed';

/** Options every simulated meter takes. */
export interface MeterBaseOptions {
  /** The meter's address (CJ/T 188: up to 14 digits, DL/T 645: up to 12; shorter ones are left-padded). */
  address: string;
  /** The scenario's consumption model; the meter reads `model.readingAt(address, clock.now())`. */
  model: ConsumptionModel;
  /** Time of the meter: its clock field and its reading. @defaultValue realClock */
  clock?: Clock;
  /** Fault plan as data. @defaultValue [] (a well-behaved meter) */
  faults?: readonly FaultRule[];
  /**
   * Seed of the meter's own randomness (fault probabilities, noise bytes), combined with its address.
   * @defaultValue the model's seed
   */
  seed?: number | string;
  /** FE bytes before each reply. @defaultValue 2 */
  preamble?: number;
  /** Extra wait before replying, after the bus turnaround, ms. @defaultValue 0 */
  replyDelayMs?: number;
  /** Valve position at start. @defaultValue 'open' */
  valve?: ValvePosition;
  /** Battery state (CJ/T 188 ST bit D2). @defaultValue false */
  batteryLow?: boolean;
  /** Bound of the event log. @defaultValue 1000 */
  maxEvents?: number;
}

/** A protocol's answer to one request addressed to the meter. */
export interface MeterAnswer<F> {
  /** The normal reply, or null when the request gets none (broadcast time sync). */
  reply: F | null;
  /** The abnormal reply the `error-reply` fault sends instead. */
  errorReply: () => F;
}

/** @internal Upper bound of the FE preamble a meter may be told to send. */
const MAX_PREAMBLE = 16;

/**
 * The shared part of a simulated meter. Pure apart from its own state: `respond(frame, now)` takes a decoded
 * request and returns what to put on the wire and when, so it is tested without any I/O.
 */
export abstract class MeterBase<F extends { protocol: string; address: string }> {
  abstract readonly protocol: F['protocol'];
  /**
   * The key of this meter in the consumption model: its address at creation. It does not change when the
   * meter is given a new address, so the reading stays continuous.
   */
  readonly modelKey: string;
  readonly model: ConsumptionModel;
  readonly clock: Clock;
  readonly events: MeterEventLog;
  readonly faultPlan: FaultPlan;
  readonly preamble: number;
  readonly replyDelayMs: number;
  /** Current address (changes on a CJ/T 188 write-address). */
  address: string;
  valve: ValvePosition;
  batteryLow: boolean;
  /** Meter clock minus true clock, ms (set by time writes). */
  clockOffsetMs = 0;
  /** Added to the model's reading (set by a base-reading write), m³. */
  baseOffset = 0;
  readonly #noise: SeededRandom;

  constructor(options: MeterBaseOptions, address: string) {
    const { preamble = 2, replyDelayMs = 0 } = options;
    if (!Number.isInteger(preamble) || preamble < 0 || preamble > MAX_PREAMBLE) {
      throw new TypeError(`"preamble" must be an integer 0..${MAX_PREAMBLE}, got ${String(preamble)}`);
    }
    if (typeof replyDelayMs !== 'number' || !Number.isFinite(replyDelayMs) || replyDelayMs < 0) {
      throw new TypeError(`"replyDelayMs" must be a number >= 0, got ${String(replyDelayMs)}`);
    }
    if (options.valve !== undefined && options.valve !== 'open' && options.valve !== 'closed') {
      throw new TypeError(`"valve" must be 'open' or 'closed', got ${String(options.valve)}`);
    }
    this.address = address;
    this.modelKey = address;
    this.model = options.model;
    this.clock = options.clock ?? realClock;
    this.events = new MeterEventLog(options.maxEvents);
    this.preamble = preamble;
    this.replyDelayMs = replyDelayMs;
    this.valve = options.valve ?? 'open';
    this.batteryLow = options.batteryLow ?? false;
    const seed = options.seed ?? options.model.seed;
    this.faultPlan = new FaultPlan(options.faults ?? [], new SeededRandom(`${seed}:${address}:faults`));
    this.#noise = new SeededRandom(`${seed}:${address}:noise`);
  }

  /** The pure decoder of this meter's protocol (for a streaming framer over what the meter hears). */
  abstract decode(buf: Uint8Array): DecodeResult<F>;

  /**
   * The decoder a meter on a bus runs over what it hears: a whole, valid frame that is plainly not for this
   * meter (a reply, or another address) is framed from its envelope alone and returned as an
   * {@link IgnoredFrame}, without decoding its fields — a real meter's firmware stops at the address too, and
   * on a bus of 64 meters every meter hears every frame. Everything else goes to {@link MeterBase.decode}.
   */
  decodeHeard(buf: Uint8Array): DecodeResult<F | IgnoredFrame> {
    const consumed = this.skipNotForMe(buf);
    if (consumed > 0) return { kind: 'frame', frame: IGNORED_FRAME, consumed };
    const own = this.decode(buf);
    if (own.kind === 'frame') return own;
    // On a bus shared by several protocols, a whole valid frame of another one (by its envelope in the
    // registry) is skipped as a whole: read with this protocol's layout it can look like the start of a longer
    // frame (a DL/T 645 data byte where CJ/T 188 has its L), and holding it would swallow the next request.
    const foreign = foreignFrameLength(this.protocol, buf);
    return foreign > 0 ? { kind: 'frame', frame: IGNORED_FRAME, consumed: foreign } : own;
  }

  /**
   * Length of the whole frame at the start of `buf` when it is valid (start, length, checksum, end) and
   * certainly not a request for this meter; 0 when unsure (the full decoder then decides).
   */
  protected abstract skipNotForMe(buf: Uint8Array): number;

  /** True when `frame` is a request this meter must act on (its address, or a wildcard it answers). */
  abstract accepts(frame: F): boolean;

  /** The reading the meter shows at `now` (true clock), m³, with the base offset applied. */
  readingAt(now: number): number {
    return round2(Math.max(0, this.model.readingAt(this.modelKey, now) + this.baseOffset));
  }

  /** The settlement-day value `monthsBack` settlements ago (1 = the latest) at `now`, m³. */
  settlementAt(now: number, monthsBack = 1): number {
    const model = this.model;
    const offset = model.utcOffsetMinutes * 60_000;
    const local = new Date(now + offset);
    let month = local.getUTCMonth();
    if (local.getUTCDate() < model.settlementDay) month -= 1;
    const frozenAt = Date.UTC(local.getUTCFullYear(), month - (monthsBack - 1), model.settlementDay) - offset;
    return round2(Math.max(0, model.readingAt(this.modelKey, frozenAt) + this.baseOffset));
  }

  /** The meter's own clock at true time `now`. */
  meterTime(now: number): Date {
    return new Date(now + this.clockOffsetMs);
  }

  /**
   * Answers one decoded frame heard at true time `now`: the transmissions to make (none when the frame is
   * not a request for this meter, when the request gets no reply, or when a `silence` fault fires). Every
   * request answered, reply planned and fault fired is logged in {@link MeterBase.events}.
   */
  respond(frame: F, now: number = this.clock.now()): PlannedTransmission[] {
    if (!this.accepts(frame)) return [];
    if (this.events.wanted) {
      this.events.push({
        kind: 'request',
        at: now,
        hex: bytesToHex(this.encode(frame)),
        summary: summarise(frame),
      });
    }
    const answer = this.answer(frame, now);
    if (answer.reply === null) return [];
    return this.#applyFaults(answer, now);
  }

  /** {@link MeterBase.respond} for a frame of any protocol: a frame of another protocol gets no answer. */
  respondToFrame(frame: { protocol: string }, now: number = this.clock.now()): PlannedTransmission[] {
    return frame.protocol === this.protocol ? this.respond(frame as F, now) : [];
  }

  /** The protocol's answer to a request it accepts; may change the meter's state (valve, address …). */
  protected abstract answer(frame: F, now: number): MeterAnswer<F>;

  /** Encodes a frame of this protocol. */
  protected abstract encode(frame: F): Uint8Array;

  /** A reply as this meter's quirks shape it (CJ/T 188: its DI byte order). */
  protected shapeReply(frame: F): F {
    return frame;
  }

  /** A copy of `frame` carrying another address in its address field. */
  protected abstract withAddress(frame: F, address: string): F;

  #applyFaults(answer: MeterAnswer<F>, now: number): PlannedTransmission[] {
    const rules = this.faultPlan.next();
    const silence = rules.find((r) => r.kind === 'silence');
    if (silence) {
      this.#logFault(now, 'silence', 'no reply sent');
      return [];
    }
    let frame = this.shapeReply(answer.reply as F);
    let delayMs = this.replyDelayMs;
    let duplicate = false;
    let badChecksum = false;
    let truncated = false;
    let noise: Uint8Array | undefined;
    for (const rule of rules) {
      switch (rule.kind) {
        case 'error-reply':
          frame = answer.errorReply();
          this.#logFault(now, 'error-reply', 'abnormal reply sent instead of the normal one');
          break;
        case 'wrong-address': {
          const other = otherAddress(frame.address);
          frame = this.withAddress(frame, other);
          this.#logFault(now, 'wrong-address', `reply carries address ${other} instead of ${this.address}`);
          break;
        }
        case 'late':
          delayMs += rule.delayMs ?? 3000;
          this.#logFault(now, 'late', `reply delayed by ${rule.delayMs ?? 3000} ms`);
          break;
        case 'bad-checksum':
          badChecksum = true;
          break;
        case 'truncated':
          truncated = true;
          break;
        case 'noise':
          noise = this.#noiseBytes(rule.noiseBytes ?? 8);
          this.#logFault(now, 'noise', `${noise.length} noise bytes before the reply: ${bytesToHex(noise)}`);
          break;
        case 'duplicate':
          duplicate = true;
          this.#logFault(now, 'duplicate', 'reply sent twice');
          break;
        case 'silence':
          break;
      }
    }
    let bytes = this.encode(frame);
    if (badChecksum) {
      bytes[bytes.length - 2] = (bytes[bytes.length - 2] + 1) & 0xff;
      this.#logFault(
        now,
        'bad-checksum',
        `checksum byte sent as ${bytesToHex(bytes.subarray(bytes.length - 2, bytes.length - 1))}`,
      );
    }
    if (truncated) {
      const keep = Math.max(1, Math.floor(bytes.length / 2));
      this.#logFault(now, 'truncated', `only ${keep} of ${bytes.length} reply bytes sent`);
      bytes = bytes.slice(0, keep);
    }
    if (noise) {
      const withNoise = new Uint8Array(noise.length + bytes.length);
      withNoise.set(noise);
      withNoise.set(bytes, noise.length);
      bytes = withNoise;
    }
    const out: PlannedTransmission[] = [{ delayMs, bytes }];
    if (duplicate) out.push({ delayMs, bytes: bytes.slice() });
    if (this.events.wanted) {
      const summary = summarise(frame);
      for (const t of out) {
        this.events.push({ kind: 'reply', at: now, hex: bytesToHex(t.bytes), summary, delayMs: t.delayMs });
      }
    }
    return out;
  }

  #logFault(now: number, fault: FaultRule['kind'], detail: string): void {
    this.events.push({ kind: 'fault', at: now, fault, detail });
  }

  /**
   * Noise never contains 68H or FEH: a burst that happened to hold a start byte followed by plausible header
   * bytes would be a different fault (a false frame that can hide the real one); this one is line noise the
   * reader must skip.
   */
  #noiseBytes(count: number): Uint8Array {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      let b: number;
      do b = this.#noise.int(0, 255);
      while (b === 0x68 || b === 0xfe);
      out[i] = b;
    }
    return out;
  }

  /** @internal Logs a state change. */
  protected logValve(now: number, to: ValvePosition): void {
    if (to === this.valve) return;
    this.events.push({ kind: 'valve', at: now, from: this.valve, to });
    this.valve = to;
  }
}

/** A frame a meter heard and did not need to decode (see {@link MeterBase.decodeHeard}). */
export interface IgnoredFrame {
  protocol: 'ignored';
}

const IGNORED_FRAME: IgnoredFrame = Object.freeze({ protocol: 'ignored' });

/** Sum of `buf[from..to)` mod 256. @internal */
export function sum8(buf: Uint8Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += buf[i];
  return s & 0xff;
}

/** Rounds to 0.01 (the resolution of a 2-decimal BCD reading). */
export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Another address of the same length: the last digit moved on by one (the `wrong-address` fault). */
export function otherAddress(address: string): string {
  const last = address.at(-1) ?? '0';
  const next = /[0-9]/.test(last) ? String((Number(last) + 1) % 10) : '0';
  return address.slice(0, -1) + next;
}

/** A one-line description of a frame for logs: control code, address and body fields. */
export function summarise(frame: { protocol: string; address: string }): string {
  const f = frame as { control?: number; body?: Record<string, unknown> };
  const control =
    typeof f.control === 'number' ? f.control.toString(16).toUpperCase().padStart(2, '0') : '??';
  return `${frame.protocol} C=${control} A=${frame.address} ${JSON.stringify(f.body ?? {})}`;
}

/** Length of a whole frame with a valid checksum of another registered protocol at the start of `buf`, or 0. */
function foreignFrameLength(own: string, buf: Uint8Array): number {
  for (const protocol of METER_PROTOCOLS) {
    if (protocol.name === own) continue;
    const env = protocol.envelope(buf);
    if (env.kind === 'envelope' && env.envelope.checksumOk) return env.envelope.length;
  }
  return 0;
}
