import { concatBytes } from '../../../protocols/bytes.ts';
import { FrameAccumulator } from '../../../protocols/framer.ts';
import {
  decodeGdw376,
  encodeGdw376,
  GDW376_DEFAULT_MAX_BUFFERED_BYTES,
  type Gdw376Frame,
} from '../../../protocols/gdw376/index.ts';
import type { Clock, TimerHandle } from '../../../simulator/clock/clock.ts';
import type { Link } from '../../../simulator/link/link.ts';
import { describeGdw376Frame } from '../../master/frame-summary.ts';
import type { Trace } from '../trace.ts';

/**
 * One simulated concentrator's TCP connection to the master station under test: it writes 376.1 frames (whole,
 * split into pieces with pauses, or several in one write), frames what the master sends with the project's
 * 376.1 accumulator, and lets a case wait for the frame it expects or for the master to close the link. Every
 * frame sent or heard, every run of dropped bytes and the close go into the current case's trace.
 *
 * A probe does not answer anything by itself, except forward requests when a forward handler is set (the
 * active cases): what a case expects from the master is what the case sends.
 * @packageDocumentation
 */

/** A frame the master sent, with when it was heard (clock time). */
export interface HeardFrame {
  frame: Gdw376Frame;
  raw: Uint8Array;
  at: number;
}

/** Answers one forward request (AFN 10 F1) the master sent; resolves with the frames to send back, in order. */
export type ForwardHandler = (request: HeardFrame, probe: ConcentratorProbe) => Promise<void> | void;

/** Options of {@link ConcentratorProbe}. */
export interface ConcentratorProbeOptions {
  /** The open link to the master. The probe owns it and closes it in {@link ConcentratorProbe.close}. */
  link: Link;
  /** Names this connection in traces, e.g. `conc 0171/2082 #1`. */
  name: string;
  /** The terminal address (A2) this connection speaks for. */
  a2: number;
  clock: Clock;
  /** Where entries go: the trace of the case running now. */
  trace: () => Trace;
  /** Frames heard and not yet taken by a wait, kept at most. @defaultValue 64 */
  maxHeard?: number;
  /** Ctrl-C: every wait ends at once with {@link ProbeInterrupted}. */
  signal?: AbortSignal;
}

/** A wait ended by the run's abort signal (Ctrl-C); the runner grades the case skipped. */
export class ProbeInterrupted extends Error {
  constructor() {
    super('interrupted (Ctrl-C)');
  }
}

/** A simulated concentrator connection (see the file comment). */
export class ConcentratorProbe {
  readonly name: string;
  readonly a2: number;
  readonly link: Link;
  readonly #clock: Clock;
  readonly #trace: () => Trace;
  readonly #maxHeard: number;
  readonly #signal: AbortSignal | undefined;
  readonly #heard: HeardFrame[] = [];
  readonly #waiters = new Set<() => void>();
  #closedAt: number | undefined;
  #closing = false;
  #seq = 0;
  /** Forward requests go here instead of the heard queue when set. */
  onForward: ForwardHandler | undefined;

  constructor(options: ConcentratorProbeOptions) {
    this.name = options.name;
    this.a2 = options.a2;
    this.link = options.link;
    this.#clock = options.clock;
    this.#trace = options.trace;
    this.#maxHeard = options.maxHeard ?? 64;
    this.#signal = options.signal;
    const onAbort = () => this.#wake();
    this.#signal?.addEventListener('abort', onAbort, { once: true });
    const frames = new FrameAccumulator(decodeGdw376, {
      maxBufferedBytes: GDW376_DEFAULT_MAX_BUFFERED_BYTES,
    });
    this.link.on('data', (chunk) => {
      for (const e of frames.push(chunk)) {
        if (e.kind === 'dropped') {
          this.#trace().add('dropped', `${this.name} ← bytes that are no frame: ${e.error.message}`, e.bytes);
          continue;
        }
        this.#onFrame({ frame: e.frame, raw: e.raw, at: this.#clock.now() });
      }
    });
    this.link.on('error', () => undefined); // a reset ends in 'close', which is what cases look at
    this.link.on('close', () => {
      this.#signal?.removeEventListener('abort', onAbort);
      this.#closedAt = this.#clock.now();
      if (!this.#closing) this.#trace().note(`${this.name}: the master closed the connection`);
      this.#wake();
    });
  }

  /** True once the link has closed (either side). */
  get closed(): boolean {
    return this.#closedAt !== undefined;
  }

  /** Clock time the link closed, if it has. */
  get closedAt(): number | undefined {
    return this.#closedAt;
  }

  /** The next PSEQ (0–15), as a terminal numbers its own requests (docs/gdw376.md §3.1 SEQ). */
  nextSeq(): number {
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) & 0x0f;
    return seq;
  }

  /** Encodes `frame`, writes it in one write, logs it; resolves with the bytes and the clock time sent. */
  async send(frame: Gdw376Frame, label?: string): Promise<{ raw: Uint8Array; at: number }> {
    const raw = encodeGdw376(frame);
    const at = this.#clock.now();
    this.#trace().add(
      'sent',
      `${this.name} → ${label ?? describeGdw376Frame(frame).summary}${frameNotes(frame)}`,
      raw,
    );
    await this.#write(raw);
    return { raw, at };
  }

  /** Writes raw bytes in one write (coalesced frames, junk), logged with `label`. */
  async sendBytes(bytes: Uint8Array, label: string): Promise<number> {
    const at = this.#clock.now();
    this.#trace().add('sent', `${this.name} → ${label}`, bytes);
    await this.#write(bytes);
    return at;
  }

  /**
   * Writes `bytes` in pieces cut at `cuts` (offsets), pausing `gapMs` between pieces so that each reaches the
   * master as its own TCP segment (Nagle is off on meterlab's TCP links). Resolves with the time of the last
   * piece.
   */
  async sendSplit(bytes: Uint8Array, cuts: readonly number[], gapMs: number, label: string): Promise<number> {
    const points = [0, ...cuts.filter((c) => c > 0 && c < bytes.length), bytes.length];
    let at = this.#clock.now();
    for (let i = 0; i + 1 < points.length; i++) {
      if (i > 0) await this.sleep(gapMs);
      if (this.closed) break;
      const piece = bytes.subarray(points[i], points[i + 1]);
      at = this.#clock.now();
      this.#trace().add('sent', `${this.name} → ${label}, piece ${i + 1}/${points.length - 1}`, piece);
      await this.#write(piece);
    }
    return at;
  }

  /**
   * Waits up to `timeoutMs` for a frame from the master that `match` accepts and takes it off the queue (frames
   * heard before the call count). Resolves undefined on timeout or when the link closes first; the silence is
   * logged with `what`.
   */
  async waitFor(
    match: (frame: Gdw376Frame) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<HeardFrame | undefined> {
    const deadline = this.#clock.now() + timeoutMs;
    for (;;) {
      const i = this.#heard.findIndex((h) => match(h.frame));
      if (i >= 0) return this.#heard.splice(i, 1)[0];
      const left = deadline - this.#clock.now();
      if (this.closed || left <= 0) {
        this.#trace().add(
          'silence',
          `${this.name}: no ${what} within ${timeoutMs} ms${this.closed ? ' (the connection is closed)' : ''}`,
        );
        return undefined;
      }
      await this.#nextEvent(left);
    }
  }

  /** Waits up to `timeoutMs` for the link to close; resolves true when it did. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    const deadline = this.#clock.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - this.#clock.now();
      if (left <= 0) return false;
      await this.#nextEvent(left);
    }
    return true;
  }

  /** Every frame heard and not yet taken, oldest first; the queue is emptied. */
  drain(): HeardFrame[] {
    return this.#heard.splice(0, this.#heard.length);
  }

  /** Resolves after `ms` on the probe's clock. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#clock.setTimeout(resolve, ms));
  }

  /** Closes the link (the probe's side); harmless when closed. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.link.close().catch(() => undefined);
  }

  /**
   * Writes; a write on a link the master closed is noted, not thrown: a master that drops the link is a finding
   * of the case, not a harness failure (the runner would stop the whole run on a LinkError).
   */
  async #write(bytes: Uint8Array): Promise<void> {
    try {
      await this.link.write(bytes);
    } catch (error) {
      this.#trace().note(`${this.name}: not sent, the connection is closed (${(error as Error).message})`);
    }
  }

  #onFrame(heard: HeardFrame): void {
    const f = heard.frame;
    this.#trace().add(
      'received',
      `${this.name} ← ${describeGdw376Frame(f).summary}${frameNotes(f)}`,
      heard.raw,
    );
    const forward = f.units.some((u) => u.body.kind === 'forward-request');
    if (forward && this.onForward) {
      const handler = this.onForward;
      void Promise.resolve()
        .then(() => handler(heard, this))
        .catch((error: unknown) =>
          this.#trace().note(`${this.name}: answering the forward failed: ${String(error)}`),
        );
      return;
    }
    if (this.#heard.length >= this.#maxHeard) {
      const lost = this.#heard.shift();
      if (lost) this.#trace().note(`${this.name}: queue of heard frames full; oldest dropped`);
    }
    this.#heard.push(heard);
    this.#wake();
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Resolves at the next frame, close or abort, or after `timeoutMs`. @throws ProbeInterrupted once aborted. */
  async #nextEvent(timeoutMs: number): Promise<void> {
    if (this.#signal?.aborted) throw new ProbeInterrupted();
    await new Promise<void>((resolve) => {
      let timer: TimerHandle | undefined;
      const done = () => {
        this.#waiters.delete(done);
        if (timer !== undefined) this.#clock.clearTimeout(timer);
        resolve();
      };
      timer = this.#clock.setTimeout(done, timeoutMs);
      this.#waiters.add(done);
    });
    if (this.#signal?.aborted) throw new ProbeInterrupted();
  }
}

/** Fields of a frame a reader of the trace needs besides the summary: C, address, SEQ. */
export function frameNotes(f: Gdw376Frame): string {
  const s = f.seq;
  const seq = `${s.seq}${s.con ? ' CON' : ''}${s.tpv ? ' TpV' : ''}`;
  return ` [C=${hex2(f.control.raw)} A=${f.a1}/${f.a2} SEQ=${seq}${f.protocolId === 1 ? ' id=01' : ''}]`;
}

export function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

/** Several encoded frames as one byte run (for a coalesced write). */
export function joinFrames(frames: readonly Gdw376Frame[]): Uint8Array {
  return concatBytes(frames.map((f) => encodeGdw376(f)));
}
