import { bytesToHex, hexToBytes } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';
import { diText } from './di.ts';

/**
 * The payload after `DI SER` is DI-specific. A layout says how one DI's payload of one exact length decodes;
 * a known DI whose payload has another length decodes as `{ type: 'raw' }` so that a vendor variant is shown,
 * never dropped. The encoder uses the same tables, so every frame it accepts decodes back to itself.
 * @internal
 * @packageDocumentation
 */

/** Payload bytes kept as hex because no layout of the DI has their length. */
export interface Cjt188RawData {
  type: 'raw';
  /** Payload after `DI SER`, hex without spaces. */
  hex: string;
}

/** One DI payload layout. @internal */
export interface Layout<D extends { type: string }> {
  type: D['type'];
  length: number;
  decode(payload: Uint8Array, di: number): D;
  encode(data: D, di: number): Uint8Array;
  /** Picks between two layouts of one type (e.g. with and without an address). */
  accepts(data: D): boolean;
}

/** Returns a typed constructor of layouts for the data union `D`. @internal */
export function layoutFactory<D extends { type: string }>() {
  return <T extends D['type']>(spec: {
    type: T;
    length: number;
    decode: (payload: Uint8Array, di: number) => Extract<D, { type: T }>;
    encode: (data: Extract<D, { type: T }>, di: number) => Uint8Array;
    accepts?: (data: Extract<D, { type: T }>) => boolean;
  }): Layout<D> => ({
    type: spec.type,
    length: spec.length,
    decode: spec.decode,
    // The caller has already matched `data.type` against `spec.type`.
    encode: (data, di) => spec.encode(data as Extract<D, { type: T }>, di),
    accepts: (data) => spec.accepts?.(data as Extract<D, { type: T }>) ?? true,
  });
}

/** Decodes a payload with the layout of its DI and length, else as raw. @internal */
export function decodePayload<D extends { type: string }>(
  layouts: readonly Layout<D>[],
  di: number,
  payload: Uint8Array,
): D | Cjt188RawData {
  const layout = layouts.find((l) => l.length === payload.length);
  return layout ? layout.decode(payload, di) : { type: 'raw', hex: bytesToHex(payload, '') };
}

/** Encodes a payload; throws BAD_FIELD when `data` is not a layout of the DI (or raw that would not decode raw). */
export function encodePayload<D extends { type: string }>(
  layouts: readonly Layout<D>[],
  di: number,
  data: D | Cjt188RawData,
  what: string,
): Uint8Array {
  if (data === null || typeof data !== 'object') {
    throw new ProtocolError('BAD_FIELD', `CJ/T 188 ${what} must be an object with a "type"`);
  }
  if (data.type === 'raw') {
    const hex = (data as Cjt188RawData).hex;
    if (typeof hex !== 'string' || !/^([0-9A-Fa-f]{2})*$/.test(hex)) {
      throw new ProtocolError('BAD_FIELD', `CJ/T 188 ${what}.hex must be hex without spaces`);
    }
    const bytes = hexToBytes(hex);
    const shadow = layouts.find((l) => l.length === bytes.length);
    if (shadow) {
      throw new ProtocolError(
        'BAD_FIELD',
        `CJ/T 188 ${what}: a ${bytes.length}-byte payload of DI ${diText(di)} is a '${shadow.type}' layout, not raw`,
      );
    }
    return bytes;
  }
  const layout = layouts.find((l) => l.type === data.type && l.accepts(data as D));
  if (!layout) {
    throw new ProtocolError(
      'BAD_FIELD',
      `CJ/T 188 ${what} type '${data.type}' is not a layout of DI ${diText(di)}`,
    );
  }
  return layout.encode(data as D, di);
}
