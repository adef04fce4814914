/**
 * @internal Removes a half-duplex RS-485 adapter's echo from the received stream.
 *
 * Many RS-485 adapters (and every 2-wire bus with the receiver left enabled) hand back each byte we send.
 * The echo comes first — nothing else may talk while we transmit on a half-duplex bus — so the filter expects
 * exactly the bytes written, in order, and drops them as they match. The first byte that does not match
 * means the echo is broken (a collision, or an adapter that does not echo after all): every expected byte is
 * abandoned and the rest of the chunk passes through, so a real reply is never eaten. Expectations also
 * expire at a deadline, for adapters that echo nothing.
 */
export class EchoFilter {
  #segments: { bytes: Uint8Array; offset: number; deadline: number }[] = [];

  /** Bytes still expected back. */
  get pendingBytes(): number {
    let n = 0;
    for (const s of this.#segments) n += s.bytes.length - s.offset;
    return n;
  }

  /** Expects `bytes` back before `deadline` (clock time). */
  expect(bytes: Uint8Array, deadline: number): void {
    if (bytes.length > 0) this.#segments.push({ bytes: Uint8Array.from(bytes), offset: 0, deadline });
  }

  /**
   * Takes a received chunk and returns what is not echo, plus how many expected bytes were abandoned
   * because the chunk did not match (0 when it matched or nothing was expected).
   */
  filter(chunk: Uint8Array): { pass: Uint8Array; abandoned: number } {
    let i = 0;
    while (i < chunk.length && this.#segments.length > 0) {
      const head = this.#segments[0];
      if (chunk[i] !== head.bytes[head.offset]) {
        return { pass: chunk.subarray(i), abandoned: this.abandon() };
      }
      i++;
      head.offset++;
      if (head.offset === head.bytes.length) this.#segments.shift();
    }
    return { pass: chunk.subarray(i), abandoned: 0 };
  }

  /** Drops expectations whose deadline is at or before `now`; returns how many bytes never came back. */
  expire(now: number): number {
    let missing = 0;
    while (this.#segments.length > 0 && this.#segments[0].deadline <= now) {
      const s = this.#segments.shift()!;
      missing += s.bytes.length - s.offset;
    }
    return missing;
  }

  /** Drops every expectation; returns how many bytes were still expected. */
  abandon(): number {
    const n = this.pendingBytes;
    this.#segments = [];
    return n;
  }
}
