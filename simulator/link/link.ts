import { EventEmitter } from 'node:events';
import { LinkError } from './errors.ts';
import type { SerialSettings } from './serial-settings.ts';

/** Events every link emits. */
export interface LinkEvents {
  /** Bytes received, in whatever chunks the OS or peer delivered them (run a streaming framer on them). */
  data: [bytes: Uint8Array];
  /**
   * Something went wrong while open (device unplugged, read failed). Emitted only while the link is open; a
   * `'close'` follows when the error ended the link. As with any Node emitter, an `'error'` nobody listens to
   * is thrown.
   */
  error: [error: LinkError];
  /** Something odd but survivable (adapter echo missing or mangled). Safe to leave unheard. */
  warning: [warning: LinkError];
  /** The link is closed, by `close()` or because the device or peer went away. Once per open. */
  close: [];
}

/**
 * A duplex byte link: a serial device, one end of a pty pair, an in-memory pair, or a TCP socket.
 * Everything above it (meters, concentrators, the bus bridge, the master station) sees only this.
 */
export interface Link extends EventEmitter<LinkEvents> {
  /** What the link is connected to: a device path, `host:port`, or a memory-pair name. Used in messages. */
  readonly description: string;
  /** `true` between a successful `open()` and the `'close'` event. */
  readonly isOpen: boolean;
  /** Line settings for serial-like links (wire-time pacing, RTS timing); `undefined` for TCP. */
  readonly settings: SerialSettings | undefined;
  /**
   * Opens the link. Rejects with a {@link LinkError} naming the path or address (`LINK_NOT_FOUND`,
   * `LINK_BUSY`, `CONNECT_FAILED`, `LINK_ALREADY_OPEN` …).
   */
  open(): Promise<void>;
  /**
   * Sends bytes. Resolves once they are handed to the OS or the peer (serial links: after drain). Writes are
   * sent in call order. Rejects with `LINK_CLOSED` if the link is not open.
   */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes the link; resolves when it is closed. Harmless on a closed link. */
  close(): Promise<void>;
  /**
   * A pacing hint from the protocol above: the peer has shown that it read `frame` (it answered it). When
   * `frame` is the last frame this link handed to the OS, the next frame need not wait out the link's
   * `minFrameGapMs` — the gap exists only so two frames cannot meet in one read at a slow peer, and a peer that
   * answered the last frame has already read it (docs/gdw376.md "Frame pacing"). Links without pacing ignore it.
   */
  peerHasRead(frame: Uint8Array): void;
}

type LinkState = 'closed' | 'opening' | 'open' | 'closing';

/**
 * @internal Open/close bookkeeping shared by every link kind, so they all agree on the state rules:
 * one open at a time, writes only while open, `close()` idempotent, exactly one `'close'` per open.
 */
export abstract class LinkBase extends EventEmitter<LinkEvents> implements Link {
  abstract readonly description: string;
  abstract readonly settings: SerialSettings | undefined;
  #state: LinkState = 'closed';
  #opening: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  get isOpen(): boolean {
    return this.#state === 'open';
  }

  open(): Promise<void> {
    if (this.#state !== 'closed') {
      return Promise.reject(
        new LinkError('LINK_ALREADY_OPEN', `${this.description} is already ${this.#state}`),
      );
    }
    this.#state = 'opening';
    const opening = (async () => {
      try {
        await this.doOpen();
        this.#state = 'open';
      } catch (error) {
        this.#state = 'closed';
        throw error;
      } finally {
        this.#opening = undefined;
      }
    })();
    this.#opening = opening;
    return opening;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!(bytes instanceof Uint8Array)) {
      return Promise.reject(new TypeError('"bytes" must be a Uint8Array'));
    }
    if (this.#state !== 'open') {
      return Promise.reject(
        new LinkError('LINK_CLOSED', `cannot write to ${this.description}: link is not open`),
      );
    }
    return this.doWrite(bytes);
  }

  async close(): Promise<void> {
    // A close during open waits for the open to settle, so doOpen and doClose never run at once.
    if (this.#opening) await this.#opening.catch(() => undefined);
    if (this.#state === 'closed') return;
    if (this.#closing) return this.#closing;
    this.#state = 'closing';
    const closing = (async () => {
      try {
        await this.doClose();
      } finally {
        this.#state = 'closed';
        this.#closing = undefined;
        this.emit('close');
      }
    })();
    this.#closing = closing;
    return closing;
  }

  /** No pacing by default (serial, memory links): nothing to do. TCP links override it. */
  peerHasRead(_frame: Uint8Array): void {}

  /** Kind-specific open; throw a LinkError on failure. */
  protected abstract doOpen(): Promise<void>;
  /** Kind-specific write; only called while open. */
  protected abstract doWrite(bytes: Uint8Array): Promise<void>;
  /** Kind-specific close; release everything even if parts fail. */
  protected abstract doClose(): Promise<void>;

  /** Delivers received bytes to listeners (only while open). */
  protected deliver(bytes: Uint8Array): void {
    if (this.#state === 'open' && bytes.length > 0) this.emit('data', bytes);
  }

  /**
   * The device or peer went away on its own: report `error` (if given), then close and emit `'close'`.
   * `doClose` still runs so the kind can release what it holds.
   */
  protected lost(error?: LinkError): void {
    if (this.#state !== 'open') return;
    if (error) this.emit('error', error);
    void this.close().catch(() => undefined);
  }
}
