import { bytesToHex, byteToHex, sum8 } from './bytes.ts';
import type { DecodeResult, FrameDecoder } from './decode-result.ts';
import type { ProtocolErrorCode } from './errors.ts';
import { FrameAccumulator } from './framer.ts';

/**
 * What every meter protocol (the RS-485 side: CJ/T 188, DL/T 645, …) tells the rest of meterlab about itself:
 * a {@link MeterProtocolDescriptor}. The registry (`registry.ts`) lists the descriptors; the master station, the
 * concentrator's poll, the poller, the simulated meters, the scenario schema and the CLI iterate it instead of
 * naming protocols by hand. Building a read request and judging the reply live here, once, for all of them.
 * @packageDocumentation
 */

/**
 * What a meter measures, in the project's words. A protocol covers some kinds (CJ/T 188: water, heat, gas;
 * DL/T 645: electricity) and, where its frames carry a meter type (CJ/T 188 T, docs/cjt188.md §1.3), maps
 * each kind to that type: a meter answers only requests with its own type or the wildcard.
 */
export const METER_KINDS = ['cold-water', 'hot-water', 'gas', 'heat', 'electricity'] as const;
export type MeterKind = (typeof METER_KINDS)[number];

/**
 * Why a meter read failed, one name everywhere (master, relay, client, poller):
 *
 * | code             | meaning                                                                               |
 * | ---------------- | ------------------------------------------------------------------------------------- |
 * | METER_TIMEOUT    | no reply at all                                                                       |
 * | ADDRESS_MISMATCH | a reply to the request came from another address                                      |
 * | ABNORMAL_REPLY   | the meter refused: CJ/T 188 error reply (ST word), DL/T 645 abnormal reply (ERR byte)  |
 * | BAD_CHECKSUM     | a frame arrived whose checksum is wrong                                               |
 * | BAD_REPLY        | anything else unusable: noise, a malformed frame, a reply to another DI, no reply frame |
 */
export const READ_FAILURE_CODES = [
  'METER_TIMEOUT',
  'ADDRESS_MISMATCH',
  'ABNORMAL_REPLY',
  'BAD_CHECKSUM',
  'BAD_REPLY',
] as const;
export type ReadFailureCode = (typeof READ_FAILURE_CODES)[number];

/** The structured detail of a failed read; every field a string so it crosses JSON hops unchanged. */
export interface ReadFailureDetail {
  /** The precise reason. */
  reason: ReadFailureCode;
  /** Registry name of the protocol, e.g. 'cjt188'. */
  protocol?: string;
  /** E.g. the address asked for. */
  expected?: string;
  /** E.g. the address that answered. */
  got?: string;
  /** CJ/T 188 ST as 4 hex digits (2 for a one-byte ST), when the meter sent one. */
  statusWord?: string;
  /** DL/T 645 ERR byte as 2 hex digits, when the meter sent one. */
  errorWord?: string;
  /** The words for the status or error word. */
  meaning?: string;
  /** The meter's reply bytes, spaced hex, when there were some; at most {@link MAX_REPLY_DETAIL_BYTES}. */
  reply?: string;
}

/** Bound of {@link ReadFailureDetail.reply}: longer replies are cut (a meter frame is far shorter). */
export const MAX_REPLY_DETAIL_BYTES = 512;

/**
 * The finer cause behind a failure, for logs and the master's legacy `detail` string: a codec's
 * {@link ProtocolErrorCode} for a frame that broke (BAD_CHECKSUM, TRUNCATED, BAD_END, NO_START = noise …), or:
 *
 * | cause            | meaning                                                                           |
 * | ---------------- | --------------------------------------------------------------------------------- |
 * | SILENCE          | no bytes at all                                                                   |
 * | NO_REPLY         | frames, but none answers the request (an echo of it, other traffic, a stale SER)  |
 * | ADDRESS_MISMATCH | see {@link ReadFailureCode}                                                       |
 * | ABNORMAL_REPLY   | see {@link ReadFailureCode}                                                       |
 * | UNEXPECTED_REPLY | the answer carries another DI, or DATA the codec cannot read                      |
 */
export type ReplyCause =
  | 'SILENCE'
  | 'NO_REPLY'
  | 'ADDRESS_MISMATCH'
  | 'ABNORMAL_REPLY'
  | 'UNEXPECTED_REPLY'
  | ProtocolErrorCode;

/** A meter's valve and battery as its status word says (CJ/T 188 ST D1 D0, D2). */
export interface MeterStatusBits {
  valve: 'open' | 'closed' | 'abnormal';
  batteryLow: boolean;
}

/** The convenient part of an accepted reply. */
export interface MeterReading {
  /** The address that answered, in the protocol's width. */
  address: string;
  /** The DI the reply answers ('' when the reply has none, e.g. a DL/T 645 read-address reply). */
  di: string;
  /**
   * The main value: current flow (water, gas), current heat (heat), the DI's value (DL/T 645), a day number,
   * an address; null when the reply carries no value (a write reply).
   */
  value: number | string | null;
  /** Unit of `value` ('m3', 'kWh', …, 'day'; '' when it has none). */
  unit: string;
  /** The meter's clock, "YYYY-MM-DD hh:mm:ss", when the reply carries one set. */
  meterTime?: string;
  status?: MeterStatusBits;
  /** CJ/T 188 settlement-day flow (901F water layout). */
  settlement?: number;
}

/** A reply judged against its request: a reading, or a failure with its detail. */
export type ReplyJudgement<F = unknown> =
  | { ok: true; reading: MeterReading; frame: F; raw: Uint8Array }
  | {
      ok: false;
      failure: ReadFailureDetail;
      cause: ReplyCause;
      /** One sentence for people, without the meter's name (callers add it). */
      message: string;
      /** The answering frame, when the failure is about one (ADDRESS_MISMATCH, ABNORMAL_REPLY, …). */
      frame?: F;
    };

/** What a protocol's frame judge says of one decoded frame: not an answer to the request, or a judgement. */
export type FrameVerdict<F> = 'ignore' | ReplyJudgement<F>;

/** Options of judging. */
export interface JudgeOptions {
  /**
   * CJ/T 188: a reply whose SER is not the request's is ignored (a late or duplicated reply to an earlier
   * request). Turn off for meters that do not echo SER. @defaultValue true
   */
  checkSer?: boolean;
}

/** What a read request needs: the archived meter. */
export interface ReadRequestSpec {
  /** Decimal digits (short addresses are left-padded) or, for a wildcard read, the protocol's wildcard form. */
  address: string;
  /** The meter's kind; decides the CJ/T 188 meter type T. @defaultValue the protocol's `defaultKind` */
  kind?: MeterKind;
  /** @defaultValue the protocol's `readDi` (the current reading) */
  di?: string;
  /** CJ/T 188 SER (docs/cjt188.md §1.6), echoed by the meter. @defaultValue 0 */
  ser?: number;
  /**
   * CJ/T 188 DI byte order on the wire (docs/cjt188.md §1.6). @defaultValue 'low-first' (most field meters)
   */
  diOrder?: 'low-first' | 'high-first';
  /** Wake-up FE bytes before the frame. @defaultValue 4 */
  preamble?: number;
}

/** The outer layer of a meter frame, read without decoding its body. */
export interface MeterEnvelope {
  /** Bytes the frame takes from the start of the input, preamble included. */
  length: number;
  /** Index of the start byte 68H (after the preamble). */
  start: number;
  /** Address as the codec writes it (human order, wildcard bytes as 'AA'). */
  address: string;
  control: number;
  direction: 'request' | 'reply';
  abnormal: boolean;
  /** The meter type byte, for protocols whose frames carry one. */
  meterType?: number;
  /** Whether the checksum byte matches. */
  checksumOk: boolean;
}

/** {@link MeterProtocolDescriptor.envelope}'s answer. */
export type EnvelopeResult =
  | { kind: 'envelope'; envelope: MeterEnvelope }
  | { kind: 'need-more' }
  | { kind: 'none' };

/**
 * Where a meter protocol's frame keeps what {@link readEnvelope} reads: `FE…FE 68 … C L DATA CS 16`, with
 * offsets counted from the start byte 68H (docs/cjt188.md §1.2, docs/dlt645.md §2.1).
 */
export interface EnvelopeLayout {
  /** The wake-up byte (FEH) and how many of them a frame may start with. */
  preambleByte: number;
  maxPreamble: number;
  /** Start byte 68H, end byte 16H, and the largest L. */
  start: number;
  end: number;
  maxDataLength: number;
  /** The address bytes (low byte first on the wire) are [address, addressEnd). */
  address: number;
  addressEnd: number;
  control: number;
  length: number;
  data: number;
  /** DL/T 645's second 68H after the address. */
  secondStart?: number;
  /** CJ/T 188's meter type byte T. */
  meterType?: number;
}

/**
 * Whether the first bytes of `buf` fit the layout's header as far as they go: preamble bytes, the start byte,
 * and the second start byte where the layout has one.
 */
export function fitsEnvelopeHeader(buf: Uint8Array, layout: EnvelopeLayout): boolean {
  let p = 0;
  while (p < buf.length && buf[p] === layout.preambleByte) p++;
  if (p >= buf.length || buf[p] !== layout.start) return false;
  const second = layout.secondStart;
  return second === undefined || p + second >= buf.length || buf[p + second] === layout.start;
}

/**
 * The envelope of the frame at the start of `buf` (see {@link MeterProtocolDescriptor.envelope}). C's D7 is the
 * direction and D6 the abnormal flag in both standards (docs/cjt188.md §1.5, docs/dlt645.md §2.2).
 */
export function readEnvelope(buf: Uint8Array, layout: EnvelopeLayout): EnvelopeResult {
  let p = 0;
  while (p < buf.length && buf[p] === layout.preambleByte && p <= layout.maxPreamble) p++;
  if (p > layout.maxPreamble) return { kind: 'none' };
  if (p === buf.length) return { kind: 'need-more' };
  if (buf[p] !== layout.start) return { kind: 'none' };
  const second = layout.secondStart;
  if (second !== undefined && buf.length > p + second && buf[p + second] !== layout.start)
    return { kind: 'none' };
  if (buf.length <= p + layout.length) return { kind: 'need-more' };
  const l = buf[p + layout.length];
  if (l > layout.maxDataLength) return { kind: 'none' };
  const length = p + layout.data + l + 2;
  if (buf.length < length) return { kind: 'need-more' };
  if (buf[length - 1] !== layout.end) return { kind: 'none' };
  const control = buf[p + layout.control];
  const address = bytesToHex(buf.slice(p + layout.address, p + layout.addressEnd).reverse(), '');
  const direction = control & 0x80 ? 'reply' : 'request';
  const abnormal = (control & 0x40) !== 0;
  const checksumOk = sum8(buf, p, length - 2) === buf[length - 2];
  // Two literals rather than a property added afterwards: the key order stays (meterType before checksumOk).
  if (layout.meterType === undefined) {
    return {
      kind: 'envelope',
      envelope: { length, start: p, address, control, direction, abnormal, checksumOk },
    };
  }
  const meterType = buf[p + layout.meterType];
  return {
    kind: 'envelope',
    envelope: { length, start: p, address, control, direction, abnormal, meterType, checksumOk },
  };
}

/**
 * A read request's address: decimal digits padded to the protocol's width ({@link padMeterAddress}), anything
 * else (a wildcard form) upper-cased as given.
 */
export function requestAddress(address: string, digits: number, title: string): string {
  return /^\d+$/.test(address) ? padMeterAddress(address, digits, title) : address.toUpperCase();
}

/** A kind a protocol covers, with the wire meter type where the protocol has one. */
export interface MeterKindEntry {
  kind: MeterKind;
  meterType?: number;
}

/** The fields every meter frame has. */
export interface MeterFrameBase {
  protocol: string;
  address: string;
  direction: 'request' | 'reply';
}

/**
 * One meter protocol. Adding a protocol = one folder under protocols/ with its codec and a `descriptor.ts`
 * exporting one of these, plus one entry in `registry.ts`.
 */
export interface MeterProtocolDescriptor<
  Name extends string = string,
  F extends MeterFrameBase = MeterFrameBase,
> {
  /** Registry name, as scenarios, archives and the CLI spell it. */
  readonly name: Name;
  /** The standard's name for people ("CJ/T 188-2004"). */
  readonly title: string;
  /** Address width in decimal digits. */
  readonly addressDigits: number;
  /** The kinds of meter it covers; the first is the default. */
  readonly kinds: readonly MeterKindEntry[];
  readonly defaultKind: MeterKind;
  /** The DI of the current reading. */
  readonly readDi: string;
  /**
   * Auto-detect rank among meter protocols: a higher one is tried first, because its layout is the stricter
   * (DL/T 645's second 68H is a stronger sign than CJ/T 188's single one).
   */
  readonly specificity: number;
  readonly decode: FrameDecoder<F>;
  encode(frame: F): Uint8Array;
  /** Whether the first bytes fit this protocol's header (as far as they go): auto-detect's cheap test. */
  fitsHeader(buf: Uint8Array): boolean;
  /** Length, address and direction of the frame at the start of `buf`, without decoding its body. */
  envelope(buf: Uint8Array): EnvelopeResult;
  /**
   * The address in the protocol's width: "101001" → "00000000101001" (CJ/T 188). Leading zeros beyond the width
   * are dropped. Throws TypeError naming the address when it is not 1–`addressDigits` significant digits.
   */
  normaliseAddress(address: string): string;
  /** The wire meter type of `kind`, when the protocol carries one. Throws TypeError for a kind it does not cover. */
  meterTypeOf(kind: MeterKind): number | undefined;
  /** The read request for a meter, as bytes to send or forward. Throws TypeError/ProtocolError for bad input. */
  buildReadRequest(spec: ReadRequestSpec): Uint8Array;
  /** Judges one decoded frame heard after `request` (see {@link judgeReplyBytes} for the rules). */
  judgeFrame(request: F, frame: F, raw: Uint8Array, options?: JudgeOptions): FrameVerdict<F>;
  /**
   * Judges everything that came back for `request` (junk, echoes and preambles included). Total: for any
   * `reply` bytes it returns a judgement, never throws. Throws TypeError only when `request` is not a request
   * frame of this protocol.
   */
  judgeReply(request: Uint8Array, reply: Uint8Array, options?: JudgeOptions): ReplyJudgement<F>;
}

/** A descriptor whose frame type is not known here. */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds descriptors of different frame types
export type AnyMeterProtocol = MeterProtocolDescriptor<string, any>;

/** Spaced hex of at most {@link MAX_REPLY_DETAIL_BYTES} bytes. */
export function replyHex(bytes: Uint8Array): string {
  return bytesToHex(bytes.subarray(0, MAX_REPLY_DETAIL_BYTES));
}

/**
 * The one rule for judging what came back for a request, shared by every protocol:
 * 1. no bytes → METER_TIMEOUT (cause SILENCE);
 * 2. the first decoded frame the protocol's judge does not ignore decides: a reading, ADDRESS_MISMATCH,
 *    ABNORMAL_REPLY or BAD_REPLY (frames it ignores: echoes of the request, other functions, stale SERs);
 * 3. no such frame: a frame that broke decides (BAD_CHECKSUM, or BAD_REPLY with the codec's code);
 *    an unfinished frame at the end is BAD_REPLY too (cause TRUNCATED: the meter stopped mid-reply);
 *    only noise → BAD_REPLY (cause NO_START); only ignored frames → BAD_REPLY (cause NO_REPLY).
 * Request and reply are decoded, so this never throws for any `reply`.
 */
export function judgeReplyBytes<F extends MeterFrameBase>(
  protocol: Pick<MeterProtocolDescriptor<string, F>, 'name' | 'decode' | 'judgeFrame'>,
  request: Uint8Array,
  reply: Uint8Array,
  options: JudgeOptions = {},
): ReplyJudgement<F> {
  const req = decodedRequest(protocol, request);
  if (req.kind !== 'frame' || req.frame.direction !== 'request') {
    throw new TypeError(`the request to judge a reply against is not a ${protocol.name} request frame`);
  }
  // Not a closure: under tsx every closure made per call is also named per call (esbuild keepNames).
  const expected = req.frame.address;
  if (reply.length === 0)
    return failedJudgement<F>(protocol.name, expected, reply, 'METER_TIMEOUT', 'SILENCE', 'no reply');
  // The usual case, one whole frame and nothing else, is judged without a framer (same verdict, less work).
  const whole = protocol.decode(reply);
  if (whole.kind === 'frame' && whole.consumed === reply.length) {
    const verdict = protocol.judgeFrame(req.frame, whole.frame, reply, options);
    if (verdict !== 'ignore') return verdict;
    return failedJudgement<F>(
      protocol.name,
      expected,
      reply,
      'BAD_REPLY',
      'NO_REPLY',
      'no reply frame (only an echo of the request or other traffic)',
    );
  }
  const acc = new FrameAccumulator<F>(protocol.decode as (b: Uint8Array) => DecodeResult<F>, {
    maxBufferedBytes: Math.max(16, reply.length),
  });
  const events = [...acc.push(reply), ...acc.flush()];
  let broken: { code: ProtocolErrorCode; message: string } | undefined;
  let noise = false;
  for (const e of events) {
    if (e.kind === 'frame') {
      const verdict = protocol.judgeFrame(req.frame, e.frame, e.raw, options);
      if (verdict !== 'ignore') return verdict;
    } else if (e.error.code === 'NO_START') {
      noise = true;
    } else {
      broken ??= { code: e.error.code, message: e.error.message };
    }
  }
  if (broken?.code === 'BAD_CHECKSUM')
    return failedJudgement<F>(protocol.name, expected, reply, 'BAD_CHECKSUM', 'BAD_CHECKSUM', broken.message);
  if (broken)
    return failedJudgement<F>(
      protocol.name,
      expected,
      reply,
      'BAD_REPLY',
      broken.code,
      `an unusable frame: ${broken.message}`,
    );
  if (noise)
    return failedJudgement<F>(
      protocol.name,
      expected,
      reply,
      'BAD_REPLY',
      'NO_START',
      'only bytes that form no frame (line noise or a collision)',
    );
  return failedJudgement<F>(
    protocol.name,
    expected,
    reply,
    'BAD_REPLY',
    'NO_REPLY',
    'no reply frame (only an echo of the request or other traffic)',
  );
}

/**
 * Request bytes already decoded, by protocol. The master forwards the same request bytes on every read of a meter
 * (it keeps them with the archive entry), so each is decoded once, not once per read; a WeakMap, so bytes nobody
 * holds any more are forgotten. Callers must not change request bytes after judging with them.
 */
const DECODED_REQUESTS = new WeakMap<Uint8Array, { protocol: string; result: DecodeResult<unknown> }>();

function decodedRequest<F extends MeterFrameBase>(
  protocol: Pick<MeterProtocolDescriptor<string, F>, 'name' | 'decode'>,
  request: Uint8Array,
): DecodeResult<F> {
  const known = DECODED_REQUESTS.get(request);
  if (known?.protocol === protocol.name) return known.result as DecodeResult<F>;
  const result = protocol.decode(request);
  DECODED_REQUESTS.set(request, { protocol: protocol.name, result });
  return result;
}

/** A failed judgement of `reply` (see {@link judgeReplyBytes}). */
function failedJudgement<F>(
  protocol: string,
  expected: string,
  reply: Uint8Array,
  reason: ReadFailureCode,
  cause: ReplyCause,
  message: string,
): ReplyJudgement<F> {
  const failure: ReadFailureDetail = { reason, protocol, expected };
  if (reply.length > 0) failure.reply = replyHex(reply);
  return { ok: false, cause, message, failure };
}

/** A decoded meter frame as the shared verdicts below read it: its address, protocol and C byte. */
export interface JudgedFrame extends MeterFrameBase {
  control: number;
}

/** The word an abnormal reply carries (CJ/T 188 ST, DL/T 645 ERR), for {@link abnormalReply}. */
export interface AbnormalWord {
  /** How the message names the word: "ST 0001", "error word 02H". */
  label: string;
  /** CJ/T 188 ST, see {@link ReadFailureDetail.statusWord}. */
  statusWord?: string;
  /** DL/T 645 ERR, see {@link ReadFailureDetail.errorWord}. */
  errorWord?: string;
  /** The words for it. */
  meaning: string;
}

/**
 * A failed verdict of a protocol's frame judge on `frame`, an answer to `request`. A module function, not a
 * closure made per judged frame, and the detail is written out field by field, not spread: every meter read
 * may come through here (docs/performance.md). Key order (reason, protocol, expected, got, the word, meaning,
 * reply) is kept as it was, since failures are printed as JSON.
 */
function frameFailure<F extends JudgedFrame>(
  request: F,
  frame: F,
  raw: Uint8Array,
  reason: ReadFailureCode,
  cause: 'ADDRESS_MISMATCH' | 'ABNORMAL_REPLY' | 'UNEXPECTED_REPLY',
  message: string,
  word?: AbnormalWord,
): FrameVerdict<F> {
  const failure: ReadFailureDetail = {
    reason,
    protocol: frame.protocol,
    expected: request.address,
    got: frame.address,
  };
  if (word !== undefined) {
    if (word.statusWord !== undefined) failure.statusWord = word.statusWord;
    if (word.errorWord !== undefined) failure.errorWord = word.errorWord;
    failure.meaning = word.meaning;
  }
  failure.reply = replyHex(raw);
  return { ok: false, cause, message, frame, failure };
}

/** ADDRESS_MISMATCH: `frame` answers `request` from an address the request does not reach. */
export function addressMismatch<F extends JudgedFrame>(
  request: F,
  frame: F,
  raw: Uint8Array,
): FrameVerdict<F> {
  return frameFailure(
    request,
    frame,
    raw,
    'ADDRESS_MISMATCH',
    'ADDRESS_MISMATCH',
    `the reply came from address ${frame.address}`,
  );
}

/** ABNORMAL_REPLY: the meter refused (C bit D6), with the word it sent when there is one. */
export function abnormalReply<F extends JudgedFrame>(
  request: F,
  frame: F,
  raw: Uint8Array,
  word?: AbnormalWord,
): FrameVerdict<F> {
  const message = `an abnormal reply, C=${byteToHex(frame.control)}`;
  if (word === undefined)
    return frameFailure(request, frame, raw, 'ABNORMAL_REPLY', 'ABNORMAL_REPLY', message);
  return frameFailure(
    request,
    frame,
    raw,
    'ABNORMAL_REPLY',
    'ABNORMAL_REPLY',
    `${message} ${word.label} (${word.meaning})`,
    word,
  );
}

/** BAD_REPLY (cause UNEXPECTED_REPLY): an answer that is not the one asked for, as `message` says. */
export function unexpectedReply<F extends JudgedFrame>(
  request: F,
  frame: F,
  raw: Uint8Array,
  message: string,
): FrameVerdict<F> {
  return frameFailure(request, frame, raw, 'BAD_REPLY', 'UNEXPECTED_REPLY', message);
}

/**
 * True when `actual` is an address `requested` reaches: equal, or equal outside the wildcard parts
 * (CJ/T 188 wildcards whole bytes 'AA', DL/T 645 single nibbles 'A').
 */
export function addressReaches(requested: string, actual: string, wildcard: 'pair' | 'nibble'): boolean {
  if (requested === actual) return true; // the usual case, without slicing
  if (requested.length !== actual.length) return false;
  const step = wildcard === 'pair' ? 2 : 1;
  for (let i = 0; i < requested.length; i += step) {
    const part = requested.slice(i, i + step).toUpperCase();
    if (part !== 'A'.repeat(step) && part !== actual.slice(i, i + step).toUpperCase()) return false;
  }
  return true;
}

/**
 * `address` padded to `digits`: leading zeros beyond the width are dropped. Throws TypeError naming the
 * address and the protocol when it is not decimal digits or has too many significant ones.
 */
export function padMeterAddress(address: string, digits: number, title: string): string {
  if (typeof address !== 'string' || !/^\d{1,16}$/.test(address)) {
    throw new TypeError(`meter address "${String(address)}" must be 1–${digits} decimal digits`);
  }
  const significant = address.replace(/^0+/, '');
  if (significant.length > digits) {
    throw new TypeError(`meter address "${address}" has more than the ${digits} digits of ${title}`);
  }
  return significant.padStart(digits, '0');
}
