import type { Clock } from '../../simulator/clock/index.ts';
import { realClock } from '../../simulator/clock/index.ts';
import { RecordingError } from './errors.ts';
import { type Direction, formatStart, type RecordedLink, toHex } from './format.ts';
import { type StreamEvent, StreamFramer } from './framing.ts';
import { type RecordingSink, RecordingWriter, type RecordingWriterOptions } from './writer.ts';

/** What a recorder reports for each frame or drop it writes (the tap's live output listens to this). */
export interface RecordedEvent {
  t: number;
  link: string;
  dir: Direction;
  event: StreamEvent;
}

export interface RecorderOptions extends RecordingWriterOptions {
  sink: RecordingSink;
  /** What is recording ("tap", "import socat", "meterlab poll"). */
  source: string;
  /** Links known at the start; more can be added with {@link Recorder.addLink}. */
  links: RecordedLink[];
  /**
   * Time source; t = clock.now() − the time the recorder was made.
   * @defaultValue realClock
   */
  clock?: Clock;
  /**
   * Epoch ms written as the header's `start` (imports pass the first timestamp of the file).
   * @defaultValue clock.now() when the clock is real time
   */
  startEpochMs?: number;
  /** Called for every frame and drop written, in order. */
  onFrame?: (event: RecordedEvent) => void;
}

/**
 * Writes a recording: chunks as they come, and the frames and drops that a framer per link direction finds
 * in them, at the time of the chunk that completed each frame. Taps, process recordings and importers all
 * write through this, so every recording has its frame lines made the same way.
 */
export class Recorder {
  readonly #writer: RecordingWriter;
  readonly #clock: Clock;
  readonly #t0: number;
  readonly #links = new Map<string, { link: RecordedLink; framers: Record<Direction, StreamFramer> }>();
  readonly #onFrame: ((event: RecordedEvent) => void) | undefined;
  #lastT = 0;
  #closed = false;

  constructor(options: RecorderOptions) {
    this.#clock = options.clock ?? realClock;
    this.#t0 = this.#clock.now();
    this.#onFrame = options.onFrame;
    const names = new Set<string>();
    for (const link of options.links) {
      if (names.has(link.name)) throw new TypeError(`two links named "${link.name}"`);
      names.add(link.name);
    }
    this.#writer = new RecordingWriter(
      options.sink,
      { start: formatStart(options.startEpochMs ?? this.#t0), source: options.source, links: options.links },
      options,
    );
    for (const link of options.links) this.#track(link);
  }

  /** Milliseconds since the recording started, on the recorder's clock. */
  now(): number {
    return this.#clock.now() - this.#t0;
  }

  get writer(): RecordingWriter {
    return this.#writer;
  }

  /** Declares a link that appeared after the start (a `link` line). */
  addLink(link: RecordedLink, t = this.now()): void {
    if (this.#links.has(link.name)) throw new TypeError(`two links named "${link.name}"`);
    this.#track(link);
    // A link that opens after the recording was closed (a late reconnect during Ctrl-C) is known, not written.
    if (!this.#closed) this.#writer.write({ type: 'link', t: this.#time(t), link });
  }

  hasLink(name: string): boolean {
    return this.#links.has(name);
  }

  /**
   * Records a chunk, then every frame or drop it completes. Returns those frames and drops.
   * @throws RecordingError UNKNOWN_LINK for a link never declared.
   */
  chunk(link: string, dir: Direction, bytes: Uint8Array, t = this.now()): StreamEvent[] {
    const entry = this.#links.get(link);
    if (!entry) throw new RecordingError('UNKNOWN_LINK', `no link named "${link}" in this recording`);
    if (bytes.length === 0 || this.#closed) return [];
    const time = this.#time(t);
    this.#writer.write({ type: 'chunk', t: time, link, dir, hex: toHex(bytes) });
    const events = entry.framers[dir].push(bytes);
    for (const event of events) this.#writeEvent(time, link, dir, event);
    return events;
  }

  /** Records an event (connect, disconnect, error…). */
  event(link: string, event: string, detail = '', t = this.now()): void {
    if (this.#closed) return;
    this.#writer.write({ type: 'event', t: this.#time(t), link, event, detail });
  }

  /** Ends one link's streams: a frame left incomplete is written as a TRUNCATED drop. */
  endLink(link: string, t = this.now()): void {
    const entry = this.#links.get(link);
    if (!entry || this.#closed) return;
    const time = this.#time(t);
    for (const dir of ['ab', 'ba'] as const) {
      for (const event of entry.framers[dir].flush()) this.#writeEvent(time, link, dir, event);
      entry.framers[dir] = new StreamFramer(entry.link.framing);
    }
  }

  /** Flushes every link's framers, writes the `end` line and closes the sink. Harmless twice. */
  close(t = this.now()): void {
    if (this.#closed) return;
    for (const name of this.#links.keys()) this.endLink(name, t);
    this.#closed = true;
    this.#writer.close(this.#time(t));
  }

  get closed(): boolean {
    return this.#closed;
  }

  #track(link: RecordedLink): void {
    this.#links.set(link.name, {
      link,
      framers: { ab: new StreamFramer(link.framing), ba: new StreamFramer(link.framing) },
    });
  }

  /** Times never go backwards in a recording, whatever an importer's clock said. */
  #time(t: number): number {
    this.#lastT = Math.max(this.#lastT, t);
    return this.#lastT;
  }

  #writeEvent(t: number, link: string, dir: Direction, event: StreamEvent): void {
    const hex = toHex(event.bytes);
    if (event.kind === 'frame') {
      this.#writer.write({
        type: 'frame',
        t,
        link,
        dir,
        protocol: event.protocol,
        summary: event.summary,
        hex,
      });
    } else {
      this.#writer.write({ type: 'drop', t, link, dir, code: event.code, reason: event.reason, hex });
    }
    this.#onFrame?.({ t, link, dir, event });
  }
}
