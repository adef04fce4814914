import { concatBytes } from '../bytes.ts';
import { ProtocolError } from '../errors.ts';
import { byte } from './auxiliary-field.ts';
import { decodeDaDt, encodeDaDt } from './dadt.ts';
import type { ConfirmItemsBody, Gdw376ConfirmItem } from './types.ts';

/** AFN 00: confirm / deny (docs/gdw376.md §3.4, TURTLE `rgm_afn00h.xml`). */
export const AFN_CONFIRM = 0x00;
/** DT as KSY `separateConfirm.3761` (Q5) writes it for F3: the number 3, not the bit mask `04 00`. */
export const NON_STANDARD_F3_DT: readonly [number, number] = [0x03, 0x00];

/**
 * Reads the data of AFN 00 F3 (confirm/deny per data unit): the AFN being answered, then n × (DA DT ERR).
 * It runs to the end of the data region. Throws BAD_FIELD when the length is not 1 + 5n or an item's DA/DT
 * is malformed.
 */
export function decodeConfirmItems(data: Uint8Array, nonStandard: boolean): ConfirmItemsBody {
  if (data.length < 1 || (data.length - 1) % 5 !== 0) {
    throw new ProtocolError(
      'BAD_FIELD',
      `AFN 00 F3 data must be the confirmed AFN plus 5 bytes (DA DT ERR) per item, got ${data.length} bytes`,
    );
  }
  const items: Gdw376ConfirmItem[] = [];
  for (let at = 1; at < data.length; at += 5) {
    const { pn, fn } = decodeDaDt(data, at);
    const err = data[at + 4];
    items.push({ pn, fn, ok: err === 0, err });
  }
  const body: ConfirmItemsBody = { kind: 'confirm-items', afn: data[0], items };
  if (nonStandard) body.nonStandard = true;
  return body;
}

/** Writes the data of AFN 00 F3. `err` is what goes on the wire; `ok` must agree with it (ok ⇔ err 0). */
export function encodeConfirmItems(body: ConfirmItemsBody): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(byte(body.afn, 'confirm-items afn'))];
  body.items.forEach((item, i) => {
    const err = byte(item.err, `items[${i}].err`);
    if (item.ok !== (err === 0)) {
      throw new ProtocolError('BAD_FIELD', `items[${i}].ok is ${item.ok} but err is ${err} (ok means err 0)`);
    }
    parts.push(encodeDaDt(item.pn, item.fn), Uint8Array.of(err));
  });
  return concatBytes(parts);
}
