import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { decodeText, type TextEncodingName } from '../../../protocols/point-read/index.ts';

/**
 * A test client for the client API: a real TCP socket that collects answer lines and lets a test wait for the
 * next one with a bounded timeout (no sleeping). @internal
 */
export class LineClient {
  readonly socket: Socket;
  readonly lines: unknown[] = [];
  readonly #encoding: TextEncodingName;
  #buf = Buffer.alloc(0);
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket, encoding: TextEncodingName) {
    this.socket = socket;
    this.#encoding = encoding;
    socket.on('data', (chunk: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, chunk]);
      for (;;) {
        const nl = this.#buf.indexOf(0x0a);
        if (nl < 0) break;
        const line = this.#buf.subarray(0, nl);
        this.#buf = this.#buf.subarray(nl + 1);
        this.lines.push(JSON.parse(decodeText(line, this.#encoding)));
      }
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
    });
  }

  static async connect(port: number, encoding: TextEncodingName = 'utf8'): Promise<LineClient> {
    const socket = connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    return new LineClient(socket, encoding);
  }

  /** Sends raw bytes or a text line (a newline is added to objects and strings). */
  send(data: object | string | Uint8Array): void {
    if (data instanceof Uint8Array) this.socket.write(data);
    else this.socket.write(typeof data === 'string' ? `${data}\n` : `${JSON.stringify(data)}\n`);
  }

  /** Waits until `count` answer lines have arrived in total, or fails after `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 5000): Promise<unknown[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length < count) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out waiting for ${count} lines; got ${JSON.stringify(this.lines)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.lines;
  }

  /** Sends a request and resolves with the next answer line. */
  async request(data: object | string): Promise<Record<string, unknown>> {
    const n = this.lines.length;
    this.send(data);
    const lines = await this.waitFor(n + 1);
    return lines[n] as Record<string, unknown>;
  }

  close(): void {
    this.socket.destroy();
  }
}
