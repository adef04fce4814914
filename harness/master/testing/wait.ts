import type { EventEmitter } from 'node:events';

/**
 * Resolves with the first `event` payload that satisfies `predicate`, or rejects after `timeoutMs`: tests wait
 * on what happens, never on the clock. @internal
 */
export function waitForEvent<T = unknown>(
  emitter: EventEmitter,
  event: string,
  predicate: (payload: T) => boolean = () => true,
  timeoutMs = 5000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for '${event}'`));
    }, timeoutMs);
    const listener = (payload: T) => {
      if (!predicate(payload)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(payload);
    };
    emitter.on(event, listener);
  });
}
