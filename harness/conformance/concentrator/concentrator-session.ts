import { EventEmitter } from 'node:events';
import { FrameAccumulator } from '../../../protocols/framer.ts';
import {
  AFN_LINK_CHECK,
  buildConfirm,
  buildConfirmItems,
  decodeGdw376,
  encodeGdw376,
  type Gdw376Frame,
} from '../../../protocols/gdw376/index.ts';
import type { Clock } from '../../../simulator/clock/clock.ts';
import {
  GDW376_FRAME_GAP_MS,
  type Link,
  listenTcp,
  TcpClientLink,
  type TcpListener,
} from '../../../simulator/link/index.ts';
import { describeGdw376Frame } from '../../master/frame-summary.ts';
import { Trace } from '../trace.ts';

/**
 * meterlab as the master station of a concentrator under test (issue 11, `--role concentrator`): it listens for
 * the concentrator (`tcp-listen:`, the GPRS case) or connects to it (`tcp:`, a concentrator in server mode),
 * frames every socket read with the project's 376.1 framer, remembers every frame with the connection and the
 * socket read it came in (one frame per read is a case), confirms logins and heartbeats in the form a case asks
 * for (docs/gdw376.md §3.5), and writes every exchange into the current case's trace.
 * @packageDocumentation
 */

/** How the master answers a login or heartbeat (docs/gdw376.md §3.5). */
export type ConfirmForm = 'F1' | 'F3' | 'F3-nonstandard' | 'none';

/** One frame heard from the concentrator. */
export interface HeardFrame {
  frame: Gdw376Frame;
  raw: Uint8Array;
  /** Clock time it was framed. */
  at: number;
  /** Which connection (1 = the first) it came on. */
  connection: number;
  /** How many whole frames the same socket read completed (1 when the concentrator writes one per segment). */
  framesInRead: number;
  /** Position in the session's log of frames. */
  index: number;
}

/** Bytes from the concentrator that formed no frame. */
export interface HeardDrop {
  at: number;
  connection: number;
  code: string;
  reason: string;
  bytes: Uint8Array;
}

/** Where the concentrator is. */
export type SessionTarget =
  | { kind: 'listen'; host: string; port: number }
  | { kind: 'connect'; host: string; port: number };

interface Connection {
  id: number;
  link: Link;
  openedAt: number;
  closedAt?: number;
  /** A login on this connection was confirmed. */
  loggedIn: boolean;
}

/** Frames kept for cases that look back (PSEQ steps, heartbeat intervals); older ones are let go. */
const MAX_HEARD = 2000;

/** Thrown by a wait when the run is interrupted (Ctrl-C): the runner grades the case in progress skipped. */
export class RunInterrupted extends Error {
  override readonly name = 'RunInterrupted';
  constructor() {
    super('the run was interrupted');
  }
}

export interface ConcentratorSessionEvents {
  interrupted: [];
  frame: [heard: HeardFrame];
  connection: [id: number];
  disconnect: [id: number];
}

/** The master side of a concentrator conformance run. */
export class ConcentratorSession extends EventEmitter<ConcentratorSessionEvents> {
  readonly target: SessionTarget;
  readonly clock: Clock;
  /** How logins are answered. */
  loginConfirm: ConfirmForm = 'F1';
  /** How heartbeats are answered. */
  heartbeatConfirm: ConfirmForm = 'F1';
  readonly heard: HeardFrame[] = [];
  readonly drops: HeardDrop[] = [];
  readonly connections: Connection[] = [];
  trace: Trace;
  #listener: TcpListener | undefined;
  #current: Connection | undefined;
  #count = 0;
  #connectionCount = 0;
  #pseq = 0;
  #closed = false;
  #interrupted = false;

  constructor(target: SessionTarget, clock: Clock) {
    super();
    this.setMaxListeners(50);
    this.target = target;
    this.clock = clock;
    this.trace = new Trace(clock);
  }

  /** `host:port` listened on (listen mode, once started) or connected to. */
  get address(): string {
    const a = this.#listener?.address();
    return a ? `${a.host}:${a.port}` : `${this.target.host}:${this.target.port}`;
  }

  /** The port listened on (listen mode), for tests that listen on port 0. */
  get listenPort(): number | undefined {
    return this.#listener?.address().port;
  }

  /** The connection frames are sent on: the latest one that is still open. */
  get current(): Connection | undefined {
    return this.#current?.closedAt === undefined ? this.#current : undefined;
  }

  /** A fresh trace for the next case. */
  beginCase(): Trace {
    this.trace = new Trace(this.clock);
    return this.trace;
  }

  /** Listens (listen mode) or connects (connect mode). @throws LinkError when that fails. */
  async start(): Promise<void> {
    if (this.target.kind === 'listen') {
      this.#listener = await listenTcp({
        host: this.target.host,
        port: this.target.port,
        minFrameGapMs: GDW376_FRAME_GAP_MS,
      });
      this.#listener.on('connection', (link) => this.#adopt(link));
      this.#listener.on('error', () => undefined);
      return;
    }
    await this.connect();
  }

  /** Connect mode: a new connection to the concentrator (the old one is closed). */
  async connect(): Promise<void> {
    if (this.target.kind !== 'connect') throw new TypeError('connect() is for a tcp: target');
    await this.current?.link.close().catch(() => undefined);
    const link = new TcpClientLink({
      host: this.target.host,
      port: this.target.port,
      minFrameGapMs: GDW376_FRAME_GAP_MS,
      connectTimeoutMs: 5000,
    });
    await link.open();
    this.#adopt(link);
  }

  /** Closes the current connection (the master hangs up). */
  async hangUp(): Promise<void> {
    const conn = this.current;
    if (!conn) return;
    this.trace.note(`master closes connection #${conn.id}`);
    await conn.link.close().catch(() => undefined);
  }

  /** Ends every wait at once (Ctrl-C): the waits throw {@link RunInterrupted}. */
  interrupt(): void {
    this.#interrupted = true;
    this.emit('interrupted');
  }

  /** Closes everything. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.connections.map((c) => c.link.close().catch(() => undefined)));
    await this.#listener?.close();
  }

  /** The master's next PSEQ (docs/gdw376.md §3.1 SEQ D3–D0). */
  nextPseq(): number {
    const seq = this.#pseq;
    this.#pseq = (this.#pseq + 1) & 0x0f;
    return seq;
  }

  /** Sends one frame (one write) on the current connection. @returns false when there is none. */
  async send(frame: Gdw376Frame, label?: string): Promise<boolean> {
    return this.sendBytes(encodeGdw376(frame), `${label ? `${label}: ` : ''}${describe(frame)}`);
  }

  /** Sends bytes in one write on the current connection. */
  async sendBytes(bytes: Uint8Array, text: string): Promise<boolean> {
    const conn = this.current;
    if (!conn) {
      this.trace.note(`not sent (no connection): ${text}`);
      return false;
    }
    this.trace.add('sent', `#${conn.id} ${text}`, bytes);
    try {
      await conn.link.write(bytes);
      return true;
    } catch (error) {
      this.trace.note(`write failed: ${(error as Error).message}`);
      return false;
    }
  }

  /**
   * The first frame at or after log position `from` satisfying `match`, waiting up to `timeoutMs` on the clock;
   * undefined when none came (a silence line goes in the trace).
   */
  async waitFor(
    match: (h: HeardFrame) => boolean,
    timeoutMs: number,
    from = 0,
    what = 'a matching frame',
  ): Promise<HeardFrame | undefined> {
    if (this.#interrupted) throw new RunInterrupted();
    const seen = this.heard.find((h) => h.index >= from && match(h));
    if (seen) {
      if (seen.at < this.clock.now() - this.trace.elapsedMs) this.cite(seen);
      return seen;
    }
    return new Promise((resolve, reject) => {
      const done = () => {
        this.clock.clearTimeout(timer);
        this.off('frame', on);
        this.off('interrupted', stop);
      };
      const timer = this.clock.setTimeout(() => {
        done();
        this.trace.add('silence', `no ${what} within ${Math.round(timeoutMs)} ms`);
        resolve(undefined);
      }, timeoutMs);
      const on = (h: HeardFrame) => {
        if (h.index < from || !match(h)) return;
        done();
        resolve(h);
      };
      const stop = () => {
        done();
        reject(new RunInterrupted());
      };
      this.on('frame', on);
      this.on('interrupted', stop);
    });
  }

  /** Puts a frame heard before the current case into its trace, as the evidence the case judged. */
  cite(h: HeardFrame): void {
    this.trace.add('received', `#${h.connection} (heard before this case) ${describe(h.frame)}`, h.raw);
  }

  /** Resolves after `ms` on the clock (frames keep being heard and confirmed meanwhile). */
  async sleep(ms: number): Promise<void> {
    if (this.#interrupted) throw new RunInterrupted();
    await this.clock.sleep(ms);
    if (this.#interrupted) throw new RunInterrupted();
  }

  /** The log position the next frame will get. */
  get mark(): number {
    return this.#count;
  }

  /** Waits until a connection is open and (listen mode) a login on it was confirmed. */
  async waitOnline(timeoutMs: number): Promise<boolean> {
    const online = () => {
      const c = this.current;
      return c !== undefined && (this.target.kind === 'connect' || c.loggedIn);
    };
    if (online()) return true;
    const deadline = this.clock.now() + timeoutMs;
    while (this.clock.now() < deadline) {
      await this.sleep(Math.min(20, Math.max(1, deadline - this.clock.now())));
      if (online()) return true;
    }
    return false;
  }

  #adopt(link: Link): void {
    if (this.#closed) {
      void link.close().catch(() => undefined);
      return;
    }
    const conn: Connection = {
      id: ++this.#connectionCount,
      link,
      openedAt: this.clock.now(),
      loggedIn: false,
    };
    this.connections.push(conn);
    // Bounded: a concentrator reconnecting all day must not grow the list (ids keep counting).
    if (this.connections.length > 50) {
      const gone = this.connections.findIndex((c) => c.closedAt !== undefined);
      if (gone >= 0) this.connections.splice(gone, 1);
    }
    this.#current = conn;
    this.trace.note(`connection #${conn.id} opened (${link.description})`);
    const frames = new FrameAccumulator(decodeGdw376, { maxBufferedBytes: 16_391 });
    link.on('error', () => undefined);
    link.on('data', (chunk) => this.#receive(conn, frames, chunk));
    link.on('close', () => {
      conn.closedAt = this.clock.now();
      this.trace.note(`connection #${conn.id} closed`);
      this.emit('disconnect', conn.id);
    });
    this.emit('connection', conn.id);
  }

  #receive(conn: Connection, frames: FrameAccumulator<Gdw376Frame>, chunk: Uint8Array): void {
    const events = frames.push(chunk);
    const whole = events.filter((e) => e.kind === 'frame').length;
    for (const event of events) {
      if (event.kind === 'dropped') {
        const drop: HeardDrop = {
          at: this.clock.now(),
          connection: conn.id,
          code: event.error.code,
          reason: event.error.message,
          bytes: event.bytes,
        };
        this.drops.push(drop);
        if (this.drops.length > MAX_HEARD) this.drops.shift();
        this.trace.add('dropped', `#${conn.id} ${event.error.code}: ${event.error.message}`, event.bytes);
        continue;
      }
      const heard: HeardFrame = {
        frame: event.frame,
        raw: event.raw.slice(),
        at: this.clock.now(),
        connection: conn.id,
        framesInRead: whole,
        index: this.#count++,
      };
      this.heard.push(heard);
      if (this.heard.length > MAX_HEARD) this.heard.shift();
      const together = whole > 1 ? ` [${whole} frames in one read]` : '';
      this.trace.add('received', `#${conn.id} ${describe(event.frame)}${together}`, heard.raw);
      this.#answerLinkCheck(conn, heard);
      this.emit('frame', heard);
    }
  }

  /** Confirms a login, heartbeat or logout that asks for it, in the form set for it. */
  #answerLinkCheck(conn: Connection, heard: HeardFrame): void {
    const f = heard.frame;
    if (f.afn !== AFN_LINK_CHECK || f.control.dir !== 'up' || !f.control.prm || !f.seq.con) return;
    const fn = f.units[0]?.fn[0];
    const form = fn === 1 ? this.loginConfirm : fn === 3 ? this.heartbeatConfirm : 'F1';
    if (form === 'none') {
      this.trace.note(`not confirmed (on purpose): ${fn === 1 ? 'login' : 'heartbeat'} SEQ ${f.seq.seq}`);
      return;
    }
    if (fn === 1) conn.loggedIn = true;
    const base = { a1: f.a1, a2: f.a2, msa: f.a3.msa, seq: f.seq.seq };
    const answer =
      form === 'F1'
        ? buildConfirm(base)
        : buildConfirmItems({
            ...base,
            afn: AFN_LINK_CHECK,
            items: [{ pn: [0], fn: f.units[0]?.fn ?? [fn ?? 1], ok: true }],
            nonStandard: form === 'F3-nonstandard',
          });
    void this.send(answer, `confirm (${form})`);
  }
}

/** One line for a 376.1 frame in a trace: C, address, SEQ and what the frame is. */
export function describe(frame: Gdw376Frame): string {
  const c = frame.control.raw.toString(16).toUpperCase().padStart(2, '0');
  const s = frame.seq;
  const flags = [s.tpv ? 'TpV' : '', s.fir ? 'FIR' : '', s.fin ? 'FIN' : '', s.con ? 'CON' : '']
    .filter((x) => x)
    .join(' ');
  const aux = [
    frame.aux.pw ? 'PW' : '',
    frame.aux.tp ? `Tp(PFC ${frame.aux.tp.pfc} ${frame.aux.tp.sendTime})` : '',
  ]
    .filter((x) => x)
    .join(' ');
  return (
    `${frame.control.dir === 'up' ? '↑' : '↓'} C=${c} A=${frame.a1}/${frame.a2} SEQ ${s.seq} ${flags}` +
    ` ${describeGdw376Frame(frame).summary}${aux ? ` +${aux}` : ''}${frame.protocolId === 1 ? ' (protocol id 1)' : ''}`
  );
}
