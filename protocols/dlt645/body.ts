import { bytesToHex, concatBytes, hexToBytes } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';
import { addressFromBytes, addressToBytes, badAddressByte } from './address.ts';
import {
  DLT645_ABNORMAL_BIT,
  DLT645_DIRECTION_BIT,
  DLT645_FOLLOW_UP_BIT,
  DLT645_FUNCTION,
  diLength,
  versionOfControl,
} from './control.ts';
import { diFromBytes, diToBytes } from './di.ts';
import { lookupDi } from './di-table.ts';
import { errorNames, errorWord } from './error-word.ts';
import type { Dlt645Body, Dlt645Frame } from './frame.ts';
import { bcdFields, formatDateTime, isValidDate, isValidTime, parseDateTime, toBcdFields } from './time.ts';
import { decodeValue, encodeValue } from './value.ts';

const REPLY_ABNORMAL = DLT645_DIRECTION_BIT | DLT645_ABNORMAL_BIT;

const opaque = (data: Uint8Array): Dlt645Body => ({ kind: 'opaque', data: bytesToHex(data) });

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The meaning of a frame's DATA (already −33H) given its control code. Never throws: whatever is not one of
 * the understood shapes is an `opaque` body, so a sound frame is never lost for its content.
 */
export function decodeBody(control: number, data: Uint8Array): Dlt645Body {
  const version = versionOfControl(control);
  const n = diLength(version);
  const read = version === '2007' ? DLT645_FUNCTION.read2007 : DLT645_FUNCTION.read1997;

  // Abnormal reply: D7 and D6 set, DATA = one error word, whatever the function (docs/dlt645.md §2.3, D8).
  if ((control & REPLY_ABNORMAL) === REPLY_ABNORMAL) {
    return data.length === 1
      ? { kind: 'abnormal-reply', error: data[0], errors: errorNames(data[0]) }
      : opaque(data);
  }
  // Normal read reply, with or without D5 (more follows): DI + value (D5, D18).
  if ((control & ~DLT645_FOLLOW_UP_BIT) === (read | DLT645_DIRECTION_BIT)) {
    return readReply(data, n) ?? opaque(data);
  }
  switch (control) {
    case read:
      return data.length === n ? { kind: 'read', di: diFromBytes(data) } : opaque(data);
    case DLT645_FUNCTION.readFollowUp2007:
      // 2007 read follow-up request: DI + SEQ (docs/dlt645.md §2.3, D6).
      return data.length === 5
        ? { kind: 'read-follow-up', di: diFromBytes(data.subarray(0, 4)), seq: data[4] }
        : opaque(data);
    case DLT645_FUNCTION.readFollowUp1997:
      return data.length === 2 ? { kind: 'read-follow-up', di: diFromBytes(data) } : opaque(data);
    case DLT645_FUNCTION.readAddress:
      return data.length === 0 ? { kind: 'read-address' } : opaque(data);
    case DLT645_FUNCTION.readAddress | DLT645_DIRECTION_BIT:
      return data.length === 6 && badAddressByte(data) < 0
        ? { kind: 'read-address-reply', address: addressFromBytes(data) }
        : opaque(data);
    case DLT645_FUNCTION.timeSync:
      return timeSync(data) ?? opaque(data);
    default:
      return opaque(data);
  }
}

function readReply(data: Uint8Array, n: number): Dlt645Body | undefined {
  if (data.length <= n) return undefined;
  const di = diFromBytes(data.subarray(0, n));
  const layout = lookupDi(di);
  if (!layout) return undefined;
  const bytes = data.subarray(n);
  const decoded = decodeValue(layout, bytes);
  if (!decoded) return undefined;
  const body: Dlt645Body = { kind: 'read-reply', di, value: decoded.value, unit: layout.unit };
  if (decoded.week !== undefined) body.week = decoded.week;
  if (!sameBytes(encodeValue(layout, decoded.value, decoded.week), bytes)) body.data = bytesToHex(bytes);
  return body;
}

function timeSync(data: Uint8Array): Dlt645Body | undefined {
  // ss mm hh DD MM YY, each +33H like any DATA (D24; docs/dlt645.md §2.4 caveat on un-offset variants).
  const f = data.length === 6 ? bcdFields(data) : undefined;
  if (!f) return undefined;
  const [second, minute, hour, day, month, yy] = f;
  const year = 2000 + yy;
  if (!isValidDate(year, month, day) || !isValidTime(hour, minute, second)) return undefined;
  return { kind: 'time-sync', time: formatDateTime({ year, month, day, hour, minute, second }) };
}

/**
 * A frame's DATA (before +33H) from its body. Throws BAD_FIELD for malformed fields and UNKNOWN_DI for a
 * read reply whose DI has no known layout and no raw `data`.
 */
export function encodeBody(frame: Dlt645Frame): Uint8Array {
  const { body, version } = frame;
  switch (body.kind) {
    case 'read':
      return diToBytes(body.di, version);
    case 'read-reply': {
      const di = diToBytes(body.di, version);
      if (body.data !== undefined) return concatBytes([di, hexToBytes(body.data)]);
      const layout = lookupDi(body.di);
      if (!layout) {
        throw new ProtocolError(
          'UNKNOWN_DI',
          `DL/T 645 DI ${body.di} has no known value layout; send DI and value bytes as an opaque body`,
        );
      }
      return concatBytes([di, encodeValue(layout, body.value, body.week)]);
    }
    case 'abnormal-reply':
      return Uint8Array.of(errorWord(body.error));
    case 'read-address':
      return new Uint8Array(0);
    case 'read-address-reply':
      return addressToBytes(body.address, 'DL/T 645 read-address reply address');
    case 'time-sync': {
      const t = parseDateTime(body.time, 'DL/T 645 time-sync time');
      return toBcdFields([t.second, t.minute, t.hour, t.day, t.month, t.year - 2000]);
    }
    case 'read-follow-up': {
      const di = diToBytes(body.di, version);
      if (body.seq === undefined) return di;
      if (!Number.isInteger(body.seq) || body.seq < 0 || body.seq > 0xff) {
        throw new ProtocolError('BAD_FIELD', `DL/T 645 follow-up SEQ ${body.seq} must be an integer 0–255`);
      }
      return concatBytes([di, Uint8Array.of(body.seq)]);
    }
    case 'opaque':
      return hexToBytes(body.data);
    default:
      throw new ProtocolError(
        'BAD_FIELD',
        `DL/T 645 body kind "${(body as { kind: unknown }).kind}" is not one of the known kinds`,
      );
  }
}
