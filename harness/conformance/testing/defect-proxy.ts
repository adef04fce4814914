import { sum8 } from '../../../protocols/bytes.ts';
import { removeOffset33 } from '../../../protocols/dlt645/index.ts';
import type { Clock } from '../../../simulator/clock/clock.ts';
import type { Link } from '../../../simulator/link/link.ts';
import type { MeterSuiteProtocol } from '../meter/meter-wire.ts';

/**
 * A defect proxy for the proof table (issue 11, "Proof that every case can fail"): it sits between the suite
 * and a faithful simulated meter and gives the pair one specific defect, so each conformance case can be shown
 * to fail (or to be non-strict) against a device that has the defect it exists to catch — without changing
 * the simulated meter. Defects the meter's own fault plan already has (silence, late, bad checksum,
 * truncated, wrong address, duplicate, error reply) are given to the meter instead.
 *
 * The proxy collects request bytes until the line has been quiet for `burstGapMs`, then treats the burst as
 * one request (as a meter's receiver does at an inter-byte timeout), applies the request defects and passes
 * it on in one write. Replies pass back one transmission at a time, with the reply defects applied.
 * @packageDocumentation
 */

/** One defect of a meter. */
export type MeterDefect =
  /** Answers requests to any address: the request's address is rewritten to the meter's. */
  | { kind: 'answer-any-address' }
  /** Answers any CJ/T 188 meter type: T is rewritten to the meter's. */
  | { kind: 'answer-any-type' }
  /** Does not check the request checksum: a bad CS is repaired before the meter sees it. */
  | { kind: 'ignore-checksum' }
  /** Acts on a request as soon as its DATA is in: a request cut before CS and 16H is completed. */
  | { kind: 'act-before-end' }
  /** Understands only one CJ/T 188 DI byte order: a DI in the other order is a DI it does not know. */
  | { kind: 'one-di-order'; order: 'low-first' | 'high-first' }
  /** Byte-swaps the CJ/T 188 DI it echoes: the reply's DI is in the order opposite to the request's. */
  | { kind: 'swap-reply-di' }
  /** Puts a wrong SER in CJ/T 188 replies (the request's + 1). */
  | { kind: 'wrong-ser' }
  /** Needs at least `count` FE before a request; with fewer it hears nothing. */
  | { kind: 'min-preamble'; count: number }
  /** Resets its receiver at a pause longer than `ms` inside a request. */
  | { kind: 'inter-byte-reset'; ms: number }
  /** Hears nothing when anything but FE precedes the 68H of a request. */
  | { kind: 'junk-kills-frame' }
  /** Replies to a wildcard request with the wildcard address instead of its own. */
  | { kind: 'reply-wildcard-address' }
  /** Its CJ/T 188 status word always shows the valve in one position. */
  | { kind: 'status-stuck'; valve: 'open' | 'closed' }
  /** Stays silent instead of sending an abnormal/error reply. */
  | { kind: 'silent-on-error' }
  /** Answers a request it cannot serve with a normal reply: the abnormal bit of the reply is cleared. */
  | { kind: 'normal-for-error' }
  /** Sends this DL/T 645 error word in abnormal replies. */
  | { kind: 'error-word'; word: number }
  /** Sends DL/T 645 reply DATA without +33H. */
  | { kind: 'no-offset33' }
  /** Ignores the DL/T 645 broadcast time sync. */
  | { kind: 'ignore-time-sync' };

/** Options of {@link DefectProxy}. */
export interface DefectProxyOptions {
  protocol: MeterSuiteProtocol;
  /** The link the suite talks to (the proxy's "meter side" as the suite sees it). Open. */
  outer: Link;
  /** The link to the faithful meter. Open. */
  inner: Link;
  /** The meter's address bytes in wire order and (CJ/T 188) its type. */
  meterAddress: Uint8Array;
  meterType?: number;
  clock: Clock;
  defects: readonly MeterDefect[];
  /** Quiet time that ends a request burst, ms. @defaultValue 60 */
  burstGapMs?: number;
}

/** Proxies a suite and a faithful meter, adding defects. */
export class DefectProxy {
  readonly #o: DefectProxyOptions;
  #burst: { bytes: Uint8Array; at: number }[] = [];
  #timer: ReturnType<Clock['setTimeout']> | undefined;
  /** The last request passed on, for reply defects that depend on it. */
  #lastRequest: Uint8Array | undefined;
  readonly #onOuter = (bytes: Uint8Array) => this.#requestChunk(bytes);
  readonly #onInner = (bytes: Uint8Array) => this.#reply(bytes);

  constructor(options: DefectProxyOptions) {
    this.#o = options;
    options.outer.on('data', this.#onOuter);
    options.inner.on('data', this.#onInner);
  }

  detach(): void {
    this.#o.outer.off('data', this.#onOuter);
    this.#o.inner.off('data', this.#onInner);
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
  }

  #has<K extends MeterDefect['kind']>(kind: K): Extract<MeterDefect, { kind: K }> | undefined {
    return this.#o.defects.find((d) => d.kind === kind) as Extract<MeterDefect, { kind: K }> | undefined;
  }

  #requestChunk(bytes: Uint8Array): void {
    const clock = this.#o.clock;
    this.#burst.push({ bytes, at: clock.now() });
    if (this.#timer !== undefined) clock.clearTimeout(this.#timer);
    this.#timer = clock.setTimeout(() => this.#endBurst(), this.#o.burstGapMs ?? 60);
  }

  #endBurst(): void {
    this.#timer = undefined;
    let chunks = this.#burst;
    this.#burst = [];
    const reset = this.#has('inter-byte-reset');
    if (reset) {
      // Keep only what came after the last pause longer than the meter's reset time.
      for (let i = chunks.length - 1; i > 0; i--) {
        if (chunks[i].at - chunks[i - 1].at > reset.ms) {
          chunks = chunks.slice(i);
          break;
        }
      }
    }
    const total = chunks.reduce((n, c) => n + c.bytes.length, 0);
    let request: Uint8Array = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      request.set(c.bytes, at);
      at += c.bytes.length;
    }
    const out = this.#requestDefects(request);
    if (!out) return;
    request = out;
    this.#lastRequest = request;
    void this.#o.inner.write(request).catch(() => undefined);
  }

  /** Applies the request defects; undefined when the defective meter would hear nothing. */
  #requestDefects(input: Uint8Array): Uint8Array | undefined {
    const req = input.slice();
    const p = req.indexOf(0x68);
    if (p < 0) return req;
    const cjt = this.#o.protocol === 'cjt188';
    const minPreamble = this.#has('min-preamble');
    if (minPreamble) {
      let fe = 0;
      while (p - 1 - fe >= 0 && req[p - 1 - fe] === 0xfe) fe++;
      if (fe < minPreamble.count) return undefined;
    }
    if (this.#has('junk-kills-frame') && req.subarray(0, p).some((b) => b !== 0xfe)) return undefined;
    if (this.#has('ignore-time-sync') && !cjt && req[p + 8] === 0x08) return undefined;
    const addrAt = cjt ? p + 2 : p + 1;
    const addrLen = cjt ? 7 : 6;
    let changed = false;
    if (this.#has('answer-any-address')) {
      const wildcard = req.subarray(addrAt, addrAt + addrLen).every((b) => b === 0xaa || b === 0x99);
      if (!wildcard) {
        req.set(this.#o.meterAddress, addrAt);
        changed = true;
      }
    }
    if (cjt && this.#has('answer-any-type') && req[p + 1] !== 0xaa && this.#o.meterType !== undefined) {
      req[p + 1] = this.#o.meterType;
      changed = true;
    }
    const lengthAt = cjt ? p + 10 : p + 9;
    const dataAt = lengthAt + 1;
    const csAt = dataAt + (req[lengthAt] ?? 0);
    if (cjt) {
      const one = this.#has('one-di-order');
      if (one && req.length > dataAt + 1) {
        const [b0, b1] = [req[dataAt], req[dataAt + 1]];
        // A meter that reads the DI in one order only takes `90 1F` sent to a low-first meter as DI 1F90, which
        // it does not know. The faithful meter behind the proxy knows both orders, so the proxy hands it a DI
        // no meter knows (FFFF) to get the answer the defective meter gives.
        const isHighFirst = (b0 & 0xf0) >= 0x80 && (b0 & 0xf0) <= 0xd0 && b0 !== b1;
        if ((one.order === 'low-first') === isHighFirst) {
          req[dataAt] = 0xff;
          req[dataAt + 1] = 0xff;
          changed = true;
        }
      }
    }
    if (this.#has('act-before-end') && req.length === csAt) {
      const whole = new Uint8Array(req.length + 2);
      whole.set(req);
      whole[csAt] = sum8(whole, p, csAt);
      whole[csAt + 1] = 0x16;
      return whole;
    }
    if ((changed || this.#has('ignore-checksum')) && req.length > csAt) req[csAt] = sum8(req, p, csAt);
    return req;
  }

  #reply(bytes: Uint8Array): void {
    const out = this.#replyDefects(bytes);
    if (out) void this.#o.outer.write(out).catch(() => undefined);
  }

  #replyDefects(input: Uint8Array): Uint8Array | undefined {
    const reply = input.slice();
    const p = reply.indexOf(0x68);
    if (p < 0) return reply;
    const cjt = this.#o.protocol === 'cjt188';
    const controlAt = cjt ? p + 9 : p + 8;
    const lengthAt = controlAt + 1;
    const dataAt = lengthAt + 1;
    const length = reply[lengthAt] ?? 0;
    const csAt = dataAt + length;
    if (reply.length < csAt + 2) return reply;
    const control = reply[controlAt];
    if (this.#has('silent-on-error') && (control & 0x40) !== 0) return undefined;
    if (this.#has('normal-for-error') && (control & 0x40) !== 0) reply[controlAt] = control & ~0x40;
    const req = this.#lastRequest;
    const rp = req ? req.indexOf(0x68) : -1;
    if (cjt) {
      const isRead = control === 0x81 && length >= 3;
      if (this.#has('wrong-ser') && length >= 3 && (control & 0x40) === 0)
        reply[dataAt + 2] = (reply[dataAt + 2] + 1) & 0xff;
      if (this.#has('swap-reply-di') && isRead && req && rp >= 0) {
        // Answer in the order opposite to the request's: the request's DI bytes, swapped.
        reply[dataAt] = req[rp + 12];
        reply[dataAt + 1] = req[rp + 11];
      }
      const stuck = this.#has('status-stuck');
      if (stuck && isRead && length === 0x16) {
        const st = dataAt + length - 2;
        reply[st] = (reply[st] & ~0x03) | (stuck.valve === 'closed' ? 0x01 : 0x00);
      }
      if (stuck && control === 0x84 && length === 5) {
        const st = dataAt + 3;
        reply[st] = (reply[st] & ~0x03) | (stuck.valve === 'closed' ? 0x01 : 0x00);
      }
    } else {
      const word = this.#has('error-word');
      if (word && (control & 0x40) !== 0 && length === 1) reply[dataAt] = (word.word + 0x33) & 0xff;
      if (this.#has('no-offset33')) reply.set(removeOffset33(reply.subarray(dataAt, csAt)), dataAt);
    }
    if (this.#has('reply-wildcard-address') && req && rp >= 0) {
      const addrAt = cjt ? 2 : 1;
      const reqAddr = req.subarray(rp + addrAt, rp + addrAt + (cjt ? 7 : 6));
      if (reqAddr.every((b) => b === 0xaa)) reply.set(reqAddr, p + addrAt);
    }
    reply[csAt] = sum8(reply, p, csAt);
    return reply;
  }
}
