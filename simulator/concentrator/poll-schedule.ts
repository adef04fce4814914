import type { ReplyJudgement } from '../../protocols/meter-protocol.ts';
import { METER_PROTOCOLS, meterProtocol } from '../../protocols/registry.ts';
import type { Clock, TimerHandle } from '../clock/index.ts';
import type { MeterKind, MeterProtocol } from '../scenario/index.ts';
import type { MeterPort, PortForwardOutcome } from './meter-port.ts';

/**
 * The concentrator's own meter polling (集抄): every `periodMs`, aligned to local midnight so that the first
 * round of a day runs at 00:00, each port reads its meters one after another (ports in parallel) through the
 * same queue as the master's forwards. Each meter keeps its last reading and its daily frozen value.
 *
 * The daily frozen value of day D is the first reading taken on local day D: with a period that divides a day,
 * that is the 00:00 round, which is what a concentrator's 日冻结 read does.
 */

/** A meter the schedule reads. */
export interface PolledMeter {
  address: string;
  protocol: MeterProtocol;
  /** Decides the CJ/T 188 meter type T of the read. @defaultValue the protocol's default kind */
  kind?: MeterKind;
  port: number;
}

/** What the concentrator knows about one meter. Kept small: one object per meter, made at its first read. */
export interface MeterRecord {
  /** Last reading: m³ (CJ/T 188 901F current flow), kWh (heat meters' current heat, DL/T 645 00010000). */
  value?: number;
  unit?: string;
  /** Clock time of the last good reading. */
  readAt?: number;
  /** Daily frozen value: local day "YYYY-MM-DD" and the value. */
  frozen?: { day: string; value: number; at: number };
  /** Reads that failed in a row. */
  failures: number;
  /** How the last read ended. */
  lastOutcome: PortForwardOutcome | 'bad-reply' | 'queue-full';
}

/** One finished round. */
export interface PollRound {
  startedAt: number;
  endedAt: number;
  read: number;
  failed: number;
}

export interface PollScheduleOptions {
  clock: Clock;
  /** Period; 0 = never poll. */
  periodMs: number;
  ports: ReadonlyMap<number, MeterPort>;
  meters: readonly PolledMeter[];
  /** Local time of the concentrator, minutes east of UTC. @defaultValue 480 (UTC+8) */
  utcOffsetMinutes?: number;
  /** Frame timeout of each poll read. @defaultValue 2000 */
  frameTimeoutMs?: number;
  /** Called after every round. */
  onRound?: (round: PollRound) => void;
}

const DAY_MS = 86_400_000;

/** Periodic polling with per-meter records; see the module comment. */
export class PollSchedule {
  readonly periodMs: number;
  readonly #options: PollScheduleOptions;
  readonly #records = new Map<string, MeterRecord>();
  #timer: TimerHandle | undefined;
  #running = false;
  #stopped = true;

  constructor(options: PollScheduleOptions) {
    if (!(options.periodMs >= 0)) {
      throw new TypeError(`"periodMs" must be ≥ 0, got ${String(options.periodMs)}`);
    }
    this.periodMs = options.periodMs;
    this.#options = options;
  }

  /** Arms the schedule (nothing when the period is 0). */
  start(): void {
    if (this.periodMs === 0 || !this.#stopped) return;
    this.#stopped = false;
    this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The record of a meter (by address as the scenario gives it), if it was ever polled. */
  record(address: string): MeterRecord | undefined {
    return this.#records.get(address);
  }

  /** Every record, by address. */
  records(): ReadonlyMap<string, MeterRecord> {
    return this.#records;
  }

  /** Runs one round now: every port in parallel, its meters one by one. */
  async pollOnce(): Promise<PollRound> {
    const { clock, ports, meters } = this.#options;
    const startedAt = clock.now();
    const byPort = new Map<number, PolledMeter[]>();
    for (const m of meters) {
      const list = byPort.get(m.port) ?? [];
      list.push(m);
      byPort.set(m.port, list);
    }
    let read = 0;
    let failed = 0;
    await Promise.all(
      [...byPort].map(async ([portNo, list]) => {
        const port = ports.get(portNo);
        if (!port) return;
        for (const meter of list) {
          if (await this.#readOne(port, meter)) read++;
          else failed++;
        }
      }),
    );
    return { startedAt, endedAt: clock.now(), read, failed };
  }

  #arm(): void {
    const { clock } = this.#options;
    const offset = (this.#options.utcOffsetMinutes ?? 480) * 60_000;
    const now = clock.now();
    // Next multiple of the period counted from local midnight.
    const local = now + offset;
    const dayStart = Math.floor(local / DAY_MS) * DAY_MS;
    let next = dayStart + Math.ceil((local - dayStart) / this.periodMs) * this.periodMs;
    if (next <= local) next += this.periodMs;
    if (next > dayStart + DAY_MS) next = dayStart + DAY_MS;
    this.#timer = clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#stopped) return;
      if (!this.#running) {
        this.#running = true;
        void this.pollOnce().then((round) => {
          this.#running = false;
          this.#options.onRound?.(round);
        });
      }
      this.#arm();
    }, next - local);
  }

  async #readOne(port: MeterPort, meter: PolledMeter): Promise<boolean> {
    const { clock } = this.#options;
    let record = this.#records.get(meter.address);
    if (!record) {
      record = { failures: 0, lastOutcome: 'silence' };
      this.#records.set(meter.address, record);
    }
    let result: Awaited<ReturnType<MeterPort['forward']>>;
    const request = readRequest(meter);
    try {
      result = await port.forward(request, {
        frameTimeoutMs: this.#options.frameTimeoutMs ?? 2000,
      });
    } catch {
      record.failures++;
      record.lastOutcome = 'queue-full';
      return false;
    }
    const value = result.outcome === 'frame' ? readingFor(meter, request, result.reply) : undefined;
    if (!value) {
      record.failures++;
      record.lastOutcome = result.outcome === 'frame' ? 'bad-reply' : result.outcome;
      return false;
    }
    const at = clock.now();
    record.value = value.value;
    record.unit = value.unit;
    record.readAt = at;
    record.failures = 0;
    record.lastOutcome = 'frame';
    const day = localDay(at, this.#options.utcOffsetMinutes ?? 480);
    if (record.frozen?.day !== day) record.frozen = { day, value: value.value, at };
    return true;
  }
}

/**
 * The read request the poll sends: the registry's read of the current reading for the meter's protocol and
 * kind (CJ/T 188 901F with DI low byte first, docs/cjt188.md §1.6, and the kind's T; DL/T 645-2007 00010000).
 */
export function readRequest(meter: {
  address: string;
  protocol: MeterProtocol;
  kind?: MeterKind;
}): Uint8Array {
  return meterProtocol(meter.protocol).buildReadRequest({ address: meter.address, kind: meter.kind });
}

/** The numeric reading of the reply to `request`, judged by the protocol's one rule, or undefined. */
function readingFor(
  meter: { protocol: MeterProtocol },
  request: Uint8Array,
  reply: Uint8Array,
): { value: number; unit: string } | undefined {
  const judged = meterProtocol(meter.protocol).judgeReply(request, reply) as ReplyJudgement;
  if (!judged.ok || typeof judged.reading.value !== 'number') return undefined;
  return { value: judged.reading.value, unit: judged.reading.unit };
}

/** Stricter layouts first, as auto-detect does (a DL/T 645 frame can also read as a CJ/T 188 one). */
const BY_SPECIFICITY = [...METER_PROTOCOLS].sort((a, b) => b.specificity - a.specificity);

/**
 * The reading in a meter's reply, or undefined when the reply carries none: the reply is judged as the answer
 * to a read of the current reading from its own address (whatever SER it carries).
 */
export function readingOf(reply: Uint8Array): { value: number; unit: string } | undefined {
  for (const protocol of BY_SPECIFICITY) {
    const decoded = protocol.decode(reply);
    if (decoded.kind !== 'frame' || decoded.frame.direction !== 'reply') continue;
    let request: Uint8Array;
    try {
      request = protocol.buildReadRequest({ address: decoded.frame.address });
    } catch {
      return undefined;
    }
    const judged = protocol.judgeReply(request, reply, { checkSer: false }) as ReplyJudgement;
    if (!judged.ok || typeof judged.reading.value !== 'number') return undefined;
    return { value: judged.reading.value, unit: judged.reading.unit };
  }
  return undefined;
}

function localDay(t: number, offsetMinutes: number): string {
  return new Date(t + offsetMinutes * 60_000).toISOString().slice(0, 10);
}
