import {
  buildErrorReply,
  buildReadAddressReply,
  buildReadReply,
  buildWriteReply,
  CJT188_DI,
  CJT188_METER_TYPES,
  CJT188_UNIT_M3,
  type Cjt188Frame,
  type Cjt188Quantity,
  type Cjt188ReadData,
  type Cjt188ReplyOptions,
  type Cjt188Status,
  decodeCjt188,
  encodeAddress,
  encodeCjt188,
  formatTime,
  makeStatus,
  parseDi,
} from '../../protocols/cjt188/index.ts';
import type { DecodeResult } from '../../protocols/decode-result.ts';
import { ProtocolError } from '../../protocols/errors.ts';
import { type MeterAnswer, MeterBase, type MeterBaseOptions, round2, sum8 } from './meter-base.ts';

/**
 * A simulated CJ/T 188-2004 meter (docs/cjt188.md §1): cold water by default; hot water, gas and heat meter
 * types selectable. It answers requests to its own address, to the all-`AA` wildcard and to partial wildcards
 * whose non-`AA` byte pairs match, when the meter type byte is its own or `AA`.
 * @packageDocumentation
 */

/** CJ/T 188 meter kinds the simulator models, and their type byte T (docs/cjt188.md §1.3). */
export const CJT188_METER_KINDS = {
  'cold-water': CJT188_METER_TYPES.coldWater,
  'hot-water': CJT188_METER_TYPES.hotWater,
  gas: CJT188_METER_TYPES.gas,
  heat: CJT188_METER_TYPES.heat,
} as const;

/** A CJ/T 188 meter kind. */
export type Cjt188MeterKind = keyof typeof CJT188_METER_KINDS;

/**
 * Heat a heat meter counts per m³ of water it measures, kWh: 1.163 kWh/(m³·K) at a 20 K supply/return
 * difference (the temperatures it reports). A heat meter's current heat is `reading × HEAT_KWH_PER_M3`.
 */
export const HEAT_KWH_PER_M3 = 23.26;

/** Options of {@link Cjt188Meter}. */
export interface Cjt188MeterOptions extends MeterBaseOptions {
  /** Meter kind. @defaultValue 'cold-water' */
  kind?: Cjt188MeterKind;
  /**
   * DI byte order of the meter's replies, whatever order the request used (both are understood): the quirk
   * by which real meters differ (docs/cjt188.md §1.6). @defaultValue 'low-first'
   */
  diOrder?: 'high-first' | 'low-first';
}

/**
 * A CJ/T 188 meter. Handles:
 * - read (01) 901F current data (water/gas 19-byte layout, heat 43-byte layout), D120–D12B history months,
 *   8103/8104 settlement and reading day, 8106 key version; other DIs get an error reply;
 * - read address (03, 810A) — the address goes in the reply's A field;
 * - write (04): A017 valve open/close (reply `DI SER ST` with the new valve bits), A015 set the meter clock;
 *   other writes get an error reply;
 * - write address (15, A018): replies from the old address, then answers to the new one;
 * - write base reading (16, A016): the reading becomes the written value and keeps counting from there.
 */
export class Cjt188Meter extends MeterBase<Cjt188Frame> {
  readonly protocol = 'cjt188';
  readonly kind: Cjt188MeterKind;
  /** The meter type byte T. */
  readonly meterType: number;
  readonly diOrder: 'high-first' | 'low-first';

  /** @throws TypeError for a bad option; ProtocolError BAD_FIELD for a malformed address. */
  constructor(options: Cjt188MeterOptions) {
    super(options, normaliseCjt188Address(options.address));
    const kind = options.kind ?? 'cold-water';
    if (!(kind in CJT188_METER_KINDS)) {
      throw new TypeError(`"kind" must be one of ${Object.keys(CJT188_METER_KINDS).join(', ')}, got ${kind}`);
    }
    this.kind = kind;
    this.meterType = CJT188_METER_KINDS[kind];
    this.diOrder = options.diOrder ?? 'low-first';
  }

  decode(buf: Uint8Array): DecodeResult<Cjt188Frame> {
    return decodeCjt188(buf);
  }

  protected skipNotForMe(buf: Uint8Array): number {
    const n = buf.length;
    let p = 0;
    while (p < n && p <= 16 && buf[p] === 0xfe) p++;
    if (p > 16 || n < p + 13 || buf[p] !== 0x68) return 0;
    const length = buf[p + 10];
    const total = p + 13 + length;
    if (length > 115 || n < total || buf[total - 1] !== 0x16 || sum8(buf, p, total - 2) !== buf[total - 2])
      return 0;
    if (buf[p + 9] & 0x80) return total; // a reply
    const type = buf[p + 1];
    if (type !== this.meterType && type !== 0xaa) return total;
    const own = this.#ownAddressBytes();
    for (let i = 0; i < 7; i++) {
      const b = buf[p + 2 + i];
      if (b !== 0xaa && b !== own[i]) return total;
    }
    return 0;
  }

  #ownBytes: { address: string; bytes: Uint8Array } | undefined;

  #ownAddressBytes(): Uint8Array {
    if (this.#ownBytes?.address !== this.address) {
      this.#ownBytes = { address: this.address, bytes: encodeAddress(this.address) };
    }
    return this.#ownBytes.bytes;
  }

  accepts(frame: Cjt188Frame): boolean {
    if (frame.protocol !== 'cjt188' || frame.direction !== 'request') return false;
    if (frame.meterType !== this.meterType && frame.meterType !== CJT188_METER_TYPES.wildcard) return false;
    return addressMatches(frame.address, this.address);
  }

  protected encode(frame: Cjt188Frame): Uint8Array {
    return encodeCjt188(frame);
  }

  protected override shapeReply(frame: Cjt188Frame): Cjt188Frame {
    const body = frame.body;
    if (frame.direction !== 'reply' || !('diOrder' in body) || body.diOrder === this.diOrder) return frame;
    return { ...frame, body: { ...body, diOrder: this.diOrder } };
  }

  protected withAddress(frame: Cjt188Frame, address: string): Cjt188Frame {
    return { ...frame, address };
  }

  protected answer(req: Cjt188Frame, now: number): MeterAnswer<Cjt188Frame> {
    const opts = { address: this.address, meterType: this.meterType, preamble: this.preamble };
    const errorReply = this.#errorReplyTo(req, opts);
    const body = req.body;
    try {
      switch (body.kind) {
        case 'read': {
          const data = this.#readData(parseDi(body.di), now);
          if (!data) return refusal(errorReply);
          return { reply: buildReadReply(req, data, opts), errorReply };
        }
        case 'read-address':
          return { reply: buildReadAddressReply(req, this.address, opts), errorReply };
        case 'read-key-version':
          return { reply: buildReadReply(req, { type: 'key-version', keyVersion: 0 }, opts), errorReply };
        case 'write': {
          const data = body.data;
          if (data.type === 'valve' && (data.command === 'open' || data.command === 'close')) {
            this.logValve(now, data.command === 'open' ? 'open' : 'closed');
            return { reply: buildWriteReply(req, this.#status(), opts), errorReply };
          }
          if (data.type === 'time' && data.time !== null) {
            const at = parseMeterTime(data.time, this.model.utcOffsetMinutes);
            if (at === undefined) return refusal(errorReply);
            this.clockOffsetMs = at - now;
            this.events.push({ kind: 'clock', at: now, time: data.time });
            return { reply: buildWriteReply(req, null, opts), errorReply };
          }
          return refusal(errorReply);
        }
        case 'write-address': {
          if (body.data.type !== 'address') return refusal(errorReply);
          const reply = buildWriteReply(req, null, opts);
          const to = body.data.address;
          this.events.push({ kind: 'address', at: now, from: this.address, to });
          this.address = to;
          return { reply, errorReply };
        }
        case 'write-base-reading': {
          if (body.data.type !== 'base-reading') return refusal(errorReply);
          const value = body.data.value;
          this.baseOffset = value - this.model.readingAt(this.modelKey, now);
          this.events.push({ kind: 'base-reading', at: now, value });
          return { reply: buildWriteReply(req, this.#status(), opts), errorReply };
        }
        default:
          return refusal(errorReply);
      }
    } catch (error) {
      // A value the layout cannot carry (a reading beyond 999999.99, a clock outside 0..9999) is the meter's
      // problem, not the master's: it answers with an error reply, as a meter with a bad register would.
      if (error instanceof ProtocolError) return refusal(errorReply);
      throw error;
    }
  }

  /** The status byte ST as the meter stands now. */
  #status(): Cjt188Status {
    return makeStatus({ valve: this.valve, batteryLow: this.batteryLow });
  }

  /**
   * The error reply to `req`, built when asked for: from the address the request was answered at (`opts`),
   * with the status at the time it is built.
   */
  #errorReplyTo(req: Cjt188Frame, opts: Cjt188ReplyOptions): () => Cjt188Frame {
    return () => buildErrorReply(req, this.#status(), { ...opts, ser: serOf(req) });
  }

  /** The payload of a read of `di` at `now`, or undefined for a DI this meter does not serve. */
  #readData(di: number, now: number): Cjt188ReadData | undefined {
    const time = formatTime(this.meterTime(now), this.model.utcOffsetMinutes);
    const st = this.#status();
    if (di === CJT188_DI.meterData) {
      const current = this.readingAt(now);
      const settlement = this.settlementAt(now);
      if (this.kind !== 'heat') {
        return { type: 'water', current: m3(current), settlement: m3(settlement), time, status: st };
      }
      return {
        type: 'heat',
        settlementHeat: kwh(settlement),
        currentHeat: kwh(current),
        heatPower: { value: 0, unit: 'kW', unitCode: 0x17 },
        flowRate: { value: 0, unit: 'm3/h', unitCode: 0x35 },
        accumulatedFlow: m3(current),
        supplyTemperature: 60,
        returnTemperature: 40,
        workingHours: Math.max(0, Math.floor(now / 3_600_000)) % 1_000_000,
        time,
        status: st,
      };
    }
    if (di >= CJT188_DI.history1 && di <= CJT188_DI.history12) {
      const month = di - CJT188_DI.history1 + 1;
      return { type: 'history', month, ...m3(this.settlementAt(now, month)) };
    }
    if (di === CJT188_DI.readSettlementDay) return { type: 'settlement-day', day: this.model.settlementDay };
    if (di === CJT188_DI.readReadingDay) return { type: 'reading-day', day: this.model.settlementDay };
    if (di === CJT188_DI.readKeyVersion) return { type: 'key-version', keyVersion: 0 };
    return undefined;
  }
}

/** A volume in m³ as the 901F layout carries it. */
function m3(value: number): Cjt188Quantity {
  return { value, unit: 'm3', unitCode: CJT188_UNIT_M3 };
}

/** A heat meter's energy for `volume` m³ of measured water, kWh (unit code 05H). */
function kwh(volume: number): Cjt188Quantity {
  return { value: round2(volume * HEAT_KWH_PER_M3), unit: 'kWh', unitCode: 0x05 };
}

/**
 * The SER of a request: its head's, or for DATA the codec keeps opaque (an unknown DI) the third byte, where
 * `DI(2) SER(1)` puts it (docs/cjt188.md §1.6), so an abnormal reply echoes it as every reply does.
 */
function serOf(req: Cjt188Frame): number {
  const body = req.body;
  if ('ser' in body) return body.ser;
  if (body.kind === 'opaque' && body.data.length >= 6) return Number.parseInt(body.data.slice(4, 6), 16);
  return 0;
}

/** A refused request's answer: the error reply, sent as the reply. */
function refusal(errorReply: () => Cjt188Frame): MeterAnswer<Cjt188Frame> {
  return { reply: errorReply(), errorReply };
}

/** A CJ/T 188 address in its 14-character form ("101001" → "00000000101001"). Throws BAD_FIELD. */
export function normaliseCjt188Address(address: string): string {
  const bytes = encodeAddress(address);
  if (bytes.includes(0xaa)) {
    throw new ProtocolError(
      'BAD_FIELD',
      `CJ/T 188 meter address "${address}" must not contain the wildcard AA`,
    );
  }
  let out = '';
  for (let i = 6; i >= 0; i--) out += bytes[i].toString(16).padStart(2, '0');
  return out;
}

/** True when a request address (possibly with `AA` byte pairs) addresses meter `own`. */
export function addressMatches(requested: string, own: string): boolean {
  if (requested.length !== own.length) return false;
  for (let i = 0; i < requested.length; i += 2) {
    const pair = requested.slice(i, i + 2).toUpperCase();
    if (pair !== 'AA' && pair !== own.slice(i, i + 2)) return false;
  }
  return true;
}

/** "YYYY-MM-DD hh:mm:ss" in a meter's local time to epoch ms, or undefined when it is not a real time. */
export function parseMeterTime(text: string, utcOffsetMinutes: number): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(t);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59)
    return undefined;
  return t - utcOffsetMinutes * 60_000;
}
