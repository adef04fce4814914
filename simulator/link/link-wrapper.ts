import { EventEmitter } from 'node:events';
import type { LinkError } from './errors.ts';
import type { Link, LinkEvents } from './link.ts';
import type { SerialSettings } from './serial-settings.ts';

/**
 * A Link that wraps a Link: the base of a tap, a recorder, a byte counter, a fault injector or a device-under-test
 * adapter (DESIGN "The seam between codecs and devices"). The code above sees a Link and does not know it is
 * wrapped; the wrapped link does not know either.
 *
 * Everything is forwarded as is: `open`, `write` and `close` go down to the inner link; its `data`, `error`,
 * `warning` and `close` come up. A subclass overrides {@link LinkWrapper.transmit} (bytes going down) and/or
 * {@link LinkWrapper.receive} (bytes coming up) and calls `super` to pass them on — or does not, to drop them.
 * State (`isOpen`), `description` and `settings` are the inner link's.
 */
export class LinkWrapper<Inner extends Link = Link> extends EventEmitter<LinkEvents> implements Link {
  /** The wrapped link. */
  readonly inner: Inner;

  constructor(inner: Inner) {
    super();
    this.inner = inner;
    inner.on('data', (bytes) => this.receive(bytes));
    inner.on('error', (error) => this.emit('error', error));
    inner.on('warning', (warning: LinkError) => {
      if (this.listenerCount('warning') > 0) this.emit('warning', warning);
    });
    inner.on('close', () => this.emit('close'));
  }

  get description(): string {
    return this.inner.description;
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  get settings(): SerialSettings | undefined {
    return this.inner.settings;
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  write(bytes: Uint8Array): Promise<void> {
    return this.transmit(bytes);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** A pacing hint goes down as is: the pacing happens in the inner link. */
  peerHasRead(frame: Uint8Array): void {
    this.inner.peerHasRead(frame);
  }

  /** Bytes on their way down to the inner link. Override to look at or change them; call `super.transmit`. */
  protected transmit(bytes: Uint8Array): Promise<void> {
    return this.inner.write(bytes);
  }

  /** Bytes that came up from the inner link. Override to look at or change them; call `super.receive`. */
  protected receive(bytes: Uint8Array): void {
    this.emit('data', bytes);
  }
}
