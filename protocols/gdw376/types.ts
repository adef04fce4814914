/**
 * The decoded shape of a Q/GDW 376.1 frame (docs/gdw376.md §3). Everything is JSON-serialisable (numbers,
 * strings, booleans) because `meterlab decode` prints it and the point-read messages carry it.
 *
 * Where a field has both a raw wire value and a reading of it (`control.raw`, `controlWord`,
 * `byteTimeout.raw`), the raw value is what goes on the wire and the reading must agree with it, or
 * {@link encodeGdw376} throws BAD_FIELD naming both.
 */

/**
 * Link direction, C field D7 (docs/gdw376.md §3.2): `down` = master station → terminal, `up` = terminal →
 * master.
 */
export type Gdw376Direction = 'down' | 'up';

/** C field of a downlink frame (docs/gdw376.md §3.2): D6 PRM, D5 FCB, D4 FCV, D3–D0 function code. */
export interface Gdw376DownControl {
  dir: 'down';
  /** D6: true when the frame comes from the initiating station (a request), false for a response. */
  prm: boolean;
  /** D5 frame count bit. */
  fcb: boolean;
  /** D4 frame count valid. */
  fcv: boolean;
  /** D3–D0 function code (e.g. 11 = request class-2 data / link status, 0 = confirm). */
  fn: number;
  /** The whole byte as sent. */
  raw: number;
}

/** C field of an uplink frame (docs/gdw376.md §3.2): D6 PRM, D5 ACD, D4 reserved, D3–D0 function code. */
export interface Gdw376UpControl {
  dir: 'up';
  prm: boolean;
  /** D5: important events pending; when set the frame carries EC in its AUX part. */
  acd: boolean;
  /** D4: reserved in the uplink direction; kept (under the downlink name) so encoding is byte-exact. */
  fcv: boolean;
  fn: number;
  raw: number;
}

export type Gdw376Control = Gdw376DownControl | Gdw376UpControl;

/** A3 (docs/gdw376.md §3.1): D0 group-address flag, D7–D1 master station address MSA (0–127). */
export interface Gdw376A3 {
  group: boolean;
  msa: number;
}

/** SEQ (docs/gdw376.md §3.1): D7 TpV, D6 FIR, D5 FIN, D4 CON, D3–D0 PSEQ/RSEQ. */
export interface Gdw376Seq {
  /** Time label (Tp) present in AUX. */
  tpv: boolean;
  /** First frame of a multi-frame message (FIR=FIN=1: single frame). */
  fir: boolean;
  /** Last frame of a multi-frame message. */
  fin: boolean;
  /** Confirmation requested. */
  con: boolean;
  /** PSEQ (request) or RSEQ (response, echoing the request's PSEQ), 0–15. */
  seq: number;
}

/** Event counters EC (uplink with ACD=1): important and normal event counters. */
export interface Gdw376EventCounters {
  important: number;
  normal: number;
}

/** Time label Tp (6 bytes): frame counter PFC, send time (sec, min, hour, day BCD) and allowed delay. */
export interface Gdw376TimeLabel {
  /** Launch frame counter PFC, 0–255. */
  pfc: number;
  /** Send time as "DD hh:mm:ss" (day of month and time; the wire carries no month or year). */
  sendTime: string;
  /** Allowed transmission delay in minutes, 0–255 (binary). */
  delayMinutes: number;
}

/**
 * The AUX part at the end of the user data (docs/gdw376.md §3.1). Each member is present exactly when the
 * frame carries it.
 */
export interface Gdw376Aux {
  /** Password PW, 16 bytes as hex: downlink AFN 01, 04, 05, 06, 0F, 10. */
  pw?: string;
  /** Event counters: uplink with ACD=1. */
  ec?: Gdw376EventCounters;
  /** Time label: SEQ.TpV=1. */
  tp?: Gdw376TimeLabel;
}

/** One item of an AFN 00 F3 per-unit confirm/deny: which data unit, and ERR (0 = confirmed, 1 = denied). */
export interface Gdw376ConfirmItem {
  pn: number[];
  fn: number[];
  /** True when ERR is 0. */
  ok: boolean;
  /** ERR byte as sent (0 correct, 1 error; other values reserved). */
  err: number;
}

/**
 * Serial settings a terminal uses on its meter port for an AFN 10 F1 forward (docs/gdw376.md §3.4 control
 * word).
 */
export interface Gdw376SerialSettings {
  /** 300, 600, 1200, 2400, 4800, 7200, 9600 or 19200 bit/s. */
  baud: number;
  parity: 'none' | 'even' | 'odd';
  /** 5–8. */
  dataBits: number;
  /** 1 or 2. */
  stopBits: number;
}

/** Frame-wait timeout of an AFN 10 F1 request: D7 = unit (1 = seconds, 0 = milliseconds), D6–D0 value. */
export interface Gdw376FrameTimeout {
  value: number;
  unit: 's' | 'ms';
}

/**
 * Byte-wait timeout of an AFN 10 F1 request. The sources do not pin its unit (docs/field-notes.md §7); `raw`
 * is the byte and `ms` is this codec's reading of it in units of 10 ms (an open-source Java master comments
 * `0A` as "10*10ms"). `ms` must equal `raw * 10` when encoding.
 */
export interface Gdw376ByteTimeout {
  raw: number;
  ms: number;
}

export interface ConfirmAllBody {
  kind: 'confirm-all';
}
export interface DenyAllBody {
  kind: 'deny-all';
}
/**
 * AFN 00 F3: confirm/deny per data unit of the frame being answered (`afn`). `nonStandard` is set when the DT
 * was written `03 00` (the number 3) instead of the F3 bit mask `04 00`, as in KSY `separateConfirm.3761` (Q5).
 */
export interface ConfirmItemsBody {
  kind: 'confirm-items';
  afn: number;
  items: Gdw376ConfirmItem[];
  nonStandard?: boolean;
}
export interface LoginBody {
  kind: 'login';
}
export interface LogoutBody {
  kind: 'logout';
}
/** AFN 02 F3. The 2013 form carries the terminal clock (data format A.1); older terminals send no data. */
export interface HeartbeatBody {
  kind: 'heartbeat';
  /** "YYYY-MM-DD hh:mm:ss" (the wire holds a 2-digit year, read as 20YY). */
  clock?: string;
  /** Day of week from the top 3 bits of the month byte: 1 = Monday … 7 = Sunday, 0 = not set. */
  week?: number;
}
/** AFN 10 F1 transparent forward request (downlink). */
export interface ForwardRequestBody {
  kind: 'forward-request';
  /** Terminal port, 1–31 (31 is commonly the carrier/local-module port). */
  port: number;
  /** The reading of `controlWord`. */
  serial: Gdw376SerialSettings;
  /** Forward control word as sent. */
  controlWord: number;
  frameTimeout: Gdw376FrameTimeout;
  byteTimeout: Gdw376ByteTimeout;
  /** The frame to send to the meter, hex (decoded by the CJ/T 188 or DL/T 645 codec). */
  content: string;
}
/** AFN 10 F1 transparent forward reply (uplink): the meter's answer. */
export interface ForwardReplyBody {
  kind: 'forward-reply';
  port: number;
  /** The meter's reply, hex (may be empty when the meter stayed silent). */
  content: string;
}
/**
 * AFN 0C / 0D request for (pn, Fn). AFN 0C requests carry no data; the data of an AFN 0D request (its Td time
 * label, whose length depends on Fn) is kept opaque and runs to the end of the data region.
 */
export interface DataRequestBody {
  kind: 'data-request';
  data: string;
}
/** Anything this codec does not interpret: the rest of the data region, hex. */
export interface OpaqueBody {
  kind: 'opaque';
  data: string;
}

/** The data of one data unit, discriminated by `kind` (decided by AFN, direction, pn and Fn). */
export type Gdw376Body =
  | ConfirmAllBody
  | DenyAllBody
  | ConfirmItemsBody
  | LoginBody
  | LogoutBody
  | HeartbeatBody
  | ForwardRequestBody
  | ForwardReplyBody
  | DataRequestBody
  | OpaqueBody;

export type Gdw376BodyKind = Gdw376Body['kind'];

/** One data unit: DA → `pn` (`[0]` = p0, the terminal itself), DT → `fn`, then its data. */
export interface Gdw376DataUnit {
  pn: number[];
  fn: number[];
  body: Gdw376Body;
}

/** A whole Q/GDW 376.1 frame. */
export interface Gdw376Frame {
  protocol: 'gdw376';
  /**
   * L field D1–D0: 2 = Q/GDW 376.1 (binary 10), 1 = Q/GDW 130-2005 (accepted and reported,
   * docs/field-notes.md §8).
   */
  protocolId: 1 | 2;
  control: Gdw376Control;
  /** Area code A1, 4 BCD digits in reading order ("0171" is `71 01` on the wire). */
  a1: string;
  /** Terminal address A2, 0–65535 (binary, low byte first). */
  a2: number;
  a3: Gdw376A3;
  /** Application function code. */
  afn: number;
  seq: Gdw376Seq;
  units: Gdw376DataUnit[];
  aux: Gdw376Aux;
  /**
   * Zero bytes after the last data unit, which cannot form another unit (non-standard confirms padded with zeros
   * are seen in the field; issue 14, item 5), as spaced hex. Absent on a standard frame; encoded back as given.
   */
  padding?: string;
  /** What the decoder accepted although the standard does not allow it, in words (e.g. the padding). */
  warnings?: string[];
}
