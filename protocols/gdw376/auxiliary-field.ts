import { bcdByteToNumber, bytesToHex, concatBytes, hexToBytes, numberToBcdByte } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';
import type { Gdw376Aux, Gdw376Direction, Gdw376TimeLabel } from './types.ts';

/** Downlink AFNs whose frames carry the 16-byte password PW (docs/gdw376.md §3.1, KSY `has_pw`). */
export const GDW376_PW_AFNS: readonly number[] = [0x01, 0x04, 0x05, 0x06, 0x0f, 0x10];
/** Length of PW in Q/GDW 376.1 (2009/2013). */
export const GDW376_PW_LENGTH = 16;
/** Length of EC: important and normal event counters, one byte each. */
export const GDW376_EC_LENGTH = 2;
/** Length of Tp: PFC (1) + send time sec/min/hour/day BCD (4) + allowed delay minutes (1). */
export const GDW376_TP_LENGTH = 6;

/** Which AUX members a frame carries. They sit in this order at the end of the user data: PW or EC, then Tp. */
export interface Gdw376AuxLayout {
  pw: boolean;
  ec: boolean;
  tp: boolean;
  /** Total AUX bytes. */
  length: number;
}

/**
 * Which AUX members a frame carries, from fields that come before the data units (KSY `has_pw`, `has_ec`, `tp`):
 * PW on downlink AFN 01/04/05/06/0F/10, EC on uplink with ACD=1, Tp when SEQ.TpV=1. Because data units have no
 * length of their own, this is how the end of the data region is found: AUX is counted back from the end.
 */
export function auxLayout(dir: Gdw376Direction, afn: number, acd: boolean, tpv: boolean): Gdw376AuxLayout {
  const pw = dir === 'down' && GDW376_PW_AFNS.includes(afn);
  const ec = dir === 'up' && acd;
  const length = (pw ? GDW376_PW_LENGTH : 0) + (ec ? GDW376_EC_LENGTH : 0) + (tpv ? GDW376_TP_LENGTH : 0);
  return { pw, ec, tp: tpv, length };
}

/** Reads the AUX bytes (exactly `layout.length` of them). Throws BAD_BCD when Tp's send time is not BCD. */
export function decodeAux(bytes: Uint8Array, layout: Gdw376AuxLayout): Gdw376Aux {
  const aux: Gdw376Aux = {};
  let at = 0;
  if (layout.pw) {
    aux.pw = bytesToHex(bytes.subarray(at, at + GDW376_PW_LENGTH));
    at += GDW376_PW_LENGTH;
  }
  if (layout.ec) {
    aux.ec = { important: bytes[at], normal: bytes[at + 1] };
    at += GDW376_EC_LENGTH;
  }
  if (layout.tp) aux.tp = decodeTimeLabel(bytes.subarray(at, at + GDW376_TP_LENGTH));
  return aux;
}

/**
 * Writes the AUX bytes. Each member must be present exactly when `layout` says the frame carries it (a PW on
 * an uplink frame, say, could not be found again by a decoder); throws BAD_FIELD naming the member otherwise.
 */
export function encodeAux(aux: Gdw376Aux, layout: Gdw376AuxLayout): Uint8Array {
  const parts: Uint8Array[] = [];
  presence('aux.pw', aux.pw !== undefined, layout.pw, 'downlink frames of AFN 01, 04, 05, 06, 0F and 10');
  presence('aux.ec', aux.ec !== undefined, layout.ec, 'uplink frames with ACD=1');
  presence('aux.tp', aux.tp !== undefined, layout.tp, 'frames with SEQ.TpV=1');
  if (aux.pw !== undefined) {
    const pw = hexToBytes(aux.pw);
    if (pw.length !== GDW376_PW_LENGTH) {
      throw new ProtocolError('BAD_FIELD', `aux.pw has ${pw.length} bytes, must have ${GDW376_PW_LENGTH}`);
    }
    parts.push(pw);
  }
  if (aux.ec !== undefined) {
    parts.push(
      Uint8Array.of(byte(aux.ec.important, 'aux.ec.important'), byte(aux.ec.normal, 'aux.ec.normal')),
    );
  }
  if (aux.tp !== undefined) parts.push(encodeTimeLabel(aux.tp));
  return concatBytes(parts);
}

/** Reads Tp: PFC, sec, min, hour, day (BCD), delay. Only BCD is checked, not ranges: masters send day 00. */
export function decodeTimeLabel(bytes: Uint8Array): Gdw376TimeLabel {
  const [sec, min, hour, day] = [1, 2, 3, 4].map((i) => bcdByteToNumber(bytes[i], 'Tp send time'));
  return { pfc: bytes[0], sendTime: `${p2(day)} ${p2(hour)}:${p2(min)}:${p2(sec)}`, delayMinutes: bytes[5] };
}

/** Writes Tp. `sendTime` is "DD hh:mm:ss". Throws BAD_FIELD on a malformed time or out-of-range number. */
export function encodeTimeLabel(tp: Gdw376TimeLabel): Uint8Array {
  const m = /^(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(tp.sendTime);
  if (!m) throw new ProtocolError('BAD_FIELD', `aux.tp.sendTime "${tp.sendTime}" is not "DD hh:mm:ss"`);
  const [day, hour, min, sec] = m.slice(1).map(Number);
  return Uint8Array.of(
    byte(tp.pfc, 'aux.tp.pfc'),
    numberToBcdByte(sec),
    numberToBcdByte(min),
    numberToBcdByte(hour),
    numberToBcdByte(day),
    byte(tp.delayMinutes, 'aux.tp.delayMinutes'),
  );
}

function presence(name: string, present: boolean, wanted: boolean, where: string): void {
  if (present && !wanted) throw new ProtocolError('BAD_FIELD', `${name} is given but only ${where} carry it`);
  if (!present && wanted) throw new ProtocolError('BAD_FIELD', `${name} is missing; ${where} carry it`);
}

/** @internal Checks that a number fits one unsigned byte. */
export function byte(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 255) {
    throw new ProtocolError('BAD_FIELD', `${what} ${value} does not fit in one byte (0–255)`);
  }
  return value;
}

/** @internal Two-digit zero-padded decimal. */
export function p2(n: number): string {
  return String(n).padStart(2, '0');
}
