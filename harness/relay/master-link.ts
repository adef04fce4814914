/**
 * The relay's one connection to the master station's client API.
 *
 * With `protocol: 'legacy'` the link speaks the original clientserver's framing instead (flat ClickToCopyModel
 * objects back to back, no ids; README "Master protocol"); the window, timeouts and reconnection are the same.
 *
 * Contract (DESIGN.md, "Relay"): newline-delimited JSON, one message per line, in UTF-8 or GB2312; every
 * `read` request gets exactly one `reading` or `error` line with the same `id`. This module owns the ids on
 * that connection (clients' ids can collide, so they never go upstream), the bounded table of reads waiting
 * for an answer, the per-read timeout, and reconnection with back-off. The connection is a Link (a TCP link to
 * `host:port` unless `link` says otherwise), the time a Clock.
 *
 * Flow control is a request window (`simulator/window`): at most `maxInFlight` requests are outstanding at the
 * master at once (the master station answers BUSY beyond its own per-connection limit); further reads wait here,
 * their timeout already running, up to `maxPending` reads in all — in an {@link OriginQueue}, one FIFO per
 * origin (browser) served in turn, so one browser's backlog cannot hold another's read behind it (issue 13).
 * The window's own FIFO holds at most one read, the one whose turn came (so that the window says when a slot
 * frees: it starts that read and the next turn is taken); reads waiting here have their own timer and are
 * withdrawn from the window through their own signal, so every step happens at once, in clock order.
 *
 * A request that timed out here still holds its slot until the master's late answer arrives (the master is still
 * working on it), or for one more `readTimeoutMs` at most (its id is quarantined), so a master that never answers
 * cannot shrink the window for ever.
 *
 * Every call to {@link MasterLink.read} settles exactly once and never rejects: with the master's answer, or
 * with a local `error` message — `MASTER_UNAVAILABLE` at once while the master is away (a read must not hang
 * waiting for a master that may be gone for hours), `QUEUE_FULL` when `maxPending` reads are already
 * waiting, `TIMEOUT` after `readTimeoutMs`, `BAD_REPLY` when the answer line with that id is not a valid
 * message.
 */
import { EventEmitter } from 'node:events';
import { ProtocolError } from '../../protocols/errors.ts';
import {
  type AnyPointReadMessage,
  encodeLine,
  type MeterProtocol,
  NdjsonDecoder,
  type ReadError,
  type Reading,
  type ReadRequest,
  type TextEncodingName,
} from '../../protocols/point-read/index.ts';
import { decodeLegacyFlatAnswer, encodeLegacyFlatRequest } from '../../protocols/point-read/legacy-flat.ts';
import { createLegacyStreamSplitter } from '../../protocols/point-read/legacy-stream.ts';
import { decodeText } from '../../protocols/point-read/text-encoding.ts';
import {
  Backoff,
  type BackoffOptions,
  type Clock,
  type TimerHandle,
  unrefClock,
} from '../../simulator/clock/index.ts';
import { type Link, TcpClientLink } from '../../simulator/link/index.ts';
import {
  type IdSpace,
  RequestWindow,
  RequestWindowError,
  type WindowReply,
  Withdrawal,
  type WithdrawSignal,
} from '../../simulator/window/index.ts';
import { CoalescedWriter } from '../master/coalesced-write.ts';
import { type RelayLogger, SILENT } from './log.ts';
import { OriginQueue } from './origin-queue.ts';

/** What the relay asks the master for: a v1 `read` without its id (the link assigns one). */
export interface UpstreamRead {
  concentrator: string;
  meter: string;
  protocol?: MeterProtocol;
  port?: number;
}

/** Who a read is for and how to withdraw it (see {@link MasterLink.read}). */
export interface UpstreamReadOptions {
  /**
   * The relay's id of the client the read is for, sent as the read's `origin` so the master queues its reads
   * fairly per client rather than per relay (issue 13 item 5). Not sent with `protocol: 'legacy'`.
   */
  origin?: string;
  /**
   * Withdraws the read: still queued in the link, it is dropped; already sent, a `{"type":"cancel","id":…}` line
   * tells the master to drop it if it still waits there (not with `protocol: 'legacy'`, which has no such message).
   * The read then settles with a local `error` CANCELLED.
   */
  signal?: WithdrawSignal;
}

/** The one answer to an upstream read; its `id` is the link's upstream id, for logs only. */
export type UpstreamAnswer = Reading | ReadError;

/**
 * What the link speaks: meterlab's NDJSON v1 (ids, every field), or the original clientserver's framing
 * (`legacy`: flat ClickToCopyModel objects back to back, no newline, no id — see `legacy-flat.ts`).
 */
export type MasterProtocol = 'ndjson' | 'legacy';

export interface MasterLinkOptions {
  /**
   * The master's wire. With `legacy`, reads are paired with answers by concentrator and meter (oldest first), a
   * read's `protocol` and `port` are not sent (the model has no field for them), and `encoding` defaults to GB2312.
   * @defaultValue 'ndjson'
   */
  protocol?: MasterProtocol;
  /** Master station client API host. */
  host: string;
  /** Master station client API TCP port. */
  port: number;
  /**
   * Character set of the NDJSON lines (or legacy objects). GB2312 is what the legacy clientserver spoke.
   * @defaultValue 'utf8' ('gb2312' with `protocol: 'legacy'`)
   */
  encoding?: TextEncodingName;
  /**
   * Most reads waiting for the master's answer; one more is answered `QUEUE_FULL` at once.
   * It also bounds what the link can buffer towards a slow master (a request line is ~150 bytes).
   * @defaultValue 1000
   */
  maxPending?: number;
  /**
   * Most requests outstanding at the master at once; keep it at or below the master's per-connection limit
   * (meterlab's master station: `maxInFlightPerConnection`, 256).
   * @defaultValue 256
   */
  maxInFlight?: number;
  /**
   * How long a read may wait for its answer before it is answered `TIMEOUT`. Should exceed the master's own
   * field-read timeout so its more precise METER_TIMEOUT / CONCENTRATOR_OFFLINE normally arrives first.
   * @defaultValue 15000
   */
  readTimeoutMs?: number;
  /**
   * Longest answer line accepted from the master, in bytes; a longer one is dropped and logged.
   * @defaultValue 65536
   */
  maxLineLength?: number;
  /**
   * Give up a connection attempt after this long (a black-holed address would otherwise wait for the OS's
   * own timeout, minutes).
   * @defaultValue 5000
   */
  connectTimeoutMs?: number;
  /** Reconnect schedule. @defaultValue `DEFAULT_BACKOFF` of simulator/clock (250 ms doubling to 10 s, ±20 %) */
  backoff?: BackoffOptions;
  /**
   * Time for read timeouts, slot quarantine and reconnect delays. Real time whose timers do not keep the process
   * alive by default (the relay may be embedded in someone else's process); tests pass a VirtualClock.
   * @defaultValue unrefClock
   */
  clock?: Clock;
  /**
   * Makes the (closed) link to the master for each connection attempt. A test or a tool may return a wrapped link
   * (a tap, a byte counter) here; the master link only sees a Link.
   * @defaultValue a TcpClientLink to `host:port` with `connectTimeoutMs`, no frame pacing (NDJSON needs none)
   */
  link?: () => Link;
  /** Log sink. @defaultValue silent */
  log?: RelayLogger;
}

/** Connection states: `connecting` (attempt under way), `up`, `waiting` (back-off before retry), `stopped`. */
export type MasterLinkState = 'idle' | 'connecting' | 'up' | 'waiting' | 'stopped';

export interface MasterLinkEvents {
  /** The connection is open; reads are forwarded from now on. */
  up: [];
  /** The connection is gone (or an attempt failed); `reason` says why. */
  down: [reason: string];
}

/** The link went down (or the relay stopped) while the read waited: answered MASTER_UNAVAILABLE. */
class LinkDown extends Error {}

/**
 * Upstream request ids "1", "2", … (never repeated on one link) with a cap: a new id only while fewer than `max`
 * ids are still busy in the window — in flight *or* quarantined after a timeout — so a request the master is still
 * working on keeps its slot (see the module comment). Ids answered by the master are let go at once
 * ({@link CappedIds.release}); the rest are found free (quarantine over) when the cap is reached.
 */
class CappedIds implements IdSpace<string> {
  readonly size = Number.POSITIVE_INFINITY;
  readonly description = 'request ids 1, 2, …';
  readonly #max: number;
  readonly #issued = new Set<string>();
  readonly #onExpired: (id: string) => void;
  #n = 0;

  constructor(max: number, onExpired: (id: string) => void) {
    this.#max = max;
    this.#onExpired = onExpired;
  }

  take(busy: (id: string) => boolean): string | undefined {
    if (this.#issued.size >= this.#max) {
      for (const id of this.#issued) {
        if (busy(id)) continue;
        this.#issued.delete(id);
        this.#onExpired(id);
      }
      if (this.#issued.size >= this.#max) return undefined;
    }
    const id = String(++this.#n);
    this.#issued.add(id);
    return id;
  }

  /** The master answered `id` (or it was never sent): its slot is free. */
  release(id: string): void {
    this.#issued.delete(id);
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`"${name}" must be a positive integer, got ${String(value)}`);
  }
  return value;
}

export class MasterLink extends EventEmitter<MasterLinkEvents> {
  readonly host: string;
  readonly port: number;
  readonly protocol: MasterProtocol;
  readonly encoding: TextEncodingName;
  readonly maxPending: number;
  readonly maxInFlight: number;
  readonly readTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly #maxLineLength: number;
  readonly #backoff: Backoff;
  readonly #clock: Clock;
  readonly #log: RelayLogger;
  readonly #makeLink: () => Link;
  #state: MasterLinkState = 'idle';
  /** The current connection's link, window and ids; a new set for each connection. */
  #link: Link | undefined;
  #window: RequestWindow<string, UpstreamAnswer> | undefined;
  #ids: CappedIds | undefined;
  #writer: CoalescedWriter | undefined;
  #retryTimer: TimerHandle | undefined;
  #retryAt = 0;
  #localSeq = 0;
  #lastProblem = 'not connected yet';
  /** Legacy protocol: the upstream ids waiting for an answer, per concentrator/meter, oldest first. */
  #legacyWaiting = new Map<string, string[]>();
  #legacyKeyOf = new Map<string, string>();
  /**
   * Upstream ids this link sent a `cancel` for and whose answer has not come: that answer (CANCELLED, or the reading
   * when the cancel came too late) is expected, not a stray. Cleared with the connection; entries leave when the
   * answer comes or the id's quarantine ends, so it holds at most `maxInFlight` ids.
   */
  #cancelled = new Set<string>();
  /** Reads waiting for their turn toward the window, per origin (see the module comment). */
  readonly #waiting = new OriginQueue<WaitingRead>();
  /** {@link MasterLink.#pumpWaiting} is running: a nested call only asks it to look again. */
  #pumping = false;
  #pumpAgain = false;

  /** @throws TypeError naming the first bad option. */
  constructor(options: MasterLinkOptions) {
    super();
    if (typeof options.host !== 'string' || options.host === '') {
      throw new TypeError(`"master.host" must be a non-empty string, got ${String(options.host)}`);
    }
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
      throw new TypeError(`"master.port" must be an integer 1–65535, got ${String(options.port)}`);
    }
    this.host = options.host;
    this.port = options.port;
    this.protocol = options.protocol ?? 'ndjson';
    if (this.protocol !== 'ndjson' && this.protocol !== 'legacy') {
      throw new TypeError(`"protocol" must be "ndjson" or "legacy", got ${String(this.protocol)}`);
    }
    this.encoding = options.encoding ?? (this.protocol === 'legacy' ? 'gb2312' : 'utf8');
    if (this.encoding !== 'utf8' && this.encoding !== 'gb2312') {
      throw new TypeError(`"encoding" must be "utf8" or "gb2312", got ${String(this.encoding)}`);
    }
    this.maxPending = positiveInteger('maxPendingUpstream', options.maxPending ?? 1000);
    this.maxInFlight = positiveInteger('maxInFlightUpstream', options.maxInFlight ?? 256);
    this.readTimeoutMs = positiveInteger('readTimeoutMs', options.readTimeoutMs ?? 15_000);
    this.connectTimeoutMs = positiveInteger('connectTimeoutMs', options.connectTimeoutMs ?? 5000);
    this.#maxLineLength = positiveInteger('maxLineLength', options.maxLineLength ?? 64 * 1024);
    this.#backoff = new Backoff(options.backoff);
    this.#clock = options.clock ?? unrefClock;
    this.#log = options.log ?? SILENT;
    this.#makeLink =
      options.link ??
      (() =>
        new TcpClientLink({ host: this.host, port: this.port, connectTimeoutMs: this.connectTimeoutMs }));
  }

  get state(): MasterLinkState {
    return this.#state;
  }

  /** True while reads are being forwarded. */
  get connected(): boolean {
    return this.#state === 'up';
  }

  /** Reads waiting for an answer (queued here or sent). */
  get pending(): number {
    return this.#window ? this.#window.inFlight + this.#window.queued + this.#waiting.size : 0;
  }

  /** Requests sent and not yet answered by the master (timed-out ones included until their slot is freed). */
  get outstanding(): number {
    return this.#window ? this.#window.inFlight + this.#window.quarantined : 0;
  }

  /** `host:port`, for messages. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** Starts connecting (and reconnecting whenever the connection is lost) until {@link MasterLink.stop}. */
  start(): void {
    if (this.#state !== 'idle') return;
    this.#connect();
  }

  /**
   * Closes the connection and stops reconnecting. Reads still waiting are answered `MASTER_UNAVAILABLE`.
   */
  stop(): void {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    if (this.#retryTimer !== undefined) this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const link = this.#link;
    this.#link = undefined;
    this.#window?.close(new LinkDown('the relay is stopping'));
    this.#failWaiting('the relay is stopping');
    void link?.close().catch(() => {});
  }

  /**
   * Asks the master for one reading. Settles exactly once; never rejects (see the module comment). `options`:
   * the client's origin, and a signal that withdraws the read (see {@link UpstreamReadOptions}).
   */
  read(req: UpstreamRead, options: UpstreamReadOptions = {}): Promise<UpstreamAnswer> {
    // Not `async`: the usual path returns #forward's promise itself rather than one more wrapped around it.
    const window = this.#window;
    const ids = this.#ids;
    const writer = this.#writer;
    const { signal } = options;
    if (signal?.aborted) return Promise.resolve(this.#localError(undefined, req, 'CANCELLED', WITHDRAWN));
    if (this.#state !== 'up' || !window || !ids || !writer) {
      return Promise.resolve(this.#localError(undefined, req, 'MASTER_UNAVAILABLE', this.#unavailableText()));
    }
    const pending = window.inFlight + window.queued + this.#waiting.size;
    if (pending >= this.maxPending) {
      return Promise.resolve(
        this.#localError(
          undefined,
          req,
          'QUEUE_FULL',
          `${pending} reads are already waiting for the master (maxPendingUpstream); try again later`,
        ),
      );
    }
    // A slot is free and nobody waits: straight to the master (the usual case, at the cost it always had).
    if (
      this.#waiting.size === 0 &&
      window.queued === 0 &&
      window.inFlight + window.quarantined < this.maxInFlight
    ) {
      return this.#forward(req, options, window, ids, writer, undefined);
    }
    return this.#wait(req, options);
  }

  /** Queues the read for its origin's turn, its timeout running from now (see the module comment). */
  #wait(req: UpstreamRead, options: UpstreamReadOptions): Promise<UpstreamAnswer> {
    return new Promise<UpstreamAnswer>((resolve) => {
      const { signal } = options;
      const w: WaitingRead = {
        req,
        options,
        origin: options.origin ?? '',
        resolve,
        timer: undefined,
        onAbort: undefined,
        withdrawal: undefined,
      };
      w.timer = this.#clock.setTimeout(() => {
        w.timer = undefined;
        if (w.withdrawal) {
          w.withdrawal.abort(TIMED_OUT);
          this.#pumpWaiting(); // it may have been the read in the window's queue
        } else if (this.#waiting.delete(w.origin, w)) {
          this.#settleWaiting(
            w,
            this.#localError(
              undefined,
              req,
              'TIMEOUT',
              `no answer (queued behind ${this.#window?.inFlight ?? 0} reads at the master) within ${this.readTimeoutMs} ms`,
            ),
          );
        }
      }, this.readTimeoutMs);
      if (signal) {
        w.onAbort = () => {
          if (w.withdrawal) {
            w.withdrawal.abort(CALLER_WITHDREW);
            this.#pumpWaiting();
          } else if (this.#waiting.delete(w.origin, w)) {
            this.#settleWaiting(w, this.#localError(undefined, req, 'CANCELLED', WITHDRAWN));
          }
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.#waiting.push(w.origin, w);
      // Nothing may be in the window's queue yet (it was full but had no queue): then this read is the one it holds.
      this.#pumpWaiting();
    });
  }

  /** A waiting read's one answer: its timer and listener go. */
  #settleWaiting(w: WaitingRead, answer: UpstreamAnswer): void {
    if (w.timer !== undefined) this.#clock.clearTimeout(w.timer);
    w.timer = undefined;
    if (w.onAbort) w.options.signal?.removeEventListener('abort', w.onAbort);
    w.onAbort = undefined;
    w.resolve(answer);
  }

  /**
   * Hands waiting reads to the window, in turn, while its own queue is empty: each starts at once if a slot is free,
   * else it is the one read the window holds until a slot frees (its `send` then calls this again).
   */
  #pumpWaiting(): void {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        const window = this.#window;
        const ids = this.#ids;
        const writer = this.#writer;
        if (!window || !ids || !writer) return;
        while (this.#waiting.size > 0 && window.queued === 0) {
          const w = this.#waiting.shift() as WaitingRead;
          w.withdrawal = new Withdrawal();
          void this.#forward(w.req, w.options, window, ids, writer, w).then((answer) =>
            this.#settleWaiting(w, answer),
          );
        }
      } while (this.#pumpAgain);
    } finally {
      this.#pumping = false;
    }
  }

  /** The connection is gone: every read still waiting here is answered MASTER_UNAVAILABLE. */
  #failWaiting(reason: string): void {
    for (const w of this.#waiting.clear()) {
      this.#settleWaiting(
        w,
        this.#localError(
          undefined,
          w.req,
          'MASTER_UNAVAILABLE',
          `lost the master station at ${this.address} before it answered (${reason})`,
        ),
      );
    }
  }

  /**
   * Sends the read through the window: at once, or (only a read handed over by {@link MasterLink.#pumpWaiting}) as
   * the one read the window queues. A handed read is withdrawn from the window through `handed.withdrawal`, by its own
   * timer or its caller's signal; any other through the caller's signal and the window's timeout.
   */
  async #forward(
    req: UpstreamRead,
    options: UpstreamReadOptions,
    window: RequestWindow<string, UpstreamAnswer>,
    ids: CappedIds,
    writer: CoalescedWriter,
    handed: WaitingRead | undefined,
  ): Promise<UpstreamAnswer> {
    const { signal } = options;
    let sentId: string | undefined;
    let settled = false;
    // Sent and not answered yet: the master may still hold it in its queue, so tell it (the window itself drops a
    // read still queued here, and keeps a sent one's id until the master's answer comes).
    const onAbort = () => {
      if (settled || sentId === undefined || this.#writer !== writer) return;
      // Its answer will still come (the legacy clientserver cannot be told: it has no cancel): expected, not a stray.
      this.#cancelled.add(sentId);
      // A cancel that crossed its answer is never answered: keep the set bounded all the same.
      if (this.#cancelled.size > this.maxInFlight)
        this.#cancelled.delete(this.#cancelled.values().next().value as string);
      if (this.protocol !== 'legacy') writer.write(encodeLine({ type: 'cancel', id: sentId }, this.encoding));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let answer: WindowReply<string, UpstreamAnswer>;
    try {
      // A handed read's own timer (set when it arrived) always fires before this timeout, which only backs it up.
      // An inline callback, not a named one: tsx names every named closure it creates (a call per read).
      answer = await window.request(
        (id: string): void => {
          let line: Uint8Array;
          try {
            line =
              this.protocol === 'legacy'
                ? this.#legacyRequest(id, req)
                : encodeLine(readMessage(id, req, options.origin), this.encoding);
          } catch (error) {
            // Requests were validated by the codec on the way in, so this means a bug, but the read still gets
            // its one answer rather than an exception in the relay's message handler.
            ids.release(id);
            const reason = error instanceof Error ? error.message : String(error);
            throw new UnsendableRead(`cannot forward the read: ${reason}`);
          }
          sentId = id;
          writer.write(line);
          // The window took this read out of its queue (or never queued it): the next turn may go in.
          if (this.#waiting.size > 0) this.#pumpWaiting();
        },
        {
          timeoutMs: this.readTimeoutMs,
          timeoutFrom: 'request',
          signal: handed ? handed.withdrawal?.signal : signal,
        },
      );
    } catch (error) {
      if ((signal?.aborted && error === signal.reason) || (handed !== undefined && error === CALLER_WITHDREW))
        return this.#localError(sentId, req, 'CANCELLED', WITHDRAWN);
      if (handed !== undefined && error === TIMED_OUT) {
        return this.#failure(
          new RequestWindowError('WINDOW_TIMEOUT', 'the read timed out'),
          req,
          sentId,
          window,
        );
      }
      return this.#failure(error, req, sentId, window);
    } finally {
      settled = true;
      signal?.removeEventListener('abort', onAbort);
    }
    return answer.reply;
  }

  /** A read's failure as its one local `error` answer. */
  #failure(
    error: unknown,
    req: UpstreamRead,
    id: string | undefined,
    window: RequestWindow<string, UpstreamAnswer>,
  ): ReadError {
    if (error instanceof UnsendableRead) return this.#localError(id, req, 'BAD_REQUEST', error.message);
    if (error instanceof LinkDown) {
      return this.#localError(
        id,
        req,
        'MASTER_UNAVAILABLE',
        `lost the master station at ${this.address} before it answered (${error.message})`,
      );
    }
    if (error instanceof RequestWindowError && error.code === 'WINDOW_TIMEOUT') {
      const where =
        id !== undefined ? 'from the master' : `(queued behind ${window.inFlight} reads at the master)`;
      return this.#localError(id, req, 'TIMEOUT', `no answer ${where} within ${this.readTimeoutMs} ms`);
    }
    if (error instanceof RequestWindowError && error.code === 'WINDOW_FULL') {
      return this.#localError(id, req, 'QUEUE_FULL', `${error.message} (maxPendingUpstream)`);
    }
    const reason = error instanceof Error ? error.message : String(error);
    return this.#localError(id, req, 'MASTER_UNAVAILABLE', `the master link failed: ${reason}`);
  }

  #localError(id: string | undefined, req: UpstreamRead, code: string, message: string): ReadError {
    return {
      type: 'error',
      id: id ?? `local-${++this.#localSeq}`,
      code,
      message,
      concentrator: req.concentrator,
      meter: req.meter,
    };
  }

  #unavailableText(): string {
    const retry =
      this.#state === 'waiting'
        ? `; retrying in ${Math.max(0, Math.ceil((this.#retryAt - this.#clock.now()) / 1000))} s`
        : this.#state === 'connecting'
          ? '; connecting'
          : '';
    return `the master station at ${this.address} is not connected (${this.#lastProblem}${retry})`;
  }

  #connect(): void {
    this.#state = 'connecting';
    this.#retryTimer = undefined;
    const link = this.#makeLink();
    this.#link = link;
    let problem = '';
    link.on('error', (error) => {
      problem = error.message;
    });
    link.open().then(
      () => this.#up(link, () => problem),
      (error: unknown) => {
        if (this.#link !== link) return;
        this.#down(link, error instanceof Error ? error.message : String(error), false);
      },
    );
  }

  #up(link: Link, problem: () => string): void {
    if (this.#link !== link) {
      void link.close().catch(() => {}); // stopped while connecting
      return;
    }
    this.#legacyWaiting = new Map();
    this.#legacyKeyOf = new Map();
    this.#cancelled = new Set();
    const ids = new CappedIds(this.maxInFlight, (id) => {
      this.#legacyForget(id);
      this.#cancelled.delete(id);
      this.#log({
        level: 'warn',
        event: 'master-no-answer',
        message: `the master never answered read ${id}; its slot is freed`,
        fields: { id },
      });
    });
    const window = new RequestWindow<string, UpstreamAnswer>({
      ids,
      window: this.maxInFlight,
      maxQueued: this.maxPending,
      // A timed-out request keeps its slot for one more readTimeoutMs unless the master answers it first.
      quarantineMs: this.readTimeoutMs,
      clock: this.#clock,
    });
    if (this.protocol === 'legacy') {
      const splitter = createLegacyStreamSplitter({
        maxObjectBytes: this.#maxLineLength,
        charset: this.encoding === 'utf8' ? 'utf8' : 'gb2312',
        onDropped: ({ error }) => this.#badLine(window, ids, error.code, error.message, undefined),
      });
      link.on('data', (chunk) => {
        for (const bytes of splitter.push(chunk)) this.#legacyAnswer(window, ids, bytes);
      });
    } else {
      const decoder = new NdjsonDecoder({ maxLineLength: this.#maxLineLength, charset: this.encoding });
      link.on('data', (chunk) => {
        for (const event of decoder.push(chunk)) {
          if (event.kind === 'message') this.#message(window, ids, event.message);
          else this.#badLine(window, ids, event.error.code, event.error.message, event.id);
        }
      });
    }
    link.once('close', () => this.#down(link, problem() || 'the master closed the connection', true));
    // A write the link refuses (its buffer full: the master stopped reading) or loses ends the connection.
    this.#writer = new CoalescedWriter(link, () => void link.close().catch(() => {}));
    this.#window = window;
    this.#ids = ids;
    this.#state = 'up';
    // The back-off is not reset here: a master that accepts and closes at once (restarting behind its listener,
    // or out of client slots) would otherwise be hammered every `initialMs`. It resets on the first valid answer.
    this.#log({
      level: 'info',
      event: 'master-up',
      message: `connected to the master station at ${this.address} (${this.protocol === 'legacy' ? 'legacy, ' : ''}${this.encoding})`,
      fields: { master: this.address, protocol: this.protocol, encoding: this.encoding },
    });
    this.emit('up');
  }

  #down(link: Link, reason: string, wasUp: boolean): void {
    if (this.#link !== link) return;
    this.#link = undefined;
    const window = this.#window;
    this.#window = undefined;
    this.#ids = undefined;
    this.#writer = undefined;
    this.#lastProblem = reason;
    window?.close(new LinkDown(reason));
    this.#failWaiting(reason);
    if (this.#state === 'stopped') return;
    const delay = this.#backoff.next();
    this.#state = 'waiting';
    this.#retryAt = this.#clock.now() + delay;
    this.#log({
      level: wasUp ? 'warn' : 'info',
      event: wasUp ? 'master-down' : 'master-retry',
      message: `${wasUp ? 'lost' : 'cannot reach'} the master station at ${this.address} (${reason}); retrying in ${delay} ms`,
      fields: { master: this.address, reason, retryInMs: delay, attempt: this.#backoff.attempt },
    });
    this.emit('down', reason);
    this.#retryTimer = this.#clock.setTimeout(() => this.#connect(), delay);
  }

  /** The master answered `id`: frees its slot and delivers the answer if the read still waits. */
  #settle(
    window: RequestWindow<string, UpstreamAnswer>,
    ids: CappedIds,
    id: string,
    answer: UpstreamAnswer,
  ): boolean {
    ids.release(id); // the master is done with it, whether the read still waits or timed out here
    this.#legacyForget(id);
    return window.settle(id, answer) === 'settled';
  }

  #message(window: RequestWindow<string, UpstreamAnswer>, ids: CappedIds, msg: AnyPointReadMessage): void {
    if (!('type' in msg) || msg.type === 'read' || msg.type === 'cancel' || msg.id === undefined) {
      this.#badLine(
        window,
        ids,
        'BAD_MESSAGE',
        'the master sent something that is not an answer with an id',
        undefined,
      );
      return;
    }
    // A valid answer is the proof of a working master (issue 13 item 4): only now does the schedule start over.
    this.#backoff.reset();
    const expected = this.#cancelled.delete(msg.id); // the answer to a read withdrawn here: nobody waits for it
    if (!this.#settle(window, ids, msg.id, msg) && !expected) {
      // Usually the answer to a read that already timed out here; harmless, but worth seeing in the log.
      this.#log({
        level: 'warn',
        event: 'master-stray-answer',
        message: `answer for unknown or timed-out read ${msg.id} from the master ignored`,
        fields: { id: msg.id },
      });
    }
  }

  /** Legacy: the flat request for `req`, its id queued under its concentrator/meter for the answer to find. */
  #legacyRequest(id: string, req: UpstreamRead): Uint8Array {
    const bytes = encodeLegacyFlatRequest(req, this.encoding);
    const key = legacyKey(req.concentrator, req.meter);
    const waiting = this.#legacyWaiting.get(key);
    if (waiting) waiting.push(id);
    else this.#legacyWaiting.set(key, [id]);
    this.#legacyKeyOf.set(id, key);
    return bytes;
  }

  #legacyForget(id: string): void {
    const key = this.#legacyKeyOf.get(id);
    if (key === undefined) return;
    this.#legacyKeyOf.delete(id);
    const waiting = this.#legacyWaiting.get(key);
    if (!waiting) return;
    const at = waiting.indexOf(id);
    if (at >= 0) waiting.splice(at, 1);
    if (waiting.length === 0) this.#legacyWaiting.delete(key);
  }

  /** Legacy: one flat answer object; it answers the oldest read of its concentrator/meter still at the master. */
  #legacyAnswer(window: RequestWindow<string, UpstreamAnswer>, ids: CappedIds, bytes: Uint8Array): void {
    let value: unknown;
    try {
      value = JSON.parse(decodeText(bytes, this.encoding));
    } catch (error) {
      if (!(error instanceof ProtocolError) && !(error instanceof SyntaxError)) throw error;
      const code = error instanceof ProtocolError ? error.code : 'BAD_JSON';
      this.#badLine(window, ids, code, error.message, undefined);
      return;
    }
    let decoded: ReturnType<typeof decodeLegacyFlatAnswer>;
    try {
      decoded = decodeLegacyFlatAnswer(value);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      // An answer that names its meter but is wrong otherwise answers that meter's oldest read BAD_REPLY.
      const o = value as { ConcentratorNo?: unknown; WaterMtrAddress?: unknown } | null;
      const named =
        typeof o?.ConcentratorNo === 'string' && typeof o.WaterMtrAddress === 'string'
          ? this.#legacyWaiting.get(legacyKey(o.ConcentratorNo, o.WaterMtrAddress))?.[0]
          : undefined;
      this.#badLine(window, ids, error.code, error.message, named);
      return;
    }
    this.#backoff.reset(); // a valid answer: the master works (see #message)
    const key = legacyKey(decoded.concentrator, decoded.meter);
    const id = this.#legacyWaiting.get(key)?.[0];
    const expected = id !== undefined && this.#cancelled.delete(id); // a withdrawn read's answer
    if (
      id === undefined ||
      (!this.#settle(window, ids, id, { ...decoded.answer, id } as UpstreamAnswer) && !expected)
    ) {
      this.#log({
        level: 'warn',
        event: 'master-stray-answer',
        message: `answer for ${decoded.concentrator}/${decoded.meter}, which no read waits for, ignored`,
        fields: { concentrator: decoded.concentrator, meter: decoded.meter },
      });
    }
  }

  /** A line that is not a valid answer. If it names a waiting read, that read is answered BAD_REPLY. */
  #badLine(
    window: RequestWindow<string, UpstreamAnswer>,
    ids: CappedIds,
    code: string,
    problem: string,
    id: string | undefined,
  ): void {
    const settled =
      id !== undefined &&
      this.#settle(window, ids, id, {
        type: 'error',
        id,
        code: 'BAD_REPLY',
        message: `the master's answer is not a valid point-read message: ${problem}`,
      });
    this.#log({
      level: 'warn',
      event: 'master-bad-line',
      message: `bad line from the master (${code}: ${problem})${settled ? `; read ${id} answered BAD_REPLY` : ''}`,
      fields: { code, problem, id },
    });
  }
}

/**
 * The legacy pairing key: the concentrator as written and the meter without leading zeros (a clientserver may
 * answer the 14-digit padded address for the short one asked, or the other way round).
 */
function legacyKey(concentrator: string, meter: string): string {
  return `${concentrator}/${meter.replace(/^0+(?=.)/, '')}`;
}

/** A read waiting for its turn (see {@link MasterLink.#wait}). */
interface WaitingRead {
  readonly req: UpstreamRead;
  readonly options: UpstreamReadOptions;
  readonly origin: string;
  readonly resolve: (answer: UpstreamAnswer) => void;
  /** Its own timeout, from its arrival. */
  timer: TimerHandle | undefined;
  /** Listens to the caller's signal. */
  onAbort: (() => void) | undefined;
  /** Once handed to the window: withdraws it from there (its timeout, or its caller's signal). */
  withdrawal: Withdrawal | undefined;
}

/** Why a handed read was withdrawn from the window. */
const TIMED_OUT = Symbol('timed out');
const CALLER_WITHDREW = Symbol('withdrawn by its caller');

/** The message of a read withdrawn by its caller's signal. */
const WITHDRAWN = 'the read was withdrawn: no client waits for it any more';

/** A read that cannot be encoded (a bug: requests are validated on the way in): answered BAD_REQUEST. */
class UnsendableRead extends Error {}

/** The `read` line for the master, built field by field (no spread: it runs once per read). */
function readMessage(id: string, req: UpstreamRead, origin: string | undefined): ReadRequest {
  const msg: ReadRequest = { type: 'read', id, concentrator: req.concentrator, meter: req.meter };
  if (req.protocol !== undefined) msg.protocol = req.protocol;
  if (req.port !== undefined) msg.port = req.port;
  if (origin !== undefined) msg.origin = origin;
  return msg;
}
