import { sum8 } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';
import { addressToBytes } from './address.ts';
import { decodeBody, encodeBody } from './body.ts';
import {
  DLT645_END,
  DLT645_MAX_DATA_LENGTH,
  DLT645_MAX_PREAMBLE,
  DLT645_OVERHEAD,
  DLT645_PREAMBLE_BYTE,
  DLT645_START,
} from './constants.ts';
import { controlFlags, versionOfControl } from './control.ts';
import type { Dlt645Frame } from './frame.ts';
import { addOffset33 } from './offset33.ts';

/**
 * Encodes a frame to its exact wire bytes: `preamble` FE bytes, 68, address, 68, C, L, DATA + 33H, CS, 16
 * (docs/dlt645.md §2.1). Any frame `decodeDlt645` returns re-encodes byte for byte.
 *
 * `control` is authoritative; `version`, `direction`, `abnormal` and `followUp` must agree with it, and a body
 * other than `opaque` must be what that control code and DATA decode as (so decode(encode(f)) is f).
 * Throws ProtocolError: BAD_FIELD (a field out of range or inconsistent), BAD_LENGTH (DATA over 200 bytes),
 * UNKNOWN_DI (a read reply value for a DI without a known layout).
 */
export function encodeDlt645(frame: Dlt645Frame): Uint8Array {
  const { preamble, control } = frame;
  if (!Number.isInteger(preamble) || preamble < 0 || preamble > DLT645_MAX_PREAMBLE) {
    throw new ProtocolError(
      'BAD_FIELD',
      `DL/T 645 preamble ${preamble} must be an integer 0–${DLT645_MAX_PREAMBLE} (count of FE bytes)`,
    );
  }
  if (!Number.isInteger(control) || control < 0 || control > 0xff) {
    throw new ProtocolError('BAD_FIELD', `DL/T 645 control code ${control} must be a byte (0–255)`);
  }
  checkDerived(frame);
  const address = addressToBytes(frame.address);
  const data = encodeBody(frame);
  if (data.length > DLT645_MAX_DATA_LENGTH) {
    throw new ProtocolError(
      'BAD_LENGTH',
      `DL/T 645 DATA is ${data.length} bytes, above the ${DLT645_MAX_DATA_LENGTH}-byte maximum`,
    );
  }
  if (frame.body.kind !== 'opaque') {
    const meant = decodeBody(control, data).kind;
    if (meant !== frame.body.kind) {
      throw new ProtocolError(
        'BAD_FIELD',
        `DL/T 645 body "${frame.body.kind}" does not fit control code 0x${hex(control)} (it would decode as "${meant}")`,
      );
    }
  }

  const out = new Uint8Array(preamble + DLT645_OVERHEAD + data.length);
  out.fill(DLT645_PREAMBLE_BYTE, 0, preamble);
  let at = preamble;
  out[at++] = DLT645_START;
  out.set(address, at);
  at += address.length;
  out[at++] = DLT645_START;
  out[at++] = control;
  out[at++] = data.length;
  out.set(addOffset33(data), at);
  at += data.length;
  // CS covers the first 68H through the last DATA byte, preamble excluded (RSDLT `compute_cs`, NGGW).
  out[at] = sum8(out, preamble, at);
  out[at + 1] = DLT645_END;
  return out;
}

const hex = (b: number): string => b.toString(16).toUpperCase().padStart(2, '0');

/** The fields derived from C must agree with it: a frame is never sent with flags that say something else. */
function checkDerived(frame: Dlt645Frame): void {
  const expected = { version: versionOfControl(frame.control), ...controlFlags(frame.control) };
  for (const key of ['version', 'direction', 'abnormal', 'followUp'] as const) {
    if (frame[key] !== expected[key]) {
      throw new ProtocolError(
        'BAD_FIELD',
        `DL/T 645 ${key} ${JSON.stringify(frame[key])} disagrees with control code 0x${hex(frame.control)} (${key} ${JSON.stringify(expected[key])})`,
      );
    }
  }
}
