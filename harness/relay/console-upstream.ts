/**
 * The way a console page's requests (fleet, valve, subscribe, unsubscribe — issue 12) reach the master: one
 * NDJSON connection to the master's client API per WebSocket client that sends one, opened on its first
 * console request and closed with the client.
 *
 * Why not the shared MasterLink that carries reads: a frame-log subscription is a stream that belongs to one
 * page. On a connection of its own, the master's slow-subscriber rule and its "connection closed ends the
 * subscriptions" rule apply to that page alone; reads of every other client never queue behind its frames,
 * and nothing here has to map subscription ids between clients. Console pages are few (one per engineer), so a
 * connection each is cheap; `maxConsoleClients` bounds them (the master's own connection limit is 256).
 *
 * Flow: requests sent before the connection is up wait in a bounded queue (`maxQueued`, 64); if the master
 * cannot be reached, each waiting request is answered `MASTER_UNAVAILABLE`, and so is each later one until the
 * client sends again after `retryAfterMs`. Lines from the master are validated (console messages or point-read
 * `error`s) before they go on; a line that is neither is logged and dropped. The connection ending while a
 * subscription is open is reported to the client as `MASTER_UNAVAILABLE` for that subscription id.
 */
import {
  type ConsoleMessage,
  type ConsoleRequest,
  encodeConsoleMessage,
  isConsoleMessageType,
  validateConsoleMessage,
} from '../../protocols/point-read/console-messages.ts';
import {
  decodeText,
  encodeText,
  LineSplitter,
  type ReadError,
  type TextEncodingName,
  validatePointReadMessage,
} from '../../protocols/point-read/index.ts';
import { type Link, TcpClientLink } from '../../simulator/link/index.ts';
import { type RelayLogger, SILENT } from './log.ts';

export interface ConsoleUpstreamOptions {
  master: { host: string; port: number };
  /** Character set of the NDJSON lines. @defaultValue 'utf8' */
  encoding?: TextEncodingName;
  /** Longest line from the master, bytes (a fleet page of 100 concentrators × 100 meters is ~0.8 MB). @defaultValue 8 MiB */
  maxLineLength?: number;
  /** Requests waiting for the connection; one more is answered QUEUE_FULL. @defaultValue 64 */
  maxQueued?: number;
  /** Receives every valid message from the master. */
  onMessage: (message: ConsoleMessage | ReadError) => void;
  log?: RelayLogger;
  /** Names the client in log lines. */
  client?: number;
  /** Builds the link to the master (tests may wrap it). @defaultValue a TcpClientLink */
  connect?: (host: string, port: number) => Link;
}

type State = 'idle' | 'connecting' | 'open' | 'closed';

export class ConsoleUpstream {
  readonly #o: ConsoleUpstreamOptions;
  readonly #encoding: TextEncodingName;
  readonly #maxQueued: number;
  #state: State = 'idle';
  #link: Link | undefined;
  #queue: ConsoleRequest[] = [];
  /** Subscription ids open at the master, to tell the client when the connection takes them away. */
  readonly #subscriptions = new Set<string>();

  constructor(options: ConsoleUpstreamOptions) {
    this.#o = options;
    this.#encoding = options.encoding ?? 'utf8';
    this.#maxQueued = options.maxQueued ?? 64;
  }

  /** Sends one console request to the master (connecting first if need be). Never throws. */
  send(request: ConsoleRequest): void {
    if (this.#state === 'closed') return;
    if (request.type === 'subscribe') this.#subscriptions.add(request.id);
    if (request.type === 'unsubscribe') this.#subscriptions.delete(request.id);
    if (this.#state === 'open') {
      this.#write(request);
      return;
    }
    if (this.#queue.length >= this.#maxQueued) {
      this.#fail(request.id, 'QUEUE_FULL', `${this.#maxQueued} console requests already wait for the master`);
      return;
    }
    this.#queue.push(request);
    if (this.#state === 'idle') this.#connect();
  }

  /** The client went away: close the connection (the master then ends this client's subscriptions). */
  close(): void {
    this.#state = 'closed';
    this.#queue = [];
    this.#subscriptions.clear();
    void this.#link?.close();
  }

  #connect(): void {
    this.#state = 'connecting';
    const { host, port } = this.#o.master;
    const link = this.#o.connect?.(host, port) ?? new TcpClientLink({ host, port });
    this.#link = link;
    const splitter = new LineSplitter({ maxLineLength: this.#o.maxLineLength ?? 8 * 1024 * 1024 });
    link.on('data', (bytes) => {
      for (const event of splitter.push(bytes)) {
        if (event.kind === 'line') this.#onLine(event.bytes);
        else this.#log('warn', `dropped a line from the master: ${event.error.message}`);
      }
    });
    link.on('error', (error) => this.#log('warn', `console connection to the master: ${error.message}`));
    link.on('close', () => this.#onClose(link));
    link.open().then(
      () => {
        if (this.#state !== 'connecting') {
          void link.close();
          return;
        }
        this.#state = 'open';
        const queued = this.#queue;
        this.#queue = [];
        for (const request of queued) this.#write(request);
      },
      (error: Error) => {
        if (this.#state !== 'connecting') return;
        this.#state = 'idle';
        this.#link = undefined;
        const queued = this.#queue;
        this.#queue = [];
        for (const request of queued) {
          if (request.type === 'subscribe') this.#subscriptions.delete(request.id);
          this.#fail(
            request.id,
            'MASTER_UNAVAILABLE',
            `the master station cannot be reached: ${error.message}`,
          );
        }
      },
    );
  }

  #onClose(link: Link): void {
    if (this.#link !== link) return;
    this.#link = undefined;
    if (this.#state === 'closed') return;
    this.#state = 'idle';
    for (const id of this.#subscriptions) {
      this.#fail(id, 'MASTER_UNAVAILABLE', 'the connection to the master station closed; subscribe again');
    }
    this.#subscriptions.clear();
  }

  #write(request: ConsoleRequest): void {
    const link = this.#link;
    if (!link) return;
    const line = encodeText(`${encodeConsoleMessage(request)}\n`, this.#encoding);
    link.write(line).catch((error: Error) => this.#log('warn', `console request not sent: ${error.message}`));
  }

  #onLine(bytes: Uint8Array): void {
    let message: ConsoleMessage | ReadError;
    try {
      const value: unknown = JSON.parse(decodeText(bytes, this.#encoding));
      const type = (value as { type?: unknown } | null)?.type;
      message = isConsoleMessageType(type)
        ? validateConsoleMessage(value)
        : (validatePointReadMessage(value) as ReadError);
      if (!isConsoleMessageType(message.type) && message.type !== 'error') {
        throw new Error(`a "${String(message.type)}" message is not an answer to a console request`);
      }
    } catch (error) {
      this.#log('warn', `dropped a line from the master: ${(error as Error).message}`);
      return;
    }
    if (message.type === 'error' && message.id !== undefined) this.#subscriptions.delete(message.id);
    if (message.type === 'unsubscribed') this.#subscriptions.delete(message.id);
    this.#o.onMessage(message);
  }

  #fail(id: string, code: string, message: string): void {
    this.#o.onMessage({ type: 'error', id, code, message });
  }

  #log(level: 'info' | 'warn', message: string): void {
    (this.#o.log ?? SILENT)({
      level,
      event: 'console-upstream',
      message: `client #${this.#o.client ?? '?'}: ${message}`,
      fields: { client: this.#o.client },
    });
  }
}
