import fc from 'fast-check';
import {
  type CancelRequest,
  type LegacyAnswer,
  type LegacyClickToCopy,
  type LegacyEnvelopeAnswer,
  type LegacyModelRequest,
  MAX_DETAIL_REPLY_BYTES,
  MAX_DETAIL_TEXT_LENGTH,
  MAX_ORIGIN_LENGTH,
  METER_PROTOCOLS,
  type MeterStatus,
  type PointReadMessage,
  READ_ERROR_CODES,
  READ_FAILURE_REASONS,
  READING_UNITS,
  type ReadError,
  type ReadErrorDetail,
  type Reading,
  type ReadRequest,
  VALVE_STATES,
} from './types.ts';

/** Request ids: short printable ones, and any 1–128 characters without control characters. */
export const requestIdArb: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[a-z0-9-]{1,12}$/),
  fc
    .string({ unit: 'binary', minLength: 1, maxLength: 128 })
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ids exclude control characters
    .filter((s) => s.length <= 128 && !/[\u0000-\u001f\u007f]/.test(s)),
);

/** Concentrator ids: A1+A2 addresses (A2 1–65535) and aliases. */
export const concentratorArb: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 1, max: 65535 }))
    .map(([a1, a2]) => `${String(a1).padStart(4, '0')}${String(a2).padStart(5, '0')}`),
  fc.stringMatching(/^[0-9A-Za-z_.-]{1,32}$/).filter((s) => !/^\d{9}$/.test(s)),
);

/** Meter addresses as written in messages: 1–14 decimal digits. */
export const meterArb: fc.Arbitrary<string> = fc.stringMatching(/^\d{1,14}$/);

/** Finite numbers, with one zero (JSON writes -0 as 0). */
export const valueArb: fc.Arbitrary<number> = fc
  .double({ noNaN: true, noDefaultInfinity: true })
  .map((v) => (v === 0 ? 0 : v));

/** `YYYY-MM-DDTHH:mm:ss` from real instants. */
export const meterTimeArb: fc.Arbitrary<string> = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 19));

export const readAtArb: fc.Arbitrary<string> = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => d.toISOString());

export const meterStatusArb: fc.Arbitrary<MeterStatus> = fc.record({
  valve: fc.constantFrom(...VALVE_STATES),
  batteryLow: fc.boolean(),
});

/** Known codes and other UPPER_SNAKE ones. */
export const errorCodeArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...READ_ERROR_CODES),
  fc.stringMatching(/^[A-Z][A-Z0-9]{0,10}(_[A-Z0-9]{1,8}){0,3}$/),
);

export const readRequestArb: fc.Arbitrary<ReadRequest> = fc.record(
  {
    type: fc.constant('read' as const),
    id: requestIdArb,
    concentrator: concentratorArb,
    meter: meterArb,
    protocol: fc.constantFrom(...METER_PROTOCOLS),
    port: fc.integer({ min: 1, max: 31 }),
    origin: fc.oneof(
      fc.stringMatching(/^ws-[1-9][0-9]{0,6}$/),
      fc
        .string({ unit: 'binary', minLength: 1, maxLength: MAX_ORIGIN_LENGTH })
        // biome-ignore lint/suspicious/noControlCharactersInRegex: origins exclude control characters
        .filter((s) => s.length <= MAX_ORIGIN_LENGTH && !/[\u0000-\u001f\u007f]/.test(s)),
    ),
  },
  { requiredKeys: ['type', 'id', 'concentrator', 'meter'] },
);

/** The v1 `cancel` request. */
export const cancelRequestArb: fc.Arbitrary<CancelRequest> = fc.record({
  type: fc.constant('cancel' as const),
  id: requestIdArb,
});

export const readingArb: fc.Arbitrary<Reading> = fc.record(
  {
    type: fc.constant('reading' as const),
    id: requestIdArb,
    concentrator: concentratorArb,
    meter: meterArb,
    value: valueArb,
    unit: fc.constantFrom(...READING_UNITS),
    meterTime: meterTimeArb,
    status: meterStatusArb,
    protocol: fc.constantFrom(...METER_PROTOCOLS),
    latencyMs: fc.double({ min: 0, max: 1e7, noNaN: true }).map((v) => (v === 0 ? 0 : v)),
    readAt: readAtArb,
  },
  { requiredKeys: ['type', 'id', 'concentrator', 'meter', 'value', 'unit'] },
);

/** A `detail` text field: 1–256 characters without control characters (Chinese and lone surrogates too). */
export const detailTextArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('cjt188', 'dlt645', '00000000101001', '阀门异常', 'no data requested'),
  fc
    .string({ unit: 'binary', minLength: 1, maxLength: MAX_DETAIL_TEXT_LENGTH })
    // biome-ignore lint/suspicious/noControlCharactersInRegex: detail texts exclude control characters
    .filter((s) => s.length <= MAX_DETAIL_TEXT_LENGTH && !/[\u0000-\u001f\u007f]/.test(s)),
);

const hexDigitsArb = (n: number) =>
  fc.array(fc.constantFrom(...'0123456789ABCDEF'), { minLength: n, maxLength: n }).map((d) => d.join(''));

/** A meter reply as spaced hex, 1–512 bytes (short ones mostly, the longest allowed sometimes). */
export const replyHexArb: fc.Arbitrary<string> = fc
  .oneof(
    fc.uint8Array({ minLength: 1, maxLength: 40 }),
    fc.uint8Array({ minLength: MAX_DETAIL_REPLY_BYTES, maxLength: MAX_DETAIL_REPLY_BYTES }),
  )
  .map((bytes) => [...bytes].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' '));

/** Details: the known reasons and other UPPER_SNAKE ones, with any of the optional fields. */
export const readErrorDetailArb: fc.Arbitrary<ReadErrorDetail> = fc.record(
  {
    reason: fc.oneof(fc.constantFrom(...READ_FAILURE_REASONS), errorCodeArb),
    protocol: detailTextArb,
    expected: detailTextArb,
    got: detailTextArb,
    statusWord: hexDigitsArb(4),
    errorWord: hexDigitsArb(2),
    meaning: detailTextArb,
    reply: replyHexArb,
  },
  { requiredKeys: ['reason'] },
);

export const readErrorArb: fc.Arbitrary<ReadError> = fc.record(
  {
    type: fc.constant('error' as const),
    id: requestIdArb,
    code: errorCodeArb,
    // Any UTF-16 text, lone surrogates included: JSON escapes them and GB2312 lines escape what it lacks.
    message: fc.oneof(fc.constantFrom('不要重复发送', '表计无应答', ''), fc.string({ unit: 'binary' })),
    concentrator: concentratorArb,
    meter: meterArb,
    detail: readErrorDetailArb,
  },
  { requiredKeys: ['type', 'code', 'message'] },
);

export const pointReadMessageArb: fc.Arbitrary<PointReadMessage> = fc.oneof(
  readRequestArb,
  cancelRequestArb,
  readingArb,
  readErrorArb,
);

export const legacyRequestArb: fc.Arbitrary<LegacyClickToCopy> = fc.record({
  ModuleName: fc.constant('ClickToCopy' as const),
  Content: fc.record({ ConcentratorNo: concentratorArb, WaterMtrAddress: meterArb }),
});

/** The flat request the original webserver sent its clientserver. */
export const legacyModelRequestArb: fc.Arbitrary<LegacyModelRequest> = fc.record({
  ConcentratorNo: concentratorArb,
  WaterMtrAddress: meterArb,
  IsDownCommand: fc.constant(false as const),
});

/** The flat legacy answer (README "Legacy point-read shapes"). */
export const legacyAnswerArb: fc.Arbitrary<LegacyAnswer> = fc.oneof(
  fc.record({
    ConcentratorNo: concentratorArb,
    WaterMtrAddress: meterArb,
    AccumVal: valueArb,
    IsDownCommand: fc.constant(true as const),
  }),
  fc.record(
    {
      ConcentratorNo: concentratorArb,
      WaterMtrAddress: meterArb,
      AccumVal: fc.constant(null),
      IsDownCommand: fc.constant(true as const),
      ErrorCode: errorCodeArb,
      ErrorMsg: fc.oneof(fc.constant('不要重复发送'), fc.string()),
    },
    { requiredKeys: ['ConcentratorNo', 'WaterMtrAddress', 'AccumVal', 'IsDownCommand'] },
  ),
);

/** The enveloped answer meterlab wrote before issue 14 (still parsed, no longer written). */
export const legacyEnvelopeAnswerArb: fc.Arbitrary<LegacyEnvelopeAnswer> = fc.oneof(
  fc.record({
    ModuleName: fc.constant('ClickToCopy' as const),
    Content: fc.record({ ConcentratorNo: concentratorArb, WaterMtrAddress: meterArb, AccumVal: valueArb }),
  }),
  fc.record({
    ModuleName: fc.constant('ClickToCopy' as const),
    Content: fc.record(
      {
        ConcentratorNo: concentratorArb,
        WaterMtrAddress: meterArb,
        Error: fc.oneof(fc.constant('不要重复发送'), fc.string()),
        ErrorCode: errorCodeArb,
      },
      { requiredKeys: ['ConcentratorNo', 'WaterMtrAddress', 'Error'] },
    ),
  }),
);

/** Every message this module parses, v1 and legacy. */
export const anyPointReadMessageArb = fc.oneof(
  pointReadMessageArb,
  legacyRequestArb,
  legacyModelRequestArb,
  legacyAnswerArb,
  legacyEnvelopeAnswerArb,
);
