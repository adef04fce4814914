import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { hexToBytes } from '../../../protocols/bytes.ts';
import {
  buildWaterReadReply,
  type Cjt188Frame,
  decodeCjt188Frame,
  encodeCjt188,
} from '../../../protocols/cjt188/index.ts';
import {
  buildReadReply,
  type Dlt645Frame,
  decodeDlt645Frame,
  encodeDlt645,
} from '../../../protocols/dlt645/index.ts';
import type { FramedFrame } from '../../../protocols/framer.ts';
import {
  buildForwardReply,
  buildHeartbeat,
  buildLogin,
  buildLogout,
  decodeGdw376,
  denyFor,
  encodeGdw376,
  type ForwardRequestBody,
  type Gdw376Frame,
  Gdw376Framer,
} from '../../../protocols/gdw376/index.ts';
import { waitForEvent } from './wait.ts';

/** What the fake does with an AFN 10 F1 request. */
export type ForwardBehaviour =
  /** Answer with the meter's reply built by the cjt188/dlt645 builders from `meters`. */
  | 'answer'
  /** Answer with empty content: the meter stayed silent (docs/gdw376.md §3.4). */
  | 'silent-meter'
  /** Never answer the AFN 10 request at all. */
  | 'mute'
  /** Deny the request (AFN 00 F2, C = 89). */
  | 'deny';

/** A fake meter: its reading, by address (14 digits CJ/T 188, 12 digits DL/T 645). */
export interface FakeMeter {
  value: number;
}

/**
 * A small fake concentrator for the master station's tests: a real TCP socket speaking 376.1 through the gdw376
 * builders. It logs in, heartbeats, logs out, answers forwards with meter replies built by the meter codecs (or
 * stays silent), and can write any raw bytes. Not the real simulated concentrator. @internal
 */
export class FakeConcentrator extends EventEmitter {
  readonly socket: Socket;
  readonly a1: string;
  readonly a2: number;
  readonly received: Gdw376Frame[] = [];
  readonly forwards: Gdw376Frame[] = [];
  meters = new Map<string, FakeMeter>();
  behaviour: ForwardBehaviour = 'answer';
  /** When set, replaces the meter's answer (the forwarded request is passed in). */
  meterReply: ((request: Uint8Array) => Uint8Array) | undefined;
  /** When set, forward replies are held here instead of sent; `releaseHeld` sends them (in any order). */
  holdReplies = false;
  readonly held: Uint8Array[] = [];
  /**
   * Behave like the strict peers of issue 9, which take each TCP read as exactly one frame: a read that is not
   * exactly one whole frame (two merged, or a frame and part of the next) closes the connection.
   */
  oneFramePerRead = false;
  /** Reads that were not exactly one frame (counted whether or not `oneFramePerRead` is set). */
  readsNotOneFrame = 0;
  /** Answer forwards this many ms late, the way a meter read on a real bus takes time (0: at once). */
  replyDelayMs = 0;
  #seq = 0;

  private constructor(socket: Socket, a1: string, a2: number) {
    super();
    this.socket = socket;
    this.a1 = a1;
    this.a2 = a2;
    socket.setNoDelay(true);
    const framer = new Gdw376Framer();
    socket.on('data', (chunk: Buffer) => {
      const one = decodeGdw376(new Uint8Array(chunk));
      if (one.kind === 'frame' && one.consumed === chunk.length) return;
      this.readsNotOneFrame += 1;
      if (this.oneFramePerRead) socket.destroy();
    });
    socket.pipe(framer);
    framer.on('data', (event: FramedFrame<Gdw376Frame>) => this.#onFrame(event.frame));
    socket.on('error', () => {});
  }

  static async connect(port: number, a1 = '0171', a2 = 2082): Promise<FakeConcentrator> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new FakeConcentrator(socket, a1, a2);
  }

  get closed(): Promise<void> {
    return this.socket.destroyed
      ? Promise.resolve()
      : new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  #nextSeq(): number {
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) & 0x0f;
    return seq;
  }

  send(frame: Gdw376Frame): Gdw376Frame {
    this.socket.write(encodeGdw376(frame));
    return frame;
  }

  sendRaw(bytes: Uint8Array | string): void {
    this.socket.write(typeof bytes === 'string' ? hexToBytes(bytes) : bytes);
  }

  login(): Gdw376Frame {
    return this.send(buildLogin({ a1: this.a1, a2: this.a2, seq: this.#nextSeq() }));
  }

  heartbeat(): Gdw376Frame {
    return this.send(buildHeartbeat({ a1: this.a1, a2: this.a2, seq: this.#nextSeq() }));
  }

  logout(): Gdw376Frame {
    return this.send(buildLogout({ a1: this.a1, a2: this.a2, seq: this.#nextSeq() }));
  }

  /** Sends `frame` and resolves with the master's AFN 00 answer echoing its SEQ. */
  async exchange(frame: () => Gdw376Frame, timeoutMs = 5000): Promise<Gdw376Frame> {
    const waiting = this.nextFrame((f) => f.afn === 0x00, timeoutMs);
    frame();
    return waiting;
  }

  /** Resolves with the next frame from the master satisfying `predicate`. */
  nextFrame(predicate: (frame: Gdw376Frame) => boolean = () => true, timeoutMs = 5000): Promise<Gdw376Frame> {
    return waitForEvent<Gdw376Frame>(this, 'frame', predicate, timeoutMs);
  }

  /** Sends the held forward replies in the given order of their indexes. */
  releaseHeld(order: number[]): void {
    for (const i of order) this.socket.write(this.held[i]);
  }

  close(): void {
    this.socket.destroy();
  }

  #onFrame(frame: Gdw376Frame): void {
    this.received.push(frame);
    if (frame.afn === 0x10) {
      this.forwards.push(frame);
      const body = frame.units[0]?.body;
      if (body?.kind === 'forward-request') this.#onForward(frame, body);
    }
    this.emit('frame', frame);
  }

  #onForward(frame: Gdw376Frame, body: ForwardRequestBody): void {
    if (this.behaviour === 'mute') return;
    if (this.behaviour === 'deny') {
      this.send(denyFor(frame));
      return;
    }
    const request = hexToBytes(body.content);
    const content =
      this.behaviour === 'silent-meter'
        ? new Uint8Array(0)
        : this.meterReply
          ? this.meterReply(request)
          : this.#meterAnswer(request);
    const bytes = encodeGdw376(buildForwardReply(frame, { content }));
    if (this.holdReplies) this.held.push(bytes);
    else if (this.replyDelayMs > 0) {
      setTimeout(() => {
        if (!this.socket.destroyed) this.socket.write(bytes);
      }, this.replyDelayMs);
    } else this.socket.write(bytes);
  }

  /** The meter's answer to a forwarded request, or nothing when no fake meter has that address. */
  #meterAnswer(request: Uint8Array): Uint8Array {
    const cj = tryDecode<Cjt188Frame>(() => decodeCjt188Frame(request));
    const cjMeter = cj && this.meters.get(cj.address);
    if (cj && cjMeter) {
      return encodeCjt188(buildWaterReadReply(cj, { current: cjMeter.value, time: null }));
    }
    const dl = tryDecode<Dlt645Frame>(() => decodeDlt645Frame(request));
    const dlMeter = dl && this.meters.get(dl.address);
    if (dl && dlMeter && dl.body.kind === 'read') {
      return encodeDlt645(buildReadReply(dl.address, dl.body.di, dlMeter.value));
    }
    return new Uint8Array(0);
  }
}

function tryDecode<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
