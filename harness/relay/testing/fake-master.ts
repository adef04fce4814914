/**
 * A stand-in for the master station's client API, for tests of the relay and the client: a real TCP server
 * on 127.0.0.1 speaking the NDJSON contract (one JSON request per line, exactly one JSON answer line per
 * request), whose answers the test controls. It deliberately does not use the point-read codec, so the relay
 * is checked against the contract, not against its own parser.
 * @internal test support
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import iconv from 'iconv-lite';

/** A request as the fake master received it (parsed JSON). */
export interface FakeMasterRequest {
  type: string;
  id: string;
  concentrator: string;
  meter: string;
  protocol?: string;
  port?: number;
  /** The relay's id of the browser the read is for (issue 13 item 5). */
  origin?: string;
}

/**
 * What to do with one request: answer with an object (sent as a JSON line, `id` filled in when absent),
 * with a raw line (sent as is, for malformed answers), or not at all (`'silent'`), after `delayMs`.
 */
export type FakeAnswer =
  | { kind: 'json'; body: Record<string, unknown>; delayMs?: number }
  | { kind: 'raw'; line: string; delayMs?: number }
  | { kind: 'silent' };

/** Decides the answer to each request. The default answers every read with 123.45 m3. */
export type FakeHandler = (req: FakeMasterRequest) => FakeAnswer;

/** A reading answer for `req` with `value`. */
export function readingFor(req: FakeMasterRequest, value = 123.45, delayMs = 0): FakeAnswer {
  return {
    kind: 'json',
    delayMs,
    body: {
      type: 'reading',
      id: req.id,
      concentrator: req.concentrator,
      meter: req.meter,
      value,
      unit: 'm3',
    },
  };
}

/** An error answer for `req`. */
export function errorFor(req: FakeMasterRequest, code: string, message: string, delayMs = 0): FakeAnswer {
  return { kind: 'json', delayMs, body: { type: 'error', id: req.id, code, message } };
}

export interface FakeMasterEvents {
  request: [FakeMasterRequest];
  cancel: [id: string];
  connection: [];
}

export class FakeMaster extends EventEmitter<FakeMasterEvents> {
  /** Every request received, in order, across connections and restarts. */
  readonly requests: FakeMasterRequest[] = [];
  /** Ids of the `cancel` lines received, in order (not in `requests`; a cancel is never answered). */
  readonly cancels: string[] = [];
  /** Lines the fake could not parse as JSON. */
  readonly badLines: string[] = [];
  handler: FakeHandler = (req) => readingFor(req);
  readonly encoding: 'utf8' | 'gb2312';
  #server: net.Server | undefined;
  readonly #sockets = new Set<net.Socket>();
  readonly #from = new WeakMap<FakeMasterRequest, net.Socket>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #port = 0;

  constructor(options: { encoding?: 'utf8' | 'gb2312' } = {}) {
    super();
    this.encoding = options.encoding ?? 'utf8';
  }

  get port(): number {
    return this.#port;
  }

  /** Open connections from relays. */
  get connections(): number {
    return this.#sockets.size;
  }

  /** Listens on 127.0.0.1 (port 0 the first time, the same port after a restart). */
  async start(): Promise<number> {
    // No Nagle, like the real master's client API (simulator/link TcpListener): with it, an answer written while
    // the previous one is unacknowledged waits for the relay's delayed ACK — about 10 ms per read under load, which
    // looked like the relay's own latency when measuring it against this fake.
    const server = net.createServer({ noDelay: true }, (socket) => this.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    this.#port = (server.address() as net.AddressInfo).port;
    return this.#port;
  }

  /** Stops listening and cuts every connection, as a crashed master would. */
  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves once `n` requests in total have arrived. */
  async waitForRequests(n: number): Promise<void> {
    while (this.requests.length < n)
      await new Promise<void>((resolve) => this.once('request', () => resolve()));
  }

  /** Resolves once a relay is connected. */
  async waitForConnection(): Promise<void> {
    if (this.#sockets.size > 0) return;
    await new Promise<void>((resolve) => this.once('connection', () => resolve()));
  }

  #accept(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {});
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (let nl = pending.indexOf(10); nl >= 0; nl = pending.indexOf(10)) {
        const line = iconv.decode(pending.subarray(0, nl), this.encoding);
        pending = pending.subarray(nl + 1);
        this.#line(socket, line);
      }
    });
    this.emit('connection');
  }

  #line(socket: net.Socket, line: string): void {
    // One request per line; a blank line is not a request.
    if (line.trim() === '') return;
    let req: FakeMasterRequest;
    try {
      req = JSON.parse(line) as FakeMasterRequest;
    } catch {
      this.badLines.push(line);
      return;
    }
    if (req.type === 'cancel') {
      this.cancels.push(req.id);
      this.emit('cancel', req.id);
      return;
    }
    this.requests.push(req);
    this.#from.set(req, socket);
    const answer = this.handler(req);
    this.emit('request', req);
    this.respond(req, answer);
  }

  /** Answers `req` now (for requests the handler left `silent`); a no-op if its connection is gone. */
  respond(req: FakeMasterRequest, answer: FakeAnswer): void {
    const socket = this.#from.get(req);
    if (answer.kind === 'silent' || socket === undefined) return;
    const text = answer.kind === 'raw' ? answer.line : JSON.stringify({ id: req.id, ...answer.body });
    const send = () => {
      if (!socket.destroyed) socket.write(iconv.encode(`${text}\n`, this.encoding));
    };
    if (!answer.delayMs) {
      send();
      return;
    }
    const t = setTimeout(() => {
      this.#timers.delete(t);
      send();
    }, answer.delayMs);
    this.#timers.add(t);
  }
}
