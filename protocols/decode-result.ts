import type { ProtocolError } from './errors.ts';

/**
 * The three-way answer of every frame decoder in protocols/ (see DESIGN.md "Codecs"):
 * - `frame`: a whole frame starts at byte 0 of the input and takes `consumed` bytes (preamble included);
 * - `need-more`: the input is a valid beginning of a frame; `atLeast` is the total length needed, when known;
 * - `error`: the input does not start with a valid frame; drop `skip` (≥ 1) bytes and try again.
 */
export type DecodeResult<T> =
  | { kind: 'frame'; frame: T; consumed: number }
  | { kind: 'need-more'; atLeast?: number }
  | { kind: 'error'; error: ProtocolError; skip: number };

/** A decoder the streaming framer can drive: pure, never throws, looks only at the bytes it is given. */
export type FrameDecoder<T> = (buf: Uint8Array) => DecodeResult<T>;
