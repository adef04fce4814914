import { bytesToHex, hexToBytes } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';
import { CJT188_FUNCTIONS, controlAbnormal, controlDirection, controlFunction } from './control.ts';
import { diText, knownDi, readDi, writeDi } from './di.ts';
import type { Cjt188Body, Cjt188BodyKind, Cjt188DataHead } from './frame.ts';
import { decodeReadData, encodeReadData } from './read-data.ts';
import { decodeStatus, encodeStatus } from './status.ts';
import { hex2 } from './units.ts';
import { decodeWriteData, encodeWriteData } from './write-data.ts';

/**
 * DATA ⇄ body. The body kind follows from C: the function (01/03/04/09/15/16) and D7/D6
 * (docs/cjt188.md §1.5).
 * @packageDocumentation
 */

/** How DATA is laid out for a control code. */
type Shape = 'di-request' | 'read-data' | 'write-data' | 'write-reply' | 'error';

const KINDS: Record<
  number,
  [request: Cjt188BodyKind, requestShape: Shape, reply: Cjt188BodyKind, replyShape: Shape]
> = {
  [CJT188_FUNCTIONS.read]: ['read', 'di-request', 'read-reply', 'read-data'],
  [CJT188_FUNCTIONS.readAddress]: ['read-address', 'di-request', 'read-address-reply', 'read-data'],
  [CJT188_FUNCTIONS.readKeyVersion]: [
    'read-key-version',
    'di-request',
    'read-key-version-reply',
    'read-data',
  ],
  [CJT188_FUNCTIONS.write]: ['write', 'write-data', 'write-reply', 'write-reply'],
  [CJT188_FUNCTIONS.writeAddress]: ['write-address', 'write-data', 'write-address-reply', 'write-reply'],
  [CJT188_FUNCTIONS.writeBaseReading]: [
    'write-base-reading',
    'write-data',
    'write-base-reading-reply',
    'write-reply',
  ],
};

/** The body kind and DATA layout a control code calls for; undefined → opaque. */
function shapeOf(control: number): { kind: Cjt188BodyKind; shape: Shape } | undefined {
  const entry = KINDS[controlFunction(control)];
  if (!entry) return undefined;
  const reply = controlDirection(control) === 'reply';
  if (controlAbnormal(control)) return reply ? { kind: 'error-reply', shape: 'error' } : undefined;
  return reply ? { kind: entry[2], shape: entry[3] } : { kind: entry[0], shape: entry[1] };
}

/** The body kind a control code produces (e.g. 0x81 → 'read-reply'); 'opaque' for unknown functions. */
export function bodyKindFor(control: number): Cjt188BodyKind {
  return shapeOf(control)?.kind ?? 'opaque';
}

/** Options of the body decoder. */
export interface Cjt188BodyOptions {
  /**
   * Unknown DI → UNKNOWN_DI error, and DATA that does not fit its DI's layout → that error (BAD_BCD …), instead
   * of an opaque body (with `head` and `warning` in the second case). @defaultValue false
   */
  strict?: boolean;
}

/** DATA kept as hex, when no layout reads it (made only then: most frames never need the hex). */
function opaque(data: Uint8Array): Cjt188Body {
  return { kind: 'opaque', data: bytesToHex(data, '') };
}

/** Decodes DATA for a control code. Never returns undefined; throws ProtocolError (BAD_BCD, UNKNOWN_DI). */
export function decodeBody(control: number, data: Uint8Array, options: Cjt188BodyOptions = {}): Cjt188Body {
  const shape = shapeOf(control);
  if (!shape) return opaque(data);
  if (shape.shape === 'error') {
    // KINGDA: SER ST(2); NGGW: SER ST(1).
    if (data.length !== 3 && data.length !== 2) return opaque(data);
    return { kind: 'error-reply', ser: data[0], st: decodeStatus(data.subarray(1)) };
  }
  if (data.length < 3) return opaque(data);
  const found = readDi(data[0], data[1]);
  if (!found) {
    if (options.strict) {
      throw new ProtocolError(
        'UNKNOWN_DI',
        `CJ/T 188 DI bytes ${bytesToHex(data.subarray(0, 2))} are not a known DI in either order`,
      );
    }
    return opaque(data);
  }
  const head: Cjt188DataHead = { di: diText(found.di), diOrder: found.diOrder, ser: data[2] };
  try {
    return decodeShape(shape, head, found.di, data);
  } catch (error) {
    if (!(error instanceof ProtocolError) || options.strict) throw error;
    // The checksum and end byte vouch for the frame: show it with its DI and SER, and say what did not fit
    // (issue 14, item 4) rather than drop a frame a real meter sent.
    return {
      kind: 'opaque',
      data: bytesToHex(data, ''),
      head,
      warning: `DATA does not fit the ${shape.kind} layout of DI ${head.di}: ${error.message}`,
    };
  }
}

function decodeShape(
  shape: { kind: Cjt188BodyKind; shape: Shape },
  head: Cjt188DataHead,
  di: number,
  data: Uint8Array,
): Cjt188Body {
  const payload = data.subarray(3);
  // The head's fields are listed, not spread: a property after a spread is a slow path on Node 20, and this
  // runs for every frame (docs/performance.md).
  const { kind } = shape;
  switch (shape.shape) {
    case 'di-request':
      return payload.length === 0 ? ({ kind, ...head } as Cjt188Body) : opaque(data);
    case 'read-data': {
      const read = decodeReadData(di, payload);
      return { kind, di: head.di, diOrder: head.diOrder, ser: head.ser, data: read } as Cjt188Body;
    }
    case 'write-data': {
      const written = decodeWriteData(di, payload);
      return { kind, di: head.di, diOrder: head.diOrder, ser: head.ser, data: written } as Cjt188Body;
    }
    case 'write-reply':
      if (payload.length === 0)
        return { kind, di: head.di, diOrder: head.diOrder, ser: head.ser, status: null } as Cjt188Body;
      if (payload.length === 2) {
        const status = decodeStatus(payload);
        return { kind, di: head.di, diOrder: head.diOrder, ser: head.ser, status } as Cjt188Body;
      }
      return opaque(data);
    default:
      return opaque(data);
  }
}

/**
 * Encodes a body for a control code. Throws BAD_FIELD when the body does not fit the control code or a field
 * is out of range, UNKNOWN_DI for a DI this codec does not know.
 */
export function encodeBody(control: number, body: Cjt188Body): Uint8Array {
  if (body === null || typeof body !== 'object')
    throw new ProtocolError('BAD_FIELD', 'CJ/T 188 body is missing');
  if (body.kind === 'opaque') {
    if (typeof body.data !== 'string' || !/^([0-9A-Fa-f]{2})*$/.test(body.data)) {
      throw new ProtocolError('BAD_FIELD', 'CJ/T 188 opaque body data must be hex without spaces');
    }
    const bytes = hexToBytes(body.data);
    // Only DATA the decoder itself would call opaque is accepted, so decode(encode(frame)) is the frame.
    let again: Cjt188BodyKind;
    try {
      again = decodeBody(control, bytes).kind;
    } catch {
      again = 'opaque';
    }
    if (again !== 'opaque') {
      throw new ProtocolError(
        'BAD_FIELD',
        `CJ/T 188 opaque body under C=0x${hex2(control)} would decode as '${again}'; build that body instead`,
      );
    }
    return bytes;
  }
  const expected = bodyKindFor(control);
  if (body.kind !== expected) {
    throw new ProtocolError(
      'BAD_FIELD',
      `CJ/T 188 body kind '${body.kind}' does not match C=0x${hex2(control)} (which carries '${expected}')`,
    );
  }
  if (body.kind === 'error-reply') {
    return Uint8Array.of(checkSer(body.ser), ...encodeStatus(body.st, 'error-reply st'));
  }
  const di = knownDi(body.di);
  const head = Uint8Array.of(...writeDi(di, body.diOrder), checkSer(body.ser));
  let payload: Uint8Array;
  switch (body.kind) {
    case 'read':
    case 'read-address':
    case 'read-key-version':
      payload = new Uint8Array(0);
      break;
    case 'read-reply':
    case 'read-address-reply':
    case 'read-key-version-reply':
      payload = encodeReadData(di, body.data);
      break;
    case 'write':
    case 'write-address':
    case 'write-base-reading':
      payload = encodeWriteData(di, body.data);
      break;
    default: {
      if (body.status === null) payload = new Uint8Array(0);
      else {
        payload = encodeStatus(body.status, 'write-reply status');
        if (payload.length !== 2) {
          throw new ProtocolError('BAD_FIELD', 'CJ/T 188 write-reply status must be 2 bytes');
        }
      }
    }
  }
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

function checkSer(ser: number): number {
  if (!Number.isInteger(ser) || ser < 0 || ser > 0xff) {
    throw new ProtocolError('BAD_FIELD', `CJ/T 188 SER ${ser} is not a byte (0..255)`);
  }
  return ser;
}
