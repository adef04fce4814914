import { sum8 } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';
import { encodeAddress } from './address.ts';
import { encodeBody } from './body.ts';
import {
  CJT188_END,
  CJT188_HEADER_LENGTH,
  CJT188_MAX_DATA_LENGTH,
  CJT188_MAX_PREAMBLE,
  CJT188_MIN_FRAME_LENGTH,
  CJT188_PREAMBLE_BYTE,
  CJT188_START,
} from './constants.ts';
import { controlAbnormal, controlDirection } from './control.ts';
import type { Cjt188Frame } from './frame.ts';
import { hex2 } from './units.ts';

/**
 * The CJ/T 188 frame encoder.
 * @packageDocumentation
 */

/**
 * Encodes a frame: `FE`×preamble, 68, T, A0…A6, C, L, DATA, CS (sum of 68…DATA mod 256, docs/cjt188.md §1.2),
 * 16.
 * `control`, `meterType`, `address`, `preamble` and the body are authoritative; `direction` and `abnormal` must
 * agree with `control`; `meterTypeName` is ignored. Re-encodes any decoded frame byte for byte.
 * Throws ProtocolError: BAD_FIELD naming the field, UNKNOWN_DI, BAD_LENGTH when DATA exceeds the maximum.
 */
export function encodeCjt188(frame: Cjt188Frame): Uint8Array {
  const { preamble, meterType, control } = frame;
  if (!Number.isInteger(preamble) || preamble < 0 || preamble > CJT188_MAX_PREAMBLE) {
    throw new ProtocolError(
      'BAD_FIELD',
      `CJ/T 188 preamble ${preamble} must be 0..${CJT188_MAX_PREAMBLE} FE bytes`,
    );
  }
  checkByte('meterType', meterType);
  checkByte('control', control);
  if (frame.direction !== controlDirection(control) || frame.abnormal !== controlAbnormal(control)) {
    throw new ProtocolError(
      'BAD_FIELD',
      `CJ/T 188 direction '${frame.direction}'/abnormal ${frame.abnormal} disagree with C=0x${hex2(control)}`,
    );
  }
  const address = encodeAddress(frame.address);
  const data = encodeBody(control, frame.body);
  if (data.length > CJT188_MAX_DATA_LENGTH) {
    throw new ProtocolError(
      'BAD_LENGTH',
      `CJ/T 188 L=0x${hex2(data.length)} exceeds the ${CJT188_MAX_DATA_LENGTH}-byte maximum data length`,
    );
  }
  const out = new Uint8Array(preamble + CJT188_MIN_FRAME_LENGTH + data.length);
  out.fill(CJT188_PREAMBLE_BYTE, 0, preamble);
  const h = preamble;
  out[h] = CJT188_START;
  out[h + 1] = meterType;
  out.set(address, h + 2);
  out[h + 9] = control;
  out[h + 10] = data.length;
  out.set(data, h + CJT188_HEADER_LENGTH);
  const csAt = h + CJT188_HEADER_LENGTH + data.length;
  out[csAt] = sum8(out, h, csAt);
  out[csAt + 1] = CJT188_END;
  return out;
}

/** Throws BAD_FIELD naming `name` unless `value` is a byte. */
function checkByte(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new ProtocolError('BAD_FIELD', `CJ/T 188 ${name} ${value} is not a byte`);
  }
}
