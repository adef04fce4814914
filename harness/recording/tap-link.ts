import type { Link, LinkError } from '../../simulator/link/index.ts';
import { LinkBase } from '../../simulator/link/link.ts';
import type { Recorder } from './recorder.ts';

/**
 * A Link that wraps a Link and records every chunk each way: what is written to it as `ab` (from this side to
 * the device or peer), what it receives as `ba`, each chunk as it was written or delivered. Everything above it
 * sees the inner link unchanged, so any process can record its own links by wrapping them (DESIGN.md "The seam
 * between codecs and devices"). Until the shared `LinkWrapper` base of issue 9 lands, it forwards by hand.
 *
 * The inner link may already be open (a TCP connection accepted by a listener); `open()` then only attaches.
 */
export class TapLink extends LinkBase {
  readonly inner: Link;
  readonly recordedAs: string;
  readonly #recorder: Recorder;
  readonly #onData = (bytes: Uint8Array): void => {
    this.#recorder.chunk(this.recordedAs, 'ba', bytes);
    this.deliver(bytes);
  };
  readonly #onError = (error: LinkError): void => {
    this.#recorder.event(this.recordedAs, 'error', `${error.code}: ${error.message}`);
    if (this.isOpen) this.emit('error', error);
  };
  readonly #onWarning = (warning: LinkError): void => {
    this.emit('warning', warning);
  };
  readonly #onClose = (): void => {
    this.#recorder.event(this.recordedAs, 'close', `${this.inner.description} closed`);
    this.lost();
  };

  /** @param recordedAs the name of a link the recorder already knows. */
  constructor(inner: Link, recorder: Recorder, recordedAs: string) {
    super();
    if (!recorder.hasLink(recordedAs)) throw new TypeError(`the recorder has no link named "${recordedAs}"`);
    this.inner = inner;
    this.#recorder = recorder;
    this.recordedAs = recordedAs;
  }

  get description(): string {
    return this.inner.description;
  }

  get settings(): Link['settings'] {
    return this.inner.settings;
  }

  protected async doOpen(): Promise<void> {
    if (!this.inner.isOpen) await this.inner.open();
    this.inner.on('data', this.#onData);
    this.inner.on('error', this.#onError);
    this.inner.on('warning', this.#onWarning);
    this.inner.on('close', this.#onClose);
  }

  /** A pacing hint is for the inner link, which does the pacing. */
  override peerHasRead(frame: Uint8Array): void {
    this.inner.peerHasRead(frame);
  }

  protected doWrite(bytes: Uint8Array): Promise<void> {
    // Recorded at the call, so chunk order in the recording is the order the bytes were handed to the wire.
    this.#recorder.chunk(this.recordedAs, 'ab', bytes);
    return this.inner.write(bytes);
  }

  protected async doClose(): Promise<void> {
    this.inner.off('data', this.#onData);
    this.inner.off('error', this.#onError);
    this.inner.off('warning', this.#onWarning);
    this.inner.off('close', this.#onClose);
    this.#recorder.endLink(this.recordedAs);
    await this.inner.close();
  }
}
