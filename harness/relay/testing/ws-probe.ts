/**
 * A raw WebSocket client for tests: keeps every message it receives (parsed JSON) and lets a test wait for
 * one that matches, for the close, or for a refusal status — no sleeping.
 * @internal test support
 */
import { type ClientOptions, WebSocket } from 'ws';

export type Json = Record<string, unknown>;

export class WsProbe {
  readonly ws: WebSocket;
  /** Every message received, parsed (a non-JSON text is kept as `{ text }`). */
  readonly messages: Json[] = [];
  /** Close code and reason, once closed. */
  closed: { code: number; reason: string } | undefined;
  readonly #waiters = new Set<() => void>();

  constructor(url: string, options: ClientOptions = {}) {
    this.ws = new WebSocket(url, options);
    this.ws.on('message', (data) => {
      const text = String(data);
      let parsed: Json;
      try {
        parsed = JSON.parse(text) as Json;
      } catch {
        parsed = { text };
      }
      this.messages.push(parsed);
      this.#wake();
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.#wake();
    });
    this.ws.on('error', () => {});
  }

  /** Resolves when open; rejects with the HTTP status of a refused upgrade (`unexpected-response`). */
  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) {
        resolve();
        return;
      }
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => {
        reject(Object.assign(new Error(`refused: ${res.statusCode}`), { status: res.statusCode }));
        res.resume();
      });
      this.ws.once('error', (error) => reject(error));
    });
  }

  send(msg: Json | string): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** Resolves with the first message (received before or after the call) that `match` accepts. */
  async waitFor(match: (m: Json) => boolean): Promise<Json> {
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (this.closed) throw new Error(`closed (${this.closed.code}) before a matching message arrived`);
      await new Promise<void>((resolve) => this.#waiters.add(resolve));
    }
  }

  /** The answer with this id. */
  answer(id: string): Promise<Json> {
    return this.waitFor((m) => m.id === id);
  }

  /** Sends a v1 read and resolves with its answer. */
  async read(id: string, concentrator: string, meter: string): Promise<Json> {
    this.send({ type: 'read', id, concentrator, meter });
    return this.answer(id);
  }

  /** Resolves with the close code and reason. */
  async waitClosed(): Promise<{ code: number; reason: string }> {
    while (!this.closed) await new Promise<void>((resolve) => this.#waiters.add(resolve));
    return this.closed;
  }

  close(): void {
    this.ws.terminate();
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w();
  }
}
