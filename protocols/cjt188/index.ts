/**
 * CJ/T 188-2004 (户用计量仪表数据传输技术条件) codec: pure decode/encode of meter-bus frames, typed bodies,
 * builders for the simulator and CLI, and a streaming framer. See docs/cjt188.md §1 for the byte-level facts.
 * Test arbitraries live in `./arbitraries.ts` (not exported here, to keep fast-check out of runtime code).
 * @packageDocumentation
 */

export { CJT188_WILDCARD_ADDRESS, decodeAddress, encodeAddress } from './address.ts';
export { bodyKindFor, type Cjt188BodyOptions, decodeBody, encodeBody } from './body.ts';
export {
  buildErrorReply,
  buildReadAddressReply,
  buildReadAddressRequest,
  buildReadKeyVersionRequest,
  buildReadReply,
  buildReadRequest,
  buildValveRequest,
  buildWaterReadReply,
  buildWriteAddressRequest,
  buildWriteBaseReadingRequest,
  buildWriteReply,
  buildWriteRequest,
  buildWriteTimeRequest,
  type Cjt188ReplyOptions,
  type Cjt188RequestOptions,
  type Cjt188WaterReadingInit,
  makeCjt188Frame,
} from './builders.ts';
export * from './constants.ts';
export {
  CJT188_ABNORMAL_BIT,
  CJT188_DIRECTION_BIT,
  CJT188_FUNCTIONS,
  controlAbnormal,
  controlDirection,
  controlFunction,
  errorControl,
  replyControl,
} from './control.ts';
export { type Cjt188DecodeOptions, decodeCjt188, decodeCjt188Frame } from './decode.ts';
export { CJT188_DI, type Cjt188DiOrder, diText, isKnownDi, knownDi, parseDi, readDi, writeDi } from './di.ts';
export { encodeCjt188 } from './encode.ts';
export type {
  Cjt188Body,
  Cjt188BodyKind,
  Cjt188DataHead,
  Cjt188DiRequest,
  Cjt188ErrorReply,
  Cjt188Frame,
  Cjt188OpaqueBody,
  Cjt188ReadReply,
  Cjt188WriteReply,
  Cjt188WriteRequest,
} from './frame.ts';
export { Cjt188Framer, type Cjt188FramerOptions } from './framer.ts';
export type { Cjt188RawData } from './layout.ts';
export { CJT188_METER_TYPES, type Cjt188MeterTypeName, meterTypeName } from './meter-type.ts';
export {
  type Cjt188AddressReading,
  type Cjt188DayReading,
  type Cjt188HeatReading,
  type Cjt188HistoryReading,
  type Cjt188KeyVersion,
  type Cjt188PriceTable,
  type Cjt188PurchaseReading,
  type Cjt188ReadData,
  type Cjt188WaterReading,
  decodeReadData,
  encodeReadData,
} from './read-data.ts';
export {
  type Cjt188Status,
  type Cjt188StatusInit,
  type Cjt188ValveState,
  decodeStatus,
  encodeStatus,
  makeStatus,
} from './status.ts';
export {
  CJT188_DEFAULT_UTC_OFFSET_MINUTES,
  CJT188_TIME_LENGTH,
  type Cjt188TimeParts,
  decodeTime,
  encodeTime,
  formatTime,
} from './time.ts';
export {
  CJT188_UNIT_M3,
  CJT188_UNITS,
  CJT188_UNKNOWN_UNIT,
  type Cjt188Quantity,
  unitCode,
  unitName,
} from './units.ts';
export {
  CJT188_VALVE_CLOSE,
  CJT188_VALVE_OPEN,
  type Cjt188AddressWrite,
  type Cjt188BaseReadingWrite,
  type Cjt188DayWrite,
  type Cjt188FactoryEnable,
  type Cjt188KeyWrite,
  type Cjt188PriceTableWrite,
  type Cjt188PurchaseWrite,
  type Cjt188TimeWrite,
  type Cjt188ValveCommand,
  type Cjt188WriteData,
  decodeWriteData,
  encodeWriteData,
} from './write-data.ts';
