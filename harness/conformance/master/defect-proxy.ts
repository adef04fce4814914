import { bytesToHex, hexToBytes } from '../../../protocols/bytes.ts';
import { FrameAccumulator } from '../../../protocols/framer.ts';
import {
  AFN_CONFIRM,
  AFN_FORWARD,
  AFN_LINK_CHECK,
  decodeGdw376,
  denyFor,
  encodeGdw376,
  GDW376_DEFAULT_MAX_BUFFERED_BYTES,
  type Gdw376Frame,
} from '../../../protocols/gdw376/index.ts';
import { meterProtocol } from '../../../protocols/registry.ts';
import type { Clock } from '../../../simulator/clock/clock.ts';
import { realClock } from '../../../simulator/clock/real-clock.ts';
import type { Link } from '../../../simulator/link/link.ts';
import { listenTcp, TcpClientLink, type TcpListener } from '../../../simulator/link/tcp-link.ts';

/**
 * A TCP proxy between simulated concentrators and a faithful master station that gives the master one defect,
 * for the master role's proof table (issue 11: every case must fail, or be non-strict, against a master with
 * the defect it exists to catch). It mutates the master's frames (confirms, forward requests), or the way the
 * "master" reads the stream, without touching the master itself.
 *
 * Uplink bytes pass through as they came (so a split or coalesced write reaches the master split or coalesced),
 * unless a defect rewrites uplink frames; downlink bytes are framed, mutated and written one frame per write.
 * @packageDocumentation
 */

/** One defect of a master station. */
export type MasterDefect =
  /** Sends no confirm to the link checks named (1 login, 2 logout, 3 heartbeat); `clock`: only heartbeats with one. */
  | { kind: 'no-confirm'; fn: 1 | 2 | 3; clock?: boolean }
  /** Confirms in F3 with the DT written 03 00 (KSY style). */
  | { kind: 'confirm-f3-nonstandard' }
  /** Confirms with C = 0A and CON set (TMNL style, docs/field-notes.md §8). */
  | { kind: 'confirm-tmnl' }
  /** Confirms with RSEQ = the request's PSEQ + 1. */
  | { kind: 'confirm-seq' }
  /** Confirms with A2 + 1. */
  | { kind: 'confirm-address' }
  /** Denies logins (AFN 00 F2 instead of the confirm). */
  | { kind: 'deny-login' }
  /** Holds every confirm `ms`. */
  | { kind: 'delay-confirm'; ms: number }
  /** Takes each TCP read as exactly one whole frame and closes the link otherwise (TMNL 1.x). */
  | { kind: 'one-frame-per-read' }
  /** Closes a connection after `ms` with nothing from the concentrator. */
  | { kind: 'close-idle'; ms: number }
  /** Never lets a concentrator connection go: when the master closes its side, the concentrator's stays open. */
  | { kind: 'keep-open' }
  /** Sends no confirm to a login from an A1/A2 that already has an open connection. */
  | { kind: 'refuse-relogin' }
  /** Forward requests go out addressed to A2 + 1 (another terminal). */
  | { kind: 'forward-address' }
  /** Forward requests name this port. */
  | { kind: 'forward-port'; port: number }
  /** Forward requests carry this control word. */
  | { kind: 'forward-control'; word: number }
  /** Forward requests carry this frame-wait byte (D7 unit, D6–D0 value) and byte-wait byte. */
  | { kind: 'forward-timeouts'; frame: number; byte: number }
  /** The meter address in forwarded frames has its last digit changed. */
  | { kind: 'forward-meter-address' }
  /** Forward replies reach the master with another port (the master then rejects the reading). */
  | { kind: 'reply-port' }
  /** Forward replies reach the master with the SEQ of the latest forward request (matching by order). */
  | { kind: 'match-by-order' }
  /** An empty forward reply (silent meter) reaches the master as the last non-empty one (a cached value). */
  | { kind: 'stale-on-silence' };

/** Options of {@link MasterDefectProxy.start}. */
export interface MasterDefectProxyOptions {
  /** The faithful master's concentrator port. */
  master: { host: string; port: number };
  defects: readonly MasterDefect[];
  /** @defaultValue realClock */
  clock?: Clock;
}

interface Pair {
  outer: Link;
  inner: TcpClientLink;
  address?: string;
  /** Link checks seen upstream by SEQ: function number and whether a heartbeat carried a clock. */
  checks: Map<number, { fn: number; clock: boolean; relogin: boolean }>;
  lastForwardSeq?: number;
  /** Content of the last non-empty forward reply (stale-on-silence). */
  lastContent?: string;
  idleTimer?: ReturnType<Clock['setTimeout']>;
}

/** The proxy: listen where the concentrators connect, one upstream connection per concentrator connection. */
export class MasterDefectProxy {
  readonly #options: MasterDefectProxyOptions;
  readonly #clock: Clock;
  readonly #listener: TcpListener;
  readonly #pairs = new Set<Pair>();

  private constructor(options: MasterDefectProxyOptions, listener: TcpListener) {
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#listener = listener;
    listener.on('connection', (link) => void this.#accept(link));
  }

  /** Starts listening on 127.0.0.1 (a free port). */
  static async start(options: MasterDefectProxyOptions): Promise<MasterDefectProxy> {
    const listener = await listenTcp({ host: '127.0.0.1', port: 0 });
    return new MasterDefectProxy(options, listener);
  }

  /** Where concentrators connect. */
  get port(): number {
    return this.#listener.address().port;
  }

  async close(): Promise<void> {
    for (const p of this.#pairs) {
      if (p.idleTimer !== undefined) this.#clock.clearTimeout(p.idleTimer);
      await p.inner.close().catch(() => undefined);
    }
    await this.#listener.close();
  }

  #has<K extends MasterDefect['kind']>(kind: K): Extract<MasterDefect, { kind: K }> | undefined {
    return this.#options.defects.find((d) => d.kind === kind) as
      | Extract<MasterDefect, { kind: K }>
      | undefined;
  }

  async #accept(outer: Link): Promise<void> {
    const inner = new TcpClientLink({ host: this.#options.master.host, port: this.#options.master.port });
    const pair: Pair = { outer, inner, checks: new Map() };
    // The concentrator may write before the upstream connection is up: hold its bytes until then.
    const early: Uint8Array[] = [];
    const hold = (chunk: Uint8Array) => early.push(chunk);
    outer.on('data', hold);
    outer.on('error', () => undefined);
    try {
      await inner.open();
    } catch {
      await outer.close();
      return;
    }
    this.#pairs.add(pair);
    const up = new FrameAccumulator(decodeGdw376, { maxBufferedBytes: GDW376_DEFAULT_MAX_BUFFERED_BYTES });
    const down = new FrameAccumulator(decodeGdw376, { maxBufferedBytes: GDW376_DEFAULT_MAX_BUFFERED_BYTES });
    const rewritesUplink =
      this.#has('reply-port') || this.#has('match-by-order') || this.#has('stale-on-silence');
    const onUplink = (chunk: Uint8Array) => {
      this.#armIdle(pair);
      if (this.#has('one-frame-per-read') && !isOneFrame(chunk)) {
        void this.#closePair(pair);
        return;
      }
      const frames: Gdw376Frame[] = [];
      for (const e of up.push(chunk)) if (e.kind === 'frame') frames.push(e.frame);
      for (const f of frames) this.#noteUplink(pair, f);
      if (!rewritesUplink) {
        void inner.write(chunk).catch(() => undefined);
        return;
      }
      for (const f of frames)
        void inner.write(encodeGdw376(this.#uplinkDefects(pair, f))).catch(() => undefined);
    };
    outer.off('data', hold);
    outer.on('data', onUplink);
    inner.on('data', (chunk) => {
      for (const e of down.push(chunk)) {
        if (e.kind !== 'frame') continue;
        void this.#downlink(pair, e.frame);
      }
    });
    inner.on('error', () => undefined);
    inner.on('close', () => {
      if (!this.#has('keep-open')) void outer.close();
    });
    outer.on('close', () => {
      this.#pairs.delete(pair);
      if (pair.idleTimer !== undefined) this.#clock.clearTimeout(pair.idleTimer);
      void inner.close();
    });
    if (!outer.isOpen) void inner.close();
    this.#armIdle(pair);
    for (const chunk of early) onUplink(chunk);
  }

  #armIdle(pair: Pair): void {
    const idle = this.#has('close-idle');
    if (!idle) return;
    if (pair.idleTimer !== undefined) this.#clock.clearTimeout(pair.idleTimer);
    pair.idleTimer = this.#clock.setTimeout(() => void this.#closePair(pair), idle.ms);
  }

  async #closePair(pair: Pair): Promise<void> {
    await Promise.all([pair.outer.close(), pair.inner.close()]);
  }

  #noteUplink(pair: Pair, f: Gdw376Frame): void {
    if (f.afn !== AFN_LINK_CHECK || f.control.dir !== 'up') return;
    const fn = f.units[0]?.fn[0] ?? 0;
    const body = f.units[0]?.body;
    const address = `${f.a1}/${f.a2}`;
    const relogin =
      fn === 1 && [...this.#pairs].some((p) => p !== pair && p.address === address && p.outer.isOpen);
    pair.address = address;
    pair.checks.set(f.seq.seq, {
      fn,
      clock: body?.kind === 'heartbeat' && body.clock !== undefined,
      relogin,
    });
  }

  #uplinkDefects(pair: Pair, frame: Gdw376Frame): Gdw376Frame {
    const unit = frame.units[0];
    if (frame.afn !== AFN_FORWARD || unit?.body.kind !== 'forward-reply') return frame;
    let f = frame;
    if (this.#has('reply-port')) {
      f = { ...f, units: [{ ...unit, body: { ...unit.body, port: (unit.body.port % 31) + 1 } }] };
    }
    if (this.#has('stale-on-silence')) {
      const body = unit.body;
      if (body.content !== '') pair.lastContent = body.content;
      else if (pair.lastContent !== undefined) {
        f = { ...f, units: [{ ...unit, body: { ...body, content: pair.lastContent } }] };
      }
    }
    if (this.#has('match-by-order') && pair.lastForwardSeq !== undefined) {
      f = { ...f, seq: { ...f.seq, seq: pair.lastForwardSeq } };
    }
    return f;
  }

  async #downlink(pair: Pair, frame: Gdw376Frame): Promise<void> {
    let out: Gdw376Frame | undefined = frame;
    if (frame.afn === AFN_CONFIRM) out = await this.#confirmDefects(pair, frame);
    else if (frame.afn === AFN_FORWARD) out = this.#forwardDefects(pair, frame);
    if (out) await pair.outer.write(encodeGdw376(out)).catch(() => undefined);
  }

  async #confirmDefects(pair: Pair, frame: Gdw376Frame): Promise<Gdw376Frame | undefined> {
    const check = pair.checks.get(frame.seq.seq);
    const none = this.#options.defects.find(
      (d) =>
        d.kind === 'no-confirm' && check?.fn === d.fn && (d.clock === undefined || d.clock === check.clock),
    );
    if (none) return undefined;
    if (this.#has('refuse-relogin') && check?.relogin) return undefined;
    let f = frame;
    if (this.#has('deny-login') && check?.fn === 1) f = { ...denyFor(asUplinkCheck(frame)), a3: frame.a3 };
    if (this.#has('confirm-f3-nonstandard') && check) {
      f = {
        ...f,
        units: [
          {
            pn: [0],
            fn: [3],
            body: {
              kind: 'confirm-items',
              afn: AFN_LINK_CHECK,
              items: [{ pn: [0], fn: [check.fn], ok: true, err: 0 }],
              nonStandard: true,
            },
          },
        ],
      };
    }
    if (this.#has('confirm-tmnl')) {
      f = {
        ...f,
        control: { ...f.control, fn: 10, raw: (f.control.raw & 0xf0) | 10 },
        seq: { ...f.seq, con: true },
      };
    }
    if (this.#has('confirm-seq')) f = { ...f, seq: { ...f.seq, seq: (f.seq.seq + 1) & 0x0f } };
    if (this.#has('confirm-address')) f = { ...f, a2: (f.a2 % 65535) + 1 };
    const delay = this.#has('delay-confirm');
    if (delay) await new Promise<void>((resolve) => this.#clock.setTimeout(() => resolve(), delay.ms));
    return f;
  }

  #forwardDefects(pair: Pair, frame: Gdw376Frame): Gdw376Frame {
    const i = frame.units.findIndex((u) => u.body.kind === 'forward-request');
    const unit = frame.units[i];
    if (unit?.body.kind !== 'forward-request') return frame;
    pair.lastForwardSeq = frame.seq.seq;
    let body = unit.body;
    const port = this.#has('forward-port');
    if (port) body = { ...body, port: port.port };
    const control = this.#has('forward-control');
    if (control) {
      // The decoded reading must agree with the raw word for the encoder: decode it from a frame round trip.
      body = { ...body, controlWord: control.word, serial: serialOf(control.word) };
    }
    const timeouts = this.#has('forward-timeouts');
    if (timeouts) {
      body = {
        ...body,
        frameTimeout: { value: timeouts.frame & 0x7f, unit: timeouts.frame & 0x80 ? 's' : 'ms' },
        byteTimeout: { raw: timeouts.byte, ms: timeouts.byte * 10 },
      };
    }
    if (this.#has('forward-meter-address')) body = { ...body, content: otherMeter(body.content) };
    const units = [...frame.units];
    units[i] = { ...unit, body };
    const a2 = this.#has('forward-address') ? (frame.a2 % 65535) + 1 : frame.a2;
    return { ...frame, a2, units };
  }
}

/** True when `chunk` is exactly one whole, valid 376.1 frame. */
function isOneFrame(chunk: Uint8Array): boolean {
  const r = decodeGdw376(chunk);
  return r.kind === 'frame' && r.consumed === chunk.length;
}

/** The uplink link check a downlink confirm answers (for building a deny of it). */
function asUplinkCheck(confirm: Gdw376Frame): Gdw376Frame {
  return {
    ...confirm,
    control: { dir: 'up', prm: true, acd: false, fcv: false, fn: 9, raw: 0xc9 },
    afn: AFN_LINK_CHECK,
    units: [{ pn: [0], fn: [1], body: { kind: 'login' } }],
    aux: {},
  };
}

/** The serial settings a control word means (docs/gdw376.md §3.4). */
function serialOf(word: number): {
  baud: number;
  parity: 'none' | 'even' | 'odd';
  dataBits: number;
  stopBits: number;
} {
  const bauds = [300, 600, 1200, 2400, 4800, 7200, 9600, 19200];
  return {
    baud: bauds[(word >> 5) & 7],
    stopBits: word & 0x10 ? 2 : 1,
    parity: word & 0x08 ? (word & 0x04 ? 'odd' : 'even') : 'none',
    dataBits: (word & 0x03) + 5,
  };
}

/** The forwarded meter frame (hex) re-addressed to another meter (last digit changed). */
function otherMeter(contentHex: string): string {
  const bytes = hexToBytes(contentHex);
  const other = (a: string) => a.slice(0, -1) + (a.slice(-1) === '9' ? '8' : String(Number(a.slice(-1)) + 1));
  const cjt = meterProtocol('cjt188');
  const c = cjt.decode(bytes);
  if (c.kind === 'frame') return bytesToHex(cjt.encode({ ...c.frame, address: other(c.frame.address) }));
  const dlt = meterProtocol('dlt645');
  const d = dlt.decode(bytes);
  if (d.kind === 'frame') return bytesToHex(dlt.encode({ ...d.frame, address: other(d.frame.address) }));
  return contentHex;
}
