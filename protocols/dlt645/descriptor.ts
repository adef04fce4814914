import { byteToHex } from '../bytes.ts';
import {
  abnormalReply,
  addressMismatch,
  addressReaches,
  type EnvelopeLayout,
  type FrameVerdict,
  fitsEnvelopeHeader,
  type JudgeOptions,
  judgeReplyBytes,
  type MeterKind,
  type MeterProtocolDescriptor,
  type MeterReading,
  padMeterAddress,
  type ReadRequestSpec,
  type ReplyJudgement,
  readEnvelope,
  requestAddress,
  unexpectedReply,
} from '../meter-protocol.ts';
import { buildReadRequest } from './builders.ts';
import {
  DLT645_END,
  DLT645_MAX_DATA_LENGTH,
  DLT645_MAX_PREAMBLE,
  DLT645_PREAMBLE_BYTE,
  DLT645_START,
} from './constants.ts';
import { DLT645_FUNCTION_MASK } from './control.ts';
import { decodeDlt645 } from './decode.ts';
import { encodeDlt645 } from './encode.ts';
import type { Dlt645Frame } from './frame.ts';

/**
 * DL/T 645-2007 (and 1997) as a registry entry (docs/dlt645.md §2): 12-digit addresses, electricity meters
 * only (the frame has no meter type), 00010000 forward active total energy the current reading.
 * @packageDocumentation
 */

const KINDS = [{ kind: 'electricity' }] as const satisfies readonly { kind: MeterKind }[];

/** 68 A0…A5 68 C L: offsets after the preamble (docs/dlt645.md §2.1). */
const LAYOUT = {
  preambleByte: DLT645_PREAMBLE_BYTE,
  maxPreamble: DLT645_MAX_PREAMBLE,
  start: DLT645_START,
  end: DLT645_END,
  maxDataLength: DLT645_MAX_DATA_LENGTH,
  address: 1,
  addressEnd: 7,
  secondStart: 7,
  control: 8,
  length: 9,
  data: 10,
} as const satisfies EnvelopeLayout;

const ADDRESS_DIGITS = 12;
const TITLE = 'DL/T 645';

function meterTypeOf(kind: MeterKind): undefined {
  if (kind !== 'electricity') {
    throw new TypeError(`${TITLE} meters are electricity meters, not "${String(kind)}"`);
  }
  return undefined;
}

function buildRequest(spec: ReadRequestSpec): Uint8Array {
  if (spec.kind !== undefined) meterTypeOf(spec.kind);
  const address = requestAddress(spec.address, ADDRESS_DIGITS, TITLE);
  return encodeDlt645(buildReadRequest(address, spec.di ?? '00010000', { preamble: spec.preamble }));
}

/**
 * Whether `frame` answers `request`, and how (docs/dlt645.md §2.2, §2.3): replies of another function are not
 * answers; an answer from an address the request does not reach (nibble wildcards 'A') is ADDRESS_MISMATCH;
 * an abnormal reply (D6) is ABNORMAL_REPLY with its error word; a reply for another DI is BAD_REPLY.
 */
export function judgeDlt645Frame(
  request: Dlt645Frame,
  frame: Dlt645Frame,
  raw: Uint8Array,
  _options: JudgeOptions = {},
): FrameVerdict<Dlt645Frame> {
  if (
    frame.direction !== 'reply' ||
    (frame.control & DLT645_FUNCTION_MASK) !== (request.control & DLT645_FUNCTION_MASK)
  ) {
    return 'ignore';
  }
  if (!addressReaches(request.address, frame.address, 'nibble')) return addressMismatch(request, frame, raw);
  const body = frame.body;
  if (body.kind === 'abnormal-reply') {
    const errorWord = byteToHex(body.error);
    const meaning = body.errors.length > 0 ? body.errors.join(', ') : 'no bits set';
    return abnormalReply(request, frame, raw, { label: `error word ${errorWord}H`, errorWord, meaning });
  }
  if (frame.abnormal) return abnormalReply(request, frame, raw);
  const reqDi = request.body.kind === 'read' ? request.body.di : undefined;
  if (reqDi !== undefined && body.kind === 'read-reply' && body.di !== reqDi) {
    return unexpectedReply(request, frame, raw, `a reply for DI ${body.di} instead of ${reqDi}`);
  }
  // DATA of a DI outside the codec's table decodes as opaque: kept, as hex (the poller reads any DI).
  if (reqDi !== undefined && body.kind !== 'read-reply' && body.kind !== 'opaque') {
    return unexpectedReply(request, frame, raw, `a ${body.kind} instead of the data of DI ${reqDi}`);
  }
  return { ok: true, reading: readingOf(frame), frame, raw };
}

/** Fields listed, not spread: this runs for every read, and a spread is a slow path on Node 20 (docs/performance.md). */
function readingOf(frame: Dlt645Frame): MeterReading {
  const body = frame.body;
  const address = frame.address;
  switch (body.kind) {
    case 'read-reply':
      return { address, di: body.di, value: body.value, unit: body.unit };
    case 'read-address-reply':
      return { address, di: '', value: body.address, unit: '' };
    case 'opaque':
      return { address, di: '', value: body.data, unit: '' };
    default:
      return { address, di: '', value: null, unit: '' };
  }
}

/** What the shared judging rule needs (meter-protocol.ts `judgeReplyBytes`). */
const PARTS = { name: 'dlt645', decode: decodeDlt645, judgeFrame: judgeDlt645Frame } as const;

/** The DL/T 645 registry entry. */
export const dlt645Protocol = {
  name: 'dlt645',
  title: 'DL/T 645-2007',
  addressDigits: ADDRESS_DIGITS,
  kinds: KINDS,
  defaultKind: 'electricity',
  readDi: '00010000',
  // Its second 68H after a 6-byte address is a stricter layout than CJ/T 188's: tried first.
  specificity: 1,
  decode: decodeDlt645,
  encode: encodeDlt645,
  fitsHeader: (buf: Uint8Array) => fitsEnvelopeHeader(buf, LAYOUT),
  envelope: (buf: Uint8Array) => readEnvelope(buf, LAYOUT),
  normaliseAddress: (address: string) => padMeterAddress(address, ADDRESS_DIGITS, TITLE),
  meterTypeOf,
  buildReadRequest: buildRequest,
  judgeFrame: judgeDlt645Frame,
  judgeReply(request: Uint8Array, reply: Uint8Array, options?: JudgeOptions): ReplyJudgement<Dlt645Frame> {
    return judgeReplyBytes(PARTS, request, reply, options);
  },
} as const satisfies MeterProtocolDescriptor<'dlt645', Dlt645Frame>;
