import {
  formatSerialSettings,
  type Link,
  listenTcp,
  type TcpListener,
  type TcpSocketLink,
} from '../../simulator/link/index.ts';
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
  /**
   * With a `tcp-listen` first endpoint: connections forwarded at once. One more is closed at once, with a note
   * and an `event` line saying so. @defaultValue 64
   */
  maxConnections?: number;
}

/** One accepted connection and its own connection to `b`. */
interface Forward {
  name: string;
  remote: string;
  a: TcpSocketLink;
  b: TapLink | undefined;
  closing: boolean;
}

/**
 * A man in the middle between two endpoints that forwards bytes both ways unchanged and records every chunk
 * (and the frames in them) on the way. Serial ↔ serial, serial ↔ TCP, and a TCP proxy: with `a` a
 * `tcp-listen`, the tap listens through `listenTcp` (simulator/link) and each accepted connection gets its own
 * connection to `b` and its own link in the recording (`conn1`, `conn2` …), several at once — a master station
 * sees each concentrator behind the tap as it would without it (up to `maxConnections`). When either side of
 * a connection closes, the other is closed too. A link that is not listening closing ends the tap (`done`
 * resolves); `stop()` ends it from outside (Ctrl-C).
 */
export class Tap {
  readonly recorder: Recorder;
  readonly #options: TapOptions;
  #a: Link | undefined;
  #bTap: TapLink | undefined;
  #listener: TcpListener | undefined;
  readonly #forwards = new Set<Forward>();
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
    const max = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (!Number.isInteger(max) || max < 1) {
      throw new TypeError(`"maxConnections" must be an integer >= 1, got ${String(max)}`);
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
    return this.#listener?.address();
  }

  /** Connections being forwarded now (listening `a` only). */
  get connections(): number {
    return this.#forwards.size;
  }

  async #open(): Promise<void> {
    const { a, b } = this.#options;
    if (a.kind === 'tcp-listen') {
      const listener = await listenTcp({ host: a.host, port: a.port });
      this.#listener = listener;
      listener.on('connection', (link) => void this.#connected(link));
      listener.on('error', (error) => this.#note(`${listener.description}: ${error.message}`));
      this.#note(
        `listening on ${listener.description}, forwarding each connection to ${describeEndpoint(b)}`,
      );
      return;
    }
    const aLink = linkFor(a);
    this.#a = aLink;
    await aLink.open();
    const bTap = new TapLink(linkFor(b), this.recorder, 'tap');
    this.#bTap = bTap;
    await bTap.open();
    this.#wire(aLink, bTap, 'tap');
    aLink.once('close', () => void this.stop(`${aLink.description} closed`));
    bTap.once('close', () => void this.stop(`${bTap.description} closed`));
    aLink.on('error', (error) => this.#note(`${aLink.description}: ${error.message}`));
    this.#note(`forwarding ${describeEndpoint(a)} <-> ${describeEndpoint(b)}`);
  }

  /** The listener accepted a connection: connect to B for it, record it as its own link. */
  async #connected(aLink: TcpSocketLink): Promise<void> {
    const { a, b } = this.#options;
    const remote = aLink.remote;
    const max = this.#options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (this.#stopping || this.#forwards.size >= max) {
      if (!this.#stopping) {
        this.recorder.event('', 'refused', `${remote}: ${max} connections are already forwarded`);
        this.#note(
          `refused ${remote}: ${max} connections are already forwarded (the tap's limit); it was closed`,
        );
      }
      await aLink.close().catch(() => undefined);
      return;
    }
    const name = `conn${++this.#connections}`;
    const forward: Forward = { name, remote, a: aLink, b: undefined, closing: false };
    this.#forwards.add(forward);
    aLink.on('error', () => undefined); // the close that follows ends the forward
    // The peer usually speaks first (a concentrator's login): hold what it sends while B is being connected.
    // Bounded: a peer that sends more than this before B answers the connect is cut off.
    const held: Uint8Array[] = [];
    let heldBytes = 0;
    const hold = (bytes: Uint8Array) => {
      heldBytes += bytes.length;
      if (heldBytes <= MAX_HELD_BYTES) held.push(bytes.slice());
    };
    aLink.on('data', hold);
    aLink.once('close', () => void this.#end(forward, `${remote} disconnected`));
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
      await this.#end(forward, `${(error as Error).message}; closing the accepted connection`);
      return;
    }
    aLink.off('data', hold);
    if (forward.closing) {
      await bTap.close().catch(() => undefined);
      return;
    }
    forward.b = bTap;
    const toB = this.#wire(aLink, bTap, name);
    for (const bytes of held) toB(bytes);
    bTap.once(
      'close',
      () => void this.#end(forward, `${describeEndpoint(b)} closed; closing the accepted connection`),
    );
  }

  /** Ends one forwarded connection: both sides closed, one note. Harmless twice. */
  async #end(forward: Forward, why: string): Promise<void> {
    if (forward.closing) return;
    forward.closing = true;
    this.#forwards.delete(forward);
    if (!this.#stopping) {
      this.recorder.event(forward.name, 'disconnect', why);
      this.#note(`${forward.name}: ${why}`);
    }
    await Promise.all([forward.a.close().catch(() => undefined), forward.b?.close().catch(() => undefined)]);
  }

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
    return toB;
  }

  #note(line: string): void {
    this.#options.onNote?.(line);
  }

  /** Closes both ends and the recording (its last frames flushed, an `end` line written). Harmless twice. */
  async stop(reason = 'stopped'): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    await Promise.all([...this.#forwards].map((f) => this.#end(f, reason)));
    await this.#listener?.close().catch(() => undefined);
    await this.#bTap?.close().catch(() => undefined);
    await this.#a?.close().catch(() => undefined);
    this.recorder.close();
    this.#resolveDone(reason);
  }
}

const DEFAULT_MAX_CONNECTIONS = 64;

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
