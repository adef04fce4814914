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
import {
  type ClickToCopyAnswer,
  type ClickToCopyRequest,
  createFramingSniffer,
  createLegacyStreamSplitter,
  decodeClickToCopyRequest,
  encodeClickToCopyAnswer,
  type LegacyStreamDrop,
} from '../../protocols/point-read/legacy-stream.ts';
import { type Clock, realClock, type TimerHandle } from '../../simulator/clock/index.ts';
import { type Link, listenTcp, type TcpListener, type TcpSocketLink } from '../../simulator/link/index.ts';
import { Withdrawal, type WithdrawSignal } from '../../simulator/window/index.ts';
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
 *
 * The seed system's own framing is accepted as well (issue 14 item 3), decided per connection from its first
 * bytes (`createFramingSniffer`): a connection that opens with a flat ClickToCopyModel object and no newline
 * speaks it from then on — JSON objects back to back, no delimiter, in `legacyEncoding` (GB2312), each
 * request `{"ConcentratorNo","WaterMtrAddress","IsDownCommand":false}` answered by the same flat object with
 * `AccumVal` (m³) and `"IsDownCommand":true`, or `"AccumVal":null` with `ErrorCode` and `ErrorMsg`
 * (protocols/point-read/legacy-stream.ts). Every other connection is NDJSON as above.
 */

export interface ClientApiOptions {
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /**
   * Wraps each accepted client link (a recorder, a byte counter): requests are read and answers written through
   * the wrapper. @defaultValue none
   */
  wrapLink?: (link: TcpSocketLink) => Link;
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
  /**
   * A connection that has sent no complete request for this long while nothing of it is in flight (no read,
   * no valve command, no frame-log subscription) is closed after one last `error` line with the code
   * `IDLE_TIMEOUT` (issue 13 item 4: idle sockets held every slot of `maxConnections` and locked everyone else
   * out). Reads and console requests count; lines that are not valid requests do not. The time runs from the
   * later of the last request and the last answer. 0 turns it off. @defaultValue 300000 (5 min)
   */
  idleTimeoutMs?: number;
  /** Source of time for the idle timeout. @defaultValue realClock */
  clock?: Clock;
  /**
   * Character set of a connection in the seed system's framing (JSON objects back to back): the original
   * webserver wrote `Encoding.Default`, GB2312 on a Chinese Windows. @defaultValue 'gb2312'
   */
  legacyEncoding?: TextEncodingName;
  /** Longest object in the seed system's framing, bytes; a longer one is answered BAD_REQUEST and skipped. @defaultValue 65536 */
  maxLegacyObjectBytes?: number;
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

/**
 * Who asks for a read, for the master's fair queueing per concentrator port (port-scheduler.ts): `client`
 * stands for the connection — or, for a v1 read with an `origin`, for that origin on that connection (a relay's
 * browser), the same object for all its reads in flight — and `signal` aborts when the connection closes, so
 * reads still queued are cancelled before they reach the field. `cancel` is the read's own: it aborts when the
 * client sends `{"type":"cancel","id":…}` for it.
 */
export interface PointReadContext {
  client: object;
  signal: AbortSignal;
  cancel?: WithdrawSignal;
}

/** Performs one read; rejects with a {@link MasterError} (or anything else, answered as BAD_REPLY). */
export type PointReadHandler = (
  request: PointReadRequest,
  context: PointReadContext,
) => Promise<MasterReading>;

/** The code of the last line a connection gets before it is closed for idling (see `idleTimeoutMs`). */
export const IDLE_TIMEOUT_CODE = 'IDLE_TIMEOUT';

/**
 * Events: `'connection'` (the accepted link), `'bad-line'` (BadLine), `'slow-reader'` (remote: a client closed
 * for leaving `maxUnsentBytes` of answers unread), `'idle'` (remote: a client closed by `idleTimeoutMs`),
 * `'error'` (server error).
 */
export class ClientApiServer extends EventEmitter {
  readonly host: string;
  readonly port: number;
  readonly encoding: TextEncodingName;
  readonly maxInFlightPerConnection: number;
  readonly maxConnections: number;
  readonly maxLineLength: number | undefined;
  readonly maxUnsentBytes: number;
  readonly idleTimeoutMs: number;
  readonly clock: Clock;
  readonly legacyEncoding: TextEncodingName;
  readonly maxLegacyObjectBytes: number;
  readonly console: ConsoleApi | undefined;
  readonly #handler: PointReadHandler;
  readonly #wrapLink: ((link: TcpSocketLink) => Link) | undefined;
  #listener: TcpListener | undefined;

  constructor(handler: PointReadHandler, options: ClientApiOptions = {}) {
    super();
    this.#handler = handler;
    this.#wrapLink = options.wrapLink;
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
    this.idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
    if (!(Number.isFinite(this.idleTimeoutMs) && this.idleTimeoutMs >= 0)) {
      throw new TypeError(
        `"idleTimeoutMs" must be a number of ms >= 0 (0 = never), got ${String(options.idleTimeoutMs)}`,
      );
    }
    this.clock = options.clock ?? realClock;
    this.legacyEncoding = options.legacyEncoding ?? 'gb2312';
    this.maxLegacyObjectBytes = positiveInt('maxLegacyObjectBytes', options.maxLegacyObjectBytes, 65536);
    createLegacyStreamSplitter({ charset: this.legacyEncoding }); // checks the name now
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
    const io = this.#wrapLink?.(link) ?? link;
    if (io !== link) io.on('error', () => {});
    new ClientConnection(this, link, io, this.#handler);
  }
}

/** One client connection: frames lines, runs reads, writes exactly one answer per request. @internal */
class ClientConnection {
  readonly #server: ClientApiServer;
  /** The accepted socket (its remote, half-close and unsent bytes); bytes go through {@link #io}. */
  readonly #link: TcpSocketLink;
  /** The link requests are read from and answers written to: the socket, or a wrapper around it. */
  readonly #io: Link;
  readonly #handler: PointReadHandler;
  readonly #writer: CoalescedWriter;
  #inFlight = 0;
  #inputEnded = false;
  /** The connection speaks the seed system's framing (decided on its first bytes). */
  #legacy = false;
  #legacyReads = 0;
  #closed = false;
  /** The console requests of this connection, from its first one on. */
  #console: ConsoleSession | undefined;
  /** Aborted when the connection closes: its reads still queued at a concentrator port are cancelled. */
  readonly #gone = new AbortController();
  /** v1 reads in flight by id, each with the controller a `cancel` for it aborts (the newest read of an id). */
  readonly #cancels = new Map<string, Withdrawal>();
  /**
   * The fair-queueing client of each `origin` with reads in flight on this connection (issue 13 item 5: a relay's
   * browsers take turns with each other, not only with other connections). At most one entry per read in flight.
   */
  readonly #origins = new Map<string, { client: object; reads: number }>();
  /** Clock time of the last valid request or answer (see `idleTimeoutMs`). */
  #lastActivity: number;
  #idleTimer: TimerHandle | undefined;

  constructor(server: ClientApiServer, link: TcpSocketLink, io: Link, handler: PointReadHandler) {
    this.#server = server;
    this.#link = link;
    this.#io = io;
    this.#handler = handler;
    // Backpressure: answers a client leaves unread pile up in the link up to `maxUnsentBytes`; then the link
    // refuses the write and the client is closed as a slow reader (a link cannot stop reading requests).
    this.#writer = new CoalescedWriter(io, () => {
      if (this.#closed) return;
      server.emit('slow-reader', link.remote);
      this.#close();
    });
    // The framing is decided on the first bytes (see the class comment); until then they are kept, at most
    // maxLegacyObjectBytes and one chunk.
    const sniffer = createFramingSniffer({
      charset: server.legacyEncoding,
      maxObjectBytes: server.maxLegacyObjectBytes,
    });
    let early: Uint8Array[] = [];
    let earlyBytes = 0;
    let input: Input | undefined;
    const decided = (legacy: boolean): Input => {
      const chosen = legacy ? this.#legacyInput() : this.#ndjsonInput();
      for (const chunk of early) chosen.push(chunk);
      early = [];
      return chosen;
    };
    io.on('data', (chunk) => {
      if (input) {
        input.push(chunk);
        return;
      }
      early.push(chunk);
      earlyBytes += chunk.length;
      const framing = sniffer.push(chunk);
      if (framing !== 'need-more') input = decided(framing === 'legacy');
      else if (earlyBytes > server.maxLegacyObjectBytes) input = decided(false); // white space only, say
    });
    link.events.on('end', () => {
      input ??= decided(false);
      input.end();
      this.#inputEnded = true;
      this.#maybeEnd();
    });
    link.on('close', () => {
      this.#closed = true;
      this.#stopIdleTimer();
      this.#gone.abort();
      this.#console?.close();
    });
    this.#lastActivity = server.clock.now();
    this.#armIdleTimer();
  }

  /**
   * NDJSON v1. The plain decoder rather than the NdjsonFramer stream: the end of input must be seen after the
   * last line's answer is queued, which is simpler to order without a pipe in between.
   */
  #ndjsonInput(): Input {
    const server = this.#server;
    const decoder = new NdjsonDecoder({ charset: server.encoding, maxLineLength: server.maxLineLength });
    return {
      push: (chunk) => this.#onEvents(decoder.push(chunk)),
      end: () => this.#onEvents(decoder.flush()),
    };
  }

  /** The seed system's framing: flat ClickToCopyModel objects back to back (protocols/point-read/legacy-stream.ts). */
  #legacyInput(): Input {
    const server = this.#server;
    this.#legacy = true;
    const splitter = createLegacyStreamSplitter({
      charset: server.legacyEncoding,
      maxObjectBytes: server.maxLegacyObjectBytes,
      onDropped: (dropped) => this.#onLegacyDropped(dropped),
    });
    return {
      push: (chunk) => {
        for (const object of splitter.push(chunk)) this.#onLegacyObject(object);
      },
      end: () => splitter.flush(),
    };
  }

  #onLegacyObject(bytes: Uint8Array): void {
    let request: ClickToCopyRequest;
    let text = '';
    try {
      text = decodeText(bytes, this.#server.legacyEncoding);
      request = decodeClickToCopyRequest(text);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.#server.emit('bad-line', { kind: 'bad-line', error, bytes, length: bytes.length, offset: 0 });
      const echo = echoOf(text);
      const { code, message } = readErrorFromProtocolError(error);
      this.#sendLegacy({ ...echo, AccumVal: null, IsDownCommand: true, ErrorCode: code, ErrorMsg: message });
      return;
    }
    this.#touch();
    const read: ReadRequest = {
      type: 'read',
      id: `legacy-${++this.#legacyReads}`,
      concentrator: request.ConcentratorNo,
      meter: request.WaterMtrAddress,
    };
    this.#run(read, (answer) => this.#sendLegacy(flatAnswer(answer, request)));
  }

  #onLegacyDropped(dropped: LegacyStreamDrop): void {
    const { error, length, offset } = dropped;
    this.#server.emit('bad-line', { kind: 'bad-line', error, bytes: new Uint8Array(0), length, offset });
    // Junk between objects is reported, not answered (it is not a request); an object too long to read is.
    if (dropped.error.code !== 'TOO_LONG') return;
    this.#sendLegacy({
      ConcentratorNo: '',
      WaterMtrAddress: '',
      AccumVal: null,
      IsDownCommand: true,
      ErrorCode: 'BAD_REQUEST',
      ErrorMsg: dropped.error.message,
    });
  }

  /** One flat answer, in one write of its own: the original webserver read each answer with one receive. */
  #sendLegacy(answer: ClickToCopyAnswer): void {
    if (this.#closed) return;
    this.#writer.write(encodeClickToCopyAnswer(answer, this.#server.legacyEncoding));
    this.#writer.flush();
  }

  /** Something of this connection is under way: a read, a valve command or a frame-log subscription. */
  get #busy(): boolean {
    return this.#inFlight > 0 || (this.#console?.busy ?? false);
  }

  #touch(): void {
    this.#lastActivity = this.#server.clock.now();
    this.#armIdleTimer();
  }

  /**
   * One timer per connection, re-armed lazily: a request does not reset it, the timer looks at the last activity
   * when it fires (a busy connection does not pay a timer per read).
   */
  #armIdleTimer(): void {
    const { idleTimeoutMs, clock } = this.#server;
    if (idleTimeoutMs === 0 || this.#idleTimer !== undefined || this.#closed) return;
    const due = this.#lastActivity + idleTimeoutMs - clock.now();
    this.#idleTimer = clock.setTimeout(() => {
      this.#idleTimer = undefined;
      this.#onIdleTimer();
    }, due);
  }

  #stopIdleTimer(): void {
    if (this.#idleTimer !== undefined) this.#server.clock.clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  #onIdleTimer(): void {
    if (this.#closed) return;
    const { idleTimeoutMs, clock } = this.#server;
    if (this.#busy) {
      // Reads end in #answer, which re-arms; a subscription has no end event, so look again a period later.
      if (this.#inFlight === 0) this.#touch();
      return;
    }
    if (clock.now() - this.#lastActivity < idleTimeoutMs) {
      this.#armIdleTimer();
      return;
    }
    this.#server.emit('idle', this.#link.remote);
    this.#sendFinal(IDLE_TIMEOUT_CODE, `no request for ${idleTimeoutMs / 1000} s; the connection is closed`);
    this.#close();
  }

  #onEvents(events: NdjsonEvent[]): void {
    for (const event of events) {
      if (event.kind === 'message') {
        this.#touch();
        this.#onMessage(event.message);
      } else {
        // Console messages are not point-read messages: the decoder refuses them, and only then are they
        // looked at again, so reads pay nothing for the console.
        if (event.error.code === 'BAD_MESSAGE' && this.#consoleRequest(event.bytes)) {
          this.#touch();
          continue;
        }
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
      const legacy = msg;
      const read = fromLegacyRequest(legacy);
      this.#run(read, (answer) =>
        this.#send(toLegacyAnswer(answer, legacy), () =>
          toLegacyAnswer(errorAnswer(read, undefined), legacy),
        ),
      );
      return;
    }
    if (msg.type === 'cancel') {
      // Harmless when the read is unknown, already sent or already answered: the cancel is never answered itself,
      // and the read keeps its one answer (CANCELLED only when it was still waiting for its turn).
      this.#cancels.get(msg.id)?.abort();
      return;
    }
    if (msg.type !== 'read') {
      const message = `expected a "read" request, got "${msg.type}"`;
      this.#send(
        msg.id === undefined
          ? { type: 'error', code: 'BAD_REQUEST', message }
          : { type: 'error', code: 'BAD_REQUEST', message, id: msg.id },
      );
      return;
    }
    this.#run(msg, (answer) => this.#send(answer, () => errorAnswer(msg, undefined)), true);
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

  /**
   * Runs one read; `reply` writes its one answer in the connection's form. `cancellable`: a v1 read, which a
   * `cancel` naming its id withdraws while it waits.
   */
  #run(read: ReadRequest, reply: (answer: Reading | ReadError) => void, cancellable = false): void {
    if (this.#inFlight >= this.#server.maxInFlightPerConnection) {
      reply(
        errorAnswer(
          read,
          new MasterError(
            'BUSY',
            `${this.#server.maxInFlightPerConnection} reads already in flight on this connection; read of meter ${read.meter} refused`,
          ),
        ),
      );
      return;
    }
    this.#inFlight++;
    const request: PointReadRequest = { concentrator: read.concentrator, meter: read.meter };
    if (read.protocol !== undefined) request.protocol = read.protocol;
    if (read.port !== undefined) request.port = read.port;
    const context: PointReadContext = { client: this, signal: this.#gone.signal };
    const origin = read.origin === undefined ? undefined : this.#origin(read.origin);
    if (origin) context.client = origin.client;
    // Legacy reads have no id of their client's a cancel could name.
    // A Withdrawal, not an AbortController: one per read (docs/performance.md).
    const cancel = cancellable ? new Withdrawal() : undefined;
    if (cancel) {
      context.cancel = cancel.signal;
      this.#cancels.set(read.id, cancel);
    }
    const answer = (msg: Reading | ReadError): void => {
      this.#inFlight--;
      if (cancel && this.#cancels.get(read.id) === cancel) this.#cancels.delete(read.id);
      if (origin && --origin.reads === 0 && read.origin !== undefined) this.#origins.delete(read.origin);
      reply(msg);
      if (this.#inFlight === 0) this.#touch();
      this.#maybeEnd();
    };
    let reading: Promise<MasterReading>;
    try {
      reading = this.#handler(request, context);
    } catch (err) {
      reading = Promise.reject(err);
    }
    void reading.then(
      (r) => answer(readingAnswer(read, r)),
      (err: unknown) => answer(errorAnswer(read, err)),
    );
  }

  /** The fair-queueing client of `origin` on this connection, counted for one more read in flight. */
  #origin(origin: string): { client: object; reads: number } {
    let entry = this.#origins.get(origin);
    if (!entry) {
      entry = { client: {}, reads: 0 };
      this.#origins.set(origin, entry);
    }
    entry.reads++;
    return entry;
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

  /** The last line before the master closes the connection itself. */
  #sendFinal(code: string, message: string): void {
    if (this.#legacy) {
      const empty = { ConcentratorNo: '', WaterMtrAddress: '' };
      this.#sendLegacy({ ...empty, AccumVal: null, IsDownCommand: true, ErrorCode: code, ErrorMsg: message });
    } else {
      this.#send({ type: 'error', code, message });
    }
  }

  /** After the client ended its side: close once every answer is written. */
  #maybeEnd(): void {
    if (this.#inputEnded && this.#inFlight === 0) this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopIdleTimer();
    this.#writer.flush(); // the last answers go out before the FIN (the link ends after pending writes)
    void this.#io.close().catch(() => {});
  }
}

/** Where the bytes of a connection go once its framing is decided. */
interface Input {
  push(chunk: Uint8Array): void;
  end(): void;
}

/** The flat answer to a flat request: its two fields echoed as sent, the reading in m³ or the error. */
function flatAnswer(answer: Reading | ReadError, request: ClickToCopyRequest): ClickToCopyAnswer {
  const { ConcentratorNo, WaterMtrAddress } = request;
  if (answer.type === 'reading') {
    // AccumVal is m³, as the old page displayed it; litres are converted (as the wrapped legacy form does).
    const value = answer.unit === 'L' ? answer.value / 1000 : answer.value;
    return { ConcentratorNo, WaterMtrAddress, AccumVal: value === 0 ? 0 : value, IsDownCommand: true };
  }
  return {
    ConcentratorNo,
    WaterMtrAddress,
    AccumVal: null,
    IsDownCommand: true,
    ErrorCode: answer.code,
    ErrorMsg: answer.message,
  };
}

/** The two fields of an object that is not a valid request, when they are strings, to echo in its error. */
function echoOf(text: string): { ConcentratorNo: string; WaterMtrAddress: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const o = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  return {
    ConcentratorNo: typeof o.ConcentratorNo === 'string' ? o.ConcentratorNo : '',
    WaterMtrAddress: typeof o.WaterMtrAddress === 'string' ? o.WaterMtrAddress : '',
  };
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
