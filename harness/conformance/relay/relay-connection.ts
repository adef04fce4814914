import { WebSocket } from 'ws';
import type { Clock } from '../../../simulator/clock/clock.ts';
import type { Trace } from '../trace.ts';

/**
 * One WebSocket connection of the relay suite to the endpoint under test, every event written to the case's
 * trace: messages sent and received (text as it was on the wire, binary as hex), ping/pong frames, the close
 * code and reason, an HTTP refusal of the upgrade. A case waits for what it expects with a deadline on the
 * suite's clock; nothing sleeps.
 * @packageDocumentation
 */

/** A message as it arrived: text frames as text, binary frames as bytes. */
export interface ReceivedMessage {
  text?: string;
  bytes?: Uint8Array;
  /** The text parsed as JSON, when it is JSON. */
  json?: unknown;
}

/** How the upgrade ended. */
export type OpenOutcome =
  | { kind: 'open' }
  | { kind: 'refused'; status: number }
  | { kind: 'failed'; message: string };

export interface RelayConnectionOptions {
  /** The URL to connect to (with `?token=` when the case wants it there). */
  url: string;
  /** `Authorization: Bearer …` to send, when the case wants the token in the header. */
  bearer?: string;
  trace: Trace;
  clock: Clock;
  /** Label of this connection in the trace when a case opens more than one (e.g. "A", "B"). */
  label?: string;
}

/** Most characters of a message's text kept in the trace (a size-limit case sends 64 KiB). */
const TRACE_TEXT_LIMIT = 400;

export class RelayConnection {
  readonly ws: WebSocket;
  readonly received: ReceivedMessage[] = [];
  readonly pongs: Uint8Array[] = [];
  closed: { code: number; reason: string } | undefined;
  readonly #trace: Trace;
  readonly #clock: Clock;
  readonly #prefix: string;
  readonly #waiters = new Set<() => void>();

  constructor(options: RelayConnectionOptions) {
    this.#trace = options.trace;
    this.#clock = options.clock;
    this.#prefix = options.label === undefined ? '' : `[${options.label}] `;
    const headers: Record<string, string> = {};
    if (options.bearer !== undefined) headers.Authorization = `Bearer ${options.bearer}`;
    // maxPayload: an endpoint may answer with anything; the suite reads what it gets (bounded by ws's default).
    this.ws = new WebSocket(options.url, { headers, handshakeTimeout: 10_000 });
    this.ws.on('message', (data, isBinary) => {
      const buf = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data);
      if (isBinary) {
        this.received.push({ bytes: new Uint8Array(buf) });
        this.#trace.add('received', `${this.#prefix}binary message, ${buf.length} bytes`, buf);
      } else {
        const text = buf.toString('utf8');
        const message: ReceivedMessage = { text };
        try {
          message.json = JSON.parse(text);
        } catch {
          // not JSON: kept as text
        }
        this.received.push(message);
        this.#trace.add('received', `${this.#prefix}${clip(text)}`);
      }
      this.#wake();
    });
    this.ws.on('pong', (data) => {
      this.pongs.push(new Uint8Array(data));
      this.#trace.add('received', `${this.#prefix}pong frame`, data);
      this.#wake();
    });
    this.ws.on('ping', (data) => {
      this.#trace.add('received', `${this.#prefix}ping frame (answered by a pong)`, data);
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.#trace.add(
        'received',
        `${this.#prefix}closed: ${code}${reason.length ? ` ${reason.toString()}` : ''}`,
      );
      this.#wake();
    });
    this.ws.on('error', () => {
      // The close (or the refusal) that follows says what happened.
    });
  }

  /** Waits for the upgrade; never rejects. */
  opened(timeoutMs: number): Promise<OpenOutcome> {
    return new Promise<OpenOutcome>((resolve) => {
      let done = false;
      const finish = (outcome: OpenOutcome) => {
        if (done) return;
        done = true;
        this.#clock.clearTimeout(timer);
        resolve(outcome);
      };
      const timer = this.#clock.setTimeout(() => {
        this.#trace.add('silence', `${this.#prefix}no answer to the upgrade within ${timeoutMs} ms`);
        this.ws.terminate();
        finish({ kind: 'failed', message: `no answer to the upgrade within ${timeoutMs} ms` });
      }, timeoutMs);
      if (this.ws.readyState === WebSocket.OPEN) {
        finish({ kind: 'open' });
        return;
      }
      this.ws.once('open', () => {
        this.#trace.add('received', `${this.#prefix}upgrade accepted (HTTP 101)`);
        finish({ kind: 'open' });
      });
      this.ws.once('unexpected-response', (_req, res) => {
        const status = res.statusCode ?? 0;
        this.#trace.add(
          'received',
          `${this.#prefix}upgrade refused: HTTP ${status} ${res.statusMessage ?? ''}`.trim(),
        );
        res.resume();
        this.ws.terminate();
        finish({ kind: 'refused', status });
      });
      this.ws.once('error', (error) => {
        setImmediate(() => finish({ kind: 'failed', message: error.message }));
      });
    });
  }

  /** Sends a text message (a string as is, anything else as JSON). */
  send(message: unknown): void {
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    this.#trace.add('sent', `${this.#prefix}${clip(text)}`);
    this.ws.send(text);
  }

  /** Sends a binary message. */
  sendBinary(bytes: Uint8Array): void {
    this.#trace.add('sent', `${this.#prefix}binary message, ${bytes.length} bytes`, bytes);
    this.ws.send(bytes, { binary: true });
  }

  /** Sends a ping frame with `payload` (RFC 6455 §5.5.2). */
  ping(payload: Uint8Array): void {
    this.#trace.add('sent', `${this.#prefix}ping frame`, payload);
    this.ws.ping(payload);
  }

  /**
   * The first message received (before or after the call) that `match` accepts, or undefined when none came
   * within `timeoutMs` or the connection closed first (a silence entry says which).
   */
  async waitFor(
    match: (m: ReceivedMessage) => boolean,
    timeoutMs: number,
    what = 'an answer',
  ): Promise<ReceivedMessage | undefined> {
    const ok = await this.until(() => this.received.some(match), timeoutMs, what);
    return ok ? this.received.find(match) : undefined;
  }

  /** Waits until `condition` holds, the connection closes, or `timeoutMs` passes; returns whether it holds. */
  async until(condition: () => boolean, timeoutMs: number, what: string): Promise<boolean> {
    const deadline = this.#clock.now() + timeoutMs;
    for (;;) {
      if (condition()) return true;
      const left = deadline - this.#clock.now();
      if (this.closed || left <= 0) {
        this.#trace.add(
          'silence',
          `${this.#prefix}no ${what}${this.closed ? ' before the close' : ` within ${timeoutMs} ms`}`,
        );
        return false;
      }
      await new Promise<void>((resolve) => {
        const timer = this.#clock.setTimeout(() => {
          this.#waiters.delete(wake);
          resolve();
        }, left);
        const wake = () => {
          this.#clock.clearTimeout(timer);
          resolve();
        };
        this.#waiters.add(wake);
      });
    }
  }

  /** Waits for the close, up to `timeoutMs`; the close, or undefined. */
  async waitClosed(timeoutMs: number): Promise<{ code: number; reason: string } | undefined> {
    await this.until(() => this.closed !== undefined, timeoutMs, 'close');
    return this.closed;
  }

  /** Closes (1000) and waits briefly for the close handshake; terminates if it does not complete. */
  async close(): Promise<void> {
    if (this.closed || this.ws.readyState === WebSocket.CLOSED) return;
    if (this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.terminate();
      return;
    }
    this.ws.close(1000, 'case done');
    const deadline = this.#clock.now() + 1000;
    while (!this.closed && this.#clock.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = this.#clock.setTimeout(() => {
          this.#waiters.delete(wake);
          resolve();
        }, 50);
        const wake = () => {
          this.#clock.clearTimeout(timer);
          resolve();
        };
        this.#waiters.add(wake);
      });
    }
    if (!this.closed) this.ws.terminate();
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w();
  }
}

function clip(text: string): string {
  return text.length > TRACE_TEXT_LIMIT
    ? `${text.slice(0, TRACE_TEXT_LIMIT)}… (${text.length} characters)`
    : text;
}
