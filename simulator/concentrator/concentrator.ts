import { EventEmitter } from 'node:events';
import type { DroppedBytes, FramedFrame } from '../../protocols/framer.ts';
import {
  AFN_CLASS1_DATA,
  AFN_CLASS2_DATA,
  AFN_CONFIRM,
  AFN_FORWARD,
  decodeAddress,
  decodeControl,
  decodeSeq,
  denyFor,
  type Gdw376Frame,
} from '../../protocols/gdw376/index.ts';
import { type Clock, realClock } from '../clock/index.ts';
import { SeededRandom } from '../random.ts';
import type { ConcentratorSpec } from '../scenario/index.ts';
import { answerForward, type ForwardRecord } from './forwarding.ts';
import type { MeterPort } from './meter-port.ts';
import { type MeterRecord, type PolledMeter, type PollRound, PollSchedule } from './poll-schedule.ts';
import { UpstreamSession, type UpstreamSessionOptions } from './upstream-session.ts';

/**
 * The simulated concentrator (集中器): a Q/GDW 376.1 terminal upstream ({@link UpstreamSession}), RS-485 meter
 * ports downstream ({@link MeterPort}), AFN 10 F1 transparent forwarding between them, and its own polling
 * ({@link PollSchedule}).
 *
 * What the master sends is handled like this (docs/gdw376.md §3, docs/field-notes.md §8):
 * - AFN 00 confirms: taken by the upstream session (login/heartbeat).
 * - AFN 10 F1: forwarded on the named port; the reply echoes the request's SEQ. Unknown port, full port queue,
 *   or too many requests in flight: deny (AFN 00 F2).
 * - AFN 0C / 0D: denied (AFN 00 F2). The public sources name Fn for water meters only by sample file, without
 * the
 *   data layouts, so the concentrator does not invent them; its readings are available through
 *   {@link Concentrator.records} instead.
 * - Any other request (PRM = 1): denied. Responses other than confirms, uplink-direction frames and frames for
 *   another address: ignored (reported as `'ignored'`).
 * - Bytes that are no frame: reported as `'dropped'` and skipped. A frame whose framing and checksum are right but
 *   whose fields are not (a malformed AFN 10 body, say) is denied when its header is addressed to us.
 * The connection is kept through all of it; the concentrator never throws on the master's bytes.
 */

/** Options of {@link Concentrator}. */
export interface ConcentratorOptions {
  spec: ConcentratorSpec;
  /** The meter ports (built by the fleet, or by a test). Port numbers must be unique. */
  ports: readonly MeterPort[];
  /** @defaultValue realClock */
  clock?: Clock;
  /** Scenario seed: the back-off jitter is drawn from it and the concentrator id. @defaultValue 1 */
  seed?: number;
  /**
   * Upstream options beyond the spec (confirm timeout, back-off, missed confirms, heartbeat clock, frame pacing,
   * a wrapper around the upstream link).
   */
  session?: Pick<
    UpstreamSessionOptions,
    | 'confirmTimeoutMs'
    | 'maxMissedConfirms'
    | 'backoff'
    | 'connectTimeoutMs'
    | 'heartbeatClock'
    | 'maxWriteBufferBytes'
    | 'minFrameGapMs'
    | 'wrapLink'
  >;
  /** Master requests being worked on at once; more are denied. @defaultValue 64 */
  maxRequestsInFlight?: number;
  /** Frame timeout of the concentrator's own poll reads. @defaultValue 2000 */
  pollFrameTimeoutMs?: number;
}

/** `'denied'` and `'ignored'` payloads. */
export interface HandledFrame {
  frame: Gdw376Frame;
  reason: string;
}

export interface ConcentratorEvents {
  online: [];
  offline: [reason: string];
  /** Every frame from the master. */
  frame: [event: FramedFrame<Gdw376Frame>];
  /** Bytes from the master that were no frame. */
  dropped: [dropped: DroppedBytes];
  /** Every finished AFN 10 F1 forward (denied ones included). */
  forward: [record: ForwardRecord];
  /** A request answered with AFN 00 F2. */
  denied: [info: HandledFrame];
  /** A frame not acted on. */
  ignored: [info: HandledFrame];
  /** A poll round finished. */
  poll: [round: PollRound];
  /** Reconnect scheduled (client mode). */
  backoff: [info: { attempt: number; delayMs: number; reason: string }];
  /** Unexpected failures inside the concentrator; emitted only when someone listens. */
  error: [error: Error];
}

/** Counters for status lines. */
export interface ConcentratorCounters {
  framesIn: number;
  dropped: number;
  forwards: number;
  silent: number;
  denied: number;
}

export class Concentrator extends EventEmitter<ConcentratorEvents> {
  readonly spec: ConcentratorSpec;
  readonly clock: Clock;
  readonly session: UpstreamSession;
  readonly ports: ReadonlyMap<number, MeterPort>;
  readonly poll: PollSchedule;
  readonly counters: ConcentratorCounters = { framesIn: 0, dropped: 0, forwards: 0, silent: 0, denied: 0 };
  readonly maxRequestsInFlight: number;
  #inFlight = 0;
  /** Counts the upstream connections lost: a forward's answer goes out only on the connection that asked. */
  #connectionEpoch = 0;

  constructor(options: ConcentratorOptions) {
    super();
    const { spec } = options;
    this.spec = spec;
    this.clock = options.clock ?? realClock;
    this.maxRequestsInFlight = options.maxRequestsInFlight ?? 64;
    const ports = new Map<number, MeterPort>();
    for (const port of options.ports) {
      if (ports.has(port.port)) throw new TypeError(`"ports": port ${port.port} is given twice`);
      ports.set(port.port, port);
    }
    this.ports = ports;
    this.session = new UpstreamSession({
      ...options.session,
      a1: spec.a1,
      a2: spec.a2,
      upstream: spec.upstream,
      heartbeatMs: spec.heartbeatSeconds * 1000,
      clock: this.clock,
      random: new SeededRandom(`${options.seed ?? 1}:${spec.id}:backoff`),
    });
    const meters: PolledMeter[] = [];
    for (const p of spec.ports) {
      for (const m of p.meters) {
        meters.push({ address: m.address, protocol: m.protocol, kind: m.kind, port: p.port });
      }
    }
    this.poll = new PollSchedule({
      clock: this.clock,
      periodMs: spec.pollMinutes * 60_000,
      ports,
      meters,
      frameTimeoutMs: options.pollFrameTimeoutMs,
      onRound: (round) => this.emit('poll', round),
    });
    this.session.on('online', () => this.emit('online'));
    this.session.on('offline', (reason) => {
      this.#connectionEpoch++;
      this.emit('offline', reason);
    });
    this.session.on('backoff', (info) => this.emit('backoff', info));
    this.session.on('frame', (event) => this.#onFrame(event));
    this.session.on('dropped', (dropped, from) => this.#onDropped(dropped, from));
  }

  get id(): string {
    return this.spec.id;
  }

  get online(): boolean {
    return this.session.online;
  }

  /** Connects (client) or listens (server) and arms polling. */
  async start(): Promise<void> {
    await this.session.start();
    this.poll.start();
  }

  /** Logs out, closes the upstream link and every port. */
  async stop(): Promise<void> {
    this.poll.stop();
    await this.session.stop();
    await Promise.all([...this.ports.values()].map((p) => p.close().catch(() => undefined)));
  }

  /** What polling knows about one meter. */
  record(address: string): MeterRecord | undefined {
    return this.poll.record(address);
  }

  /** What polling knows about every meter it has read. */
  records(): ReadonlyMap<string, MeterRecord> {
    return this.poll.records();
  }

  #onFrame(event: FramedFrame<Gdw376Frame>): void {
    this.counters.framesIn++;
    this.emit('frame', event);
    const frame = event.frame;
    if (frame.afn === AFN_CONFIRM && frame.control.dir === 'down') return; // the session's business
    const verdict = this.#verdict(frame);
    if (verdict.action === 'forward') this.#forward(frame, verdict.body);
    else if (verdict.action === 'deny') this.#deny(frame, verdict.reason);
    else this.#ignore(frame, verdict.reason);
  }

  /** What to do with a frame from the master (module comment). */
  #verdict(
    frame: Gdw376Frame,
  ):
    | { action: 'ignore' | 'deny'; reason: string }
    | { action: 'forward'; body: Parameters<typeof answerForward>[1] } {
    if (frame.control.dir !== 'down') {
      return { action: 'ignore', reason: 'an uplink-direction frame from the master' };
    }
    if (frame.a1 !== this.spec.a1 || frame.a2 !== this.spec.a2) {
      const reason = `addressed to ${frame.a1}/${frame.a2}, not ${this.spec.a1}/${this.spec.a2}`;
      return { action: 'ignore', reason };
    }
    if (!frame.control.prm) return { action: 'ignore', reason: 'a response (PRM = 0) that is not a confirm' };
    if (frame.afn === AFN_FORWARD) {
      const body = frame.units.length === 1 ? frame.units[0].body : undefined;
      if (body?.kind === 'forward-request') return { action: 'forward', body };
      return { action: 'deny', reason: 'AFN 10 other than a single F1 transparent forward' };
    }
    if (frame.afn === AFN_CLASS1_DATA || frame.afn === AFN_CLASS2_DATA) {
      const fns = frame.units.map((u) => `p${u.pn.join('/')} F${u.fn.join('/')}`).join(', ');
      const reason = `AFN ${hex2(frame.afn)} (${fns}): the reference gives no data layout for these items; use AFN 10 F1`;
      return { action: 'deny', reason };
    }
    return {
      action: 'deny',
      reason: `AFN ${hex2(frame.afn)} is not supported by the simulated concentrator`,
    };
  }

  #forward(frame: Gdw376Frame, body: Parameters<typeof answerForward>[1]): void {
    if (this.#inFlight >= this.maxRequestsInFlight) {
      this.#deny(frame, `${this.#inFlight} requests already in flight (maxRequestsInFlight)`);
      return;
    }
    this.#inFlight++;
    const epoch = this.#connectionEpoch;
    answerForward(frame, body, this.ports, () => this.clock.now())
      .then(({ answer, record }) => {
        this.counters.forwards++;
        if (record.outcome === 'silence') this.counters.silent++;
        // A reply belongs to the connection its request came on: its RSEQ means nothing on a later one, where it
        // could settle the new master's forward that happens to reuse the SEQ (a stale reading after a master
        // restart: issue 13, the restart.e2e flake). The master that asked is gone; the answer is dropped.
        if (epoch === this.#connectionEpoch) this.session.send(answer);
        if (record.outcome === 'denied') {
          this.counters.denied++;
          this.emit('denied', { frame, reason: record.note ?? 'forward denied' });
        }
        this.emit('forward', record);
      })
      .catch((error: unknown) => this.#error(error))
      .finally(() => {
        this.#inFlight--;
      });
  }

  #onDropped(dropped: DroppedBytes, from: Uint8Array): void {
    this.counters.dropped++;
    this.emit('dropped', dropped);
    // A whole, correctly summed frame whose fields did not decode still has a header we can answer.
    const code = dropped.error.code;
    if (code !== 'BAD_FIELD' && code !== 'BAD_BCD') return;
    const header = rejectedHeader(from);
    if (
      header &&
      header.control.dir === 'down' &&
      header.control.prm &&
      header.a1 === this.spec.a1 &&
      header.a2 === this.spec.a2
    ) {
      this.#deny(header, `undecodable ${code}: ${dropped.error.message}`);
    }
  }

  #deny(frame: Gdw376Frame, reason: string): void {
    this.counters.denied++;
    try {
      this.session.send(denyFor(frame));
    } catch (error) {
      this.#error(error);
      return;
    }
    this.emit('denied', { frame, reason });
  }

  #ignore(frame: Gdw376Frame, reason: string): void {
    this.emit('ignored', { frame, reason });
  }

  #error(error: unknown): void {
    if (this.listenerCount('error') > 0) {
      this.emit('error', error instanceof Error ? error : new Error(String(error)));
    }
  }
}

/**
 * The header of a rejected 376.1 frame whose L copies, start bytes, checksum and end byte are right (only its
 * fields failed), as a frame with no units: enough to address a deny. Undefined otherwise.
 */
export function rejectedHeader(bytes: Uint8Array): Gdw376Frame | undefined {
  if (bytes.length < 20 || bytes[0] !== 0x68 || bytes[5] !== 0x68) return undefined;
  const l = bytes[1] | (bytes[2] << 8);
  if (l !== (bytes[3] | (bytes[4] << 8))) return undefined;
  const id = l & 3;
  const len = l >> 2;
  if ((id !== 1 && id !== 2) || len < 8 || bytes.length < len + 8) return undefined;
  let sum = 0;
  for (let i = 6; i < 6 + len; i++) sum = (sum + bytes[i]) & 0xff;
  if (sum !== bytes[6 + len] || bytes[7 + len] !== 0x16) return undefined;
  try {
    const { a1, a2, a3 } = decodeAddress(bytes.subarray(7, 12));
    return {
      protocol: 'gdw376',
      protocolId: id,
      control: decodeControl(bytes[6]),
      a1,
      a2,
      a3,
      afn: bytes[12],
      seq: decodeSeq(bytes[13]),
      units: [],
      aux: {},
    };
  } catch {
    return undefined;
  }
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}
