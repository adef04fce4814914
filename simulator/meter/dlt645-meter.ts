import type { DecodeResult } from '../../protocols/decode-result.ts';
import {
  addressToBytes,
  buildAbnormalReply,
  buildReadAddressReply,
  buildReadReply,
  DLT645_BROADCAST_ADDRESS,
  DLT645_FUNCTION,
  DLT645_FUNCTION_MASK,
  type Dlt645ErrorName,
  type Dlt645Frame,
  decodeDlt645,
  encodeDlt645,
  lookupDi,
} from '../../protocols/dlt645/index.ts';
import { ProtocolError } from '../../protocols/errors.ts';
import { parseMeterTime } from './cjt188-meter.ts';
import { type MeterAnswer, MeterBase, type MeterBaseOptions, sum8 } from './meter-base.ts';

/**
 * A simulated DL/T 645 meter (docs/dlt645.md §2), 2007 and 1997 reads. Its energy registers count the
 * consumption model's reading (so a DL/T 645 water or heat meter and the harness agree on the number; the
 * unit on the wire is the DI table's kWh).
 * @packageDocumentation
 */

/** Options of {@link Dlt645Meter}. */
export type Dlt645MeterOptions = MeterBaseOptions;

/**
 * A DL/T 645 meter. Answers requests to its own address and to addresses whose `A` nibbles are wildcards
 * (`AAAAAAAAAAAA` reaches every meter):
 * - read (2007 C=11H, 1997 C=01H): combined/forward active energy (`00000000`, `00010000`, tariff 0; DI0 = n
 *   reads the n-th previous settlement; 1997 `9010`) is the model's reading; other energy registers are 0;
 *   the date and time DIs (`04000101`, `04000102`) give the meter clock; voltages 220 V, frequency 50 Hz,
 *   power factor 1, everything else in the DI table 0; a DI outside the table (or a tariff register) gets an
 *   abnormal reply "no data requested";
 * - read address (C=13H): its address;
 * - broadcast time sync (C=08H to 999999999999): sets the meter clock, no reply;
 * - anything else: abnormal reply "other error".
 */
export class Dlt645Meter extends MeterBase<Dlt645Frame> {
  readonly protocol = 'dlt645';

  /** @throws TypeError for a bad option or address. */
  constructor(options: Dlt645MeterOptions) {
    super(options, normaliseDlt645Address(options.address));
  }

  decode(buf: Uint8Array): DecodeResult<Dlt645Frame> {
    return decodeDlt645(buf);
  }

  protected skipNotForMe(buf: Uint8Array): number {
    const n = buf.length;
    let p = 0;
    while (p < n && p <= 32 && buf[p] === 0xfe) p++;
    if (p > 32 || n < p + 12 || buf[p] !== 0x68 || buf[p + 7] !== 0x68) return 0;
    const length = buf[p + 9];
    const total = p + 12 + length;
    if (length > 200 || n < total || buf[total - 1] !== 0x16 || sum8(buf, p, total - 2) !== buf[total - 2])
      return 0;
    if (buf[p + 8] & 0x80) return total; // a reply
    // The broadcast time sync (999999999999) is for everyone: the full decoder handles it.
    if (buf.subarray(p + 1, p + 7).every((b) => b === 0x99)) return 0;
    const own = this.#ownAddressBytes();
    for (let i = 0; i < 6; i++) {
      const b = buf[p + 1 + i];
      const hi = b >> 4;
      const lo = b & 0x0f;
      if ((hi !== 0x0a && hi !== own[i] >> 4) || (lo !== 0x0a && lo !== (own[i] & 0x0f))) return total;
    }
    return 0;
  }

  #ownBytes: Uint8Array | undefined;

  #ownAddressBytes(): Uint8Array {
    this.#ownBytes ??= addressToBytes(this.address);
    return this.#ownBytes;
  }

  accepts(frame: Dlt645Frame): boolean {
    if (frame.protocol !== 'dlt645' || frame.direction !== 'request') return false;
    if (frame.address === DLT645_BROADCAST_ADDRESS) return frame.body.kind === 'time-sync';
    if (frame.address.length !== this.address.length) return false;
    for (let i = 0; i < frame.address.length; i++) {
      const c = frame.address[i];
      if (c !== 'A' && c !== this.address[i]) return false;
    }
    return true;
  }

  protected encode(frame: Dlt645Frame): Uint8Array {
    return encodeDlt645(frame);
  }

  protected withAddress(frame: Dlt645Frame, address: string): Dlt645Frame {
    return { ...frame, address };
  }

  protected answer(req: Dlt645Frame, now: number): MeterAnswer<Dlt645Frame> {
    const opts = { preamble: this.preamble };
    const fn = req.control & DLT645_FUNCTION_MASK;
    const body = req.body;
    if (body.kind === 'time-sync') {
      const at = parseMeterTime(body.time, this.model.utcOffsetMinutes);
      if (at !== undefined) {
        this.clockOffsetMs = at - now;
        this.events.push({ kind: 'clock', at: now, time: body.time });
      }
      return { reply: null, errorReply: this.#abnormalReplyTo(req, fn, 'other error') };
    }
    if (body.kind === 'read-address') {
      return {
        reply: buildReadAddressReply(this.address, opts),
        errorReply: this.#abnormalReplyTo(req, fn, 'other error'),
      };
    }
    if (body.kind === 'read' && (fn === DLT645_FUNCTION.read2007 || fn === DLT645_FUNCTION.read1997)) {
      const errorReply = this.#abnormalReplyTo(req, fn, 'no data requested');
      const value = this.#value(body.di, now);
      if (value === undefined) return { reply: errorReply(), errorReply };
      try {
        return { reply: buildReadReply(this.address, body.di, value, opts), errorReply };
      } catch (error) {
        // A value the layout cannot carry (a clock outside 2000–2099) is refused like a missing register.
        if (error instanceof ProtocolError) return { reply: errorReply(), errorReply };
        throw error;
      }
    }
    const errorReply = this.#abnormalReplyTo(req, fn, 'other error');
    return { reply: errorReply(), errorReply };
  }

  /** The abnormal reply to `req` with `error`, built when asked for. */
  #abnormalReplyTo(req: Dlt645Frame, fn: number, error: Dlt645ErrorName): () => Dlt645Frame {
    return () =>
      buildAbnormalReply(this.address, [error], {
        preamble: this.preamble,
        version: req.version,
        function: fn,
      });
  }

  /** The value of `di` at `now`, or undefined when this meter has no such register. */
  #value(di: string, now: number): number | string | undefined {
    const layout = lookupDi(di);
    if (!layout) return undefined;
    if (layout.type === 'date' || layout.type === 'time') {
      const local = new Date(this.meterTime(now).getTime() + this.model.utcOffsetMinutes * 60_000);
      const iso = local.toISOString();
      return layout.type === 'date' ? iso.slice(0, 10) : iso.slice(11, 19);
    }
    if (layout.version === '1997') {
      if (di === '9010') return this.readingAt(now);
      if (/^90[12][1-4]$/.test(di)) return undefined;
    } else if (di.startsWith('00')) {
      const kind = di.slice(2, 4);
      const tariff = di.slice(4, 6);
      const settlement = Number.parseInt(di.slice(6, 8), 16);
      if (tariff !== '00') return undefined;
      if (kind !== '00' && kind !== '01') return 0;
      return settlement === 0 ? this.readingAt(now) : this.settlementAt(now, settlement);
    }
    switch (layout.unit) {
      case 'V':
        return 220;
      case 'Hz':
        return 50;
      case '':
        return 1;
      case 'imp/kWh':
      case 'imp/kvarh':
        return 1200;
      default:
        return 0;
    }
  }
}

/** A DL/T 645 address in its 12-digit form ("101001" → "000000101001"). Throws TypeError. */
export function normaliseDlt645Address(address: string): string {
  if (typeof address !== 'string' || !/^[0-9]{1,12}$/.test(address)) {
    throw new TypeError(`DL/T 645 meter address "${String(address)}" must be 1 to 12 decimal digits`);
  }
  return address.padStart(12, '0');
}
