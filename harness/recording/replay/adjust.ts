import { decodeEmbedded } from '../../../protocols/auto.ts';
import { bytesToHex, hexToBytes } from '../../../protocols/bytes.ts';
import { buildErrorReply, type Cjt188Frame, encodeCjt188 } from '../../../protocols/cjt188/index.ts';
import { encodeDlt645 } from '../../../protocols/dlt645/index.ts';
import { denyFor, encodeGdw376, type Gdw376Frame } from '../../../protocols/gdw376/index.ts';
import { encodeLine } from '../../../protocols/point-read/index.ts';
import type { AnyPointReadMessage } from '../../../protocols/point-read/types.ts';
import { decodeRaw } from './session.ts';

/**
 * A recorded reply made right for a new request, the way the protocol demands (the encoders recompute every
 * checksum and length):
 * - CJ/T 188: the reply's SER echoes the request's (docs/cjt188.md §1.6, "SER … echoed by the meter");
 * - Q/GDW 376.1: RSEQ echoes the request's PSEQ and a Tp in the request is echoed (docs/gdw376.md §3.1 SEQ,
 * AUX); inside a
 *   forward reply, the meter frame's SER echoes the one in the forward request;
 * - point-read NDJSON: the answer carries the request's `id`.
 * Anything else (DL/T 645 has no correlation number) is sent as recorded.
 */
export function adjustReply(
  requestBytes: Uint8Array,
  requestDecoded: Record<string, unknown>,
  reply: Uint8Array,
): Uint8Array {
  if (reply[0] === 0x7b || requestDecoded.type !== undefined || 'ModuleName' in requestDecoded) {
    const message = JSON.parse(Buffer.from(reply).toString('utf8')) as Record<string, unknown>;
    if ('id' in message && typeof requestDecoded.id === 'string') message.id = requestDecoded.id;
    return encodeLine(message as unknown as AnyPointReadMessage);
  }
  const request = decodeRaw(requestBytes);
  const answer = decodeRaw(reply);
  if (!request || !answer || request.protocol !== answer.protocol) return reply;
  if (answer.protocol === 'cjt188' && request.protocol === 'cjt188')
    return encodeCjt188(withSer(answer, request));
  if (answer.protocol === 'gdw376' && request.protocol === 'gdw376') {
    const units = answer.units.map((unit) => {
      const body = unit.body;
      const asked = request.units.find((u) => u.body.kind === 'forward-request')?.body;
      if (body.kind !== 'forward-reply' || body.content === '' || asked?.kind !== 'forward-request')
        return unit;
      const meterRequest = decodeEmbedded(hexToBytes(asked.content));
      const meterReply = decodeEmbedded(hexToBytes(body.content));
      if (!('embedded' in meterRequest) || !('embedded' in meterReply)) return unit;
      const q = meterRequest.embedded;
      const a = meterReply.embedded;
      if (q.protocol !== 'cjt188' || a.protocol !== 'cjt188') return unit;
      return { ...unit, body: { ...body, content: bytesToHex(encodeCjt188(withSer(a, q))) } };
    });
    const aux = request.aux.tp && answer.aux.tp ? { ...answer.aux, tp: request.aux.tp } : answer.aux;
    const frame: Gdw376Frame = { ...answer, seq: { ...answer.seq, seq: request.seq.seq }, units, aux };
    return encodeGdw376(frame);
  }
  if (answer.protocol === 'dlt645') return encodeDlt645(answer);
  return reply;
}

function withSer(reply: Cjt188Frame, request: Cjt188Frame): Cjt188Frame {
  if (!('ser' in request.body) || !('ser' in reply.body)) return reply;
  return { ...reply, body: { ...reply.body, ser: request.body.ser } } as Cjt188Frame;
}

/**
 * What a device answers to a request it does not know, for `--unmatched error`: a CJ/T 188 abnormal reply,
 * a 376.1 deny (AFN 00 F2), a point-read error `UNKNOWN_METER`; DL/T 645 and anything else: silence.
 */
export function errorReplyFor(
  requestBytes: Uint8Array,
  requestDecoded: Record<string, unknown>,
): Uint8Array | undefined {
  if (requestDecoded.type === 'read') {
    return encodeLine({
      type: 'error',
      id: String(requestDecoded.id),
      code: 'UNKNOWN_METER',
      message: 'not in the recording',
    });
  }
  const request = decodeRaw(requestBytes);
  if (request?.protocol === 'cjt188') return encodeCjt188(buildErrorReply(request));
  if (request?.protocol === 'gdw376') return encodeGdw376(denyFor(request));
  return undefined;
}
