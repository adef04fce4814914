import { bytesToHex, concatBytes, hexToBytes, indexOfAny, sum8 } from '../bytes.ts';
import type { DecodeResult } from '../decode-result.ts';
import { ProtocolError } from '../errors.ts';
import type { DecodeContext } from '../framer.ts';
import { decodeAddress, encodeAddress } from './address.ts';
import { auxLayout, decodeAux, encodeAux } from './auxiliary-field.ts';
import { decodeControl, encodeControl, hex2 } from './control.ts';
import { decodeSeq, encodeSeq } from './seq.ts';
import type { Gdw376Frame } from './types.ts';
import { decodeUnits, encodeUnits, runsToEnd } from './units.ts';

/** Start byte, at index 0 and again at index 5. */
export const GDW376_START = 0x68;
/** End byte. */
export const GDW376_END = 0x16;
/** Bytes around the user data: 68 L L 68 … CS 16 (TMNL `SIZEWITHOUTL1 = 8`). */
export const GDW376_OVERHEAD = 8;
/** Fewest user-data bytes: C (1) + A (5) + AFN (1) + SEQ (1). */
export const GDW376_MIN_USER_DATA = 8;
/** Most user-data bytes: L holds the length in 14 bits (D15–D2). */
export const GDW376_MAX_USER_DATA = 0x3fff;
/** The longest legal frame, 16383 + 8 bytes. */
export const GDW376_MAX_FRAME_LENGTH = GDW376_MAX_USER_DATA + GDW376_OVERHEAD;

/**
 * Protocol id in L's D1–D0 (docs/gdw376.md §3.1): 2 (binary 10) = Q/GDW 376.1, 1 = Q/GDW 130-2005
 * (docs/field-notes.md §8).
 */
const PROTOCOL_IDS: readonly number[] = [1, 2];
/** What a resynchronising skip looks for. */
const START_BYTES: readonly number[] = [GDW376_START];

/**
 * Decodes the frame at the start of `buf` (streaming form: never throws, see {@link DecodeResult}).
 *
 * Checks, in order, as soon as the bytes are there, so the answer for a prefix never contradicts the answer for
 * the whole: start byte (NO_START); L's protocol id (00 and 11 are BAD_LENGTH) and length (≥ 8); both L copies
 * (BAD_LENGTH); the second start byte (BAD_START); then, with the whole L + 8 bytes, the checksum and end byte,
 * then the fields (BAD_BCD, BAD_FIELD). When neither the checksum nor the end byte is where L puts them, the
 * error is BAD_LENGTH (the length is the likelier culprit, as in Q22); one of them alone is BAD_CHECKSUM or
 * BAD_END.
 *
 * `skip` on error is the distance to the next `68` after byte 0 (or the whole input), so a valid frame that
 * starts inside rejected bytes is never lost; but a frame whose L, second 68 and end byte agree and whose
 * checksum is wrong is skipped whole (one drop, issue 14 item 6) unless a whole frame starts and ends inside it.
 * With a {@link DecodeContext} (a FrameAccumulator gives one) the checksum costs O(1) whatever L says.
 */
export function decodeGdw376(buf: Uint8Array, context?: DecodeContext): DecodeResult<Gdw376Frame> {
  if (buf.length === 0) return { kind: 'need-more' };
  if (buf[0] !== GDW376_START) {
    const next = indexOfAny(buf, START_BYTES, 1);
    return {
      kind: 'error',
      error: new ProtocolError('NO_START', `${next} byte(s) before a 68 start byte`, 0),
      skip: next,
    };
  }
  if (buf.length < 3) return { kind: 'need-more' };
  const l1 = buf[1] | (buf[2] << 8);
  const lengthError = checkL(l1);
  if (lengthError) return rejected(buf, lengthError);
  if (buf.length < 5) return { kind: 'need-more' };
  const l2 = buf[3] | (buf[4] << 8);
  if (l1 !== l2) {
    return rejected(
      buf,
      new ProtocolError('BAD_LENGTH', `L copies differ: 0x${hex4(l1)} vs 0x${hex4(l2)}`, 1),
    );
  }
  if (buf.length < 6) return { kind: 'need-more' };
  if (buf[5] !== GDW376_START) {
    return rejected(
      buf,
      new ProtocolError('BAD_START', `byte 5 is ${hex2(buf[5])}, not the second 68 start byte`, 5),
    );
  }
  const userLength = l1 >> 2;
  const total = userLength + GDW376_OVERHEAD;
  if (buf.length < total) return { kind: 'need-more', atLeast: total };
  const csAt = total - 2;
  const cs = context?.sum8 ? context.sum8(6, csAt) : sum8(buf, 6, csAt);
  const csOk = buf[csAt] === cs;
  const endOk = buf[total - 1] === GDW376_END;
  if (!csOk && !endOk) {
    return rejected(
      buf,
      new ProtocolError(
        'BAD_LENGTH',
        `L says ${userLength} user-data bytes, but neither the checksum (0x${hex2(buf[csAt])}, computed ` +
          `0x${hex2(cs)}) nor the 16 end byte (found 0x${hex2(buf[total - 1])}) is where that puts them`,
        1,
      ),
    );
  }
  if (!endOk) {
    return rejected(
      buf,
      new ProtocolError(
        'BAD_END',
        `end byte 0x${hex2(buf[total - 1])} at ${total - 1}, expected 16`,
        total - 1,
      ),
    );
  }
  if (!csOk) {
    // L, the second 68 and the end byte agree: this is one frame with a bad checksum, dropped whole (issue 14,
    // item 6) unless a whole frame starts inside it (a 376.1 forward carries other frames).
    return {
      kind: 'error',
      error: new ProtocolError('BAD_CHECKSUM', `checksum 0x${hex2(buf[csAt])}, computed 0x${hex2(cs)}`, csAt),
      skip: firstFrameWithin(buf.subarray(0, total)),
    };
  }
  try {
    return { kind: 'frame', frame: parseUserData(buf, (l1 & 3) as 1 | 2, csAt), consumed: total };
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    // Length, checksum and end byte vouch for the frame: drop it whole (one report; `meterlab decode` shows its
    // header with gdw376Header), unless a whole frame starts inside it.
    return { kind: 'error', error: e, skip: firstFrameWithin(buf.subarray(0, total)) };
  }
}

/** The header fields of a frame whose envelope is sound but whose user data does not parse (issue 14, item 4). */
export interface Gdw376Header {
  protocolId: 1 | 2;
  control: Gdw376Frame['control'];
  a1: string;
  a2: number;
  a3: Gdw376Frame['a3'];
  afn: number;
  seq: Gdw376Frame['seq'];
  /** Everything after SEQ up to the checksum (data units and AUX), spaced hex. */
  data: string;
  /** Bytes of the frame (the input may go on after it). */
  length: number;
}

/**
 * The header of the frame at the start of `frame` when its envelope is sound (start bytes, both L, checksum,
 * end) whatever its user data holds; undefined otherwise. Lets a tool show the address, control, AFN and SEQ of a
 * frame whose data units do not fit the layout the decoder expects, instead of only an error.
 */
export function gdw376Header(frame: Uint8Array): Gdw376Header | undefined {
  if (frame.length < GDW376_OVERHEAD + GDW376_MIN_USER_DATA) return undefined;
  if (frame[0] !== GDW376_START || frame[5] !== GDW376_START) return undefined;
  const l = frame[1] | (frame[2] << 8);
  const n = (l >> 2) + GDW376_OVERHEAD;
  if (checkL(l) || l !== (frame[3] | (frame[4] << 8)) || n > frame.length) return undefined;
  if (frame[n - 1] !== GDW376_END || sum8(frame, 6, n - 2) !== frame[n - 2]) return undefined;
  try {
    const { a1, a2, a3 } = decodeAddress(frame.subarray(7, 12));
    return {
      protocolId: (l & 3) as 1 | 2,
      control: decodeControl(frame[6]),
      a1,
      a2,
      a3,
      afn: frame[12],
      seq: decodeSeq(frame[13]),
      data: bytesToHex(frame.subarray(14, n - 2)),
      length: n,
    };
  } catch {
    return undefined;
  }
}

/**
 * Decodes `buf` as exactly one whole frame, or throws the {@link ProtocolError}: TRUNCATED when the input ends
 * inside the frame, BAD_LENGTH ("L says 12 user-data bytes, frame has 18") when it is longer than L says, or
 * whatever {@link decodeGdw376} reports.
 */
export function decodeGdw376Frame(buf: Uint8Array): Gdw376Frame {
  const result = decodeGdw376(buf);
  if (result.kind === 'need-more') {
    const want = result.atLeast === undefined ? 'at least a 6-byte header' : `${result.atLeast} bytes`;
    throw new ProtocolError('TRUNCATED', `frame cut short: need ${want}, have ${buf.length}`, buf.length);
  }
  const l = buf[1] | (buf[2] << 8);
  const headerValid =
    buf[0] === GDW376_START &&
    checkL(l) === undefined &&
    l === (buf[3] | (buf[4] << 8)) &&
    buf[5] === GDW376_START;
  // With a valid header and not need-more, the input holds at least the L + 8 bytes; more is a length mismatch.
  if (headerValid && buf.length !== (l >> 2) + GDW376_OVERHEAD) {
    throw new ProtocolError(
      'BAD_LENGTH',
      `L says ${l >> 2} user-data bytes, frame has ${buf.length - GDW376_OVERHEAD}`,
      1,
    );
  }
  if (result.kind === 'error') throw result.error;
  return result.frame;
}

/**
 * Encodes a frame. Every frame {@link decodeGdw376} returns re-encodes to the same bytes. Throws BAD_FIELD
 * naming the field that cannot be encoded (or that would not read back as given), TOO_LONG when the user data
 * exceeds 16383 bytes.
 */
export function encodeGdw376(frame: Gdw376Frame): Uint8Array {
  if (!PROTOCOL_IDS.includes(frame.protocolId)) {
    throw new ProtocolError('BAD_FIELD', `protocolId ${frame.protocolId} is not 1 (Q/GDW 130) or 2 (376.1)`);
  }
  const c = encodeControl(frame.control);
  if (!Number.isInteger(frame.afn) || frame.afn < 0 || frame.afn > 255) {
    throw new ProtocolError('BAD_FIELD', `afn ${frame.afn} is not a byte`);
  }
  const dir = frame.control.dir;
  const acd = frame.control.dir === 'up' && frame.control.acd;
  const layout = auxLayout(dir, frame.afn, acd, frame.seq.tpv);
  const user = concatBytes([
    Uint8Array.of(c),
    encodeAddress(frame),
    Uint8Array.of(frame.afn, encodeSeq(frame.seq)),
    encodeUnits(frame.units, frame.afn, dir),
    encodePadding(frame),
    encodeAux(frame.aux, layout),
  ]);
  if (user.length > GDW376_MAX_USER_DATA) {
    throw new ProtocolError('TOO_LONG', `${user.length} user-data bytes exceed the 16383 L can hold`);
  }
  const l = (user.length << 2) | frame.protocolId;
  const out = new Uint8Array(user.length + GDW376_OVERHEAD);
  out.set([GDW376_START, l & 0xff, l >> 8, l & 0xff, l >> 8, GDW376_START]);
  out.set(user, 6);
  out[out.length - 2] = sum8(user);
  out[out.length - 1] = GDW376_END;
  return out;
}

/**
 * Where the next 376.1 frame could start in `buf`, from `from` on (see StartFinder in ../framer.ts): a 68 whose
 * header is valid as far as it goes (L's protocol id and length, both L copies, the second 68); such a header
 * is distinctive enough to be reported as a frame (bad or not) by the decoder. `buf.length` when there is none.
 * No allocation: a run of junk — 68H included — costs one pass.
 */
export function nextGdw376Start(
  buf: Uint8Array,
  from: number,
  _context?: DecodeContext,
  limit = buf.length,
): number {
  const end = Math.min(limit, buf.length);
  for (let i = buf.indexOf(GDW376_START, from); i >= 0 && i < end; i = buf.indexOf(GDW376_START, i + 1)) {
    if (couldStartAt(buf, i)) return i;
  }
  return end;
}

decodeGdw376.nextStart = nextGdw376Start;
decodeGdw376.takesContext = true;

/** Whether a frame could start at `i` (see {@link nextGdw376Start}); only the bytes present are judged. */
function couldStartAt(buf: Uint8Array, i: number): boolean {
  const n = buf.length;
  if (i + 2 >= n) return true;
  const l = buf[i + 1] | (buf[i + 2] << 8);
  const id = l & 3;
  if ((id !== 1 && id !== 2) || l >> 2 < GDW376_MIN_USER_DATA) return false;
  // The decoder compares the L copies only once both bytes of the second copy are there.
  if (i + 4 < n && (buf[i + 3] !== buf[i + 1] || buf[i + 4] !== buf[i + 2])) return false;
  if (i + 5 < n && buf[i + 5] !== GDW376_START) return false;
  // A whole header (68 L L 68 with a legal L) is a candidate frame even when its checksum and end byte are
  // wrong: the decoder reports it with its reason (BAD_LENGTH, BAD_CHECKSUM, BAD_END) rather than as junk.
  return true;
}

/** Offset of the first whole frame that starts after byte 0 of `frame` and ends within it; else its length. */
function firstFrameWithin(frame: Uint8Array): number {
  for (let i = nextGdw376Start(frame, 1); i < frame.length; i = nextGdw376Start(frame, i + 1)) {
    if (decodeGdw376(frame.subarray(i)).kind === 'frame') return i;
  }
  return frame.length;
}

/** The zero bytes of `frame.padding`; BAD_FIELD when they are not zeros or follow no unit. */
function encodePadding(frame: Gdw376Frame): Uint8Array {
  if (frame.padding === undefined) return new Uint8Array(0);
  const bytes = typeof frame.padding === 'string' ? hexToBytes(frame.padding) : undefined;
  const last = frame.units[frame.units.length - 1];
  if (!bytes || bytes.length === 0 || bytes.some((b) => b !== 0) || !last) {
    throw new ProtocolError('BAD_FIELD', 'padding must be one or more 00 bytes after at least one data unit');
  }
  if (runsToEnd(last.body.kind, frame.afn)) {
    throw new ProtocolError(
      'BAD_FIELD',
      `padding cannot follow a '${last.body.kind}' unit, whose data runs to the end`,
    );
  }
  return bytes;
}

/** The error result for a frame at the start of `buf`: skip to the next `68` after byte 0. */
function rejected(buf: Uint8Array, error: ProtocolError): DecodeResult<Gdw376Frame> {
  return { kind: 'error', error, skip: Math.max(1, indexOfAny(buf, START_BYTES, 1)) };
}

/** The L problem, if any: protocol id 00/11 or a length too short for C, A, AFN and SEQ. */
function checkL(l: number): ProtocolError | undefined {
  const id = l & 3;
  if (!PROTOCOL_IDS.includes(id)) {
    const bits = id.toString(2).padStart(2, '0');
    return new ProtocolError(
      'BAD_LENGTH',
      `L 0x${hex4(l)} has protocol id ${bits} (${id === 0 ? 'forbidden' : 'reserved'}; 10 = 376.1, 01 = Q/GDW 130)`,
      1,
    );
  }
  if (l >> 2 < GDW376_MIN_USER_DATA) {
    return new ProtocolError(
      'BAD_LENGTH',
      `L says ${l >> 2} user-data bytes; C, A, AFN and SEQ alone take ${GDW376_MIN_USER_DATA}`,
      1,
    );
  }
  return undefined;
}

/** Reads C … AUX of a frame whose framing (length, checksum, end) is already checked; throws ProtocolError. */
function parseUserData(buf: Uint8Array, protocolId: 1 | 2, end: number): Gdw376Frame {
  const control = decodeControl(buf[6]);
  const { a1, a2, a3 } = decodeAddress(buf.subarray(7, 12));
  const afn = buf[12];
  const seq = decodeSeq(buf[13]);
  const layout = auxLayout(control.dir, afn, control.dir === 'up' && control.acd, seq.tpv);
  const dataEnd = end - layout.length;
  if (dataEnd < 14) {
    throw new ProtocolError(
      'BAD_LENGTH',
      `L says ${end - 6} user-data bytes, too few for C, A, AFN, SEQ and the ${layout.length} AUX bytes ` +
        `(${auxNames(layout)}) this frame must carry`,
      1,
    );
  }
  const found: { padding?: number } = {};
  const units = decodeUnits(buf, 14, dataEnd, afn, control.dir, found);
  const aux = decodeAux(buf.subarray(dataEnd, end), layout);
  const frame: Gdw376Frame = { protocol: 'gdw376', protocolId, control, a1, a2, a3, afn, seq, units, aux };
  if (found.padding !== undefined) {
    frame.padding = bytesToHex(new Uint8Array(found.padding));
    frame.warnings = [
      `${found.padding} zero byte(s) after the last data unit cannot form another unit; kept as padding`,
    ];
  }
  return frame;
}

function auxNames(layout: { pw: boolean; ec: boolean; tp: boolean }): string {
  return [layout.pw && 'PW', layout.ec && 'EC', layout.tp && 'Tp'].filter(Boolean).join(' + ');
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}
