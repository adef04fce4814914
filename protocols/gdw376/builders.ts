import { bytesToHex, hexToBytes } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';
import { AFN_CONFIRM } from './afn00.ts';
import { AFN_LINK_CHECK, dayOfWeek } from './afn02.ts';
import { AFN_FORWARD, decodeByteTimeout, encodeForwardControl } from './afn10.ts';
import { GDW376_PW_LENGTH } from './auxiliary-field.ts';
import { makeControl } from './control.ts';
import type {
  Gdw376Aux,
  Gdw376Body,
  Gdw376DataUnit,
  Gdw376EventCounters,
  Gdw376Frame,
  Gdw376FrameTimeout,
  Gdw376SerialSettings,
  Gdw376TimeLabel,
} from './types.ts';
import type { AFN_CLASS1_DATA, AFN_CLASS2_DATA } from './units.ts';

/** The address of a terminal (and of the master station talking to it). */
export interface Gdw376AddressOptions {
  /** Area code, 4 digits. */
  a1: string;
  /** Terminal address 1–65535. */
  a2: number;
  /** Master station address (A3 D7–D1). @defaultValue 0 */
  msa?: number;
  /** A3 group-address flag. @defaultValue false */
  group?: boolean;
}

/** Address plus sequence number (PSEQ for a request, RSEQ = the request's PSEQ for a response). */
export interface Gdw376FrameOptions extends Gdw376AddressOptions {
  /** 0–15. */
  seq: number;
  /** A time label; sets SEQ.TpV. */
  tp?: Gdw376TimeLabel;
}

/** A heartbeat's options: the 2013 form carries the terminal clock, the older form nothing. */
export interface Gdw376HeartbeatOptions extends Gdw376FrameOptions {
  /** Terminal clock "YYYY-MM-DD hh:mm:ss"; left out, the heartbeat carries no data. */
  clock?: string;
  /** Day of week 1–7 (0 = not set). @defaultValue the day of week of `clock` */
  week?: number;
}

/** Options of the master station's confirm/deny answers. */
export interface Gdw376AnswerOptions extends Gdw376FrameOptions {
  /**
   * C field function code. 11 (link status, C = `0B`) is how masters answer a login or heartbeat (Q10); 0
   * (confirm, C = `00`) is the other form in circulation (Q5).
   * @defaultValue 11
   */
  fn?: number;
}

/** An item of a per-unit confirm/deny. */
export interface Gdw376ConfirmItemOptions {
  pn: number[];
  fn: number[];
  ok: boolean;
}

/** Options of an AFN 00 F3 per-unit confirm/deny. */
export interface Gdw376ConfirmItemsOptions extends Gdw376AnswerOptions {
  /** The AFN of the frame being answered. */
  afn: number;
  items: Gdw376ConfirmItemOptions[];
  /** Write the DT as `03 00` like KSY `separateConfirm.3761` (Q5) instead of the standard `04 00`. */
  nonStandard?: boolean;
}

/** Options of an AFN 10 F1 transparent forward request. */
export interface Gdw376ForwardRequestOptions extends Gdw376FrameOptions {
  /** Terminal port 1–31 (31 is commonly the carrier/local-module port). */
  port: number;
  /** Serial settings on the meter port. @defaultValue 2400 8E1 (control word `6B`) */
  serial?: Gdw376SerialSettings;
  /** How long the terminal waits for the meter's reply. @defaultValue 60 s */
  frameTimeout?: Gdw376FrameTimeout;
  /** Byte-wait timeout, raw byte (read as 10 ms units). @defaultValue 10 */
  byteTimeout?: number;
  /** The meter frame to forward, bytes or hex. */
  content: Uint8Array | string;
  /** Password PW, 16 bytes hex. @defaultValue 16 × 00 */
  pw?: string;
}

/** Options of an AFN 10 F1 forward reply. */
export interface Gdw376ForwardReplyOptions {
  /** The meter's answer (empty when it stayed silent), bytes or hex. */
  content: Uint8Array | string;
  /** @defaultValue the request's port */
  port?: number;
  /** Event counters; sets ACD. */
  ec?: Gdw376EventCounters;
  tp?: Gdw376TimeLabel;
}

/** Options of an AFN 0C / 0D data request. */
export interface Gdw376DataRequestOptions extends Gdw376FrameOptions {
  afn: typeof AFN_CLASS1_DATA | typeof AFN_CLASS2_DATA;
  /** One unit per (pn group, Fn group); `data` (hex) is an AFN 0D request's Td, opaque here. */
  units: { pn: number[]; fn: number[]; data?: string }[];
}

const SERIAL_2400_8E1: Gdw376SerialSettings = { baud: 2400, parity: 'even', dataBits: 8, stopBits: 1 };
const ZERO_PW = bytesToHex(new Uint8Array(GDW376_PW_LENGTH));

/** Terminal login (AFN 02 F1, docs/gdw376.md §3.5): C = `C9`, SEQ FIR FIN CON (Q1: `78`). */
export function buildLogin(options: Gdw376FrameOptions): Gdw376Frame {
  return linkCheck(options, 1, { kind: 'login' });
}

/** Terminal logout (AFN 02 F2, Q3). */
export function buildLogout(options: Gdw376FrameOptions): Gdw376Frame {
  return linkCheck(options, 2, { kind: 'logout' });
}

/** Terminal heartbeat (AFN 02 F3), with the 2013 A.1 clock when `clock` is given (Q22 corrected) or without (Q2). */
export function buildHeartbeat(options: Gdw376HeartbeatOptions): Gdw376Frame {
  const body: Gdw376Body =
    options.clock === undefined
      ? { kind: 'heartbeat' }
      : { kind: 'heartbeat', clock: options.clock, week: options.week ?? weekOf(options.clock) };
  return linkCheck(options, 3, body);
}

/** Master's "all confirmed" (AFN 00 F1), e.g. the answer to a login or heartbeat (Q10: C = `0B`). */
export function buildConfirm(options: Gdw376AnswerOptions): Gdw376Frame {
  return answer(options, 1, { kind: 'confirm-all' });
}

/** Master's "all denied" (AFN 00 F2). */
export function buildDeny(options: Gdw376AnswerOptions): Gdw376Frame {
  return answer(options, 2, { kind: 'deny-all' });
}

/** Master's per-unit confirm/deny (AFN 00 F3): the answered AFN + (DA DT ERR) per item (Q5, Q17). */
export function buildConfirmItems(options: Gdw376ConfirmItemsOptions): Gdw376Frame {
  const items = options.items.map((i) => ({ pn: i.pn, fn: i.fn, ok: i.ok, err: i.ok ? 0 : 1 }));
  const body: Gdw376Body = { kind: 'confirm-items', afn: options.afn, items };
  if (options.nonStandard) body.nonStandard = true;
  return answer(options, 3, body);
}

/**
 * Master's AFN 10 F1 transparent forward request (Q14): C = `4B`, PW (default 16 × 00), SEQ FIR FIN; the
 * meter frame goes in as `content`. Masters match the reply by SEQ (docs/field-notes.md §8), so keep `seq` to
 * correlate.
 */
export function buildForwardRequest(options: Gdw376ForwardRequestOptions): Gdw376Frame {
  const serial = options.serial ?? SERIAL_2400_8E1;
  const body: Gdw376Body = {
    kind: 'forward-request',
    port: options.port,
    serial,
    controlWord: encodeForwardControl(serial),
    frameTimeout: options.frameTimeout ?? { value: 60, unit: 's' },
    byteTimeout: decodeByteTimeout(options.byteTimeout ?? 10),
    content: hexOf(options.content),
  };
  return frame(options, {
    control: makeControl({ dir: 'down', prm: true, fn: 11 }),
    afn: AFN_FORWARD,
    con: false,
    units: [{ pn: [0], fn: [1], body }],
    aux: { pw: options.pw ?? ZERO_PW },
  });
}

/**
 * Terminal's AFN 10 F1 forward reply to `request` (Q15): same address, RSEQ = the request's PSEQ
 * (docs/field-notes.md §8: masters match by SEQ alone), port echoed unless given. C = `88`, or `A8` when `ec`
 * is given (ACD).
 */
export function buildForwardReply(request: Gdw376Frame, options: Gdw376ForwardReplyOptions): Gdw376Frame {
  const forward = request.units.find((u) => u.body.kind === 'forward-request')?.body;
  const port = options.port ?? (forward?.kind === 'forward-request' ? forward.port : undefined);
  if (port === undefined) {
    throw new ProtocolError(
      'BAD_FIELD',
      'forward reply: no port given and the request has no AFN 10 F1 unit',
    );
  }
  const body: Gdw376Body = { kind: 'forward-reply', port, content: hexOf(options.content) };
  return frame(echo(request, options.tp), {
    control: makeControl({ dir: 'up', prm: false, acd: options.ec !== undefined, fn: 8 }),
    afn: AFN_FORWARD,
    con: false,
    units: [{ pn: [0], fn: [1], body }],
    aux: options.ec ? { ec: options.ec } : {},
  });
}

/** Master's AFN 0C / 0D request (C = `4B`); data items are opaque for now. */
export function buildDataRequest(options: Gdw376DataRequestOptions): Gdw376Frame {
  const units: Gdw376DataUnit[] = options.units.map((u) => ({
    pn: u.pn,
    fn: u.fn,
    body: { kind: 'data-request', data: hexOf(u.data ?? '') },
  }));
  return frame(options, {
    control: makeControl({ dir: 'down', prm: true, fn: 11 }),
    afn: options.afn,
    con: false,
    units,
    aux: {},
  });
}

/**
 * Confirm (AFN 00 F1) of any frame, in the other direction, same address, RSEQ = its PSEQ. To an uplink frame
 * (the master's answer) C is `0B` for AFN 02 link checks and `00` otherwise; to a downlink frame (a terminal
 * confirming a setting) C is `80`.
 */
export function confirmFor(request: Gdw376Frame, options: { ec?: Gdw376EventCounters } = {}): Gdw376Frame {
  return answerFor(
    request,
    1,
    { kind: 'confirm-all' },
    request.afn === AFN_LINK_CHECK ? 11 : 0,
    0,
    options.ec,
  );
}

/**
 * Deny (AFN 00 F2) of any frame, in the other direction, same address, RSEQ = its PSEQ: what a terminal sends
 * for a request it cannot answer (C = `89`: response, "denied, no requested data"), or a master's refusal
 * (C = `00`).
 */
export function denyFor(request: Gdw376Frame, options: { ec?: Gdw376EventCounters } = {}): Gdw376Frame {
  return answerFor(request, 2, { kind: 'deny-all' }, 0, 9, options.ec);
}

function answerFor(
  request: Gdw376Frame,
  f: number,
  body: Gdw376Body,
  downFn: number,
  upFn: number,
  ec: Gdw376EventCounters | undefined,
): Gdw376Frame {
  const up = request.control.dir === 'down';
  if (!up && ec) throw new ProtocolError('BAD_FIELD', 'ec is only carried by uplink frames');
  return frame(echo(request), {
    control: up
      ? makeControl({ dir: 'up', prm: false, acd: ec !== undefined, fn: upFn })
      : makeControl({ dir: 'down', prm: false, fn: downFn }),
    afn: AFN_CONFIRM,
    con: false,
    units: [{ pn: [0], fn: [f], body }],
    aux: ec ? { ec } : {},
  });
}

function linkCheck(options: Gdw376FrameOptions, f: number, body: Gdw376Body): Gdw376Frame {
  return frame(options, {
    control: makeControl({ dir: 'up', prm: true, fn: 9 }),
    afn: AFN_LINK_CHECK,
    con: true,
    units: [{ pn: [0], fn: [f], body }],
    aux: {},
  });
}

function answer(options: Gdw376AnswerOptions, f: number, body: Gdw376Body): Gdw376Frame {
  return frame(options, {
    control: makeControl({ dir: 'down', prm: false, fn: options.fn ?? 11 }),
    afn: AFN_CONFIRM,
    con: false,
    units: [{ pn: [0], fn: [f], body }],
    aux: {},
  });
}

function frame(
  options: Gdw376FrameOptions,
  parts: Pick<Gdw376Frame, 'control' | 'afn' | 'units' | 'aux'> & { con: boolean },
): Gdw376Frame {
  const aux: Gdw376Aux = { ...parts.aux };
  if (options.tp) aux.tp = options.tp;
  return {
    protocol: 'gdw376',
    protocolId: 2,
    control: parts.control,
    a1: options.a1,
    a2: options.a2,
    a3: { group: options.group ?? false, msa: options.msa ?? 0 },
    afn: parts.afn,
    seq: { tpv: options.tp !== undefined, fir: true, fin: true, con: parts.con, seq: options.seq },
    units: parts.units,
    aux,
  };
}

/** The address and SEQ of a request, for its response. */
function echo(request: Gdw376Frame, tp?: Gdw376TimeLabel): Gdw376FrameOptions {
  return {
    a1: request.a1,
    a2: request.a2,
    msa: request.a3.msa,
    group: request.a3.group,
    seq: request.seq.seq,
    tp,
  };
}

/** Canonical hex (upper case, spaced), the form the decoder gives. */
function hexOf(content: Uint8Array | string): string {
  return bytesToHex(typeof content === 'string' ? hexToBytes(content) : content);
}

function weekOf(clock: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(clock);
  if (!m) throw new ProtocolError('BAD_FIELD', `clock "${clock}" is not "YYYY-MM-DD hh:mm:ss"`);
  return dayOfWeek(Number(m[1]), Number(m[2]), Number(m[3]));
}
