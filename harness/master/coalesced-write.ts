import type { Writable } from 'node:stream';

/**
 * Writes `chunk` to `socket`, holding it back (cork) until the I/O callbacks of the current turn of the event
 * loop have run, so that every line or frame queued for that socket in the turn leaves in one `writev`.
 *
 * Why: each socket write is a system call, and on a busy connection (the master's answers to the relay, the
 * relay's requests to the master) it was the largest single cost of a read. Answers finishing in the same turn
 * (replies from many concentrators read in one poll) now share a call. The bytes and their order are unchanged;
 * a line waits at most until the end of the turn (`setImmediate`), never for a timer.
 *
 * Returns what `socket.write` returns (false: the buffer is over its high-water mark; wait for `'drain'`).
 */
export function writeCoalesced(socket: Writable, chunk: Uint8Array): boolean {
  if (socket.writableCorked === 0) {
    socket.cork();
    // end() and destroy() flush or discard corked data themselves; uncork() on an ended socket is a no-op.
    setImmediate(() => socket.uncork());
  }
  return socket.write(chunk);
}
