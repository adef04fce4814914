import type { Link } from '../../simulator/link/index.ts';
import { formatSerialSettings, TcpServerLink } from '../../simulator/link/index.ts';
import { describeEndpoint, type Endpoint, linkFor } from './endpoint.ts';
import type { Framing, RecordedLink } from './format.ts';
import { type RecordedEvent, Recorder } from './recorder.ts';
import { TapLink } from './tap-link.ts';
import { fileSink, type RecordingSink } from './writer.ts';

export interface TapOptions {
  /** The first endpoint (`a` in the recording): usually the device side that is listened to. */
  a: Endpoint;
  /** The second endpoint (`b`). */
  b: Endpoint;
  /** Recording file, or a sink (tests). */
  out: string | RecordingSink;
  framing?: Framing;
  /** Called for each frame or drop (the live decoded line). */
  onFrame?: (event: RecordedEvent) => void;
  /** Called for connections, disconnections and errors, as a line of text. */
  onNote?: (line: string) => void;
  /** Size bound of the recording file, in bytes. */
  maxBytes?: number;
}

/**
 * A man in the middle between two endpoints that forwards bytes both ways unchanged and records every chunk
 * (and the frames in them) on the way. Serial ↔ serial, serial ↔ TCP, and a TCP proxy: with `a` a
 * `tcp-listen`, each accepted connection gets its own connection to `b` and its own link in the recording
 * (`conn1`, `conn2` …; one connection at a time, the listener's policy). A link that is not listening
 * closing ends the tap (`done` resolves); `stop()` ends it from outside (Ctrl-C).
 */
export class Tap {
  readonly recorder: Recorder;
  readonly #options: TapOptions;
  #a: Link | undefined;
  #bTap: TapLink | undefined;
  #connections = 0;
  #stopping = false;
  #resolveDone!: (reason: string) => void;
  /** Resolves with the reason when the tap ends by itself (an end closed) or is stopped. */
  readonly done: Promise<string>;

  private constructor(options: TapOptions, recorder: Recorder) {
    this.#options = options;
    this.recorder = recorder;
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  /** Opens both ends (for a listening `a`, `b` is opened per connection) and starts forwarding. */
  static async start(options: TapOptions): Promise<Tap> {
    const { a, b } = options;
    if (b.kind === 'tcp-listen' && a.kind !== 'tcp-listen') {
      // Keep the rule "a listens" simple: swap the words, not the roles, is the user's job.
      throw new TypeError('put the listening endpoint first: meterlab tap tcp-listen:HOST:PORT <other>');
    }
    const perConnection = a.kind === 'tcp-listen';
    const links: RecordedLink[] = perConnection ? [] : [recordedLink('tap', a, b, options.framing)];
    const sink = typeof options.out === 'string' ? fileSink(options.out) : options.out;
    const recorder = new Recorder({
      sink,
      source: `tap ${describeEndpoint(a)} ${describeEndpoint(b)}`,
      links,
      onFrame: options.onFrame,
      maxBytes: options.maxBytes,
    });
    const tap = new Tap(options, recorder);
    try {
      await tap.#open();
    } catch (error) {
      await tap.stop('failed to start');
      throw error;
    }
    return tap;
  }

  /** The address a listening `a` got (port 0 picks one), or undefined. */
  get listening(): { host: string; port: number } | undefined {
    const a = this.#a;
    if (!(a instanceof TcpServerLink)) return undefined;
    const address = a.address();
    return address ? { host: a.host, port: address.port } : undefined;
  }

  async #open(): Promise<void> {
    const { a, b } = this.#options;
    const aLink = linkFor(a);
    this.#a = aLink;
    if (aLink instanceof TcpServerLink) {
      aLink.events.on('connection', (remote) => void this.#connected(remote));
      aLink.events.on('disconnect', (remote) => void this.#disconnected(remote));
      await aLink.open();
      this.#note(`listening on ${aLink.description}, forwarding each connection to ${describeEndpoint(b)}`);
    } else {
      await aLink.open();
      const bTap = new TapLink(linkFor(b), this.recorder, 'tap');
      this.#bTap = bTap;
      await bTap.open();
      this.#wire(aLink, bTap, 'tap');
      aLink.once('close', () => void this.stop(`${aLink.description} closed`));
      bTap.once('close', () => void this.stop(`${bTap.description} closed`));
      this.#note(`forwarding ${describeEndpoint(a)} <-> ${describeEndpoint(b)}`);
    }
    aLink.on('error', (error) => this.#note(`${aLink.description}: ${error.message}`));
  }

  /** A accepted a connection: connect to B for it, record it as its own link. */
  async #connected(remote: string): Promise<void> {
    const { a, b } = this.#options;
    const aLink = this.#a!;
    const name = `conn${++this.#connections}`;
    // The peer usually speaks first (a concentrator's login): hold what it sends while B is being connected.
    // Bounded: a peer that sends more than this before B answers the connect is cut off.
    const held: Uint8Array[] = [];
    let heldBytes = 0;
    const hold = (bytes: Uint8Array) => {
      heldBytes += bytes.length;
      if (heldBytes <= MAX_HELD_BYTES) held.push(bytes.slice());
    };
    aLink.on('data', hold);
    // The previous connection (replaced by this one) is over.
    await this.#closeB();
    this.recorder.addLink({ ...recordedLink(name, a, b, this.#options.framing), a: remote });
    this.recorder.event(name, 'connect', `${remote} connected`);
    this.#note(`${name}: ${remote} connected`);
    const bTap = new TapLink(linkFor(b), this.recorder, name);
    try {
      await bTap.open();
      if (heldBytes > MAX_HELD_BYTES)
        throw new Error(`the peer sent over ${MAX_HELD_BYTES} bytes before b accepted`);
    } catch (error) {
      aLink.off('data', hold);
      await bTap.close().catch(() => undefined);
      this.recorder.event(name, 'error', (error as Error).message);
      this.#note(`${name}: ${(error as Error).message}; closing the accepted connection`);
      await this.#restartListener();
      return;
    }
    aLink.off('data', hold);
    this.#bTap = bTap;
    const toB = this.#wire(aLink, bTap, name);
    for (const bytes of held) toB(bytes);
    bTap.once('close', () => {
      if (this.#bTap !== bTap || this.#stopping) return;
      this.#note(`${name}: ${describeEndpoint(b)} closed; closing the accepted connection`);
      void this.#restartListener();
    });
  }

  async #disconnected(remote: string): Promise<void> {
    const bTap = this.#bTap;
    if (!bTap) return;
    this.recorder.event(bTap.recordedAs, 'disconnect', `${remote} disconnected`);
    this.#note(`${bTap.recordedAs}: ${remote} disconnected`);
    await this.#closeB();
  }

  async #closeB(): Promise<void> {
    const bTap = this.#bTap;
    this.#bTap = undefined;
    if (!bTap) return;
    this.#unwire?.();
    this.#unwire = undefined;
    await bTap.close().catch(() => undefined);
  }

  /**
   * Today's TcpServerLink cannot drop its current connection on its own, so to end one we close the listener
   * and listen again on the same port (issue 9's listener will make this a per-connection close).
   */
  async #restartListener(): Promise<void> {
    const a = this.#a;
    if (!(a instanceof TcpServerLink) || this.#stopping) return;
    const port = a.address()?.port;
    await this.#closeB();
    const fresh = new TcpServerLink({ host: a.host, port: port ?? 0 });
    fresh.events.on('connection', (remote) => void this.#connected(remote));
    fresh.events.on('disconnect', (remote) => void this.#disconnected(remote));
    await a.close();
    this.#a = fresh;
    await fresh.open();
  }

  #unwire: (() => void) | undefined;

  /** Forwards each chunk from `aLink` into the tap on B (recorded `ab`), and each chunk from B back to A. */
  #wire(aLink: Link, bTap: TapLink, name: string): (bytes: Uint8Array) => void {
    const toB = (bytes: Uint8Array) => {
      bTap
        .write(bytes)
        .catch((error: Error) => this.recorder.event(name, 'error', `write to b: ${error.message}`));
    };
    const toA = (bytes: Uint8Array) => {
      aLink
        .write(bytes)
        .catch((error: Error) => this.recorder.event(name, 'error', `write to a: ${error.message}`));
    };
    aLink.on('data', toB);
    bTap.on('data', toA);
    bTap.on('error', () => undefined); // recorded by the tap link; the close that follows ends the link
    this.#unwire = () => {
      aLink.off('data', toB);
      bTap.off('data', toA);
    };
    return toB;
  }

  #note(line: string): void {
    this.#options.onNote?.(line);
  }

  /** Closes both ends and the recording (its last frames flushed, an `end` line written). Harmless twice. */
  async stop(reason = 'stopped'): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    await this.#closeB();
    await this.#a?.close().catch(() => undefined);
    this.recorder.close();
    this.#resolveDone(reason);
  }
}

/** Bytes held from an accepted peer while its connection to `b` is made. */
const MAX_HELD_BYTES = 1 << 20;

function recordedLink(name: string, a: Endpoint, b: Endpoint, framing: Framing = 'auto'): RecordedLink {
  const serial = a.kind === 'serial' ? a : b.kind === 'serial' ? b : undefined;
  return {
    name,
    kind: serial ? 'serial' : 'tcp',
    settings:
      serial?.kind === 'serial' ? formatSerialSettings(serial.settings) : `tcp ${describeEndpoint(b)}`,
    a: describeEndpoint(a),
    b: describeEndpoint(b),
    framing,
  };
}
