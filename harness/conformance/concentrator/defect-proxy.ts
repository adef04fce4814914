import { FrameAccumulator } from '../../../protocols/framer.ts';
import {
  AFN_CONFIRM,
  AFN_FORWARD,
  decodeGdw376,
  denyFor,
  encodeForwardControl,
  encodeGdw376,
  type Gdw376Frame,
} from '../../../protocols/gdw376/index.ts';
import {
  GDW376_FRAME_GAP_MS,
  type Link,
  listenTcp,
  TcpClientLink,
  type TcpListener,
} from '../../../simulator/link/index.ts';

/**
 * A TCP proxy between a faithful concentrator (meterlab's simulator, in client mode) and the concentrator suite
 * listening as master, that gives the pair one defect by rewriting, dropping, delaying or merging 376.1 frames —
 * the proof that each concentrator case can fail (issue 11). Without defects it passes every frame through, one
 * write per frame. Uplink frames are re-encoded after a change (so the checksum stays right) unless the defect is
 * in the bytes themselves (the L copy).
 * @packageDocumentation
 */

/** One defect of a concentrator. */
export type ConcentratorDefect =
  /** The login's second L copy differs from the first. */
  | { kind: 'login-l-copy' }
  /** The login carries protocol id 1 (Q/GDW 130-2005). */
  | { kind: 'login-protocol-id-1' }
  /** The login's control field is C = 89 (PRM 0) instead of C9. */
  | { kind: 'login-control' }
  /** The login's A2 is 0. */
  | { kind: 'login-a2-zero' }
  /** The login does not ask for a confirm (CON 0). */
  | { kind: 'login-no-con' }
  /** Heartbeats do not ask for a confirm (CON 0). */
  | { kind: 'heartbeat-no-con' }
  /** No heartbeat reaches the master. */
  | { kind: 'no-heartbeat' }
  /** The heartbeat clock is an hour ahead. */
  | { kind: 'clock-ahead' }
  /** Confirms of heartbeats in this form never reach the concentrator (it does not understand them). */
  | { kind: 'ignore-confirm'; form: 'F1' | 'F3' | 'F3-nonstandard' }
  /** Every link check carries PSEQ 0. */
  | { kind: 'pseq-stuck' }
  /** Responses carry RSEQ + 1 instead of the request's PSEQ. */
  | { kind: 'rseq-wrong' }
  /** The embedded meter reply of a forward gets a corrupt byte (its checksum no longer holds). */
  | { kind: 'corrupt-embedded' }
  /** The embedded meter reply of a forward carries another reading (checksum fixed). */
  | { kind: 'wrong-reading' }
  /** A forward reply with k = 0 is never sent. */
  | { kind: 'no-empty-reply' }
  /** A forward reply with k = 0 is sent as a deny. */
  | { kind: 'deny-for-empty' }
  /** Denies are never sent. */
  | { kind: 'no-deny' }
  /** Forwards go out at the meters' line settings whatever the control word asks. */
  | { kind: 'ignore-control-word'; baud: number }
  /** Responses close together (within `windowMs`) are written in one segment. */
  | { kind: 'coalesce'; windowMs: number }
  /** Requests with a time label Tp are dropped unanswered. */
  | { kind: 'drop-tp-requests' }
  /** After the first connection to the master ends, the concentrator never dials again. */
  | { kind: 'no-relogin' }
  /** Once a heartbeat is not confirmed within `afterMs`, the concentrator falls silent for good. */
  | { kind: 'mute-unconfirmed'; afterMs: number }
  /** Each login is sent three times, `gapMs` apart. */
  | { kind: 'login-burst'; gapMs: number };

export interface ConcentratorDefectProxyOptions {
  /** Where the suite listens (the master). */
  master: { host: string; port: number };
  defects: readonly ConcentratorDefect[];
}

/** The proxy; `port` is where the concentrator should connect. */
export class ConcentratorDefectProxy {
  readonly #o: ConcentratorDefectProxyOptions;
  #listener: TcpListener | undefined;
  readonly #links = new Set<Link>();
  #connections = 0;
  #muted = false;
  #closed = false;

  constructor(options: ConcentratorDefectProxyOptions) {
    this.#o = options;
  }

  get port(): number {
    return this.#listener?.address().port ?? 0;
  }

  async start(): Promise<void> {
    this.#listener = await listenTcp({ host: '127.0.0.1', port: 0 });
    this.#listener.on('connection', (inner) => void this.#accept(inner));
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#links].map((l) => l.close().catch(() => undefined)));
    await this.#listener?.close();
  }

  #has<K extends ConcentratorDefect['kind']>(kind: K): Extract<ConcentratorDefect, { kind: K }> | undefined {
    return this.#o.defects.find((d) => d.kind === kind) as
      | Extract<ConcentratorDefect, { kind: K }>
      | undefined;
  }

  async #accept(inner: Link): Promise<void> {
    this.#connections += 1;
    this.#links.add(inner);
    inner.on('error', () => undefined);
    if (this.#closed || (this.#has('no-relogin') && this.#connections > 1)) {
      // Held open and ignored: the concentrator believes it is connected, the master never hears from it.
      return;
    }
    // The concentrator logs in as soon as it is connected: hold its first bytes while the master side opens.
    const early: Uint8Array[] = [];
    const hold = (chunk: Uint8Array) => early.push(chunk);
    inner.on('data', hold);
    const outer = new TcpClientLink({ ...this.#o.master, minFrameGapMs: GDW376_FRAME_GAP_MS });
    outer.on('error', () => undefined);
    try {
      await outer.open();
    } catch {
      await inner.close().catch(() => undefined);
      return;
    }
    this.#links.add(outer);
    const state: PairState = { inner, outer, pendingHeartbeats: new Map(), coalesced: [], timer: undefined };
    const up = new FrameAccumulator(decodeGdw376, { maxBufferedBytes: 16_391 });
    const down = new FrameAccumulator(decodeGdw376, { maxBufferedBytes: 16_391 });
    const fromConcentrator = (chunk: Uint8Array) => {
      for (const e of up.push(chunk)) {
        if (e.kind === 'frame') this.#uplink(state, e.frame, e.raw);
        else void outer.write(e.bytes).catch(() => undefined);
      }
    };
    inner.off('data', hold);
    inner.on('data', fromConcentrator);
    for (const chunk of early) fromConcentrator(chunk);
    outer.on('data', (chunk) => {
      for (const e of down.push(chunk)) {
        if (e.kind === 'frame') this.#downlink(state, e.frame, e.raw);
        else void inner.write(e.bytes).catch(() => undefined);
      }
    });
    if (!inner.isOpen) await outer.close().catch(() => undefined);
    inner.on('close', () => void outer.close().catch(() => undefined));
    outer.on('close', () => void inner.close().catch(() => undefined));
  }

  /** A frame from the concentrator toward the master. */
  #uplink(s: PairState, frame: Gdw376Frame, raw: Uint8Array): void {
    if (this.#muted) return;
    const linkCheck = frame.afn === 0x02 && frame.control.prm;
    const fn = frame.units[0]?.fn[0];
    const isLogin = linkCheck && fn === 1;
    const isHeartbeat = linkCheck && fn === 3;
    let f = frame;
    let bytes: Uint8Array | undefined;
    const change = (patch: Partial<Gdw376Frame>) => {
      f = { ...f, ...patch };
    };
    if (isLogin) {
      if (this.#has('login-protocol-id-1')) change({ protocolId: 1 });
      if (this.#has('login-control')) change({ control: { ...f.control, prm: false, raw: 0x89 } });
      if (this.#has('login-a2-zero')) change({ a2: 0 });
      if (this.#has('login-no-con')) change({ seq: { ...f.seq, con: false } });
    }
    if (isHeartbeat) {
      if (this.#has('no-heartbeat')) return;
      if (this.#has('heartbeat-no-con')) change({ seq: { ...f.seq, con: false } });
      const body = f.units[0]?.body;
      if (this.#has('clock-ahead') && body?.kind === 'heartbeat' && body.clock) {
        const t = Date.parse(`${body.clock.replace(' ', 'T')}Z`) + 3_600_000;
        const clock = new Date(t).toISOString().slice(0, 19).replace('T', ' ');
        change({ units: [{ ...f.units[0], body: { kind: 'heartbeat', clock, week: body.week } }] });
      }
      const mute = this.#has('mute-unconfirmed');
      if (mute) {
        const timer = setTimeout(() => {
          this.#muted = true;
        }, mute.afterMs);
        s.pendingHeartbeats.set(f.seq.seq, timer);
      }
    }
    if (linkCheck && this.#has('pseq-stuck')) change({ seq: { ...f.seq, seq: 0 } });
    if (isHeartbeat) s.lastHeartbeatSeq = f.seq.seq;
    if (!f.control.prm && f.control.dir === 'up' && f.afn !== 0x02 && this.#has('rseq-wrong')) {
      change({ seq: { ...f.seq, seq: (f.seq.seq + 1) & 15 } });
    }
    const reply = f.units[0]?.body;
    if (f.afn === AFN_FORWARD && reply?.kind === 'forward-reply') {
      if (reply.content === '') {
        if (this.#has('no-empty-reply')) return;
        if (this.#has('deny-for-empty')) f = denyFor(downOf(f));
      } else if (this.#has('corrupt-embedded') || this.#has('wrong-reading')) {
        const content = mutateMeterReply(reply.content, this.#has('wrong-reading') !== undefined);
        change({ units: [{ ...f.units[0], body: { ...reply, content } }] });
      }
    }
    if (f.afn === AFN_CONFIRM && f.units.some((u) => u.body.kind === 'deny-all') && this.#has('no-deny'))
      return;
    bytes = f === frame ? raw : encodeGdw376(f);
    if (isLogin && this.#has('login-l-copy')) {
      bytes = bytes.slice();
      bytes[3] = (bytes[3] + 4) & 0xff;
    }
    const burst = isLogin ? this.#has('login-burst') : undefined;
    if (burst) {
      const copy = bytes;
      for (let i = 1; i < 3; i++)
        setTimeout(() => void s.outer.write(copy).catch(() => undefined), i * burst.gapMs);
    }
    const coalesce = this.#has('coalesce');
    // Responses only: holding a login back would outlast the concentrator's confirm timeout.
    if (coalesce && !f.control.prm) {
      s.coalesced.push(bytes);
      s.timer ??= setTimeout(() => {
        s.timer = undefined;
        const all = Buffer.concat(s.coalesced.splice(0));
        void s.outer.write(all).catch(() => undefined);
      }, coalesce.windowMs);
      return;
    }
    void s.outer.write(bytes).catch(() => undefined);
  }

  /** A frame from the master toward the concentrator. */
  #downlink(s: PairState, frame: Gdw376Frame, raw: Uint8Array): void {
    let bytes: Uint8Array = raw;
    if (frame.afn === AFN_CONFIRM) {
      const pending = s.pendingHeartbeats.get(frame.seq.seq);
      if (pending) {
        clearTimeout(pending);
        s.pendingHeartbeats.delete(frame.seq.seq);
      }
      const ignore = this.#has('ignore-confirm');
      const body = frame.units[0]?.body;
      const form =
        body?.kind === 'confirm-all'
          ? 'F1'
          : body?.kind === 'confirm-items'
            ? body.nonStandard
              ? 'F3-nonstandard'
              : 'F3'
            : undefined;
      // Only heartbeat confirms: the login is confirmed in F1 and must get through.
      if (ignore && form === ignore.form && s.lastHeartbeatSeq === frame.seq.seq) return;
    }
    if (frame.seq.tpv && this.#has('drop-tp-requests')) return;
    const body = frame.units[0]?.body;
    const ignoreWord = this.#has('ignore-control-word');
    if (ignoreWord && frame.afn === AFN_FORWARD && body?.kind === 'forward-request') {
      const serial = { ...body.serial, baud: ignoreWord.baud };
      const units = [
        { ...frame.units[0], body: { ...body, serial, controlWord: encodeForwardControl(serial) } },
      ];
      bytes = encodeGdw376({ ...frame, units });
    }
    void s.inner.write(bytes).catch(() => undefined);
  }
}

interface PairState {
  inner: Link;
  outer: Link;
  /** Heartbeats (by PSEQ) not yet confirmed, for `mute-unconfirmed`. */
  pendingHeartbeats: Map<number, ReturnType<typeof setTimeout>>;
  coalesced: Uint8Array[];
  timer: ReturnType<typeof setTimeout> | undefined;
  lastHeartbeatSeq?: number;
}

/** The master-side view of an uplink response, to build the deny the terminal would have sent instead. */
function downOf(up: Gdw376Frame): Gdw376Frame {
  return { ...up, control: { dir: 'down', prm: true, fcb: false, fcv: false, fn: 11, raw: 0x4b } };
}

/**
 * Changes a meter reply (hex): the lowest digit of the first value byte after the DI (CJ/T 188 after DI and SER,
 * DL/T 645 after the 4-byte DI, +33H), with the checksum recomputed when `keepChecksum`.
 */
function mutateMeterReply(contentHex: string, keepChecksum: boolean): string {
  const bytes = Uint8Array.from(contentHex.split(' ').map((h) => Number.parseInt(h, 16)));
  const start = bytes.indexOf(0x68);
  if (start < 0 || bytes.length < start + 16) return contentHex;
  const dlt645 = bytes[start + 7] === 0x68;
  const at = start + 14;
  const raw = dlt645 ? (bytes[at] - 0x33) & 0xff : bytes[at];
  const digit = ((raw & 0x0f) + 5) % 10;
  const changed = (raw & 0xf0) | digit;
  bytes[at] = dlt645 ? (changed + 0x33) & 0xff : changed;
  const csAt = bytes.length - 2;
  if (keepChecksum) {
    let sum = 0;
    for (let i = start; i < csAt; i++) sum += bytes[i];
    bytes[csAt] = sum & 0xff;
  }
  return [...bytes].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
}
