import { bytesToHex, concatBytes, hexToBytes } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';
import { AFN_CONFIRM, decodeConfirmItems, encodeConfirmItems, NON_STANDARD_F3_DT } from './afn00.ts';
import { AFN_LINK_CHECK, decodeHeartbeat, encodeHeartbeat } from './afn02.ts';
import {
  AFN_FORWARD,
  decodeForwardReply,
  decodeForwardRequest,
  encodeForwardReply,
  encodeForwardRequest,
} from './afn10.ts';
import { hex2 } from './control.ts';
import { decodeDaDt, encodeDaDt } from './dadt.ts';
import type { Gdw376Body, Gdw376BodyKind, Gdw376DataUnit, Gdw376Direction } from './types.ts';

/** AFN 0C: request class-1 (real-time) data. */
export const AFN_CLASS1_DATA = 0x0c;
/** AFN 0D: request class-2 (historical/frozen) data. */
export const AFN_CLASS2_DATA = 0x0d;

/** What decides how a data unit's data is read. */
export interface Gdw376UnitContext {
  afn: number;
  dir: Gdw376Direction;
  pn: readonly number[];
  fn: readonly number[];
}

/**
 * The body kind the decoder gives a data unit. Known forms need p0 and a single Fn (AFN 00 F1/F2/F3, AFN 02
 * F1/F2/F3, AFN 10 F1 by direction); AFN 0C/0D downlink units are requests for any pn/Fn; everything else
 * is `opaque`, so an unknown AFN or Fn never makes a frame undecodable.
 */
export function bodyKindFor(ctx: Gdw376UnitContext): Gdw376BodyKind {
  const { afn, dir, pn, fn } = ctx;
  if ((afn === AFN_CLASS1_DATA || afn === AFN_CLASS2_DATA) && dir === 'down') return 'data-request';
  const single = pn.length === 1 && pn[0] === 0 && fn.length === 1 ? fn[0] : 0;
  if (afn === AFN_CONFIRM) {
    if (single === 1) return 'confirm-all';
    if (single === 2) return 'deny-all';
    if (single === 3) return 'confirm-items';
  } else if (afn === AFN_LINK_CHECK) {
    if (single === 1) return 'login';
    if (single === 2) return 'logout';
    if (single === 3) return 'heartbeat';
  } else if (afn === AFN_FORWARD && single === 1) {
    return dir === 'down' ? 'forward-request' : 'forward-reply';
  }
  return 'opaque';
}

/**
 * Whether a body's data runs to the end of the data region (so its unit must be the last one). Data units carry
 * no length of their own; only the forms whose length is known (no data, or AFN 10 F1 with its length field)
 * can be followed by another unit.
 */
export function runsToEnd(kind: Gdw376BodyKind, afn: number): boolean {
  switch (kind) {
    case 'confirm-all':
    case 'deny-all':
    case 'login':
    case 'logout':
    case 'forward-request':
    case 'forward-reply':
      return false;
    case 'data-request':
      // AFN 0C requests carry no data; AFN 0D requests carry a Td whose length depends on Fn (kept opaque).
      return afn !== AFN_CLASS1_DATA;
    default:
      return true;
  }
}

/**
 * Reads the data units of the data region `bytes[from, to)` (between SEQ and AUX). Offsets in errors are
 * indices in `bytes`. Throws BAD_FIELD (or BAD_BCD) naming the unit when the region cannot be split into units.
 */
export function decodeUnits(
  bytes: Uint8Array,
  from: number,
  to: number,
  afn: number,
  dir: Gdw376Direction,
  found: { padding?: number } = {},
): Gdw376DataUnit[] {
  const units: Gdw376DataUnit[] = [];
  let at = from;
  while (at < to) {
    const index = units.length;
    // Zero bytes after the last unit cannot form another one (DA 00 00 with DT 00 00 names no function): padding
    // seen in the field after non-standard confirms (issue 14, item 5). The caller reports it with a warning.
    if (index > 0 && allZero(bytes, at, to)) {
      found.padding = to - at;
      break;
    }
    if (to - at < 4) {
      throw new ProtocolError(
        'BAD_FIELD',
        `${to - at} byte(s) left after data unit ${index - 1}, where a data unit needs DA and DT (4 bytes)`,
        at,
      );
    }
    const rest = to - at - 4;
    // KSY separateConfirm.3761 (Q5) writes F3's DT as 03 00; read it as F3 when its data fits F3's layout.
    const nonStandard =
      afn === AFN_CONFIRM &&
      bytes[at] === 0 &&
      bytes[at + 1] === 0 &&
      bytes[at + 2] === NON_STANDARD_F3_DT[0] &&
      bytes[at + 3] === NON_STANDARD_F3_DT[1] &&
      rest >= 1 &&
      (rest - 1) % 5 === 0;
    const { pn, fn } = nonStandard ? { pn: [0], fn: [3] } : decodeDaDt(bytes, at);
    at += 4;
    const kind = bodyKindFor({ afn, dir, pn, fn });
    try {
      const { body, length } = decodeBody(kind, bytes.subarray(at, to), afn, nonStandard);
      units.push({ pn, fn, body });
      at += length;
    } catch (e) {
      // Body decoders see only the unit's data: name the unit and make the offset an index in the frame.
      if (e instanceof ProtocolError) {
        const offset = at + (e.offset ?? 0);
        throw new ProtocolError(
          e.code,
          `data unit ${index} (${unitName(afn, pn, fn)}): ${e.message}`,
          offset,
        );
      }
      throw e;
    }
  }
  return units;
}

function allZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

function decodeBody(
  kind: Gdw376BodyKind,
  data: Uint8Array,
  afn: number,
  nonStandard: boolean,
): { body: Gdw376Body; length: number } {
  switch (kind) {
    case 'confirm-all':
    case 'deny-all':
    case 'login':
    case 'logout':
      return { body: { kind }, length: 0 };
    case 'confirm-items':
      return { body: decodeConfirmItems(data, nonStandard), length: data.length };
    case 'heartbeat':
      return { body: decodeHeartbeat(data), length: data.length };
    case 'forward-request':
      return decodeForwardRequest(data);
    case 'forward-reply':
      return decodeForwardReply(data);
    case 'data-request': {
      const length = runsToEnd(kind, afn) ? data.length : 0;
      return { body: { kind, data: bytesToHex(data.subarray(0, length)) }, length };
    }
    case 'opaque':
      return { body: { kind, data: bytesToHex(data) }, length: data.length };
  }
}

/**
 * Writes the data units. Each body must be the kind the decoder would give its unit, and a body that runs to
 * the end of the data region must be last, or the frame could not be read back as given: BAD_FIELD says which.
 */
export function encodeUnits(units: readonly Gdw376DataUnit[], afn: number, dir: Gdw376Direction): Uint8Array {
  const parts: Uint8Array[] = [];
  units.forEach((unit, i) => {
    const { pn, fn, body } = unit;
    const expected = bodyKindFor({ afn, dir, pn, fn });
    if (body.kind !== expected) {
      throw new ProtocolError(
        'BAD_FIELD',
        `${unitWhat(i, afn, pn, fn)}: body '${body.kind}' where the decoder reads '${expected}'`,
      );
    }
    if (runsToEnd(body.kind, afn) && i !== units.length - 1) {
      throw new ProtocolError(
        'BAD_FIELD',
        `${unitWhat(i, afn, pn, fn)}: a '${body.kind}' body runs to the end of the data, so it must be the last unit`,
      );
    }
    const nonStandard = body.kind === 'confirm-items' && body.nonStandard === true;
    parts.push(nonStandard ? Uint8Array.of(0, 0, ...NON_STANDARD_F3_DT) : encodeDaDt(pn, fn));
    const data = encodeBody(body);
    if (body.kind === 'data-request' && !runsToEnd(body.kind, afn) && data.length > 0) {
      throw new ProtocolError('BAD_FIELD', `${unitWhat(i, afn, pn, fn)}: AFN 0C requests carry no data`);
    }
    if (
      body.kind === 'opaque' &&
      afn === AFN_CONFIRM &&
      pn.length === 1 &&
      pn[0] === 0 &&
      fn.join() === '1,2' &&
      data.length % 5 === 1
    ) {
      throw new ProtocolError(
        'BAD_FIELD',
        `${unitWhat(i, afn, pn, fn)}: this data would read back as the non-standard F3 form`,
      );
    }
    parts.push(data);
  });
  return concatBytes(parts);
}

function encodeBody(body: Gdw376Body): Uint8Array {
  switch (body.kind) {
    case 'confirm-all':
    case 'deny-all':
    case 'login':
    case 'logout':
      return new Uint8Array(0);
    case 'confirm-items':
      return encodeConfirmItems(body);
    case 'heartbeat':
      return encodeHeartbeat(body);
    case 'forward-request':
      return encodeForwardRequest(body);
    case 'forward-reply':
      return encodeForwardReply(body);
    case 'data-request':
    case 'opaque':
      return hexToBytes(body.data);
  }
}

/** "units[0] (AFN 02 p0 F3)": a unit to encode, for messages (made only for an error). */
function unitWhat(i: number, afn: number, pn: readonly number[], fn: readonly number[]): string {
  return `units[${i}] (${unitName(afn, pn, fn)})`;
}

/** "AFN 02 p0 F3" style name of a data unit, for messages. */
function unitName(afn: number, pn: readonly number[], fn: readonly number[]): string {
  return `AFN ${hex2(afn)} ${pn.map((p) => `p${p}`).join('+')} ${fn.map((f) => `F${f}`).join('+')}`;
}
