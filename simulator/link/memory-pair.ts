import type { Clock } from '../clock/clock.ts';
import { realClock } from '../clock/real-clock.ts';
import { SeededRandom } from '../random.ts';
import { LinkBase } from './link.ts';
import { type SerialSettings, validateSerialSettings, wireTimeMs } from './serial-settings.ts';

/** Options for {@link createMemoryPair}. */
export interface MemoryPairOptions {
  /**
   * Descriptions of the two ends.
   * @defaultValue `['memory:a', 'memory:b']`
   */
  names?: [string, string];
  /**
   * Line settings both ends report, and the wire time used when `pace` is on.
   * @defaultValue {@link DEFAULT_METER_SERIAL} (2400 8E1)
   */
  settings?: Partial<SerialSettings>;
  /**
   * Deliver bytes as a serial line would: each chunk arrives when its last byte has left the wire
   * (`wireTimeMs` on `clock`), one direction's writes queue behind each other, and `write()` resolves when the
   * last byte has arrived (like a serial write after drain). Off: bytes arrive on the next microtask and
   * `write()` resolves at once.
   * @defaultValue false
   */
  pace?: boolean;
  /**
   * The clock that paces delivery (only used with `pace`).
   * @defaultValue realClock
   */
  clock?: Clock;
  /**
   * Split every write into random chunks of 1…`maxChunkBytes` bytes, delivered as separate `'data'` events,
   * the way a USB adapter or socket chops a stream. For framer tests; the sizes come from `seed`.
   * @defaultValue undefined (each write arrives as one chunk)
   */
  chunking?: { maxChunkBytes: number; seed: number | string };
}

/** Two in-memory links wired to each other, created closed; `open()` opens both. */
export interface MemoryPair {
  readonly a: MemoryLink;
  readonly b: MemoryLink;
  readonly links: readonly [MemoryLink, MemoryLink];
  /** Opens both ends. */
  open(): Promise<void>;
  /** Closes both ends. */
  close(): Promise<void>;
}

/**
 * One end of an in-memory pair. It behaves like a cable to the other end: bytes sent while the other end is
 * closed are lost (counted in `droppedBytes`), as they would be on a serial line nobody is reading; closing
 * one end does not close the other.
 */
export class MemoryLink extends LinkBase {
  readonly description: string;
  readonly settings: SerialSettings;
  /** The other end. */
  peer!: MemoryLink;
  /** Bytes that arrived while this end was closed. */
  droppedBytes = 0;
  readonly #wire: Wire;

  /** @internal Use {@link createMemoryPair}. */
  constructor(description: string, settings: SerialSettings, wire: Wire) {
    super();
    this.description = description;
    this.settings = settings;
    this.#wire = wire;
  }

  protected async doOpen(): Promise<void> {}

  protected doWrite(bytes: Uint8Array): Promise<void> {
    return this.#wire.send(Uint8Array.from(bytes), this.peer);
  }

  protected async doClose(): Promise<void> {}

  /** @internal Called by the wire. */
  receive(bytes: Uint8Array): void {
    if (this.isOpen) this.deliver(bytes);
    else this.droppedBytes += bytes.length;
  }
}

/**
 * Two linked in-memory links for fast tests: what one writes, the other receives. Optionally paced by wire
 * time on a clock and chopped into random chunks.
 * @throws TypeError naming the option when an option is invalid.
 */
export function createMemoryPair(options: MemoryPairOptions = {}): MemoryPair {
  const { names = ['memory:a', 'memory:b'], pace = false, clock = realClock, chunking } = options;
  if (
    !Array.isArray(names) ||
    names.length !== 2 ||
    !names.every((n) => typeof n === 'string' && n.length > 0)
  ) {
    throw new TypeError('"names" must be two non-empty strings');
  }
  if (typeof pace !== 'boolean') throw new TypeError('"pace" must be a boolean');
  const settings = validateSerialSettings(options.settings);
  let random: SeededRandom | undefined;
  let maxChunk = 0;
  if (chunking !== undefined) {
    if (!Number.isInteger(chunking.maxChunkBytes) || chunking.maxChunkBytes < 1) {
      throw new TypeError('"chunking.maxChunkBytes" must be a positive integer');
    }
    if (typeof chunking.seed !== 'number' && typeof chunking.seed !== 'string') {
      throw new TypeError('"chunking.seed" must be a number or a string');
    }
    random = new SeededRandom(chunking.seed);
    maxChunk = chunking.maxChunkBytes;
  }
  const split = (bytes: Uint8Array): Uint8Array[] => {
    if (!random) return [bytes];
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; ) {
      const size = Math.min(random.int(1, maxChunk), bytes.length - at);
      chunks.push(bytes.subarray(at, at + size));
      at += size;
    }
    return chunks;
  };
  // One wire per direction, so each direction queues on its own (serial lines are full duplex).
  const makeWire = () => new Wire(pace ? clock : undefined, settings, split);
  const a = new MemoryLink(names[0], settings, makeWire());
  const b = new MemoryLink(names[1], settings, makeWire());
  a.peer = b;
  b.peer = a;
  return {
    a,
    b,
    links: [a, b],
    async open() {
      await Promise.all([a.open(), b.open()]);
    },
    async close() {
      await Promise.all([a.close(), b.close()]);
    },
  };
}

/** @internal One direction of a memory pair. */
class Wire {
  /** Clock time at which the last queued byte leaves the wire. */
  #busyUntil = Number.NEGATIVE_INFINITY;

  constructor(
    readonly clock: Clock | undefined,
    readonly settings: SerialSettings,
    readonly split: (bytes: Uint8Array) => Uint8Array[],
  ) {}

  send(bytes: Uint8Array, to: MemoryLink): Promise<void> {
    const chunks = this.split(bytes);
    const clock = this.clock;
    if (!clock) {
      queueMicrotask(() => {
        for (const chunk of chunks) to.receive(chunk);
      });
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const start = Math.max(clock.now(), this.#busyUntil);
      let sent = 0;
      for (const [i, chunk] of chunks.entries()) {
        sent += chunk.length;
        const arrives = start + wireTimeMs(sent, this.settings);
        const last = i === chunks.length - 1;
        clock.setTimeout(() => {
          to.receive(chunk);
          if (last) resolve();
        }, arrives - clock.now());
      }
      this.#busyUntil = start + wireTimeMs(bytes.length, this.settings);
      if (chunks.length === 0) resolve();
    });
  }
}
