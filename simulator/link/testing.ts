/**
 * @internal Test helpers for links: collect what a link receives and wait for it with a bounded timeout,
 * instead of sleeping and hoping.
 */
import type { Link } from './link.ts';

/** Everything a link receives from now on, and a way to wait until enough has come. */
export interface Received {
  /** All bytes so far, concatenated. */
  bytes(): Uint8Array;
  /** The chunks as delivered. */
  readonly chunks: Uint8Array[];
  /** Resolves with all bytes once at least `count` have arrived; rejects after `timeoutMs` (real time). */
  waitFor(count: number, timeoutMs?: number): Promise<Uint8Array>;
}

export function collect(link: Link): Received {
  const chunks: Uint8Array[] = [];
  const waiters = new Set<() => void>();
  const total = () => chunks.reduce((n, c) => n + c.length, 0);
  const bytes = () => {
    const out = new Uint8Array(total());
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  };
  link.on('data', (chunk) => {
    chunks.push(Uint8Array.from(chunk));
    for (const w of [...waiters]) w();
  });
  return {
    chunks,
    bytes,
    waitFor(count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (total() >= count) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(bytes());
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${link.description}: got ${total()} of ${count} bytes within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

/** Resolves with the event's first argument; rejects after `timeoutMs` (real time). */
export function once<T>(
  emitter: {
    once(event: string, fn: (arg: T) => void): unknown;
    off(event: string, fn: (arg: T) => void): unknown;
  },
  event: string,
  timeoutMs = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = (arg: T) => {
      clearTimeout(timer);
      resolve(arg);
    };
    const timer = setTimeout(() => {
      emitter.off(event, fn);
      reject(new Error(`no '${event}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    emitter.once(event, fn);
  });
}
