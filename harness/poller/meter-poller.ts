import { bytesToHex } from '../../protocols/bytes.ts';
import {
  buildReadRequest as buildCjtRead,
  buildReadAddressRequest as buildCjtReadAddress,
  buildValveRequest,
  CJT188_METER_TYPES,
  type Cjt188DiOrder,
  type Cjt188Frame,
  type Cjt188Status,
  decodeCjt188,
  encodeCjt188,
  parseDi,
} from '../../protocols/cjt188/index.ts';
import {
  buildReadRequest as buildDltRead,
  buildReadAddressRequest as buildDltReadAddress,
  type Dlt645Frame,
  decodeDlt645,
  decodeDlt645Frame,
  encodeDlt645,
} from '../../protocols/dlt645/index.ts';
import type { FrameVerdict } from '../../protocols/meter-protocol.ts';
import { meterProtocol } from '../../protocols/registry.ts';
import type { Clock } from '../../simulator/clock/clock.ts';
import type { Link } from '../../simulator/link/link.ts';
import { type ExchangeResult, FrameExchange, type ReplyVerdict } from './exchange.ts';
import { PollError } from './poll-error.ts';

/**
 * Reads one meter over a link, as a master or a hand-held reader would: read a DI, find the address of the
 * only meter on the bus, operate a valve. Works against our simulated meters and real ones alike.
 * @packageDocumentation
 */

/** Meter protocols the poller speaks. */
export type PollProtocol = 'cjt188' | 'dlt645';

/** Options of {@link MeterPoller}. */
export interface MeterPollerOptions {
  /** An open link to the bus (serial device, pty end, memory link). */
  link: Link;
  protocol: PollProtocol;
  /** @defaultValue realClock */
  clock?: Clock;
  /** How long to wait for each reply after the request is written, ms. @defaultValue 2000 */
  timeoutMs?: number;
  /** Further attempts after a timeout or a bad reply. @defaultValue 2 */
  retries?: number;
  /** CJ/T 188 meter type T of requests. @defaultValue 0x10 (cold water) */
  meterType?: number;
  /**
   * CJ/T 188 DI byte order of requests. @defaultValue 'low-first' (docs/cjt188.md §1.6: most field meters)
   */
  diOrder?: Cjt188DiOrder;
  /** FE bytes before each request. @defaultValue 4 */
  preamble?: number;
  /**
   * CJ/T 188: ignore replies whose SER is not the request's, so a late or duplicated reply to an earlier
   * request is never taken for this one. Turn off for meters that do not echo SER. @defaultValue true
   */
  checkSer?: boolean;
}

/** The convenient part of a reading. */
export interface MeterReading {
  /** The main value: current flow (water/gas), current heat (heat meters), the DI's value (DL/T 645). */
  value: number | string | null;
  unit: string;
  /** The meter's clock, "YYYY-MM-DD hh:mm:ss", when the reply carries one. */
  meterTime: string | null;
  /** CJ/T 188 status word, when the reply carries one. */
  status: Cjt188Status | null;
  /** CJ/T 188 settlement-day value (901F), when the reply carries one. */
  settlement?: number;
}

/** The result of {@link MeterPoller.read}. */
export interface PollReading {
  protocol: PollProtocol;
  /** The address that answered. */
  address: string;
  di: string;
  reading: MeterReading;
  /** The decoded reply. */
  frame: Cjt188Frame | Dlt645Frame;
  /** Request and reply bytes, hex. */
  sent: string;
  received: string;
  attempts: number;
  /** Time from writing the request to the whole reply, ms. */
  elapsedMs: number;
}

/** The result of {@link MeterPoller.scan}. */
export interface PollScan {
  protocol: PollProtocol;
  address: string;
  frame: Cjt188Frame | Dlt645Frame;
  sent: string;
  received: string;
  attempts: number;
}

/** The result of {@link MeterPoller.valve}. */
export interface PollValve {
  address: string;
  command: 'open' | 'close';
  /** The status word of the reply, when the meter sends one (L = 5). */
  status: Cjt188Status | null;
  frame: Cjt188Frame;
  sent: string;
  received: string;
  attempts: number;
}

/** The DI read when none is given: 901F (CJ/T 188 current data), 00010000 (DL/T 645 forward active energy). */
export const DEFAULT_DI: Record<PollProtocol, string> = { cjt188: '901F', dlt645: '00010000' };

/**
 * A master for one meter at a time on a link. Frames that are not replies to the current request (echoes,
 * other traffic, stale replies) are ignored; a reply from another address is ADDRESS_MISMATCH; an error reply is
 * ABNORMAL_REPLY (not retried); timeouts and bad replies are retried.
 */
export class MeterPoller {
  readonly protocol: PollProtocol;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly #options: MeterPollerOptions;
  readonly #cjt: FrameExchange<Cjt188Frame>;
  readonly #dlt: FrameExchange<Dlt645Frame>;
  #ser = 0;

  /** @throws TypeError naming a bad option. */
  constructor(options: MeterPollerOptions) {
    const { protocol, timeoutMs = 2000, retries = 2 } = options;
    if (protocol !== 'cjt188' && protocol !== 'dlt645') {
      throw new TypeError(`"protocol" must be 'cjt188' or 'dlt645', got ${String(protocol)}`);
    }
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) {
      throw new TypeError(`"timeoutMs" must be a positive number, got ${String(timeoutMs)}`);
    }
    if (!Number.isInteger(retries) || retries < 0) {
      throw new TypeError(`"retries" must be an integer >= 0, got ${String(retries)}`);
    }
    this.protocol = protocol;
    this.timeoutMs = timeoutMs;
    this.retries = retries;
    this.#options = options;
    // Only the exchange of the poller's protocol is ever used; each keeps one conversation at a time.
    this.#cjt = new FrameExchange(options.link, decodeCjt188, { clock: options.clock });
    this.#dlt = new FrameExchange(options.link, decodeDlt645, { clock: options.clock });
  }

  /**
   * Reads `di` (default {@link DEFAULT_DI}) from the meter at `address` (short addresses are left-padded).
   * @throws PollError (METER_TIMEOUT naming the hex sent, BAD_CHECKSUM, BAD_REPLY, ADDRESS_MISMATCH, ABNORMAL_REPLY).
   */
  async read(address: string, options: { di?: string } = {}): Promise<PollReading> {
    const di = (options.di ?? DEFAULT_DI[this.protocol]).toUpperCase();
    if (this.protocol === 'cjt188') {
      const addr = padAddress(address, 14);
      parseDi(di);
      const result = await this.#cjtExchange(addr, (ser) => buildCjtRead(addr, di, this.#cjtOptions(ser)));
      return {
        ...this.#common(result),
        address: result.frame.address,
        di,
        reading: cjtReading(result.frame),
      };
    }
    const addr = padAddress(address, 12);
    const request = encodeDlt645(buildDltRead(addr, di, { preamble: this.#options.preamble }));
    const result = await this.#dltExchange(addr, request);
    const body = result.frame.body;
    const reading: MeterReading =
      body.kind === 'read-reply'
        ? { value: body.value, unit: body.unit, meterTime: null, status: null }
        : { value: body.kind === 'opaque' ? body.data : null, unit: '', meterTime: null, status: null };
    return { ...this.#common(result), address: result.frame.address, di, reading };
  }

  /**
   * Finds the address of the only meter on the bus: CJ/T 188 read address (C=03, DI 810A, type AA) to the
   * wildcard, DL/T 645 C=13H to AAAAAAAAAAAA. With several meters the replies collide: expect BAD_REPLY or
   * BAD_CHECKSUM.
   */
  async scan(): Promise<PollScan> {
    if (this.protocol === 'cjt188') {
      const result = await this.#cjtExchange('AAAAAAAAAAAAAA', (ser) =>
        buildCjtReadAddress({ ...this.#cjtOptions(ser), meterType: CJT188_METER_TYPES.wildcard }),
      );
      return { ...this.#common(result), protocol: 'cjt188', address: result.frame.address };
    }
    const request = encodeDlt645(buildDltReadAddress({ preamble: this.#options.preamble }));
    const result = await this.#dltExchange('AAAAAAAAAAAA', request);
    const body = result.frame.body;
    const address = body.kind === 'read-address-reply' ? body.address : result.frame.address;
    return { ...this.#common(result), protocol: 'dlt645', address };
  }

  /**
   * Opens or closes the valve (CJ/T 188 C=04, DI A017, 55H/99H). DL/T 645 has no valve command here:
   * PollError UNSUPPORTED.
   */
  async valve(address: string, command: 'open' | 'close'): Promise<PollValve> {
    if (this.protocol !== 'cjt188') {
      throw new PollError(
        'UNSUPPORTED',
        'valve control is a CJ/T 188 command (A017); DL/T 645 meters here have none',
      );
    }
    if (command !== 'open' && command !== 'close') {
      throw new TypeError(`valve command must be 'open' or 'close', got ${String(command)}`);
    }
    const addr = padAddress(address, 14);
    const result = await this.#cjtExchange(addr, (ser) =>
      buildValveRequest(addr, command, this.#cjtOptions(ser)),
    );
    const body = result.frame.body;
    const status = body.kind === 'write-reply' ? body.status : null;
    return {
      address: result.frame.address,
      command,
      status,
      frame: result.frame,
      sent: bytesToHex(result.sent),
      received: bytesToHex(result.raw),
      attempts: result.attempts,
    };
  }

  #common<F extends Cjt188Frame | Dlt645Frame>(result: ExchangeResult<F>) {
    return {
      protocol: this.protocol,
      frame: result.frame,
      sent: bytesToHex(result.sent),
      received: bytesToHex(result.raw),
      attempts: result.attempts,
      elapsedMs: result.elapsedMs,
    };
  }

  #cjtOptions(ser: number) {
    return {
      ser,
      meterType: this.#options.meterType ?? CJT188_METER_TYPES.coldWater,
      diOrder: this.#options.diOrder ?? 'low-first',
      preamble: this.#options.preamble ?? 4,
    } as const;
  }

  #cjtExchange(address: string, build: (ser: number) => Cjt188Frame): Promise<ExchangeResult<Cjt188Frame>> {
    const target = `meter ${address}`;
    const checkSer = this.#options.checkSer ?? true;
    return this.#cjt.exchange(
      () => {
        const ser = this.#ser;
        this.#ser = (this.#ser + 1) & 0xff;
        const request = build(ser);
        const bytes = encodeCjt188(request);
        return { bytes, judge: (frame, raw) => judgeCjt188(request, frame, ser, checkSer, target, raw) };
      },
      { timeoutMs: this.timeoutMs, retries: this.retries, target },
    );
  }

  #dltExchange(address: string, bytes: Uint8Array): Promise<ExchangeResult<Dlt645Frame>> {
    const target = `meter ${address}`;
    const request = decodeDlt645Frame(bytes);
    return this.#dlt.exchange(
      () => ({ bytes, judge: (frame, raw) => judgeDlt645(request, frame, target, raw) }),
      {
        timeoutMs: this.timeoutMs,
        retries: this.retries,
        target,
      },
    );
  }
}

function padAddress(address: string, length: number): string {
  if (typeof address !== 'string' || address.length === 0 || address.length > length) {
    throw new TypeError(`meter address "${String(address)}" must have 1 to ${length} characters`);
  }
  return /^[0-9]+$/.test(address) ? address.padStart(length, '0') : address.toUpperCase();
}

const cjt188Protocol = meterProtocol('cjt188');
const dlt645Protocol = meterProtocol('dlt645');

/** A registry judgement of one frame as the exchange's verdict. */
function verdictOf<F>(verdict: FrameVerdict<F>, target: string): ReplyVerdict {
  if (verdict === 'ignore') return 'ignore';
  if (verdict.ok) return 'accept';
  return new PollError(verdict.failure.reason, `${target}: ${verdict.message}`, {
    frame: verdict.frame,
    detail: verdict.failure,
    ...(verdict.failure.reply === undefined ? {} : { received: verdict.failure.reply }),
  });
}

/**
 * @internal Whether `frame` answers CJ/T 188 request `req` sent with `ser`: the registry's judge
 * (protocols/cjt188/descriptor.ts), the same rule the master and the concentrator's poll use.
 */
export function judgeCjt188(
  req: Cjt188Frame,
  frame: Cjt188Frame,
  ser: number,
  checkSer: boolean,
  target: string,
  raw: Uint8Array = encodeCjt188(frame),
): ReplyVerdict {
  const request = 'ser' in req.body && req.body.ser !== ser ? { ...req, body: { ...req.body, ser } } : req;
  return verdictOf(cjt188Protocol.judgeFrame(request, frame, raw, { checkSer }), target);
}

/** @internal Whether `frame` answers the DL/T 645 request `req`: the registry's judge. */
export function judgeDlt645(
  req: Dlt645Frame,
  frame: Dlt645Frame,
  target: string,
  raw: Uint8Array,
): ReplyVerdict {
  return verdictOf(dlt645Protocol.judgeFrame(req, frame, raw), target);
}

function cjtReading(frame: Cjt188Frame): MeterReading {
  const body = frame.body;
  const none: MeterReading = { value: null, unit: '', meterTime: null, status: null };
  if (body.kind !== 'read-reply') return none;
  const data = body.data;
  switch (data.type) {
    case 'water':
      return {
        value: data.current.value,
        unit: data.current.unit,
        meterTime: data.time,
        status: data.status,
        settlement: data.settlement.value,
      };
    case 'heat':
      return {
        value: data.currentHeat.value,
        unit: data.currentHeat.unit,
        meterTime: data.time,
        status: data.status,
      };
    case 'history':
      return { value: data.value, unit: data.unit, meterTime: null, status: null };
    case 'settlement-day':
    case 'reading-day':
      return { ...none, value: data.day, unit: 'day' };
    case 'key-version':
      return { ...none, value: data.keyVersion };
    case 'address':
      return { ...none, value: data.address ?? frame.address };
    default:
      return none;
  }
}
