import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { hexToBytes } from '../../protocols/bytes.ts';
import { FrameAccumulator, type FramedFrame, type FramerEvent } from '../../protocols/framer.ts';
import {
  AFN_CONFIRM,
  AFN_FORWARD,
  AFN_LINK_CHECK,
  buildConfirm,
  buildConfirmItems,
  buildForwardRequest,
  decodeGdw376,
  denyFor,
  encodeGdw376,
  GDW376_DEFAULT_MAX_BUFFERED_BYTES,
  type Gdw376Frame,
  type Gdw376FrameTimeout,
  type Gdw376SerialSettings,
} from '../../protocols/gdw376/index.ts';
import { type Clock, realClock, type TimerHandle } from '../../simulator/clock/index.ts';
import type { ConcentratorAddress } from './concentrator-id.ts';
import { MasterError } from './master-error.ts';

/**
 * One concentrator's TCP socket on the master station: 376.1 framing, confirms, and AFN 10 F1 forward requests
 * correlated by SEQ. It knows nothing of sessions: the master station decides what a login means.
 *
 * SEQ policy (REFERENCE §3.1, §8): master-initiated frames take PSEQ from a per-connection counter 0–15 that skips
 * numbers still awaiting a reply, so two forwards in flight never share a SEQ and a reply is matched by its RSEQ
 * alone, as real masters do. Answers (confirm/deny) echo the uplink's SEQ.
 */

/** How the master confirms a login/heartbeat/logout (REFERENCE §3.5, open question §7). */
export type ConfirmForm = 'F1' | 'F3';

export interface ConcentratorConnectionOptions {
  /** Opaque number naming this connection in the session table. */
  id: number;
  /** @defaultValue 'F1' */
  confirmForm?: ConfirmForm;
  /** Master station address written into A3 of master-initiated frames (0–127). @defaultValue 0 */
  msa?: number;
  /** Forward requests in flight at once; more are refused with BUSY. At most 16 (the SEQ space). @defaultValue 8 */
  maxInFlight?: number;
  /**
   * Forwards waiting for a free slot when `maxInFlight` are in flight; one more is refused with BUSY. A script
   * reading a whole concentrator at once queues here instead of failing.
   * @defaultValue 256
   */
  maxQueued?: number;
  /** Most bytes queued for writing before the peer counts as stuck and the socket is closed. @defaultValue 65536 */
  maxWriteBuffer?: number;
  /** @defaultValue realClock */
  clock?: Clock;
}

/** What a forward needs: the target and the AFN 10 F1 fields. */
export interface ForwardOptions extends ConcentratorAddress {
  port: number;
  serial: Gdw376SerialSettings;
  frameTimeout: Gdw376FrameTimeout;
  /** The meter frame. */
  content: Uint8Array;
  /** How long to wait for the AFN 10 reply before METER_TIMEOUT. */
  timeoutMs: number;
  /** Names the read in error messages, e.g. "meter 00000000101001 on 017102082". */
  what: string;
}

/** The concentrator's AFN 10 F1 reply. */
export interface ForwardReply {
  port: number;
  /** The meter's answer; empty when the meter stayed silent. */
  content: Uint8Array;
  /** From sending the request to receiving the reply, on the connection's clock. */
  latencyMs: number;
  frame: Gdw376Frame;
}

interface Pending {
  resolve: (reply: ForwardReply) => void;
  reject: (err: MasterError) => void;
  timer: TimerHandle;
  sentAt: number;
  options: ForwardOptions;
}

/**
 * Events: `'frame'` (FramedFrame of every uplink frame, after confirms), `'dropped'` (DroppedBytes the framer
 * threw away), `'unmatched'` (an AFN 10 reply or deny whose SEQ matches nothing in flight), `'frame-error'`
 * (`{error, frame}`: handling a frame threw; the connection carries on), `'close'`.
 * Never emits `'error'`: socket errors end in `'close'`.
 */
export class ConcentratorConnection extends EventEmitter {
  readonly id: number;
  readonly confirmForm: ConfirmForm;
  readonly msa: number;
  readonly maxInFlight: number;
  readonly maxQueued: number;
  readonly #waiting: {
    options: ForwardOptions;
    resolve: (r: ForwardReply) => void;
    reject: (e: Error) => void;
  }[] = [];
  readonly maxWriteBuffer: number;
  readonly remote: string;
  /** A1/A2 of the concentrator, known after its first login or heartbeat. */
  address: ConcentratorAddress | undefined;
  readonly #socket: Socket;
  readonly #clock: Clock;
  readonly #pending = new Map<number, Pending>();
  #nextSeq = 0;
  #closed = false;

  constructor(socket: Socket, options: ConcentratorConnectionOptions) {
    super();
    this.id = options.id;
    this.confirmForm = options.confirmForm ?? 'F1';
    this.msa = options.msa ?? 0;
    this.maxInFlight = options.maxInFlight ?? 8;
    this.maxQueued = options.maxQueued ?? 256;
    if (!Number.isInteger(this.maxQueued) || this.maxQueued < 0) {
      throw new TypeError(`"maxQueued" must be a non-negative integer, got ${String(options.maxQueued)}`);
    }
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1 || this.maxInFlight > 16) {
      throw new TypeError(
        `"maxInFlight" must be an integer 1–16 (the SEQ space), got ${String(options.maxInFlight)}`,
      );
    }
    this.maxWriteBuffer = options.maxWriteBuffer ?? 65536;
    this.#clock = options.clock ?? realClock;
    this.#socket = socket;
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    // §8: some peers do no reassembly; every frame goes out in one write, with Nagle off so it is not held back.
    socket.setNoDelay(true);
    // The plain accumulator rather than the Gdw376Framer stream: every read's reply passes here, and a frame is
    // handled as soon as its bytes are in, without a stream's buffering and events in between.
    const frames = new FrameAccumulator(decodeGdw376, {
      maxBufferedBytes: GDW376_DEFAULT_MAX_BUFFERED_BYTES,
    });
    socket.on('data', (chunk: Buffer) => this.#onEvents(frames.push(chunk)));
    socket.on('end', () => this.#onEvents(frames.flush()));
    socket.on('error', () => {}); // a reset is normal for a GPRS link; 'close' follows and handles it
    socket.on('close', () => this.#onClose());
  }

  /** Forward requests awaiting their reply. */
  get inFlight(): number {
    return this.#pending.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Encodes and writes one frame in one write; false when the connection is closed. */
  send(frame: Gdw376Frame): boolean {
    if (this.#closed || this.#socket.destroyed) return false;
    this.#socket.write(encodeGdw376(frame));
    if (this.#socket.writableLength > this.maxWriteBuffer) {
      // A peer that stopped reading would make the queue grow without bound (DESIGN "every queue is bounded").
      this.close();
      return false;
    }
    return true;
  }

  /**
   * Confirms an uplink frame, echoing its SEQ (§3.5). F1: AFN 00 F1 "all confirmed". F3: AFN 00 F3 with one
   * ERR 00 item per data unit of the frame. C = `0B` (link status) as in Q10/Q17; the L protocol id is echoed,
   * so a Q/GDW 130-2005 terminal (id 01, §8) gets an answer it recognises.
   */
  confirm(frame: Gdw376Frame): boolean {
    const base = { a1: frame.a1, a2: frame.a2, msa: frame.a3.msa, group: frame.a3.group, seq: frame.seq.seq };
    const answer =
      this.confirmForm === 'F1'
        ? buildConfirm(base)
        : buildConfirmItems({
            ...base,
            afn: frame.afn,
            items: frame.units.map((u) => ({ pn: u.pn, fn: u.fn, ok: true })),
          });
    return this.send({ ...answer, protocolId: frame.protocolId });
  }

  /** Denies an uplink frame (AFN 00 F2), echoing its SEQ: e.g. a login the session table refused. */
  deny(frame: Gdw376Frame): boolean {
    return this.send({ ...denyFor(frame), protocolId: frame.protocolId });
  }

  /**
   * Sends an AFN 10 F1 transparent forward and resolves with the concentrator's reply; beyond `maxInFlight`
   * forwards it waits in a bounded queue. Rejects with BUSY when that queue is full, METER_TIMEOUT when no reply comes within `timeoutMs`, DENIED
   * when the concentrator answers AFN 00 F2, CONCENTRATOR_OFFLINE when the connection closes first.
   */
  forward(options: ForwardOptions): Promise<ForwardReply> {
    if (this.#closed) {
      return Promise.reject(
        new MasterError(
          'CONCENTRATOR_OFFLINE',
          `connection to the concentrator closed; ${options.what} not sent`,
        ),
      );
    }
    if (this.#pending.size < this.maxInFlight) return this.#sendForward(options);
    if (this.#waiting.length >= this.maxQueued) {
      return Promise.reject(
        new MasterError(
          'BUSY',
          `${this.#pending.size} forwards in flight and ${this.#waiting.length} queued on the concentrator's connection; ${options.what} refused`,
        ),
      );
    }
    return new Promise<ForwardReply>((resolve, reject) => this.#waiting.push({ options, resolve, reject }));
  }

  /** Starts queued forwards while slots are free. */
  #startWaiting(): void {
    while (!this.#closed && this.#waiting.length > 0 && this.#pending.size < this.maxInFlight) {
      const next = this.#waiting.shift()!;
      this.#sendForward(next.options).then(next.resolve, next.reject);
    }
  }

  #sendForward(options: ForwardOptions): Promise<ForwardReply> {
    const seq = this.#allocateSeq();
    let frame: Gdw376Frame;
    try {
      frame = buildForwardRequest({
        a1: options.a1,
        a2: options.a2,
        msa: this.msa,
        seq,
        port: options.port,
        serial: options.serial,
        frameTimeout: options.frameTimeout,
        content: options.content,
      });
    } catch (error) {
      // e.g. an archived baud rate the control word cannot express (§3.4 has 300–19200 only)
      const why = error instanceof Error ? error.message : String(error);
      return Promise.reject(new MasterError('BAD_REQUEST', `cannot forward ${options.what}: ${why}`));
    }
    return new Promise<ForwardReply>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        this.#pending.delete(seq);
        if (this.#waiting.length > 0) queueMicrotask(() => this.#startWaiting());
        reject(
          new MasterError(
            'METER_TIMEOUT',
            `no AFN 10 reply from the concentrator within ${options.timeoutMs} ms for ${options.what} (SEQ ${seq})`,
          ),
        );
      }, options.timeoutMs);
      this.#pending.set(seq, { resolve, reject, timer, sentAt: this.#clock.now(), options });
      if (!this.send(frame)) {
        this.#settle(seq)?.reject(
          new MasterError(
            'CONCENTRATOR_OFFLINE',
            `connection to the concentrator closed; ${options.what} not sent`,
          ),
        );
      }
    });
  }

  /** Closes the socket; forwards in flight fail with CONCENTRATOR_OFFLINE. */
  close(): void {
    this.#socket.destroy();
    this.#onClose();
  }

  #allocateSeq(): number {
    for (let i = 0; i < 16; i++) {
      const seq = (this.#nextSeq + i) & 0x0f;
      if (!this.#pending.has(seq)) {
        this.#nextSeq = (seq + 1) & 0x0f;
        return seq;
      }
    }
    // Unreachable: maxInFlight ≤ 16 leaves a free number.
    throw new Error('no free SEQ');
  }

  #settle(seq: number): Pending | undefined {
    const pending = this.#pending.get(seq);
    if (!pending) return undefined;
    this.#pending.delete(seq);
    this.#clock.clearTimeout(pending.timer);
    if (this.#waiting.length > 0) queueMicrotask(() => this.#startWaiting());
    return pending;
  }

  #onEvents(events: FramerEvent<Gdw376Frame>[]): void {
    for (const event of events) {
      if (event.kind === 'dropped') {
        this.emit('dropped', event);
        continue;
      }
      // Whatever a peer's frame makes a handler do (an answer that cannot be encoded, a listener's bug), it must
      // not escape a socket callback and crash the station (STYLE habit 4): it is reported instead.
      try {
        this.#onFrame(event);
      } catch (error) {
        this.emit('frame-error', { error, frame: event.frame });
      }
    }
  }

  #onFrame(event: FramedFrame<Gdw376Frame>): void {
    const { frame } = event;
    if (frame.control.dir === 'up') {
      if (frame.afn === AFN_FORWARD && !frame.control.prm) this.#onForwardReply(frame);
      else if (frame.afn === AFN_CONFIRM && !frame.control.prm) this.#onConfirmOrDeny(frame);
      // §8: confirm any CON-flagged uplink. Link checks (AFN 02) are left to the master station, which may deny.
      // AFN 00 is never confirmed, so two peers that both set CON on confirms cannot ping-pong forever.
      if (frame.seq.con && frame.afn !== AFN_LINK_CHECK && frame.afn !== AFN_CONFIRM) this.confirm(frame);
    }
    this.emit('frame', event);
  }

  #onForwardReply(frame: Gdw376Frame): void {
    const body = frame.units.find((u) => u.body.kind === 'forward-reply')?.body;
    const pending = body?.kind === 'forward-reply' ? this.#settle(frame.seq.seq) : undefined;
    if (!pending || body?.kind !== 'forward-reply') {
      this.emit('unmatched', frame);
      return;
    }
    pending.resolve({
      port: body.port,
      content: hexToBytes(body.content),
      latencyMs: this.#clock.now() - pending.sentAt,
      frame,
    });
  }

  #onConfirmOrDeny(frame: Gdw376Frame): void {
    const denied = frame.units.some(
      (u) =>
        u.body.kind === 'deny-all' || (u.body.kind === 'confirm-items' && u.body.items.some((i) => !i.ok)),
    );
    if (!denied) return; // a confirm of a forward means nothing to us; the reply is what counts
    const pending = this.#settle(frame.seq.seq);
    if (!pending) {
      this.emit('unmatched', frame);
      return;
    }
    pending.reject(
      new MasterError('DENIED', `the concentrator denied the forward request for ${pending.options.what}`),
    );
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiting of this.#waiting.splice(0)) {
      waiting.reject(
        new MasterError(
          'CONCENTRATOR_OFFLINE',
          `connection to the concentrator closed; ${waiting.options.what} not sent`,
        ),
      );
    }
    for (const seq of [...this.#pending.keys()]) {
      const pending = this.#settle(seq);
      pending?.reject(
        new MasterError(
          'CONCENTRATOR_OFFLINE',
          `connection to the concentrator closed before the reply for ${pending.options.what}`,
        ),
      );
    }
    this.emit('close');
  }
}
