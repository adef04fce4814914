import { EventEmitter } from 'node:events';
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
import { type Clock, realClock } from '../../simulator/clock/index.ts';
import type { Link } from '../../simulator/link/index.ts';
import { RequestWindow, RequestWindowError, sequenceIds } from '../../simulator/window/index.ts';
import type { ConcentratorAddress } from './concentrator-id.ts';
import { MasterError } from './master-error.ts';

/**
 * One concentrator's connection on the master station — any open {@link Link}: an accepted TCP socket, an
 * in-memory pair in tests, a tap around either — with 376.1 framing, confirms, and AFN 10 F1 forward requests
 * correlated by SEQ. It knows nothing of sessions: the master station decides what a login means.
 *
 * SEQ policy (docs/gdw376.md §3.1, docs/field-notes.md §8): master-initiated frames take PSEQ from a
 * per-connection counter 0–15, and a reply is matched by its RSEQ alone, as real masters do. The counter and
 * the matching are a request window (`simulator/window`): it skips numbers still awaiting a reply *and*
 * numbers whose forward timed out, which stay quarantined until their late reply arrives or `seqQuarantineMs`
 * passes — so a late reply can never settle a newer forward that reused its SEQ (issue 9: a re-read of the
 * same meter returned the stale reading). Answers (confirm/deny) echo the uplink's SEQ.
 */

/**
 * How the master confirms a login/heartbeat/logout (docs/gdw376.md §3.5, open question
 * docs/field-notes.md §7).
 */
export type ConfirmForm = 'F1' | 'F3';

export interface ConcentratorConnectionOptions {
  /** Opaque number naming this connection in the session table. */
  id: number;
  /** The peer's address for messages and session reports. @defaultValue the link's `remote`, else its `description` */
  remote?: string;
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
  /**
   * Most bytes written and not yet taken by the link (a TCP link: handed to the OS) before the peer counts as
   * stuck and the connection is closed. @defaultValue 65536
   */
  maxWriteBuffer?: number;
  /**
   * How long the SEQ of a timed-out forward stays unused when its late reply never comes. A concentrator that
   * serves forwards one at a time per port may answer long after the master gave up (each forward ahead of it
   * waits up to its own frame timeout), so this is generous; while SEQs are quarantined fewer forwards can be in
   * flight, never fewer than zero for longer than this.
   * @defaultValue 30000
   */
  seqQuarantineMs?: number;
  /**
   * Most bytes dropped since the last whole frame (junk, bad frames) before the connection is closed: a peer that
   * only ever sends junk is not held forever (issue 13, item 1). A real concentrator's line noise between frames
   * is far below this; every whole frame starts the count again. Reported once as `'junk-limit'`.
   * @defaultValue 65536 ({@link DEFAULT_MAX_JUNK_BYTES})
   */
  maxJunkBytes?: number;
  /** @defaultValue realClock */
  clock?: Clock;
}

/** Default of {@link ConcentratorConnectionOptions.maxJunkBytes}: 64 KiB of bytes that never formed a frame. */
export const DEFAULT_MAX_JUNK_BYTES = 65_536;

/** Bytes of one read handed to the framer at a time (see the `'data'` handler). */
const DATA_SLICE_BYTES = 4096;

/** `'junk-limit'` event payload. */
export interface JunkLimitEvent {
  /** Bytes dropped since the last whole frame when the limit tripped. */
  droppedBytes: number;
  /** Whole frames seen on the connection before that. */
  frames: number;
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

/** What the window settles a forward with: the reply's port, content and frame (latency comes from the window). */
interface ForwardAnswer {
  port: number;
  content: Uint8Array;
  frame: Gdw376Frame;
}

/** The concentrator denied the forward that had this SEQ; turned into DENIED naming the read. */
class DeniedAnswer extends Error {}

/**
 * Events: `'frame'` (FramedFrame of every uplink frame, after confirms), `'dropped'` (DroppedBytes the framer
 * threw away), `'unmatched'` (an AFN 10 reply or deny whose SEQ matches nothing in flight: a stray, or the late
 * reply to a forward that timed out, which releases its quarantined SEQ), `'frame-error'`
 * (`{error, frame}`: handling a frame threw; the connection carries on), `'junk-limit'` ({@link JunkLimitEvent},
 * just before the connection closes because of `maxJunkBytes`), `'sent'` (`{frame, raw}` of every frame
 * written to the concentrator, for the console's frame log), `'close'`.
 * Never emits `'error'`: socket errors end in `'close'`.
 */
export class ConcentratorConnection extends EventEmitter {
  readonly id: number;
  readonly confirmForm: ConfirmForm;
  readonly msa: number;
  readonly maxInFlight: number;
  readonly maxQueued: number;
  readonly maxWriteBuffer: number;
  readonly seqQuarantineMs: number;
  readonly maxJunkBytes: number;
  readonly remote: string;
  /** A1/A2 of the concentrator, known after its first login or heartbeat. */
  address: ConcentratorAddress | undefined;
  readonly #link: Link;
  readonly #clock: Clock;
  /** The bytes of each forward sent, by SEQ (at most 16), so an answer can lift the frame pacing gap. */
  readonly #sentForwards = new Map<number, Uint8Array>();
  /** Bytes handed to `link.write()` whose promise has not settled yet. */
  #unsent = 0;
  /** Forwards by SEQ: queue, window of `maxInFlight`, timeouts, quarantine of timed-out SEQs. */
  readonly #window: RequestWindow<number, ForwardAnswer>;
  /** The port each forward in flight was sent to, by SEQ: a reply for another port is not its reply. */
  readonly #portBySeq = new Map<number, number>();
  #closed = false;

  /**
   * @param link an open link to the concentrator; its `remote` (an accepted TCP link's peer address) or else its
   * `description` names it in messages. The connection owns it from now on and closes it in {@link close}.
   */
  constructor(link: Link & { readonly remote?: string }, options: ConcentratorConnectionOptions) {
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
    this.seqQuarantineMs = options.seqQuarantineMs ?? 30_000;
    this.maxJunkBytes = options.maxJunkBytes ?? DEFAULT_MAX_JUNK_BYTES;
    if (!Number.isInteger(this.maxJunkBytes) || this.maxJunkBytes < 1) {
      throw new TypeError(`"maxJunkBytes" must be a positive integer, got ${String(options.maxJunkBytes)}`);
    }
    this.#clock = options.clock ?? realClock;
    this.#window = new RequestWindow<number, ForwardAnswer>({
      ids: sequenceIds(16),
      window: this.maxInFlight,
      maxQueued: this.maxQueued,
      quarantineMs: this.seqQuarantineMs,
      clock: this.#clock,
    });
    this.#link = link;
    this.remote = options.remote ?? link.remote ?? link.description;
    // docs/field-notes.md §8: some peers do no reassembly; every frame goes out in one write() (the TCP link
    // has Nagle off, and paces frames apart when asked: see the master station's `minFrameGapMs`).
    // The plain accumulator rather than the Gdw376Framer stream: every read's reply passes here, and a frame is
    // handled as soon as its bytes are in, without a stream's buffering and events in between.
    const frames = new FrameAccumulator(decodeGdw376, {
      maxBufferedBytes: GDW376_DEFAULT_MAX_BUFFERED_BYTES,
    });
    link.on('data', (chunk) => {
      // Fed in slices, and not at all once closed: a peer's large write (64 KiB of logins, of junk) is decoded
      // only up to the slice in which the station closed the connection, not to its end.
      for (let at = 0; at < chunk.length && !this.#closed; at += DATA_SLICE_BYTES) {
        this.#onEvents(frames.push(chunk.subarray(at, at + DATA_SLICE_BYTES)));
        const counts = frames.counts;
        if (counts.droppedSinceFrame > this.maxJunkBytes && !this.#closed) {
          this.emit('junk-limit', {
            droppedBytes: counts.droppedSinceFrame,
            frames: counts.frames,
          } satisfies JunkLimitEvent);
          this.close();
        }
      }
    });
    link.on('error', () => {}); // a reset is normal for a GPRS link; 'close' follows and handles it
    link.on('close', () => {
      if (!this.#closed) this.#onEvents(frames.flush());
      this.#onClose();
    });
    if (!link.isOpen) queueMicrotask(() => this.#onClose());
  }

  /** Forward requests awaiting their reply. */
  get inFlight(): number {
    return this.#window.inFlight;
  }

  /** SEQs of timed-out forwards still waiting for their late reply (or for `seqQuarantineMs`). */
  get quarantinedSeqs(): number {
    return this.#window.quarantined;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Encodes and writes one frame in one write; false when the connection is closed. */
  send(frame: Gdw376Frame): boolean {
    if (this.#closed || !this.#link.isOpen) return false;
    const bytes = encodeGdw376(frame);
    if (this.listenerCount('sent') > 0) this.emit('sent', { frame, raw: bytes });
    if (frame.afn === AFN_FORWARD && frame.control.prm) this.#sentForwards.set(frame.seq.seq, bytes);
    this.#unsent += bytes.length;
    this.#link.write(bytes).then(
      () => {
        this.#unsent -= bytes.length;
      },
      () => {
        // The link refused or lost the write (closed, reset, its own queue full): the connection is unusable.
        this.#unsent -= bytes.length;
        this.close();
      },
    );
    if (this.#unsent > this.maxWriteBuffer) {
      // A peer that stopped reading would make the queue grow without bound (DESIGN "every queue is bounded").
      this.close();
      return false;
    }
    return true;
  }

  /**
   * Confirms an uplink frame, echoing its SEQ (docs/gdw376.md §3.5). F1: AFN 00 F1 "all confirmed". F3: AFN
   * 00 F3 with one ERR 00 item per data unit of the frame. C = `0B` (link status) as in Q10/Q17; the L
   * protocol id is echoed, so a Q/GDW 130-2005 terminal (id 01, docs/field-notes.md §8) gets an answer it
   * recognises.
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
   * forwards (or while every free SEQ is quarantined) it waits in a bounded queue. Rejects with BUSY when that
   * queue is full, METER_TIMEOUT when no reply comes within `timeoutMs` of sending, DENIED when the concentrator
   * answers AFN 00 F2, BAD_REQUEST when the forward cannot be encoded, CONCENTRATOR_OFFLINE when the connection
   * closes first.
   */
  async forward(options: ForwardOptions): Promise<ForwardReply> {
    if (this.#closed) {
      throw new MasterError(
        'CONCENTRATOR_OFFLINE',
        `connection to the concentrator closed; ${options.what} not sent`,
      );
    }
    let sentSeq: number | undefined;
    try {
      // An inline callback, not a named one: tsx names every named closure it creates (a call per read).
      const { reply, latencyMs } = await this.#window.request(
        (seq: number): void => {
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
            // e.g. an archived baud rate the control word cannot express (docs/gdw376.md §3.4 has 300–19200 only)
            const why = error instanceof Error ? error.message : String(error);
            throw new MasterError('BAD_REQUEST', `cannot forward ${options.what}: ${why}`);
          }
          if (!this.send(frame)) {
            throw new MasterError(
              'CONCENTRATOR_OFFLINE',
              `connection to the concentrator closed; ${options.what} not sent`,
            );
          }
          sentSeq = seq;
          this.#portBySeq.set(seq, options.port);
        },
        { timeoutMs: options.timeoutMs },
      );
      return { port: reply.port, content: reply.content, latencyMs, frame: reply.frame };
    } catch (error) {
      throw this.#forwardError(error, options, sentSeq);
    } finally {
      if (sentSeq !== undefined && this.#portBySeq.get(sentSeq) === options.port)
        this.#portBySeq.delete(sentSeq);
    }
  }

  /** The window's failures in the master's terms, naming the read. */
  #forwardError(error: unknown, options: ForwardOptions, seq: number | undefined): unknown {
    if (error instanceof DeniedAnswer) {
      return new MasterError('DENIED', `the concentrator denied the forward request for ${options.what}`);
    }
    if (!(error instanceof RequestWindowError)) return error;
    switch (error.code) {
      case 'WINDOW_FULL':
        return new MasterError(
          'BUSY',
          `${this.#window.inFlight} forwards in flight and ${this.#window.queued} queued on the concentrator's connection; ${options.what} refused`,
        );
      case 'WINDOW_TIMEOUT':
        return new MasterError(
          'METER_TIMEOUT',
          `no AFN 10 reply from the concentrator within ${options.timeoutMs} ms for ${options.what} (SEQ ${seq})`,
        );
      case 'WINDOW_CLOSED':
        return new MasterError(
          'CONCENTRATOR_OFFLINE',
          seq === undefined
            ? `connection to the concentrator closed; ${options.what} not sent`
            : `connection to the concentrator closed before the reply for ${options.what}`,
        );
    }
  }

  /** Closes the link; forwards in flight fail with CONCENTRATOR_OFFLINE. */
  close(): void {
    void this.#link.close().catch(() => {});
    this.#onClose();
  }

  #onEvents(events: FramerEvent<Gdw376Frame>[]): void {
    for (const event of events) {
      // Closed by a handler (a peer refused too often, the junk cap, a write buffer overrun): the rest of the
      // chunk is not looked at, so one large write cannot make the station answer thousands of frames.
      if (this.#closed) return;
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
      // docs/field-notes.md §8: confirm any CON-flagged uplink. Link checks (AFN 02) are left to the master
      // station, which may deny. AFN 00 is never confirmed, so two peers that both set CON on confirms cannot
      // ping-pong forever.
      if (frame.seq.con && frame.afn !== AFN_LINK_CHECK && frame.afn !== AFN_CONFIRM) this.confirm(frame);
    }
    this.emit('frame', event);
  }

  /**
   * The concentrator answered the frame sent with `seq`, so it has read it: tell the link, whose frame pacing
   * then lets the next frame go without waiting out the gap (docs/gdw376.md "Frame pacing").
   */
  #answered(seq: number): void {
    const sent = this.#sentForwards.get(seq);
    if (sent === undefined) return;
    this.#sentForwards.delete(seq);
    this.#link.peerHasRead(sent);
  }

  #onForwardReply(frame: Gdw376Frame): void {
    this.#answered(frame.seq.seq);
    const body = frame.units.find((u) => u.body.kind === 'forward-reply')?.body;
    // The concentrator echoes the port (docs/gdw376.md §3.4): a reply for another port under this SEQ answers
    // some other request — a stale one from before a reconnect or a master restart, whose SEQ the new
    // connection has reused — and must not settle this one. It is a stray; the real reply may still come.
    const expectedPort = this.#portBySeq.get(frame.seq.seq);
    if (body?.kind === 'forward-reply' && expectedPort !== undefined && body.port !== expectedPort) {
      this.emit('unmatched', frame);
      return;
    }
    const match =
      body?.kind === 'forward-reply'
        ? this.#window.settle(frame.seq.seq, { port: body.port, content: hexToBytes(body.content), frame })
        : 'unknown';
    if (match !== 'settled') this.emit('unmatched', frame);
  }

  #onConfirmOrDeny(frame: Gdw376Frame): void {
    const denied = frame.units.some(
      (u) =>
        u.body.kind === 'deny-all' || (u.body.kind === 'confirm-items' && u.body.items.some((i) => !i.ok)),
    );
    this.#answered(frame.seq.seq);
    if (!denied) return; // a confirm of a forward means nothing to us; the reply is what counts
    if (this.#window.fail(frame.seq.seq, new DeniedAnswer()) !== 'settled') this.emit('unmatched', frame);
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#window.close(); // every forward fails CONCENTRATOR_OFFLINE (see #forwardError)
    this.emit('close');
  }
}
