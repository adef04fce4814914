import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type RawData, WebSocket, WebSocketServer } from 'ws';

/**
 * A defect proxy for the relay proof table (issue 11, "Proof that every case can fail"): a WebSocket endpoint
 * in front of a faithful one (meterlab's relay) that gives the pair one specific defect by mutating messages,
 * so each relay case can be shown to fail (or be non-strict) against an endpoint with the defect it exists to
 * catch — without touching the relay.
 *
 * Without a defect it is transparent: every upgrade is tried upstream first and a refusal comes back with the
 * same HTTP status; text, binary, ping and pong frames and close codes pass through unchanged, so the proof
 * table also shows that the proxy itself changes no verdict.
 * @internal test support
 */

export type RelayDefect =
  /** Answers lose their `id`. */
  | 'drop-ids'
  /** A reading's value is sent as a string. */
  | 'bad-reading'
  /** A failed read's code is not one of the documented codes (`oops`). */
  | 'bad-error-code'
  /** Legacy answers are sent in the request's envelope (meterlab before issue 14). */
  | 'legacy-envelope'
  /** Text that is not JSON is swallowed (no answer). */
  | 'silent-bad-json'
  /** A message with an unknown `type` is swallowed. */
  | 'silent-unknown-type'
  /** BAD_JSON and BAD_REQUEST answers are swallowed. */
  | 'silent-errors'
  /** A second read under an id in flight is served too, under the same id. */
  | 'answer-duplicates'
  /** The ids of two answers that come close together are swapped. */
  | 'swap-ids'
  /** Refuses messages over half the documented limit (closes 1009). */
  | 'small-limit'
  /** Reads oversized messages (whitespace stripped before the relay sees them). */
  | 'ignore-size-limit'
  /** Ping frames get no pong. */
  | 'no-pong'
  /** The text Ping is swallowed. */
  | 'no-text-pong'
  /** Any token (or none) is accepted: the proxy connects upstream with the right one. */
  | 'accept-any-token'
  /** The Authorization header is not passed on: only `?token=` works. */
  | 'query-token-only';

export interface RelayDefectProxyOptions {
  /** The faithful endpoint, `ws://HOST:PORT`. */
  upstream: string;
  defect?: RelayDefect;
  /** The upstream's token (for `accept-any-token`). */
  token?: string;
  /** The documented message limit (for `small-limit`). @defaultValue 65536 */
  maxMessageBytes?: number;
}

const V1_TYPES = new Set(['read', 'reading', 'error']);
/** Close codes a peer may send in a close frame (RFC 6455 §7.4.1–7.4.2); the rest are terminated instead. */
function sendable(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export class RelayDefectProxy {
  readonly #o: RelayDefectProxyOptions;
  readonly #server: http.Server;
  readonly #wss: WebSocketServer;
  readonly #pairs = new Set<{ client: WebSocket; upstream: WebSocket }>();
  #port = 0;

  constructor(options: RelayDefectProxyOptions) {
    this.#o = options;
    const limit = options.maxMessageBytes ?? 65_536;
    this.#wss = new WebSocketServer({
      noServer: true,
      autoPong: false, // pings go to the upstream, whose pong comes back (or not, for no-pong)
      maxPayload: options.defect === 'small-limit' ? Math.floor(limit / 2) : 100 * 1024 * 1024,
    });
    this.#server = http.createServer((_req, res) => res.writeHead(426).end());
    this.#server.on('upgrade', (req, socket, head) => this.#upgrade(req, socket as Socket, head));
  }

  get url(): string {
    return `ws://127.0.0.1:${this.#port}`;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#port = (this.#server.address() as AddressInfo).port;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const { client, upstream } of this.#pairs) {
      client.terminate();
      upstream.terminate();
    }
    this.#pairs.clear();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #upgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    const defect = this.#o.defect;
    const target = new URL(req.url ?? '/', this.#o.upstream);
    const headers: Record<string, string> = {};
    const auth = req.headers.authorization;
    if (auth !== undefined && defect !== 'query-token-only') headers.Authorization = auth;
    if (defect === 'accept-any-token' && this.#o.token !== undefined) {
      target.searchParams.set('token', this.#o.token);
      delete headers.Authorization;
    }
    const upstream = new WebSocket(target, { headers, maxPayload: 100 * 1024 * 1024 });
    let refused = false;
    const refuse = (status: number) => {
      if (refused || !socket.writable) return;
      refused = true;
      socket.end(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
    };
    socket.on('error', () => {});
    upstream.once('unexpected-response', (_r, res) => {
      res.resume();
      upstream.terminate();
      refuse(res.statusCode ?? 502);
    });
    upstream.on('error', () => {
      if (upstream.readyState !== WebSocket.OPEN) refuse(502);
    });
    upstream.once('open', () => {
      this.#wss.handleUpgrade(req, socket, head, (client) => this.#pair(client, upstream));
    });
  }

  #pair(client: WebSocket, upstream: WebSocket): void {
    const pair = { client, upstream };
    this.#pairs.add(pair);
    const defect = this.#o.defect;
    const inFlight = new Set<string>();
    let dup = 0;
    let held: { answer: Record<string, unknown>; timer: ReturnType<typeof setTimeout> } | undefined;

    const toClient = (text: string) => {
      if (client.readyState === WebSocket.OPEN) client.send(text);
    };

    client.on('message', (data: RawData, isBinary) => {
      const buf = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data);
      if (isBinary) {
        upstream.send(buf, { binary: true });
        return;
      }
      let text = buf.toString('utf8');
      const msg = parse(text);
      if (defect === 'no-text-pong' && text === 'Ping') return;
      if (defect === 'silent-bad-json' && msg === undefined && text !== 'Ping') return;
      if (defect === 'silent-unknown-type' && msg && typeof msg.type === 'string' && !V1_TYPES.has(msg.type))
        return;
      if (defect === 'ignore-size-limit' && msg) text = JSON.stringify(msg);
      if (defect === 'answer-duplicates' && msg?.type === 'read' && typeof msg.id === 'string') {
        if (inFlight.has(msg.id)) text = JSON.stringify({ ...msg, id: `${msg.id}~dup${++dup}` });
        else inFlight.add(msg.id);
      }
      upstream.send(text);
    });
    upstream.on('message', (data: RawData, isBinary) => {
      const buf = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data);
      if (isBinary) {
        if (client.readyState === WebSocket.OPEN) client.send(buf, { binary: true });
        return;
      }
      const text = buf.toString('utf8');
      const answer = parse(text);
      if (answer === undefined) {
        toClient(text);
        return;
      }
      let mutated = this.#mutateAnswer(answer);
      if (mutated === undefined) return;
      if (defect === 'answer-duplicates' && typeof mutated.id === 'string') {
        const m = /^(.*)~dup\d+$/.exec(mutated.id);
        if (m) mutated = { ...mutated, id: m[1] };
        else inFlight.delete(mutated.id);
      }
      if (defect === 'swap-ids' && typeof mutated.id === 'string') {
        if (held === undefined) {
          const timer = setTimeout(() => {
            const h = held;
            held = undefined;
            if (h) toClient(JSON.stringify(h.answer));
          }, 200);
          held = { answer: mutated, timer };
          return;
        }
        clearTimeout(held.timer);
        const first = held.answer;
        held = undefined;
        [first.id, mutated.id] = [mutated.id, first.id];
        toClient(JSON.stringify(first));
        toClient(JSON.stringify(mutated));
        return;
      }
      toClient(mutated === answer ? text : JSON.stringify(mutated));
    });
    client.on('ping', (data) => {
      if (defect !== 'no-pong' && upstream.readyState === WebSocket.OPEN) upstream.ping(data);
    });
    upstream.on('pong', (data) => {
      if (client.readyState === WebSocket.OPEN) client.pong(data);
    });
    client.on('close', (code) => {
      this.#pairs.delete(pair);
      if (held) clearTimeout(held.timer);
      if (upstream.readyState === WebSocket.OPEN) upstream.close(sendable(code) ? code : 1000);
      else upstream.terminate();
    });
    upstream.on('close', (code, reason) => {
      if (client.readyState !== WebSocket.OPEN) return;
      if (sendable(code)) client.close(code, reason);
      else client.terminate();
    });
    client.on('error', () => {});
    upstream.on('error', () => {});
  }

  /** The answer with the defect applied; `undefined` to swallow it. Returns `answer` itself when unchanged. */
  #mutateAnswer(answer: Record<string, unknown>): Record<string, unknown> | undefined {
    switch (this.#o.defect) {
      case 'drop-ids': {
        if (!('id' in answer)) return answer;
        const { id: _id, ...rest } = answer;
        return rest;
      }
      case 'bad-reading':
        return answer.type === 'reading' ? { ...answer, value: String(answer.value) } : answer;
      case 'bad-error-code':
        return answer.type === 'error' && answer.code !== 'BAD_JSON' && answer.code !== 'BAD_REQUEST'
          ? { ...answer, code: 'oops' }
          : answer;
      case 'silent-errors':
        return answer.type === 'error' && (answer.code === 'BAD_JSON' || answer.code === 'BAD_REQUEST')
          ? undefined
          : answer;
      case 'legacy-envelope': {
        if ('type' in answer || !('IsDownCommand' in answer)) return answer;
        const { ConcentratorNo, WaterMtrAddress, AccumVal, ErrorCode, ErrorMsg } = answer;
        const Content =
          AccumVal === null
            ? { ConcentratorNo, WaterMtrAddress, Error: ErrorMsg, ErrorCode }
            : { ConcentratorNo, WaterMtrAddress, AccumVal };
        return { ModuleName: 'ClickToCopy', Content };
      }
      default:
        return answer;
    }
  }
}
