import { bytesToHex, concatBytes } from '../../protocols/bytes.ts';
import type { FrameDecoder } from '../../protocols/decode-result.ts';
import { FrameAccumulator, type FramerEvent } from '../../protocols/framer.ts';
import { type ReadFailureCode, replyHex } from '../../protocols/meter-protocol.ts';
import type { Clock } from '../../simulator/clock/clock.ts';
import { realClock } from '../../simulator/clock/real-clock.ts';
import type { Link } from '../../simulator/link/link.ts';
import { RequestWindow, RequestWindowError, singleId } from '../../simulator/window/index.ts';
import { PollError } from './poll-error.ts';

/**
 * The request/reply exchange of a master on a meter bus, separate from any protocol: send bytes, then wait
 * for the first frame a judge accepts, within a timeout, with retries. The meter poller uses it; so can a
 * concentrator's port.
 * @packageDocumentation
 */

/** What a judge says about a frame heard during an exchange. */
export type ReplyVerdict = 'accept' | 'ignore' | PollError;

/** One attempt: the bytes to send and how to judge what comes back. */
export interface ExchangeAttempt<F> {
  bytes: Uint8Array;
  /**
   * Judges each whole frame heard after the request was sent: `'accept'` ends the exchange with it,
   * `'ignore'` keeps waiting (our own echo, a stale reply, another master's traffic), a PollError ends the
   * attempt with that error.
   */
  judge: (frame: F, raw: Uint8Array) => ReplyVerdict;
}

/** The reply an exchange accepted. */
export interface ExchangeResult<F> {
  frame: F;
  /** The reply's bytes as received (preamble included). */
  raw: Uint8Array;
  /** The request bytes of the attempt that succeeded. */
  sent: Uint8Array;
  /** Requests sent (1 + retries used). */
  attempts: number;
  /** Clock time from the successful attempt's write to the reply, ms. */
  elapsedMs: number;
  /** Frames heard and ignored during the exchange. */
  ignored: number;
}

/** Options of {@link FrameExchange.exchange}. */
export interface ExchangeOptions {
  /** How long to wait for a reply after the request has been written, ms. @defaultValue 2000 */
  timeoutMs?: number;
  /** Further attempts after a retryable failure (timeout, bad reply). @defaultValue 2 */
  retries?: number;
  /** What the request was for, in messages ("meter 00000000101001"). @defaultValue 'the meter' */
  target?: string;
}

/** Options of {@link FrameExchange}. */
export interface FrameExchangeOptions {
  /** @defaultValue realClock */
  clock?: Clock;
  /** Bound of the reply framer's buffer. @defaultValue 512 */
  maxBufferedBytes?: number;
  /** Attempts that may wait for the bus behind the one on the wire; one more fails at once with BUSY. @defaultValue 64 */
  maxQueued?: number;
  /**
   * After an attempt timed out, how long the bus stays reserved for its late reply before the next attempt may
   * go (simulator/window "Why quarantine"); a late reply that arrives within it ends the wait at once. 0, the
   * default, sends the next attempt at once: a retry repeats the same request, so a late reply to the last
   * attempt is a right answer to it, and the judge refuses a reply from another address.
   * @defaultValue 0
   */
  quarantineMs?: number;
}

/** The accepted reply, as the window settles it (the exchange adds `attempts`). */
type Accepted<F> = Omit<ExchangeResult<F>, 'attempts'>;

/** One attempt on the wire: its framer, what it heard, and how to judge it. */
interface OnTheWire<F> {
  readonly attempt: ExchangeAttempt<F>;
  readonly target: string;
  readonly sentHex: string;
  readonly accumulator: FrameAccumulator<F>;
  /** Bytes that formed no frame at all (noise, a collision): kept to explain a timeout. */
  readonly garbage: Uint8Array[];
  ignored: number;
  startedAt: number;
}

/**
 * Sends requests on a link and waits for their replies, one attempt on the bus at a time (a half-duplex bus has
 * one conversation at a time). The attempts are requests of a {@link RequestWindow} with one id — the bus — so
 * the queue is bounded (BUSY), the timeout starts when the request has left (`timeoutFrom: 'sent'`), and a
 * timed-out attempt can hold the bus for its late reply (`quarantineMs`). Each attempt starts with an empty
 * framer, so bytes left from an earlier attempt (a cut-short reply) cannot spoil the next.
 */
export class FrameExchange<F> {
  readonly link: Link;
  readonly clock: Clock;
  readonly #decode: FrameDecoder<F>;
  readonly #maxBufferedBytes: number;
  readonly #window: RequestWindow<'only', Accepted<F>>;
  /** The attempt on the wire, which hears every byte the link receives. */
  #current: OnTheWire<F> | undefined;
  /** The last attempt that timed out, whose late reply releases the bus early (with `quarantineMs`). */
  #late: OnTheWire<F> | undefined;

  constructor(link: Link, decode: FrameDecoder<F>, options: FrameExchangeOptions = {}) {
    this.link = link;
    this.clock = options.clock ?? realClock;
    this.#decode = decode;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 512;
    this.#window = new RequestWindow<'only', Accepted<F>>({
      ids: singleId(),
      window: 1,
      maxQueued: options.maxQueued ?? 64,
      quarantineMs: options.quarantineMs ?? 0,
      clock: this.clock,
    });
  }

  readonly #onData = (bytes: Uint8Array): void => this.#receive(bytes);
  readonly #onClose = (): void => {
    const wire = this.#current;
    if (!wire) return;
    this.#window.fail(
      'only',
      new PollError('METER_TIMEOUT', `${this.link.description} closed while waiting for ${wire.target}`, {
        sent: wire.sentHex,
        detail: { reason: 'METER_TIMEOUT' },
      }),
    );
  };
  #listening = false;

  /** Hears the link only while an attempt is on the wire or a timed-out one holds the bus for its late reply. */
  #listen(on: boolean): void {
    if (on === this.#listening) return;
    this.#listening = on;
    if (on) {
      this.link.on('data', this.#onData);
      this.link.on('close', this.#onClose);
    } else {
      this.link.off('data', this.#onData);
      this.link.off('close', this.#onClose);
    }
  }

  /**
   * Runs attempts until one is accepted, the judge returns a non-retryable error, or the retries are used up.
   * `makeAttempt(n)` (n = 1, 2, …) builds each attempt, so a retry can use a new sequence number.
   * @throws PollError (the last attempt's, with `attempts` set; BUSY when the queue is full); LinkError when
   *   the link fails.
   */
  exchange(
    makeAttempt: (attempt: number) => ExchangeAttempt<F>,
    options: ExchangeOptions = {},
  ): Promise<ExchangeResult<F>> {
    const { timeoutMs = 2000, retries = 2, target = 'the meter' } = options;
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) {
      throw new TypeError(`"timeoutMs" must be a positive number, got ${String(timeoutMs)}`);
    }
    if (!Number.isInteger(retries) || retries < 0) {
      throw new TypeError(`"retries" must be an integer >= 0, got ${String(retries)}`);
    }
    return (async (): Promise<ExchangeResult<F>> => {
      let last: PollError | undefined;
      let attempts = 0;
      for (let attempt = 1; attempt <= retries + 1; attempt++) {
        attempts = attempt;
        try {
          const result = await this.#attempt(makeAttempt(attempt), timeoutMs, target);
          return { ...result, attempts: attempt };
        } catch (error) {
          if (!(error instanceof PollError)) throw error;
          last = error;
          if (!error.retryable) break;
        }
      }
      const error = last as PollError;
      const suffix = attempts > 1 ? ` (${attempts} attempts)` : '';
      throw new PollError(error.code, `${error.message}${suffix}`, {
        sent: error.sent,
        received: error.received,
        protocolCode: error.protocolCode,
        frame: error.frame,
        detail: error.detail,
        attempts,
      });
    })();
  }

  async #attempt(attempt: ExchangeAttempt<F>, timeoutMs: number, target: string): Promise<Accepted<F>> {
    const wire: OnTheWire<F> = {
      attempt,
      target,
      sentHex: bytesToHex(attempt.bytes),
      accumulator: new FrameAccumulator<F>(this.#decode, { maxBufferedBytes: this.#maxBufferedBytes }),
      garbage: [],
      ignored: 0,
      startedAt: 0,
    };
    const send = (): Promise<void> => {
      this.#current = wire;
      this.#late = undefined;
      this.#listen(true);
      wire.startedAt = this.clock.now();
      return this.link.write(attempt.bytes);
    };
    try {
      const { reply } = await this.#window.request(send, { timeoutMs, timeoutFrom: 'sent' });
      return reply;
    } catch (error) {
      throw this.#attemptError(error, wire, timeoutMs);
    } finally {
      if (this.#current === wire) this.#current = undefined;
      if (this.#current === undefined && this.#late === undefined) this.#listen(false);
    }
  }

  /** Bytes from the bus: to the attempt on the wire, or to a timed-out attempt's late reply. */
  #receive(bytes: Uint8Array): void {
    const wire = this.#current;
    if (wire) {
      this.#judge(wire, wire.accumulator.push(bytes));
      return;
    }
    const late = this.#late;
    if (!late) return;
    for (const event of late.accumulator.push(bytes)) {
      if (event.kind === 'frame' && late.attempt.judge(event.frame, event.raw) === 'accept') {
        this.#late = undefined;
        if (this.#current === undefined) this.#listen(false);
        this.#window.settle('only', {
          frame: event.frame,
          raw: event.raw,
          sent: late.attempt.bytes,
          elapsedMs: 0,
          ignored: 0,
        });
        return;
      }
    }
  }

  /** Judges what the attempt on the wire heard; settles or fails the window's request when it decides. */
  #judge(wire: OnTheWire<F>, events: FramerEvent<F>[]): void {
    for (const event of events) {
      if (this.#current !== wire) return;
      const outcome = this.#verdict(wire, event);
      if (outcome === undefined) continue;
      if (outcome instanceof PollError) this.#window.fail('only', outcome);
      else this.#window.settle('only', outcome);
      return;
    }
  }

  /** One framer event's meaning for the attempt: accepted, an error, or nothing yet (undefined). */
  #verdict(wire: OnTheWire<F>, event: FramerEvent<F>): Accepted<F> | PollError | undefined {
    if (event.kind === 'dropped') {
      // Line noise before a reply (no start byte in it) is normal on a bus; a frame that fails its checks is a
      // bad reply.
      if (event.error.code === 'NO_START') {
        wire.garbage.push(event.bytes);
        return undefined;
      }
      const code = event.error.code === 'BAD_CHECKSUM' ? 'BAD_CHECKSUM' : 'BAD_REPLY';
      return new PollError(
        code,
        `bad reply from ${wire.target}: ${event.error.message}; sent ${wire.sentHex}`,
        {
          sent: wire.sentHex,
          received: bytesToHex(event.bytes),
          protocolCode: event.error.code,
          detail: { reason: code, reply: replyHex(event.bytes) },
        },
      );
    }
    const verdict = wire.attempt.judge(event.frame, event.raw);
    if (verdict === 'ignore') {
      wire.ignored++;
      return undefined;
    }
    if (verdict === 'accept') {
      return {
        frame: event.frame,
        raw: event.raw,
        sent: wire.attempt.bytes,
        elapsedMs: this.clock.now() - wire.startedAt,
        ignored: wire.ignored,
      };
    }
    return new PollError(verdict.code, verdict.message, {
      sent: wire.sentHex,
      received: verdict.received ?? bytesToHex(event.raw),
      protocolCode: verdict.protocolCode,
      frame: verdict.frame ?? event.frame,
      detail: verdict.detail ?? { reason: verdict.code as ReadFailureCode, reply: replyHex(event.raw) },
    });
  }

  /** The window's failures in the poller's terms: a timeout says what was heard, a full queue is BUSY. */
  #attemptError(error: unknown, wire: OnTheWire<F>, timeoutMs: number): unknown {
    if (!(error instanceof RequestWindowError)) return error;
    if (error.code === 'WINDOW_FULL') {
      return new PollError(
        'BUSY',
        `the bus is busy: ${this.#window.queued} exchanges already wait for ${wire.target}'s turn (maxQueued)`,
      );
    }
    if (error.code !== 'WINDOW_TIMEOUT') return error;
    if (this.#window.isQuarantined('only')) this.#late = wire;
    // What the framer still holds decides between a cut-short reply and silence.
    const held = wire.accumulator.buffered;
    for (const event of wire.accumulator.flush()) {
      const outcome = this.#verdict(wire, event);
      if (outcome instanceof PollError) return outcome;
    }
    const junk = wire.garbage.reduce((n, g) => n + g.length, 0);
    if (junk > 0) {
      const received = bytesToHex(concatBytes(wire.garbage).subarray(0, 64));
      return new PollError(
        'BAD_REPLY',
        `no valid reply from ${wire.target} within ${timeoutMs} ms, only ${junk} bytes that form no frame (line noise or a collision): ${received}${junk > 64 ? ' …' : ''}; sent ${wire.sentHex}`,
        {
          sent: wire.sentHex,
          received,
          protocolCode: 'NO_START',
          detail: { reason: 'BAD_REPLY', reply: received },
        },
      );
    }
    const partial = held > 0 ? ` (${held} bytes of an unfinished frame received)` : '';
    return new PollError(
      'METER_TIMEOUT',
      `no reply from ${wire.target} within ${timeoutMs} ms${partial}; sent ${wire.sentHex}`,
      { sent: wire.sentHex, detail: { reason: 'METER_TIMEOUT' } },
    );
  }
}
