import { EventEmitter } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { FrameAccumulator } from '../../../protocols/framer.ts';
import {
  buildConfirm,
  buildConfirmItems,
  decodeGdw376,
  encodeGdw376,
  type Gdw376Frame,
} from '../../../protocols/gdw376/index.ts';

/**
 * @internal A small master station for the concentrator's tests: accepts connections, records every frame,
 * confirms login/heartbeat in F1 or F3 form (or not at all), and sends whatever a test asks.
 */
export class FakeMaster extends EventEmitter<{ frame: [Gdw376Frame, Socket]; connection: [Socket] }> {
  readonly frames: Gdw376Frame[] = [];
  readonly sockets = new Set<Socket>();
  confirm: 'F1' | 'F3' | 'none' = 'F1';
  #server: Server;

  constructor() {
    super();
    this.#server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', () => resolve()));
    return (this.#server.address() as AddressInfo).port;
  }

  /** The first frame (already received or still to come) that satisfies `predicate`. */
  next(predicate: (f: Gdw376Frame) => boolean, timeoutMs = 5000, from = 0): Promise<Gdw376Frame> {
    const seen = this.frames.slice(from).find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('frame', on);
        reject(new Error(`fake master: no matching frame within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (f: Gdw376Frame) => {
        if (!predicate(f)) return;
        clearTimeout(timer);
        this.off('frame', on);
        resolve(f);
      };
      this.on('frame', on);
    });
  }

  send(data: Gdw376Frame | Uint8Array): void {
    const bytes = data instanceof Uint8Array ? data : encodeGdw376(data);
    for (const s of this.sockets) s.write(bytes);
  }

  /** Resets every connection (a link drop). */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const acc = new FrameAccumulator(decodeGdw376, { maxBufferedBytes: 16_391 });
    socket.on('data', (chunk: Buffer) => {
      for (const event of acc.push(chunk)) {
        if (event.kind !== 'frame') continue;
        const f = event.frame;
        this.frames.push(f);
        if (f.afn === 0x02 && this.confirm !== 'none') {
          const base = { a1: f.a1, a2: f.a2, seq: f.seq.seq };
          const answer =
            this.confirm === 'F1'
              ? buildConfirm(base)
              : buildConfirmItems({ ...base, afn: 0x02, items: [{ pn: [0], fn: f.units[0].fn, ok: true }] });
          socket.write(encodeGdw376(answer));
        }
        this.emit('frame', f, socket);
      }
    });
    this.emit('connection', socket);
  }
}

/** @internal Resolves with the first `event` payload satisfying `predicate`, or rejects after `timeoutMs`. */
export function once<T>(
  emitter: EventEmitter,
  event: string,
  predicate: (payload: T) => boolean = () => true,
  timeoutMs = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`no '${event}' within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (payload: T) => {
      if (!predicate(payload)) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(payload);
    };
    emitter.on(event, on);
  });
}
