import { hexToBytes } from './bytes.ts';
import type { Cjt188Frame } from './cjt188/index.ts';
import type { DecodeResult } from './decode-result.ts';
import type { Dlt645Frame } from './dlt645/index.ts';
import { ProtocolError } from './errors.ts';
import type { DecodeContext } from './framer.ts';
import type { Gdw376Frame } from './gdw376/index.ts';
import { decodeGdw376 } from './gdw376/index.ts';
import { METER_PROTOCOLS, meterProtocol, meterProtocolNames } from './registry.ts';

/** Any frame meterlab speaks, keyed by `protocol`. */
export type AnyFrame = Cjt188Frame | Dlt645Frame | Gdw376Frame;
/** A frame on a meter bus. */
export type MeterFrame = Cjt188Frame | Dlt645Frame;
export type ProtocolName = AnyFrame['protocol'];
/** The meter protocols of the registry, then Q/GDW 376.1 (the concentrator ↔ master protocol). */
export const PROTOCOL_NAMES: readonly ProtocolName[] = [...meterProtocolNames, 'gdw376'];

const DECODERS = {
  gdw376: decodeGdw376,
  ...Object.fromEntries(METER_PROTOCOLS.map((p) => [p.name, p.decode])),
} as unknown as Record<ProtocolName, (buf: Uint8Array) => DecodeResult<AnyFrame>>;

/**
 * Decodes whichever protocol the bytes are in. All three start with 68H, so the layouts decide:
 * 376.1 repeats L and 68H (`68 L L 68`, docs/gdw376.md §3.1), DL/T 645 has its second 68H after a 6-byte
 * address (offset 7, docs/dlt645.md §2.1), CJ/T 188 has one 68H followed by a meter type
 * (docs/cjt188.md §1.2). A whole frame from any decoder wins (each checks its own checksum); otherwise the
 * verdict — need-more or error — is that of the most specific layout the bytes fit, so a DL/T 645 frame with
 * a bad checksum is reported as that, not as a CJ/T 188 frame still waiting for bytes.
 *
 * A layout fits "as far as the bytes go", so before its header is complete (376.1: the six bytes `68 L L 68`;
 * DL/T 645: up to its second 68H; CJ/T 188: 68H and the type byte) it is only a guess. An error of the most
 * specific layout is held back as need-more while another candidate still needs more bytes: `68 10 00` is a
 * 376.1 header with a bad L so far, but the next bytes may make it a CJ/T 188 frame of a cold-water meter; and
 * `68 10 00 00 00 00 00 68 00 00 02` is a DL/T 645 frame with a bad checksum, but four bytes later it is a whole
 * CJ/T 188 frame. Without this the verdict depended on how the bytes were chunked; any chunking now gives the
 * same frames (auto.test.ts). The wait is bounded by the longest candidate's length field. With
 * `context.streamEnded` (the stream has ended, or the bytes are a whole forward's content) nothing more can come,
 * so the error of a layout whose header is complete is the verdict at once: a corrupt DL/T 645 frame at the end of
 * a file is reported as BAD_CHECKSUM, not as a CJ/T 188 frame cut short; a lone `68 10 01` stays a cut frame.
 */
export function decodeAuto(
  buf: Uint8Array,
  only: readonly ProtocolName[] = PROTOCOL_NAMES,
  context?: DecodeContext,
): DecodeResult<AnyFrame> {
  // Most specific layout first, and stop at the first whole frame: a DL/T 645 frame whose first data byte is
  // L−1 is also a valid CJ/T 188 frame (same bytes summed, same length) and is far likelier to be what its
  // layout says. Decoders whose layout does not fit run only when no fitting one found a frame.
  let fitting = 0; // bit i: SPECIFICITY[i] is a candidate whose layout fits
  let mostSpecific: DecodeResult<AnyFrame> | undefined;
  let mostSpecificName: ProtocolName | undefined;
  for (let i = 0; i < SPECIFICITY.length; i++) {
    const p = SPECIFICITY[i];
    if (!only.includes(p) || !fitsLayout(p, buf)) continue;
    fitting |= 1 << i;
    const result = DECODERS[p](buf);
    if (result.kind === 'frame') return result;
    if (!mostSpecific) {
      mostSpecific = result;
      mostSpecificName = p;
    }
  }
  let needMore = false;
  let skip = Number.POSITIVE_INFINITY;
  let lastError: ProtocolError | undefined;
  for (let i = 0; i < SPECIFICITY.length; i++) {
    const p = SPECIFICITY[i];
    if (!only.includes(p) || fitting & (1 << i)) continue;
    const result = DECODERS[p](buf);
    if (result.kind === 'frame') return result;
    if (result.kind === 'error') {
      skip = Math.min(skip, result.skip);
      lastError = result.error;
    } else {
      needMore = true;
    }
  }
  if (mostSpecific) {
    // A fitting layout's error waits for the candidates that still need more (see above).
    const settled = context?.streamEnded === true && headerComplete(mostSpecificName!, buf);
    if (mostSpecific.kind === 'error' && !settled) {
      for (let i = 0; i < SPECIFICITY.length; i++) {
        const p = SPECIFICITY[i];
        if (p === mostSpecificName || !only.includes(p)) continue;
        if (!(fitting & (1 << i))) {
          if (needMore) return { kind: 'need-more' };
          continue;
        }
        if (DECODERS[p](buf).kind === 'need-more') return { kind: 'need-more' };
      }
    }
    return mostSpecific;
  }
  // Junk: skip no further than the most careful decoder, so no protocol loses a frame that starts early.
  if (needMore) return { kind: 'need-more' };
  return { kind: 'error', error: lastError!, skip: Math.max(1, skip) };
}

/** 376.1's doubled header first, then the meter protocols from the strictest layout (registry `specificity`). */
const SPECIFICITY: readonly ProtocolName[] = [
  'gdw376',
  ...[...METER_PROTOCOLS].sort((a, b) => b.specificity - a.specificity).map((p) => p.name),
];
const METER_NAMES: readonly ProtocolName[] = SPECIFICITY.filter((p) => p !== 'gdw376');

/** Whether the first bytes fit the protocol's header layout (as far as they go). */
function fitsLayout(protocol: ProtocolName, buf: Uint8Array): boolean {
  if (protocol !== 'gdw376') return meterProtocol(protocol).fitsHeader(buf);
  if (buf.length === 0 || buf[0] !== 0x68) return false;
  return byteIs(buf, 3, buf[1]) && byteIs(buf, 4, buf[2]) && byteIs(buf, 5, 0x68);
}

/** Bytes of each layout's header after any FE preamble: up to and including what identifies the layout. */
const HEADER_LENGTH: Record<string, number> = { gdw376: 6, dlt645: 8, cjt188: 2 };

/** Whether the whole header of the protocol's layout is there (a fit is then a fit, not a guess). */
function headerComplete(protocol: ProtocolName, buf: Uint8Array): boolean {
  let p = 0;
  if (protocol !== 'gdw376') while (p < buf.length && buf[p] === 0xfe) p++;
  return buf.length - p >= (HEADER_LENGTH[protocol] ?? 1);
}

/** True when byte `i` is `value`, or is not there yet (a prefix fits as far as it goes). */
function byteIs(buf: Uint8Array, i: number, value: number): boolean {
  return i >= buf.length || buf[i] === value;
}

/**
 * Decodes a meter frame (CJ/T 188 or DL/T 645), e.g. the content of a 376.1 forward. It takes a
 * {@link DecodeContext}, so a {@link FrameAccumulator} driving it passes `streamEnded` at the end of the stream.
 */
export const decodeMeterAuto = Object.assign(
  (buf: Uint8Array, context?: DecodeContext): DecodeResult<MeterFrame> =>
    decodeAuto(buf, METER_NAMES, context) as DecodeResult<MeterFrame>,
  { takesContext: true as const },
);

/**
 * A frame ready to print or send as JSON. For a 376.1 forward request or reply, the embedded meter frame is
 * decoded too (`embedded`), or `embeddedError` says why it is not a meter frame; an empty content (the
 * concentrator heard nothing) has neither.
 */
export function describeFrame(frame: AnyFrame): Record<string, unknown> & { protocol: ProtocolName } {
  if (frame.protocol !== 'gdw376')
    return frame as unknown as Record<string, unknown> & { protocol: ProtocolName };
  return {
    ...frame,
    units: frame.units.map((unit) => {
      const body = unit.body;
      if ((body.kind !== 'forward-request' && body.kind !== 'forward-reply') || body.content === '')
        return unit;
      return { ...unit, body: { ...body, ...decodeEmbedded(hexToBytes(body.content)) } };
    }),
  };
}

/** Decodes the meter frame carried in a forward; junk around it (FE preambles aside) is reported. */
export function decodeEmbedded(
  content: Uint8Array,
): { embedded: MeterFrame } | { embeddedError: ProtocolError } {
  const result = decodeMeterAuto(content, { streamEnded: true });
  if (result.kind === 'frame') return { embedded: result.frame };
  if (result.kind === 'error') return { embeddedError: result.error };
  return {
    embeddedError: new ProtocolError('TRUNCATED', `the ${content.length}-byte content is a cut meter frame`),
  };
}
