import { FrameAccumulator } from '../../../protocols/framer.ts';
import type { Clock } from '../../../simulator/clock/clock.ts';
import type { Link } from '../../../simulator/link/link.ts';
import { wireTimeMs } from '../../../simulator/link/serial-settings.ts';
import { Trace } from '../trace.ts';
import { describeMeterFrame, type MeterFrame, type MeterSuiteProtocol, meterDecoder } from './meter-wire.ts';

/**
 * The reader's side of a meter suite: sends requests on the link to the meter under test (whole, in chunks with
 * gaps, or byte by byte), frames what comes back with the protocol's decoder, and writes every byte both ways
 * into the current case's {@link Trace}. All waiting is on the suite's clock (the real clock on a real link, a
 * virtual one when the device is meterlab's own in a test).
 * @packageDocumentation
 */

/** A frame heard from the device. */
export interface HeardFrame {
  frame: MeterFrame;
  raw: Uint8Array;
  /** Clock time the chunk that completed it arrived. */
  at: number;
}

/** How to put a request on the line. */
export interface SendOptions {
  /** Sizes of consecutive chunks (the rest goes in a last chunk); `'bytes'` sends one byte per chunk. */
  chunks?: readonly number[] | 'bytes';
  /** Pause between chunks, ms. @defaultValue 0 */
  gapMs?: number;
  /** What the request is, when the bytes are not a frame on purpose ("checksum off by one"). */
  label?: string;
}

/** What one request brought back. */
export interface ExchangeOutcome {
  /** The first frame heard after the request, if any came within the wait. */
  reply?: HeardFrame;
  /** Further frames heard while listening after the reply (a duplicate, a stray frame). */
  extra: HeardFrame[];
  /** Clock time the request's last chunk was handed to the link. */
  writtenAt: number;
  /** Clock time the first chunk was handed to the link. */
  startedAt: number;
}

/** Options of {@link MeterSession}. */
export interface MeterSessionOptions {
  protocol: MeterSuiteProtocol;
  /** How long to wait for a reply, ms. */
  timeoutMs: number;
  /** How long to listen after a reply for another frame, ms (0 = do not listen). */
  settleMs: number;
}

/** The open link to the device under test, with a framer and the current case's trace. */
export class MeterSession {
  readonly link: Link;
  readonly clock: Clock;
  readonly protocol: MeterSuiteProtocol;
  readonly timeoutMs: number;
  readonly settleMs: number;
  trace: Trace;
  #accumulator: FrameAccumulator<MeterFrame>;
  readonly #heard: HeardFrame[] = [];
  readonly #wake = new Set<() => void>();
  #lastDataAt = Number.NEGATIVE_INFINITY;
  readonly #onData = (bytes: Uint8Array) => this.#receive(bytes);

  constructor(link: Link, clock: Clock, options: MeterSessionOptions) {
    this.link = link;
    this.clock = clock;
    this.protocol = options.protocol;
    this.timeoutMs = options.timeoutMs;
    this.settleMs = options.settleMs;
    this.trace = new Trace(clock);
    this.#accumulator = this.#newAccumulator();
    link.on('data', this.#onData);
  }

  /** Starts a fresh trace and framer for the next case (a partial frame left by the last case is dropped). */
  beginCase(): Trace {
    this.#accumulator = this.#newAccumulator();
    this.#heard.length = 0;
    this.trace = new Trace(this.clock);
    return this.trace;
  }

  /** Stops listening to the link (does not close it). */
  detach(): void {
    this.link.off('data', this.#onData);
  }

  /** Wire time of `n` bytes at the link's line settings, ms (0 for links without them). */
  wireTimeMs(n: number): number {
    return this.link.settings ? wireTimeMs(n, this.link.settings) : 0;
  }

  /** Sends `bytes` as one write or in chunks with pauses, and traces it decoded. */
  async send(
    bytes: Uint8Array,
    options: SendOptions = {},
  ): Promise<{ startedAt: number; writtenAt: number }> {
    this.trace.add('sent', options.label ?? this.#describeSent(bytes), bytes);
    const chunks = splitChunks(bytes, options.chunks);
    if (chunks.length > 1) {
      this.trace.note(`sent in ${chunks.length} chunks, ${options.gapMs ?? 0} ms apart`);
    }
    const startedAt = this.clock.now();
    for (let i = 0; i < chunks.length; i++) {
      if (i > 0 && (options.gapMs ?? 0) > 0) await this.clock.sleep(options.gapMs ?? 0);
      await this.link.write(chunks[i]);
    }
    return { startedAt, writtenAt: this.clock.now() };
  }

  /**
   * Sends a request and waits up to `timeoutMs` for the first frame; after one, listens `settleMs` more for
   * extra frames. A wait that ends with nothing is traced as silence.
   */
  async exchange(
    bytes: Uint8Array,
    options: SendOptions & { timeoutMs?: number; settleMs?: number } = {},
  ): Promise<ExchangeOutcome> {
    const mark = this.#heard.length;
    const { startedAt, writtenAt } = await this.send(bytes, options);
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    await this.#waitFor(() => this.#heard.length > mark, timeoutMs);
    const reply = this.#heard[mark];
    if (!reply) {
      this.trace.add('silence', `nothing heard for ${timeoutMs} ms`);
      return { extra: [], startedAt, writtenAt };
    }
    const settleMs = options.settleMs ?? this.settleMs;
    if (settleMs > 0) await this.#waitFor(() => false, settleMs);
    return { reply, extra: this.#heard.slice(mark + 1), startedAt, writtenAt };
  }

  /** Listens for `ms` and returns every frame heard meanwhile (traced as silence when none). */
  async listen(ms: number): Promise<HeardFrame[]> {
    const mark = this.#heard.length;
    await this.#waitFor(() => false, ms);
    const heard = this.#heard.slice(mark);
    if (heard.length === 0) this.trace.add('silence', `nothing heard for ${ms} ms`);
    return heard;
  }

  /**
   * Waits until nothing has arrived for `ms` (at most `maxMs` in all), so the next case starts on a quiet
   * line: a late or repeated frame of the last case lands in that case's trace, not in the next one's.
   */
  async quiet(ms: number, maxMs: number): Promise<void> {
    const deadline = this.clock.now() + maxMs;
    for (;;) {
      const wait = this.#lastDataAt + ms - this.clock.now();
      if (wait <= 0 || this.clock.now() >= deadline) return;
      await this.clock.sleep(Math.min(wait, deadline - this.clock.now()));
    }
  }

  #newAccumulator(): FrameAccumulator<MeterFrame> {
    return new FrameAccumulator(meterDecoder(this.protocol), { maxBufferedBytes: 512 });
  }

  #receive(bytes: Uint8Array): void {
    const at = this.clock.now();
    this.#lastDataAt = at;
    for (const event of this.#accumulator.push(bytes)) {
      if (event.kind === 'dropped') {
        this.trace.add('dropped', `${event.error.code}: ${event.error.message}`, event.bytes);
        continue;
      }
      this.trace.add('received', describeMeterFrame(event.frame), event.raw);
      if (this.#heard.length < 64) this.#heard.push({ frame: event.frame, raw: event.raw, at });
    }
    for (const wake of this.#wake) wake();
  }

  #waitFor(done: () => boolean, ms: number): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        this.clock.clearTimeout(timer);
        this.#wake.delete(check);
        resolve();
      };
      const check = () => {
        if (done()) finish();
      };
      const timer = this.clock.setTimeout(finish, ms);
      this.#wake.add(check);
    });
  }

  #describeSent(bytes: Uint8Array): string {
    const result = meterDecoder(this.protocol)(bytes);
    if (result.kind === 'frame') {
      const rest = bytes.length - result.consumed;
      return describeMeterFrame(result.frame) + (rest > 0 ? ` (+${rest} more bytes)` : '');
    }
    if (result.kind === 'need-more') return 'an incomplete frame';
    return `not a frame: ${result.error.code}: ${result.error.message}`;
  }
}

function splitChunks(bytes: Uint8Array, chunks: SendOptions['chunks']): Uint8Array[] {
  if (chunks === undefined) return [bytes];
  if (chunks === 'bytes') return Array.from(bytes, (b) => Uint8Array.of(b));
  const out: Uint8Array[] = [];
  let at = 0;
  for (const size of chunks) {
    if (at >= bytes.length) break;
    out.push(bytes.slice(at, at + size));
    at += size;
  }
  if (at < bytes.length) out.push(bytes.slice(at));
  return out;
}
