/**
 * DL/T 645-2007 (and the 1997 read/reply control codes with 2-byte DIs): pure codec, DI table with scaling,
 * builders and a streaming framer. See docs/dlt645.md §2 for the byte-level facts and their sources.
 */
export { addressFromBytes, addressToBytes } from './address.ts';
export {
  buildAbnormalReply,
  buildReadAddressReply,
  buildReadAddressRequest,
  buildReadFollowUpRequest,
  buildReadReply,
  buildReadRequest,
  buildTimeSync,
  type Dlt645AbnormalReplyOptions,
  type Dlt645BuildOptions,
  type Dlt645ReadReplyOptions,
  type Dlt645TimeSyncOptions,
} from './builders.ts';
export {
  DLT645_BROADCAST_ADDRESS,
  DLT645_DATA_OFFSET,
  DLT645_DEFAULT_MAX_BUFFERED_BYTES,
  DLT645_END,
  DLT645_MAX_DATA_LENGTH,
  DLT645_MAX_FRAME_LENGTH,
  DLT645_MAX_PREAMBLE,
  DLT645_PREAMBLE_BYTE,
  DLT645_START,
  DLT645_WILDCARD_ADDRESS,
} from './constants.ts';
export {
  controlFlags,
  DLT645_ABNORMAL_BIT,
  DLT645_DIRECTION_BIT,
  DLT645_FOLLOW_UP_BIT,
  DLT645_FUNCTION,
  DLT645_FUNCTION_MASK,
  type Dlt645ControlFlags,
  type Dlt645Direction,
  type Dlt645Version,
  versionOfControl,
} from './control.ts';
export { decodeDlt645, decodeDlt645Frame } from './decode.ts';
export { diFromBytes, diToBytes } from './di.ts';
export { type Dlt645DiLayout, type Dlt645Unit, knownDis, lookupDi } from './di-table.ts';
export { encodeDlt645 } from './encode.ts';
export {
  DLT645_ERROR_BITS,
  DLT645_RESERVED_ERROR_BIT,
  type Dlt645ErrorName,
  errorNames,
  errorWord,
} from './error-word.ts';
export type {
  Dlt645AbnormalReplyBody,
  Dlt645Body,
  Dlt645Frame,
  Dlt645OpaqueBody,
  Dlt645ReadAddressBody,
  Dlt645ReadAddressReplyBody,
  Dlt645ReadBody,
  Dlt645ReadFollowUpBody,
  Dlt645ReadReplyBody,
  Dlt645TimeSyncBody,
} from './frame.ts';
export { DLT645_MIN_BUFFERED_BYTES, Dlt645Framer, type Dlt645FramerOptions } from './framer.ts';
export { addOffset33, removeOffset33 } from './offset33.ts';
export type { Dlt645DateTime } from './time.ts';
export { type Dlt645Value, decodeValue, encodeValue } from './value.ts';
