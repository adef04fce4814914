import type { Dlt645Direction, Dlt645Version } from './control.ts';
import type { Dlt645Unit } from './di-table.ts';

/** Read request: DATA = DI (2007 C=11H, 4 bytes; 1997 C=01H, 2 bytes) (docs/dlt645.md §2.3, D3/D4/D17). */
export interface Dlt645ReadBody {
  kind: 'read';
  /** "00010000" (2007) or "9010" (1997), in the standard's order. */
  di: string;
}

/** Normal read reply: DATA = DI + value (2007 C=91H/B1H, 1997 C=81H/A1H) (docs/dlt645.md §2.3, D5/D18). */
export interface Dlt645ReadReplyBody {
  kind: 'read-reply';
  di: string;
  /** Scaled number (1234.56 for kWh), or "2024-05-01" / "12:34:56" for the date/time DIs. */
  value: number | string;
  unit: Dlt645Unit;
  /** Day of the week (0 = Sunday) of a YYMMDDWW date (DI 04000101). */
  week?: number;
  /**
   * Raw value bytes (hex, after −33H, wire order), present only when re-encoding `value` would not give the
   * same bytes (a sign bit set on zero). When present the encoder sends these bytes and ignores `value`.
   */
  data?: string;
}

/** Abnormal reply (2007 C=D1H…, 1997 C=C1H…): DATA = one error word (docs/dlt645.md §2.3, D8). */
export interface Dlt645AbnormalReplyBody {
  kind: 'abnormal-reply';
  /** The error word ERR. */
  error: number;
  /** Names of its set bits (see DLT645_ERROR_BITS); derived from `error`, ignored by the encoder. */
  errors: string[];
}

/** Read communication address (2007 C=13H, L=0, address normally the wildcard) (docs/dlt645.md §2.3, D1). */
export interface Dlt645ReadAddressBody {
  kind: 'read-address';
}

/** Read-address reply (C=93H): DATA = the meter's 6-byte address (D2, D7). */
export interface Dlt645ReadAddressReplyBody {
  kind: 'read-address-reply';
  address: string;
}

/** Broadcast time sync (C=08H, no reply): DATA = ss mm hh DD MM YY (docs/dlt645.md §2.1, D24). */
export interface Dlt645TimeSyncBody {
  kind: 'time-sync';
  /** "YYYY-MM-DD hh:mm:ss". */
  time: string;
}

/** Read follow-up data request (2007 C=12H: DI + SEQ; 1997 C=02H: DI) (docs/dlt645.md §2.3). */
export interface Dlt645ReadFollowUpBody {
  kind: 'read-follow-up';
  di: string;
  /** Frame sequence number (2007 only). */
  seq?: number;
}

/**
 * Anything else: writes, freezes, follow-up replies, block reads, replies for DIs without a known layout or
 * whose value does not fit it. `data` is the whole DATA field after −33H, hex in wire order.
 */
export interface Dlt645OpaqueBody {
  kind: 'opaque';
  data: string;
}

/** The meaning of a frame's DATA, a union discriminated on `kind`. */
export type Dlt645Body =
  | Dlt645ReadBody
  | Dlt645ReadReplyBody
  | Dlt645AbnormalReplyBody
  | Dlt645ReadAddressBody
  | Dlt645ReadAddressReplyBody
  | Dlt645TimeSyncBody
  | Dlt645ReadFollowUpBody
  | Dlt645OpaqueBody;

/**
 * One DL/T 645 frame, JSON-serialisable (what `meterlab decode` prints). `control` is the raw C byte and is
 * authoritative; `direction`, `abnormal` and `followUp` are its D7/D6/D5 bits and `version` is inferred from it.
 */
export interface Dlt645Frame {
  protocol: 'dlt645';
  version: Dlt645Version;
  /** Number of FE bytes before the first 68H. */
  preamble: number;
  /** 12 characters in human order: "123456789012", wildcard "AAAAAAAAAAAA", broadcast "999999999999". */
  address: string;
  /** The raw control code C. */
  control: number;
  direction: Dlt645Direction;
  abnormal: boolean;
  followUp: boolean;
  body: Dlt645Body;
}
