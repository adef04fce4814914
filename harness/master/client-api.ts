import { EventEmitter } from 'node:events';
import { ProtocolError } from '../../protocols/errors.ts';
import {
  isConsoleMessageType,
  isConsoleRequest,
  validateConsoleMessage,
} from '../../protocols/point-read/console-messages.ts';
import {
  type AnyPointReadMessage,
  decodeText,
  encodeLine,
  encodeText,
  fromLegacyRequest,
  isLegacyMessage,
  isLegacyRequest,
  NdjsonDecoder,
  type NdjsonEvent,
  type ReadError,
  type Reading,
  type ReadRequest,
  readErrorFromProtocolError,
  type TextEncodingName,
  toLegacyAnswer,
} from '../../protocols/point-read/index.ts';
import { listenTcp, type TcpListener, type TcpSocketLink } from '../../simulator/link/index.ts';
import { CoalescedWriter } from './coalesced-write.ts';
import type { ConsoleApi, ConsoleSession } from './console-api.ts';
import { MasterError, wireDetail } from './master-error.ts';
import type { MasterReading, PointReadRequest } from './types.ts';

/**
 * The master station's client API (the seed system's "clientserver" role): newline-delimited JSON point-read
 * messages over TCP. A `read` is answered by one `reading` or one `error` line with the same `id`; a line that
 * is not a valid request is answered by an `error` line naming the problem, and the connection stays open.
 * Requests on one connection run concurrently and may be answered out of order (the `id` correlates them).
 * The legacy `ClickToCopy` request is accepted too and answered in the legacy form.
 */

export interface ClientApiOptions {
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @defaultValue 9092 */
  port?: number;
  /** Character set of the lines; `gb2312` for legacy clients. @defaultValue 'utf8' */
  encoding?: TextEncodingName;
  /**
   * Reads in flight on one connection; more are answered BUSY at once. A relay brings every browser's reads
   * over one connection, and at 2400 baud a read takes ~0.3 s, so a small limit here would cap a whole
   * platform at limit / 0.3 s reads per second however many concentrators read in parallel; the work per
   * concentrator stays bounded by the master's own per-concentrator limits. @defaultValue 256
   */
  maxInFlightPerConnection?: number;
  /** Client connections at once; more are refused (closed) on accept. @defaultValue 256 */
  maxConnections?: number;
  /** Longest request line, bytes. @defaultValue 65536 */
  maxLineLength?: number;
  /**
   * Answer bytes a client may leave unread; at this many the client is closed as a slow reader (it keeps asking
   * but does not read its answers, so they would pile up without bound). @defaultValue 1048576 (1 MiB)
   */
  maxUnsentBytes?: number;
  /**
   * Answers the web console's requests (fleet, valve, subscribe, unsubscribe: see console-api.ts) on the same
   * connections. A frame-log subscriber whose connection has a quarter of `maxUnsentBytes` unsent is dropped
   * from the stream (SLOW_SUBSCRIBER) before it would be closed as a slow reader. @defaultValue none
   */
  console?: ConsoleApi;
}

/** Performs one read; rejects with a {@link MasterError} (or anything else, answered as BAD_REPLY). */
export type PointReadHandler = (request: PointReadRequest) => Promise<MasterReading>;

/**
 * Events: `'connection'` (the accepted link), `'bad-line'` (BadLine), `'slow-reader'` (remote: a client closed
 * for leaving `maxUnsentBytes` of answers unread), `'error'` (server error).
 */
export class ClientApiServer extends EventEmitter {
  readonly host: string;
  readonly port: number;
  readonly encoding: TextEncodingName;
  readonly maxInFlightPerConnection: number;
  readonly maxConnections: number;
  readonly maxLineLength: number | undefined;
  readonly maxUnsentBytes: number;
  readonly console: ConsoleApi | undefined;
  readonly #handler: PointReadHandler;
  #listener: TcpListener | undefined;

  constructor(handler: PointReadHandler, options: ClientApiOptions = {}) {
    super();
    this.#handler = handler;
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 9092;
    this.encoding = options.encoding ?? 'utf8';
    this.maxInFlightPerConnection = positiveInt(
      'maxInFlightPerConnection',
      options.maxInFlightPerConnection,
      256,
    );
    this.maxConnections = positiveInt('maxConnections', options.maxConnections, 256);
    this.maxLineLength = options.maxLineLength;
    this.maxUnsentBytes = positiveInt('maxUnsentBytes', options.maxUnsentBytes, 1024 * 1024);
    this.console = options.console;
  }

  /** Starts listening; resolves with the bound address. */
  async listen(): Promise<{ address: string; port: number }> {
    const listener = await listenTcp({
      host: this.host,
      port: this.port,
      maxConnections: this.maxConnections,
      // A client may send its request and end its side; it still gets its answers.
      allowHalfOpen: true,
      // NDJSON is framed by its newlines: no pacing; answers of one turn leave in one write (CoalescedWriter).
      maxBufferedBytes: this.maxUnsentBytes,
    });
    listener.on('connection', (link) => this.#accept(link));
    listener.on('error', (err) => this.emit('error', err));
    this.#listener = listener;
    const { host, port } = listener.address();
    return { address: host, port };
  }

  /** Stops listening and closes every client connection. */
  async close(): Promise<void> {
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.close();
  }

  /** Open client connections. */
  get connections(): number {
    return this.#listener?.connections ?? 0;
  }

  #accept(link: TcpSocketLink): void {
    link.on('error', () => {}); // a client that resets mid-answer is normal; 'close' follows
    this.emit('connection', link);
    new ClientConnection(this, link, this.#handler);
  }
}

/** One client connection: frames lines, runs reads, writes exactly one answer per request. @internal */
class ClientConnection {
  readonly #server: ClientApiServer;
  readonly #link: TcpSocketLink;
  readonly #handler: PointReadHandler;
  readonly #writer: CoalescedWriter;
  #inFlight = 0;
  #inputEnded = false;
  #closed = false;
  /** The console requests of this connection, from its first one on. */
  #console: ConsoleSession | undefined;

  constructor(server: ClientApiServer, link: TcpSocketLink, handler: PointReadHandler) {
    this.#server = server;
    this.#link = link;
    this.#handler = handler;
    // Backpressure: answers a client leaves unread pile up in the link up to `maxUnsentBytes`; then the link
    // refuses the write and the client is closed as a slow reader (a link cannot stop reading requests).
    this.#writer = new CoalescedWriter(link, () => {
      if (this.#closed) return;
      server.emit('slow-reader', link.remote);
      this.#close();
    });
    // The plain decoder rather than the NdjsonFramer stream: the end of input must be seen after the last
    // line's answer is queued, which is simpler to order without a pipe in between.
    const decoder = new NdjsonDecoder({ charset: server.encoding, maxLineLength: server.maxLineLength });
    link.on('data', (chunk) => this.#onEvents(decoder.push(chunk)));
    link.events.on('end', () => {
      this.#onEvents(decoder.flush());
      this.#inputEnded = true;
      this.#maybeEnd();
    });
    link.on('close', () => {
      this.#closed = true;
      this.#console?.close();
    });
  }

  #onEvents(events: NdjsonEvent[]): void {
    for (const event of events) {
      if (event.kind === 'message') {
        this.#onMessage(event.message);
      } else {
        // Console messages are not point-read messages: the decoder refuses them, and only then are they
        // looked at again, so reads pay nothing for the console.
        if (event.error.code === 'BAD_MESSAGE' && this.#consoleRequest(event.bytes)) continue;
        this.#server.emit('bad-line', event);
        this.#send(readErrorFromProtocolError(event.error, event.id));
      }
    }
  }

  #onMessage(msg: AnyPointReadMessage): void {
    if (isLegacyMessage(msg)) {
      if (!isLegacyRequest(msg)) {
        this.#send({
          type: 'error',
          code: 'BAD_REQUEST',
          message: 'expected a ClickToCopy request, got an answer',
        });
        return;
      }
      this.#run(fromLegacyRequest(msg), (answer) => toLegacyAnswer(answer, msg));
      return;
    }
    if (msg.type !== 'read') {
      const base = {
        type: 'error' as const,
        code: 'BAD_REQUEST',
        message: `expected a "read" request, got "${msg.type}"`,
      };
      this.#send(msg.id === undefined ? base : { ...base, id: msg.id });
      return;
    }
    this.#run(msg, (answer) => answer);
  }

  /** Handles the line if it is a console message; false when it is not one (or there is no console). */
  #consoleRequest(bytes: Uint8Array): boolean {
    const api = this.#server.console;
    if (!api) return false;
    let value: unknown;
    try {
      value = JSON.parse(decodeText(bytes, this.#server.encoding));
    } catch {
      return false;
    }
    if (!isConsoleMessageType((value as { type?: unknown } | null)?.type)) return false;
    let request: ReturnType<typeof validateConsoleMessage>;
    try {
      request = validateConsoleMessage(value);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      const id = (value as { id?: unknown }).id;
      const type = String((value as { type: string }).type);
      const named = new ProtocolError(error.code, `not a valid "${type}" request: ${error.message}`);
      const answer = readErrorFromProtocolError(named, typeof id === 'string' ? id : undefined);
      this.#send(answer);
      return true;
    }
    if (!isConsoleRequest(request)) {
      this.#send({
        type: 'error',
        id: request.id,
        code: 'BAD_REQUEST',
        message: `a "${request.type}" message is not a request`,
      });
      return true;
    }
    this.#console ??= api.open({
      send: (message) => {
        if (this.#closed) return false;
        this.#writer.write(encodeText(`${JSON.stringify(message)}\n`, this.#server.encoding));
        return this.#link.bufferedBytes < this.#server.maxUnsentBytes / 4;
      },
    });
    this.#console.handle(request);
    return true;
  }

  #run(read: ReadRequest, shape: (answer: Reading | ReadError) => AnyPointReadMessage): void {
    if (this.#inFlight >= this.#server.maxInFlightPerConnection) {
      this.#send(
        shape(
          errorAnswer(
            read,
            new MasterError(
              'BUSY',
              `${this.#server.maxInFlightPerConnection} reads already in flight on this connection; read of meter ${read.meter} refused`,
            ),
          ),
        ),
      );
      return;
    }
    this.#inFlight++;
    const request: PointReadRequest = { concentrator: read.concentrator, meter: read.meter };
    if (read.protocol !== undefined) request.protocol = read.protocol;
    if (read.port !== undefined) request.port = read.port;
    const answer = (msg: Reading | ReadError): void => {
      this.#inFlight--;
      this.#send(shape(msg), () => shape(errorAnswer(read, undefined)));
      this.#maybeEnd();
    };
    let reading: Promise<MasterReading>;
    try {
      reading = this.#handler(request);
    } catch (err) {
      reading = Promise.reject(err);
    }
    void reading.then(
      (r) => answer(readingAnswer(read, r)),
      (err: unknown) => answer(errorAnswer(read, err)),
    );
  }

  /**
   * Writes one line; when `msg` cannot be encoded the `fallback` message is written instead (still one answer).
   * The fallback is built only then: nearly every answer encodes.
   */
  #send(msg: AnyPointReadMessage, fallback?: () => AnyPointReadMessage): void {
    if (this.#closed) return;
    let line: Uint8Array;
    try {
      line = encodeLine(msg, this.#server.encoding);
    } catch (err) {
      if (!fallback) throw err;
      line = encodeLine(fallback(), this.#server.encoding);
    }
    this.#writer.write(line);
  }

  /** After the client ended its side: close once every answer is written. */
  #maybeEnd(): void {
    if (this.#inputEnded && this.#inFlight === 0) this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#writer.flush(); // the last answers go out before the FIN (the link ends after pending writes)
    void this.#link.close().catch(() => {});
  }
}

function readingAnswer(read: ReadRequest, reading: MasterReading): Reading {
  const answer: Reading = {
    type: 'reading',
    id: read.id,
    // Echo the names the client used (an alias stays an alias) so it can match the answer without a lookup.
    concentrator: read.concentrator,
    meter: read.meter,
    value: reading.value,
    unit: reading.unit,
  };
  if (reading.meterTime !== undefined) answer.meterTime = reading.meterTime;
  if (reading.status !== undefined) answer.status = reading.status;
  answer.protocol = reading.protocol;
  answer.latencyMs = reading.latencyMs;
  answer.readAt = reading.readAt;
  return answer;
}

function errorAnswer(read: ReadRequest, err: unknown): ReadError {
  if (!(err instanceof MasterError)) {
    const message = `read of meter ${read.meter} on ${read.concentrator} failed: ${err instanceof Error ? err.message : 'the answer could not be encoded'}`;
    return {
      type: 'error',
      id: read.id,
      code: 'BAD_REPLY',
      message,
      concentrator: read.concentrator,
      meter: read.meter,
      detail: { reason: 'BAD_REPLY' },
    };
  }
  const answer: ReadError = {
    type: 'error',
    id: read.id,
    code: err.code,
    message: err.message,
    concentrator: read.concentrator,
    meter: read.meter,
  };
  // A field-read failure always says its precise reason, even when the master knew nothing more than its code.
  if (err.detail !== undefined) answer.detail = wireDetail(err.detail);
  else if (err.code === 'METER_TIMEOUT' || err.code === 'BAD_REPLY') answer.detail = { reason: err.code };
  return answer;
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1)
    throw new TypeError(`"${name}" must be a positive integer, got ${String(value)}`);
  return v;
}
