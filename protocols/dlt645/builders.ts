import { ProtocolError } from '../errors.ts';
import { DLT645_BROADCAST_ADDRESS, DLT645_WILDCARD_ADDRESS } from './constants.ts';
import {
  controlFlags,
  DLT645_ABNORMAL_BIT,
  DLT645_DIRECTION_BIT,
  DLT645_FOLLOW_UP_BIT,
  DLT645_FUNCTION,
  type Dlt645Version,
  versionOfControl,
} from './control.ts';
import { decodeDlt645Frame } from './decode.ts';
import { normaliseDi, versionOfDi } from './di.ts';
import { lookupDi } from './di-table.ts';
import { encodeDlt645 } from './encode.ts';
import { type Dlt645ErrorName, errorNames, errorWord } from './error-word.ts';
import type { Dlt645Body, Dlt645Frame } from './frame.ts';
import { type Dlt645DateTime, formatDateTime } from './time.ts';

/**
 * Pure builders for the frames a master station, a concentrator or a simulated meter sends. Each returns the
 * frame exactly as `decodeDlt645` would return it for the bytes `encodeDlt645` makes of it (values rounded to
 * the DI's scale, DI in upper case, a short decimal address padded to 12 digits), and throws ProtocolError BAD_FIELD (or UNKNOWN_DI) on bad input.
 */

/** Options common to every builder. */
export interface Dlt645BuildOptions {
  /**
   * FE bytes before the frame. Requests default to 4 (masters send 1–4 to wake the meter, RSDLT); replies
   * default to 0.
   */
  preamble?: number;
}

/** Requests wake the receiver with FE bytes (RSDLT: “先发送1—4个字节FEH”). */
const REQUEST_PREAMBLE = 4;
const REPLY_PREAMBLE = 0;

function finish(control: number, address: string, preamble: number, body: Dlt645Body): Dlt645Frame {
  const flags = controlFlags(control); // listed, not spread: see docs/performance.md
  const frame: Dlt645Frame = {
    protocol: 'dlt645',
    version: versionOfControl(control),
    preamble,
    address: padAddress(address),
    control,
    direction: flags.direction,
    abnormal: flags.abnormal,
    followUp: flags.followUp,
    body,
  };
  return decodeDlt645Frame(encodeDlt645(frame));
}

/** Builders accept a shorter decimal address ("1") and left-pad it with zeros, as meter labels omit them. */
function padAddress(address: string): string {
  return typeof address === 'string' && /^[0-9]{1,11}$/.test(address) ? address.padStart(12, '0') : address;
}

function splitDi(di: string): { di: string; version: Dlt645Version } {
  const clean = normaliseDi(di);
  return { di: clean, version: versionOfDi(clean) as Dlt645Version };
}

/** Read request for one DI: 2007 C=11H with an 8-digit DI, 1997 C=01H with a 4-digit DI (D4, D17). */
export function buildReadRequest(address: string, di: string, options: Dlt645BuildOptions = {}): Dlt645Frame {
  const { di: clean, version } = splitDi(di);
  const control = version === '2007' ? DLT645_FUNCTION.read2007 : DLT645_FUNCTION.read1997;
  return finish(control, address, options.preamble ?? REQUEST_PREAMBLE, { kind: 'read', di: clean });
}

/** Options of {@link buildReadReply}. */
export interface Dlt645ReadReplyOptions extends Dlt645BuildOptions {
  /** Day of the week (0 = Sunday) for DI 04000101. @defaultValue the date's real day of the week */
  week?: number;
  /** Set D5 (more data follows). @defaultValue false */
  followUp?: boolean;
}

/**
 * Normal read reply carrying `value` for `di`, scaled per the DI table: 2007 C=91H, 1997 C=81H (D5, D18).
 * `value` is a number in the DI's unit, or "YYYY-MM-DD" / "hh:mm:ss" for the date/time DIs.
 * Throws UNKNOWN_DI for a DI without a known layout, BAD_FIELD for a value that does not fit it.
 */
export function buildReadReply(
  address: string,
  di: string,
  value: number | string,
  options: Dlt645ReadReplyOptions = {},
): Dlt645Frame {
  const { di: clean, version } = splitDi(di);
  const layout = lookupDi(clean);
  if (!layout) throw new ProtocolError('UNKNOWN_DI', `DL/T 645 DI ${clean} has no known value layout`);
  const read = version === '2007' ? DLT645_FUNCTION.read2007 : DLT645_FUNCTION.read1997;
  const control = read | DLT645_DIRECTION_BIT | (options.followUp ? DLT645_FOLLOW_UP_BIT : 0);
  const body: Dlt645Body = { kind: 'read-reply', di: clean, value, unit: layout.unit };
  if (options.week !== undefined) body.week = options.week;
  return finish(control, address, options.preamble ?? REPLY_PREAMBLE, body);
}

/** Options of {@link buildAbnormalReply}. */
export interface Dlt645AbnormalReplyOptions extends Dlt645BuildOptions {
  /** Edition: 2007 answers with D1H, 1997 with C1H. @defaultValue '2007' */
  version?: Dlt645Version;
  /**
   * Function (C D4–D0) of the request being refused. @defaultValue the edition's read function (11H / 01H)
   */
  function?: number;
}

/**
 * Abnormal reply with an error word: a number, or the names of its bits such as `['no data requested']`
 * (docs/dlt645.md §2.3, D8).
 */
export function buildAbnormalReply(
  address: string,
  error: number | readonly Dlt645ErrorName[],
  options: Dlt645AbnormalReplyOptions = {},
): Dlt645Frame {
  const version = options.version ?? '2007';
  const fn = options.function ?? (version === '2007' ? DLT645_FUNCTION.read2007 : DLT645_FUNCTION.read1997);
  if (!Number.isInteger(fn) || fn < 0 || fn > 0x1f) {
    throw new ProtocolError('BAD_FIELD', `DL/T 645 function ${fn} must be an integer 0–31 (C bits D4–D0)`);
  }
  const word = errorWord(error);
  const control = fn | DLT645_DIRECTION_BIT | DLT645_ABNORMAL_BIT;
  return finish(control, address, options.preamble ?? REPLY_PREAMBLE, {
    kind: 'abnormal-reply',
    error: word,
    errors: errorNames(word),
  });
}

/** Read-address request: C=13H, L=0, to the wildcard address that every meter answers (D1). */
export function buildReadAddressRequest(options: Dlt645BuildOptions = {}): Dlt645Frame {
  return finish(DLT645_FUNCTION.readAddress, DLT645_WILDCARD_ADDRESS, options.preamble ?? REQUEST_PREAMBLE, {
    kind: 'read-address',
  });
}

/** Read-address reply: C=93H from the meter's own address, DATA = that address (D2, D7). */
export function buildReadAddressReply(address: string, options: Dlt645BuildOptions = {}): Dlt645Frame {
  return finish(
    DLT645_FUNCTION.readAddress | DLT645_DIRECTION_BIT,
    address,
    options.preamble ?? REPLY_PREAMBLE,
    { kind: 'read-address-reply', address: padAddress(address) },
  );
}

/** Read follow-up data request: 2007 C=12H with `seq`, 1997 C=02H without (docs/dlt645.md §2.3). */
export function buildReadFollowUpRequest(
  address: string,
  di: string,
  seq: number,
  options: Dlt645BuildOptions = {},
): Dlt645Frame {
  const { di: clean, version } = splitDi(di);
  const preamble = options.preamble ?? REQUEST_PREAMBLE;
  if (version === '1997') {
    return finish(DLT645_FUNCTION.readFollowUp1997, address, preamble, { kind: 'read-follow-up', di: clean });
  }
  return finish(DLT645_FUNCTION.readFollowUp2007, address, preamble, {
    kind: 'read-follow-up',
    di: clean,
    seq,
  });
}

/** Options of {@link buildTimeSync}. */
export interface Dlt645TimeSyncOptions extends Dlt645BuildOptions {
  /**
   * Offset from UTC of the meters' clock, used when the time is a `Date` (a Date is an instant; meters keep
   * local wall-clock time). @defaultValue 480 (China Standard Time, UTC+8)
   */
  utcOffsetMinutes?: number;
}

/** China Standard Time, the clock DL/T 645 meters keep. */
const DEFAULT_UTC_OFFSET_MINUTES = 480;

/**
 * Broadcast time sync: C=08H to 999999999999, DATA = ss mm hh DD MM YY, no reply (D24). `time` is an instant
 * (converted with `utcOffsetMinutes`) or wall-clock parts. Throws BAD_FIELD outside 2000–2099 or on bad parts.
 */
export function buildTimeSync(time: Date | Dlt645DateTime, options: Dlt645TimeSyncOptions = {}): Dlt645Frame {
  let parts: Dlt645DateTime;
  if (time instanceof Date) {
    const offset = options.utcOffsetMinutes ?? DEFAULT_UTC_OFFSET_MINUTES;
    const local = new Date(time.getTime() + offset * 60_000);
    if (!Number.isFinite(local.getTime())) {
      throw new ProtocolError('BAD_FIELD', 'DL/T 645 time sync: invalid Date or utcOffsetMinutes');
    }
    parts = {
      year: local.getUTCFullYear(),
      month: local.getUTCMonth() + 1,
      day: local.getUTCDate(),
      hour: local.getUTCHours(),
      minute: local.getUTCMinutes(),
      second: local.getUTCSeconds(),
    };
  } else {
    parts = time;
  }
  return finish(DLT645_FUNCTION.timeSync, DLT645_BROADCAST_ADDRESS, options.preamble ?? REQUEST_PREAMBLE, {
    kind: 'time-sync',
    time: formatDateTime(parts),
  });
}
