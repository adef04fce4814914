import { sum8 } from '../../../protocols/bytes.ts';
import { type Cjt188Frame, decodeCjt188, encodeAddress } from '../../../protocols/cjt188/index.ts';
import type { DecodeResult } from '../../../protocols/decode-result.ts';
import {
  addOffset33,
  addressToBytes,
  type Dlt645Frame,
  decodeDlt645,
} from '../../../protocols/dlt645/index.ts';

/**
 * What the meter suites need of each meter protocol: its decoder, a one-line description of a frame for the
 * trace, and a raw frame builder that can make frames the codec's builders refuse to (an unknown DI, a wrong
 * checksum, a cut frame) — the requests a conformance case sends on purpose.
 * @packageDocumentation
 */

/** The meter protocols the suites cover. */
export const METER_SUITE_PROTOCOLS = ['cjt188', 'dlt645'] as const;
export type MeterSuiteProtocol = (typeof METER_SUITE_PROTOCOLS)[number];

export type MeterFrame = Cjt188Frame | Dlt645Frame;

/** The decoder of a protocol, over frames of that protocol only. */
export function meterDecoder(protocol: MeterSuiteProtocol): (buf: Uint8Array) => DecodeResult<MeterFrame> {
  return protocol === 'cjt188' ? decodeCjt188 : decodeDlt645;
}

/** One line for a trace: control code, address and the decoded body. */
export function describeMeterFrame(frame: MeterFrame): string {
  const control = frame.control.toString(16).toUpperCase().padStart(2, '0');
  const type =
    frame.protocol === 'cjt188' ? ` T=${frame.meterType.toString(16).toUpperCase().padStart(2, '0')}` : '';
  return `${frame.protocol}${type} A=${frame.address} C=${control} ${JSON.stringify(frame.body)}`;
}

/** The wire bytes of an address in the protocol (wildcard `AA` bytes allowed). */
export function addressBytes(protocol: MeterSuiteProtocol, address: string): Uint8Array {
  return protocol === 'cjt188' ? encodeAddress(address) : addressToBytes(address);
}

/** Fields of a raw CJ/T 188 frame (docs/cjt188.md §1.2). */
export interface RawCjt188 {
  preamble?: number;
  meterType: number;
  address: Uint8Array;
  control: number;
  data: readonly number[] | Uint8Array;
}

/** `FE… 68 T A0…A6 C L DATA CS 16` with the checksum computed (docs/cjt188.md §1.2). */
export function rawCjt188(f: RawCjt188): Uint8Array {
  const body = [0x68, f.meterType, ...f.address, f.control, f.data.length, ...f.data];
  return finish(f.preamble ?? 4, body);
}

/** Fields of a raw DL/T 645 frame (docs/dlt645.md §2.1); `data` is given as values, +33H is added here. */
export interface RawDlt645 {
  preamble?: number;
  address: Uint8Array;
  control: number;
  data: readonly number[] | Uint8Array;
}

/** `FE… 68 A0…A5 68 C L DATA+33 CS 16` with the checksum computed (docs/dlt645.md §2.1). */
export function rawDlt645(f: RawDlt645): Uint8Array {
  const data = addOffset33(Uint8Array.from(f.data));
  const body = [0x68, ...f.address, 0x68, f.control, data.length, ...data];
  return finish(f.preamble ?? 4, body);
}

function finish(preamble: number, body: number[]): Uint8Array {
  const bytes = Uint8Array.from([...new Array(preamble).fill(0xfe), ...body, 0, 0x16]);
  bytes[bytes.length - 2] = sum8(bytes, preamble, bytes.length - 2);
  return bytes;
}

/** Index of the first `68` after any FE preamble and junk, or -1. */
export function frameStart(bytes: Uint8Array): number {
  return bytes.indexOf(0x68);
}

/** The DI of a 2007 read as its four data bytes (DI0 first, before +33H). */
export function dlt645DiBytes(di: string): number[] {
  const out: number[] = [];
  for (let i = di.length; i > 0; i -= 2) out.push(Number.parseInt(di.slice(i - 2, i), 16));
  return out;
}
