/**
 * Point-read (点抄) messages: v1 `read`/`reading`/`error` and the legacy `ClickToCopy` form, their validation,
 * UTF-8/GB2312 text, and newline-delimited framing for TCP. Pure code except the `NdjsonFramer` stream.
 * Property-test arbitraries live in `./arbitraries.ts` (not exported here: fast-check is a dev dependency).
 */
export { type ConcentratorId, parseConcentratorId } from './concentrator-id.ts';
export { encodePointReadMessage } from './encode.ts';
export { encodeLine } from './encode-line.ts';
export { fromLegacyAnswer, fromLegacyRequest, toLegacyAnswer, toLegacyRequest } from './legacy.ts';
export {
  type ClickToCopyAnswer,
  type ClickToCopyRequest,
  type ClientFraming,
  createFramingSniffer,
  createLegacyStreamSplitter,
  decodeClickToCopyRequest,
  encodeClickToCopyAnswer,
  type LegacyStreamDrop,
  type LegacyStreamSplitter,
  type LegacyStreamSplitterOptions,
  MAX_LEGACY_ANSWER_BYTES,
} from './legacy-stream.ts';
export {
  type BadLine,
  DEFAULT_MAX_LINE_LENGTH,
  type LineEvent,
  LineSplitter,
  type LineSplitterOptions,
  type SplitLine,
} from './line-splitter.ts';
export {
  NdjsonDecoder,
  type NdjsonDecoderOptions,
  type NdjsonEvent,
  type NdjsonMessage,
} from './ndjson-decoder.ts';
export { NdjsonFramer, type NdjsonFramerOptions } from './ndjson-framer.ts';
export { decodePointReadMessage, type PointReadDecodeResult, parsePointReadMessage } from './parse.ts';
export { readErrorFromProtocolError } from './read-error.ts';
export {
  decodeText,
  encodeText,
  parseTextEncodingName,
  TEXT_ENCODINGS,
  type TextEncodingName,
} from './text-encoding.ts';
export * from './types.ts';
export { validatePointReadMessage } from './validate.ts';
