import type { Cjt188DiOrder } from './di.ts';
import type { Cjt188MeterTypeName } from './meter-type.ts';
import type { Cjt188ReadData } from './read-data.ts';
import type { Cjt188Status } from './status.ts';
import type { Cjt188WriteData } from './write-data.ts';

/**
 * The decoded CJ/T 188 frame: plain JSON (printed by `meterlab decode`), re-encodable byte for byte.
 * @packageDocumentation
 */

/** `DI SER` at the start of DATA (KINGDA `CJT_188_DataHeadStruct`; docs/cjt188.md §1.6). */
export interface Cjt188DataHead {
  /** The DI as 4 hex digits, high byte first in the text whatever the wire order ("901F"). */
  di: string;
  /** The order the DI bytes had (or will have) on the wire. */
  diOrder: Cjt188DiOrder;
  /** Sequence number chosen by the master and echoed by the meter (0..255). */
  ser: number;
}

/** A request that carries only `DI SER` (L = 3): C = 01 read, 03 read address, 09 read key version. */
export interface Cjt188DiRequest extends Cjt188DataHead {
  kind: 'read' | 'read-address' | 'read-key-version';
}

/** A normal reply to a read: C = 81, 83 (address in the A field), 89. */
export interface Cjt188ReadReply extends Cjt188DataHead {
  kind: 'read-reply' | 'read-address-reply' | 'read-key-version-reply';
  data: Cjt188ReadData;
}

/** A write request: C = 04 write data (A010–A019), 15 write address (A018), 16 write base reading (A016). */
export interface Cjt188WriteRequest extends Cjt188DataHead {
  kind: 'write' | 'write-address' | 'write-base-reading';
  data: Cjt188WriteData;
}

/**
 * A normal reply to a write: C = 84, 95, 96. KINGDA answers with `DI SER` (L = 3, `status` null) and with
 * `DI SER ST` for 96; BLOG-SC's valve reply has L = 5 (`DI SER ST`). Both forms decode.
 */
export interface Cjt188WriteReply extends Cjt188DataHead {
  kind: 'write-reply' | 'write-address-reply' | 'write-base-reading-reply';
  status: Cjt188Status | null;
}

/**
 * An abnormal reply (D6 set: C1, C3, C4, C9, D5, D6): DATA = `SER ST` with no DI (KINGDA
 * `CJT8_188_ErrACK_Struct`); NGGW sends a single ST byte, which is accepted (`st.raw` has one byte then).
 */
export interface Cjt188ErrorReply {
  kind: 'error-reply';
  ser: number;
  st: Cjt188Status;
}

/**
 * DATA this codec cannot interpret — an unknown DI, an unknown function, or a length no layout allows — kept
 * as hex so a stream never loses the frame. With `strict`, an unknown DI is an UNKNOWN_DI error instead.
 */
export interface Cjt188OpaqueBody {
  kind: 'opaque';
  /** The whole DATA field as hex without spaces. */
  data: string;
  /**
   * Set when DATA starts with a known `DI SER` but the rest does not fit the DI's layout (issue 14, item 4): the
   * frame is still shown, with its DI and SER, and `warning` names what did not fit. Not encoded (`data` is).
   */
  head?: Cjt188DataHead;
  warning?: string;
}

/** DATA of a frame, discriminated by `kind` (which follows from the control code). */
export type Cjt188Body =
  | Cjt188DiRequest
  | Cjt188ReadReply
  | Cjt188WriteRequest
  | Cjt188WriteReply
  | Cjt188ErrorReply
  | Cjt188OpaqueBody;

/** Every body kind. */
export type Cjt188BodyKind = Cjt188Body['kind'];

/** One CJ/T 188 frame (docs/cjt188.md §1.2). */
export interface Cjt188Frame {
  protocol: 'cjt188';
  /** Number of FE bytes before the start byte (0..{@link CJT188_MAX_PREAMBLE}). */
  preamble: number;
  /** Meter type byte T. */
  meterType: number;
  /** Name of T (derived; ignored by the encoder). */
  meterTypeName: Cjt188MeterTypeName;
  /** 14 characters in human order (A6…A0): "78330011223344"; wildcard bytes as "AA". */
  address: string;
  /** Control byte C, authoritative for the encoder. */
  control: number;
  /** C bit D7 (derived; must agree with `control`). */
  direction: 'request' | 'reply';
  /** C bit D6 (derived; must agree with `control`). */
  abnormal: boolean;
  body: Cjt188Body;
}
