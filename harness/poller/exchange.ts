import { bytesToHex, concatBytes } from '../../protocols/bytes.ts';
import type { FrameDecoder } from '../../protocols/decode-result.ts';
import { FrameAccumulator, type FramerEvent } from '../../protocols/framer.ts';
import { type ReadFailureCode, replyHex } from '../../protocols/meter-protocol.ts';
import type { Clock } from '../../simulator/clock/clock.ts';
import { realClock } from '../../simulator/clock/real-clock.ts';
import type { Link } from '../../simulator/link/link.ts';
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
}

/**
 * Sends requests on a link and waits for their replies. One exchange at a time: a second call waits for the
 * first to finish (a half-duplex bus has one conversation at a time). Each attempt starts with an empty
 * framer, so bytes left from an earlier attempt (a cut-short reply) cannot spoil the next.
 */
export class FrameExchange<F> {
  readonly link: Link;
  readonly clock: Clock;
  readonly #decode: FrameDecoder<F>;
  readonly #maxBufferedBytes: number;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(link: Link, decode: FrameDecoder<F>, options: FrameExchangeOptions = {}) {
    this.link = link;
    this.clock = options.clock ?? realClock;
    this.#decode = decode;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 512;
  }

  /**
   * Runs attempts until one is accepted, the judge returns a non-retryable error, or the retries are used up.
   * `makeAttempt(n)` (n = 1, 2, …) builds each attempt, so a retry can use a new sequence number.
   * @throws PollError (the last attempt's, with `attempts` set); LinkError when the link fails.
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
    const run = async (): Promise<ExchangeResult<F>> => {
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
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  #attempt(
    attempt: ExchangeAttempt<F>,
    timeoutMs: number,
    target: string,
  ): Promise<Omit<ExchangeResult<F>, 'attempts'>> {
    const sentHex = bytesToHex(attempt.bytes);
    const accumulator = new FrameAccumulator<F>(this.#decode, { maxBufferedBytes: this.#maxBufferedBytes });
    const link = this.link;
    const clock = this.clock;
    return new Promise((resolve, reject) => {
      let ignored = 0;
      /** Bytes that formed no frame at all (noise, a collision): kept to explain a timeout. */
      const garbage: Uint8Array[] = [];
      let startedAt = clock.now();
      let timer: ReturnType<Clock['setTimeout']> | undefined;
      let done = false;
      const finish = (outcome: { ok: Omit<ExchangeResult<F>, 'attempts'> } | { error: Error }) => {
        if (done) return;
        done = true;
        link.off('data', onData);
        link.off('close', onClose);
        if (timer !== undefined) clock.clearTimeout(timer);
        if ('ok' in outcome) resolve(outcome.ok);
        else reject(outcome.error);
      };
      const handle = (events: FramerEvent<F>[]) => {
        for (const event of events) {
          if (done) return;
          if (event.kind === 'dropped') {
            // Line noise before a reply (no start byte in it) is normal on a bus; a frame that fails its
            // checks is a bad reply.
            if (event.error.code === 'NO_START') {
              garbage.push(event.bytes);
              continue;
            }
            const code = event.error.code === 'BAD_CHECKSUM' ? 'BAD_CHECKSUM' : 'BAD_REPLY';
            finish({
              error: new PollError(
                code,
                `bad reply from ${target}: ${event.error.message}; sent ${sentHex}`,
                {
                  sent: sentHex,
                  received: bytesToHex(event.bytes),
                  protocolCode: event.error.code,
                  detail: { reason: code, reply: replyHex(event.bytes) },
                },
              ),
            });
            return;
          }
          const verdict = attempt.judge(event.frame, event.raw);
          if (verdict === 'ignore') {
            ignored++;
          } else if (verdict === 'accept') {
            finish({
              ok: {
                frame: event.frame,
                raw: event.raw,
                sent: attempt.bytes,
                elapsedMs: clock.now() - startedAt,
                ignored,
              },
            });
          } else {
            finish({
              error: new PollError(verdict.code, verdict.message, {
                sent: sentHex,
                received: verdict.received ?? bytesToHex(event.raw),
                protocolCode: verdict.protocolCode,
                frame: verdict.frame ?? event.frame,
                detail: verdict.detail ?? {
                  reason: verdict.code as ReadFailureCode,
                  reply: replyHex(event.raw),
                },
              }),
            });
          }
        }
      };
      const onData = (bytes: Uint8Array) => handle(accumulator.push(bytes));
      const onClose = () =>
        finish({
          error: new PollError('METER_TIMEOUT', `${link.description} closed while waiting for ${target}`, {
            sent: sentHex,
            detail: { reason: 'METER_TIMEOUT' },
          }),
        });
      const onTimeout = () => {
        const held = accumulator.buffered;
        handle(accumulator.flush());
        if (done) return;
        const junk = garbage.reduce((n, g) => n + g.length, 0);
        if (junk > 0) {
          const received = bytesToHex(concatBytes(garbage).subarray(0, 64));
          finish({
            error: new PollError(
              'BAD_REPLY',
              `no valid reply from ${target} within ${timeoutMs} ms, only ${junk} bytes that form no frame (line noise or a collision): ${received}${junk > 64 ? ' …' : ''}; sent ${sentHex}`,
              {
                sent: sentHex,
                received,
                protocolCode: 'NO_START',
                detail: { reason: 'BAD_REPLY', reply: received },
              },
            ),
          });
          return;
        }
        const partial = held > 0 ? ` (${held} bytes of an unfinished frame received)` : '';
        finish({
          error: new PollError(
            'METER_TIMEOUT',
            `no reply from ${target} within ${timeoutMs} ms${partial}; sent ${sentHex}`,
            { sent: sentHex, detail: { reason: 'METER_TIMEOUT' } },
          ),
        });
      };
      link.on('data', onData);
      link.on('close', onClose);
      startedAt = clock.now();
      link.write(attempt.bytes).then(
        () => {
          if (!done) timer = clock.setTimeout(onTimeout, timeoutMs);
        },
        (error: unknown) => finish({ error: error instanceof Error ? error : new Error(String(error)) }),
      );
    });
  }
}
