import { ProtocolError } from '../errors.ts';
import type { Gdw376Seq } from './types.ts';

/** Reads SEQ (docs/gdw376.md §3.1; KSY): D7 TpV, D6 FIR, D5 FIN, D4 CON, D3–D0 PSEQ/RSEQ. */
export function decodeSeq(byte: number): Gdw376Seq {
  return {
    tpv: (byte & 0x80) !== 0,
    fir: (byte & 0x40) !== 0,
    fin: (byte & 0x20) !== 0,
    con: (byte & 0x10) !== 0,
    seq: byte & 0x0f,
  };
}

/** Writes SEQ. Throws BAD_FIELD when `seq` is not 0–15. */
export function encodeSeq(seq: Gdw376Seq): number {
  if (!Number.isInteger(seq.seq) || seq.seq < 0 || seq.seq > 15) {
    throw new ProtocolError('BAD_FIELD', `seq.seq ${seq.seq} is not a sequence number 0–15`);
  }
  return (seq.tpv ? 0x80 : 0) | (seq.fir ? 0x40 : 0) | (seq.fin ? 0x20 : 0) | (seq.con ? 0x10 : 0) | seq.seq;
}
