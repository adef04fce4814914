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
  CJT188_END,
  CJT188_MAX_DATA_LENGTH,
  CJT188_MAX_PREAMBLE,
  CJT188_PREAMBLE_BYTE,
  CJT188_START,
} from './constants.ts';
import { controlFunction } from './control.ts';
import { decodeCjt188 } from './decode.ts';
import { encodeCjt188 } from './encode.ts';
import type { Cjt188Frame } from './frame.ts';
import { CJT188_METER_TYPES } from './meter-type.ts';

/**
 * CJ/T 188-2004 as a registry entry (docs/cjt188.md §1): 14-digit addresses, a meter type T per kind, 901F
 * the current reading, SER echoed by the meter.
 * @packageDocumentation
 */

/**
 * The kinds CJ/T 188 covers and their type byte T (docs/cjt188.md §1.3): cold water 10H, hot water 11H, heat
 * 20H, gas 30H.
 */
const KINDS = [
  { kind: 'cold-water', meterType: CJT188_METER_TYPES.coldWater },
  { kind: 'hot-water', meterType: CJT188_METER_TYPES.hotWater },
  { kind: 'heat', meterType: CJT188_METER_TYPES.heat },
  { kind: 'gas', meterType: CJT188_METER_TYPES.gas },
] as const satisfies readonly { kind: MeterKind; meterType: number }[];

/** 68 T A0…A6 C L: offsets after the preamble (docs/cjt188.md §1.2). */
const LAYOUT = {
  preambleByte: CJT188_PREAMBLE_BYTE,
  maxPreamble: CJT188_MAX_PREAMBLE,
  start: CJT188_START,
  end: CJT188_END,
  maxDataLength: CJT188_MAX_DATA_LENGTH,
  meterType: 1,
  address: 2,
  addressEnd: 9,
  control: 9,
  length: 10,
  data: 11,
} as const satisfies EnvelopeLayout;

const ADDRESS_DIGITS = 14;
const TITLE = 'CJ/T 188';

function meterTypeOf(kind: MeterKind): number {
  const entry = KINDS.find((k) => k.kind === kind);
  if (!entry) {
    throw new TypeError(
      `${TITLE} has no meter type for kind "${String(kind)}"; it covers ${KINDS.map((k) => k.kind).join(', ')}`,
    );
  }
  return entry.meterType;
}

function buildRequest(spec: ReadRequestSpec): Uint8Array {
  return encodeCjt188(
    buildReadRequest(requestAddress(spec.address, ADDRESS_DIGITS, TITLE), spec.di ?? '901F', {
      meterType: meterTypeOf(spec.kind ?? 'cold-water'),
      diOrder: spec.diOrder ?? 'low-first',
      ser: spec.ser ?? 0,
      preamble: spec.preamble,
    }),
  );
}

/**
 * Whether `frame` answers `request`, and how (docs/cjt188.md §1.5, §1.6): replies of another function, and
 * (with `checkSer`) replies whose SER is not the request's, are not answers; an answer from an address the
 * request does not reach is ADDRESS_MISMATCH; an error reply (D6) is ABNORMAL_REPLY with its ST word; DATA
 * the codec cannot read, or another DI, is BAD_REPLY.
 */
export function judgeCjt188Frame(
  request: Cjt188Frame,
  frame: Cjt188Frame,
  raw: Uint8Array,
  options: JudgeOptions = {},
): FrameVerdict<Cjt188Frame> {
  if (frame.direction !== 'reply' || controlFunction(frame.control) !== controlFunction(request.control)) {
    return 'ignore';
  }
  const body = frame.body;
  const reqSer = 'ser' in request.body ? request.body.ser : undefined;
  if ((options.checkSer ?? true) && 'ser' in body && reqSer !== undefined && body.ser !== reqSer)
    return 'ignore';
  if (!addressReaches(request.address, frame.address, 'pair')) return addressMismatch(request, frame, raw);
  if (body.kind === 'error-reply') {
    const meaning = `valve ${body.st.valve}${body.st.batteryLow ? ', battery low' : ''}`;
    return abnormalReply(request, frame, raw, {
      label: `ST ${body.st.raw}`,
      statusWord: body.st.raw,
      meaning,
    });
  }
  if (frame.abnormal) return abnormalReply(request, frame, raw);
  if (body.kind === 'opaque') {
    return unexpectedReply(request, frame, raw, `a reply with DATA this codec cannot read: ${body.data}`);
  }
  if ('di' in request.body && body.di !== request.body.di) {
    return unexpectedReply(request, frame, raw, `a reply for DI ${body.di} instead of ${request.body.di}`);
  }
  return { ok: true, reading: readingOf(frame), frame, raw };
}

/**
 * The convenient part of an accepted reply. Fields are listed, not spread: this runs for every read, and a
 * property after a spread is a slow path on Node 20 (docs/performance.md). Key order is kept as it was
 * (address, di, value, unit, meterTime, status, settlement), since readings are printed as JSON.
 */
function readingOf(frame: Cjt188Frame): MeterReading {
  const body = frame.body;
  const address = frame.address;
  const di = 'di' in body ? body.di : '';
  if (
    body.kind !== 'read-reply' &&
    body.kind !== 'read-address-reply' &&
    body.kind !== 'read-key-version-reply'
  ) {
    const reading: MeterReading = { address, di, value: null, unit: '' };
    if ('status' in body && body.status) reading.status = statusBits(body.status);
    return reading;
  }
  const data = body.data;
  switch (data.type) {
    case 'water': {
      const reading: MeterReading = { address, di, value: data.current.value, unit: data.current.unit };
      if (data.time !== null) reading.meterTime = data.time;
      reading.status = statusBits(data.status);
      reading.settlement = data.settlement.value;
      return reading;
    }
    case 'heat': {
      const reading: MeterReading = {
        address,
        di,
        value: data.currentHeat.value,
        unit: data.currentHeat.unit,
      };
      if (data.time !== null) reading.meterTime = data.time;
      reading.status = statusBits(data.status);
      return reading;
    }
    case 'history':
      return { address, di, value: data.value, unit: data.unit };
    case 'settlement-day':
    case 'reading-day':
      return { address, di, value: data.day, unit: 'day' };
    case 'key-version':
      return { address, di, value: data.keyVersion, unit: '' };
    case 'address':
      return { address, di, value: data.address ?? address, unit: '' };
    default:
      return { address, di, value: null, unit: '' };
  }
}

function statusBits(st: { valve: 'open' | 'closed' | 'abnormal'; batteryLow: boolean }) {
  return { valve: st.valve, batteryLow: st.batteryLow };
}

/** What the shared judging rule needs (meter-protocol.ts `judgeReplyBytes`). */
const PARTS = {
  name: 'cjt188',
  decode: (buf: Uint8Array) => decodeCjt188(buf),
  judgeFrame: judgeCjt188Frame,
} as const;

/** The CJ/T 188 registry entry. */
export const cjt188Protocol = {
  name: 'cjt188',
  title: 'CJ/T 188-2004',
  addressDigits: ADDRESS_DIGITS,
  kinds: KINDS,
  defaultKind: 'cold-water',
  readDi: '901F',
  // One 68H and a type byte: the loosest layout, so the last one auto-detect tries (see protocols/auto.ts).
  specificity: 0,
  decode: (buf: Uint8Array) => decodeCjt188(buf),
  encode: encodeCjt188,
  fitsHeader: (buf: Uint8Array) => fitsEnvelopeHeader(buf, LAYOUT),
  envelope: (buf: Uint8Array) => readEnvelope(buf, LAYOUT),
  normaliseAddress: (address: string) => padMeterAddress(address, ADDRESS_DIGITS, TITLE),
  meterTypeOf,
  buildReadRequest: buildRequest,
  judgeFrame: judgeCjt188Frame,
  judgeReply(request: Uint8Array, reply: Uint8Array, options?: JudgeOptions): ReplyJudgement<Cjt188Frame> {
    return judgeReplyBytes(PARTS, request, reply, options);
  },
} as const satisfies MeterProtocolDescriptor<'cjt188', Cjt188Frame>;
