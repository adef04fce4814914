import {
  buildReadRequest as buildCjt188Read,
  CJT188_WILDCARD_ADDRESS,
  type Cjt188DiOrder,
  encodeCjt188,
} from '../../../protocols/cjt188/index.ts';
import { buildReadRequest as buildDlt645Read, encodeDlt645 } from '../../../protocols/dlt645/index.ts';
import type { ExchangeOutcome, HeardFrame, MeterSession } from './meter-session.ts';
import type { MeterFrame, MeterSuiteProtocol } from './meter-wire.ts';

/**
 * What every meter case gets: the session with the meter under test, the suite's settings, and the request
 * builders and reply checks the cases share.
 * @packageDocumentation
 */

/** Settings of a meter suite run. */
export interface MeterSuiteConfig {
  protocol: MeterSuiteProtocol;
  /** The meter's address, in full (14 digits CJ/T 188, 12 DL/T 645). */
  address: string;
  /** CJ/T 188 meter type byte T the meter is (10H cold water by default). */
  meterType: number;
  /** CJ/T 188 DI byte order the reader uses where a case does not set one. */
  diOrder: Cjt188DiOrder;
  /** How long to wait for a reply, and to call a meter silent, ms. */
  timeoutMs: number;
  /** The reply-time limit of the timing case, ms. */
  replyLimitMs: number;
  /** UTC offset of the meter's clock, minutes (time sync case). */
  utcOffsetMinutes: number;
}

/** The context of a meter case. */
export class MeterCaseContext {
  readonly session: MeterSession;
  readonly config: MeterSuiteConfig;
  #ser = 0x10;

  constructor(session: MeterSession, config: MeterSuiteConfig) {
    this.session = session;
    this.config = config;
  }

  get protocol(): MeterSuiteProtocol {
    return this.config.protocol;
  }

  /**
   * A fresh CJ/T 188 SER for each request (the master chooses it, the meter echoes it: docs/cjt188.md §1.6),
   * so a late reply to an earlier request is told apart from the answer to this one.
   */
  nextSer(): number {
    this.#ser = (this.#ser + 0x11) & 0xff;
    return this.#ser;
  }

  /**
   * The protocol's everyday read of the meter: CJ/T 188 901F (current data), DL/T 645-2007 00010000
   * (forward active energy, total).
   */
  readRequest(
    options: {
      preamble?: number;
      address?: string;
      meterType?: number;
      ser?: number;
      diOrder?: Cjt188DiOrder;
    } = {},
  ): { bytes: Uint8Array; ser: number } {
    const address = options.address ?? this.config.address;
    const preamble = options.preamble ?? (this.protocol === 'cjt188' ? 4 : 4);
    if (this.protocol === 'dlt645') {
      return { bytes: encodeDlt645(buildDlt645Read(address, '00010000', { preamble })), ser: 0 };
    }
    const ser = options.ser ?? this.nextSer();
    const frame = buildCjt188Read(address, '901F', {
      ser,
      preamble,
      meterType: options.meterType ?? this.config.meterType,
      diOrder: options.diOrder ?? this.config.diOrder,
    });
    return { bytes: encodeCjt188(frame), ser };
  }

  /** The read request to the wildcard address (all `AA`), with the meter's own type. */
  wildcardReadRequest(): { bytes: Uint8Array; ser: number } {
    return this.readRequest({
      address: this.protocol === 'cjt188' ? CJT188_WILDCARD_ADDRESS : 'AAAAAAAAAAAA',
    });
  }

  /** Sends the everyday read and returns what came back. */
  async read(options: Parameters<MeterCaseContext['readRequest']>[0] = {}): Promise<{
    outcome: ExchangeOutcome;
    ser: number;
  }> {
    const { bytes, ser } = this.readRequest(options);
    return { outcome: await this.session.exchange(bytes, { settleMs: 0 }), ser };
  }

  /**
   * What is wrong with `reply` as the normal answer to the everyday read (empty when nothing is): direction
   * and function, the answering address, meter type, DI and SER echo, and a payload the codec decodes.
   */
  readProblems(reply: HeardFrame | undefined, ser: number, address = this.config.address): string[] {
    if (!reply) return ['no reply'];
    const f: MeterFrame = reply.frame;
    const problems: string[] = [];
    if (f.address !== address) problems.push(`reply from address ${f.address}, expected ${address}`);
    if (f.protocol === 'cjt188') {
      if (f.control !== 0x81) problems.push(`C=${hex(f.control)}, expected 81 (normal read reply)`);
      if (f.meterType !== this.config.meterType) {
        problems.push(`T=${hex(f.meterType)}, expected ${hex(this.config.meterType)}`);
      }
      const body = f.body;
      if (body.kind !== 'read-reply') problems.push(`DATA is ${body.kind}, not a read reply`);
      else {
        if (body.di !== '901F') problems.push(`DI ${body.di}, expected 901F`);
        if (body.ser !== ser) problems.push(`SER ${hex(body.ser)}, expected ${hex(ser)} (echo)`);
        if (body.data.type !== 'water' && body.data.type !== 'heat') {
          problems.push(`payload ${body.data.type}, expected the 901F metering data`);
        }
      }
    } else {
      if (f.control !== 0x91) problems.push(`C=${hex(f.control)}, expected 91 (normal read reply)`);
      const body = f.body;
      if (body.kind !== 'read-reply') problems.push(`DATA is ${body.kind}, not a read reply`);
      else if (body.di !== '00010000') problems.push(`DI ${body.di}, expected 00010000`);
    }
    return problems;
  }

  /**
   * Sends the everyday read and says whether the meter answered it properly: used after a silence case to
   * show the line and the meter were alive (otherwise silence proves nothing).
   */
  async stillAnswers(): Promise<boolean> {
    this.session.trace.note('check: the meter still answers a good request');
    const { outcome, ser } = await this.read();
    return this.readProblems(outcome.reply, ser).length === 0;
  }
}

/** Two upper-case hex digits. */
export function hex(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, '0');
}
