/**
 * Q/GDW 376.1 (2009) / Q/GDW 1376.1-2013 codec: master station ↔ concentrator (docs/gdw376.md §3).
 * Pure functions over Uint8Array plus a streaming framer; no I/O.
 */

export { decodeAddress, encodeAddress, type Gdw376Address } from './address.ts';
export { AFN_CONFIRM, decodeConfirmItems, encodeConfirmItems, NON_STANDARD_F3_DT } from './afn00.ts';
export {
  AFN_LINK_CHECK,
  CLOCK_A1_LENGTH,
  dayOfWeek,
  decodeClockA1,
  decodeHeartbeat,
  encodeClockA1,
  encodeHeartbeat,
  type Gdw376Clock,
} from './afn02.ts';
export {
  AFN_FORWARD,
  decodeByteTimeout,
  decodeForwardControl,
  decodeForwardReply,
  decodeForwardRequest,
  decodeFrameTimeout,
  encodeForwardControl,
  encodeForwardReply,
  encodeForwardRequest,
  encodeFrameTimeout,
  FORWARD_BAUDS,
  serialText,
} from './afn10.ts';
export {
  auxLayout,
  decodeAux,
  decodeTimeLabel,
  encodeAux,
  encodeTimeLabel,
  GDW376_EC_LENGTH,
  GDW376_PW_AFNS,
  GDW376_PW_LENGTH,
  GDW376_TP_LENGTH,
  type Gdw376AuxLayout,
} from './auxiliary-field.ts';
export {
  buildConfirm,
  buildConfirmItems,
  buildDataRequest,
  buildDeny,
  buildForwardReply,
  buildForwardRequest,
  buildHeartbeat,
  buildLogin,
  buildLogout,
  confirmFor,
  denyFor,
  type Gdw376AddressOptions,
  type Gdw376AnswerOptions,
  type Gdw376ConfirmItemOptions,
  type Gdw376ConfirmItemsOptions,
  type Gdw376DataRequestOptions,
  type Gdw376ForwardReplyOptions,
  type Gdw376ForwardRequestOptions,
  type Gdw376FrameOptions,
  type Gdw376HeartbeatOptions,
} from './builders.ts';
export { decodeControl, encodeControl, type Gdw376ControlFields, makeControl } from './control.ts';
export { decodeDaDt, encodeDaDt, GDW376_MAX_FN, GDW376_MAX_PN, type Gdw376DaDt } from './dadt.ts';
export {
  decodeGdw376,
  decodeGdw376Frame,
  encodeGdw376,
  GDW376_END,
  GDW376_MAX_FRAME_LENGTH,
  GDW376_MAX_USER_DATA,
  GDW376_MIN_USER_DATA,
  GDW376_OVERHEAD,
  GDW376_START,
} from './frame.ts';
export { GDW376_DEFAULT_MAX_BUFFERED_BYTES, Gdw376Framer, type Gdw376FramerOptions } from './framer.ts';
export { decodeSeq, encodeSeq } from './seq.ts';
export type * from './types.ts';
export {
  AFN_CLASS1_DATA,
  AFN_CLASS2_DATA,
  bodyKindFor,
  decodeUnits,
  encodeUnits,
  type Gdw376UnitContext,
  runsToEnd,
} from './units.ts';
