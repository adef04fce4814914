import { type Link, LinkWrapper } from '../../simulator/link/index.ts';
import type { RecordedLink } from './format.ts';
import type { Recorder } from './recorder.ts';

/**
 * A Link that wraps a Link and records every chunk each way: what is written to it as `ab` (from this side to
 * the device or peer), what it receives as `ba`, each chunk as it was written or delivered. Everything above it
 * sees the inner link unchanged (a {@link LinkWrapper}, DESIGN.md "The seam between codecs and devices"), so any
 * process can record its own links by wrapping them.
 *
 * The inner link may already be open (a TCP connection accepted by a listener); `open()` then only attaches.
 * The recorded link is either one the recorder already knows (its name) or a {@link RecordedLink} that is
 * declared (a `link` line) when the inner link is open — so a client that tries to connect ten times before it
 * gets through leaves one link in the recording, not ten.
 */
export class TapLink extends LinkWrapper {
  readonly recordedAs: string;
  readonly #recorder: Recorder;
  readonly #pending: RecordedLink | undefined;
  #declared: boolean;

  /** @param recordAs the name of a link the recorder already knows, or a link to declare once open. */
  constructor(inner: Link, recorder: Recorder, recordAs: string | RecordedLink) {
    super(inner);
    this.#recorder = recorder;
    if (typeof recordAs === 'string') {
      if (!recorder.hasLink(recordAs)) throw new TypeError(`the recorder has no link named "${recordAs}"`);
      this.recordedAs = recordAs;
      this.#declared = true;
    } else {
      this.recordedAs = recordAs.name;
      this.#pending = recordAs;
      this.#declared = false;
      if (inner.isOpen) this.#declare();
    }
    inner.on('error', (error) => {
      if (this.#declared) recorder.event(this.recordedAs, 'error', `${error.code}: ${error.message}`);
    });
    inner.on('close', () => {
      if (!this.#declared) return;
      recorder.event(this.recordedAs, 'close', `${inner.description} closed`);
      recorder.endLink(this.recordedAs);
    });
  }

  override async open(): Promise<void> {
    if (!this.inner.isOpen) await this.inner.open();
    this.#declare();
  }

  protected override transmit(bytes: Uint8Array): Promise<void> {
    // Recorded at the call, so chunk order in the recording is the order the bytes were handed to the wire.
    this.#declare();
    this.#recorder.chunk(this.recordedAs, 'ab', bytes);
    return super.transmit(bytes);
  }

  protected override receive(bytes: Uint8Array): void {
    this.#declare();
    this.#recorder.chunk(this.recordedAs, 'ba', bytes);
    super.receive(bytes);
  }

  #declare(): void {
    if (this.#declared || !this.#pending) return;
    this.#declared = true;
    if (!this.#recorder.hasLink(this.#pending.name)) this.#recorder.addLink(this.#pending);
  }
}
