/**
 * The control code C (docs/dlt645.md §2.2; NGGW `dlt645 .../frame/defs.rs`, PEACE `const.go` enum `C`):
 * D7 direction (1 = reply), D6 abnormal reply, D5 follow-up frame exists, D4–D0 function.
 */

/** Which edition of DL/T 645 a frame follows. */
export type Dlt645Version = '2007' | '1997';

/** Who sent a frame: the master (request, D7 = 0) or the meter (reply, D7 = 1). */
export type Dlt645Direction = 'request' | 'reply';

/** D7: set in every reply. */
export const DLT645_DIRECTION_BIT = 0x80;
/** D6: set in an abnormal (error) reply. */
export const DLT645_ABNORMAL_BIT = 0x40;
/** D5: set when more data follows in a later frame. */
export const DLT645_FOLLOW_UP_BIT = 0x20;
/** D4–D0: the function. */
export const DLT645_FUNCTION_MASK = 0x1f;

/**
 * Function codes (C D4–D0) of both editions. The 2007 and 1997 values come from PEACE `const.go`
 * (2007 value, 1997 value in parentheses there) and NGGW `defs.rs` `for_request`.
 */
export const DLT645_FUNCTION = {
  /** 08H in both editions: broadcast time sync 广播校时, no reply. */
  timeSync: 0x08,
  /** 2007 read data. */
  read2007: 0x11,
  /** 2007 read follow-up data. */
  readFollowUp2007: 0x12,
  /** 2007 read communication address. */
  readAddress: 0x13,
  /** 2007 write data. */
  write2007: 0x14,
  /** 2007 write communication address. */
  writeAddress2007: 0x15,
  /** 1997 read data. */
  read1997: 0x01,
  /** 1997 read follow-up data. */
  readFollowUp1997: 0x02,
  /** 1997 re-read data. */
  reread1997: 0x03,
  /** 1997 write data. */
  write1997: 0x04,
} as const;

/**
 * The edition a control code belongs to. 1997 functions are 01H–10H (PEACE `const.go`: 01, 02, 03, 04, 0A, 0C,
 * 0F, 10); 2007 functions are 11H and up. 08H (broadcast time sync) is common to both and, like any other code,
 * is reported as '2007': nothing in such a frame tells the editions apart.
 */
export function versionOfControl(control: number): Dlt645Version {
  const fn = control & DLT645_FUNCTION_MASK;
  return fn >= 0x01 && fn <= 0x10 && fn !== DLT645_FUNCTION.timeSync ? '1997' : '2007';
}

/** The flags carried by the top three bits of C. */
export interface Dlt645ControlFlags {
  direction: Dlt645Direction;
  abnormal: boolean;
  followUp: boolean;
}

/** Splits C into its D7/D6/D5 flags. */
export function controlFlags(control: number): Dlt645ControlFlags {
  return {
    direction: control & DLT645_DIRECTION_BIT ? 'reply' : 'request',
    abnormal: (control & DLT645_ABNORMAL_BIT) !== 0,
    followUp: (control & DLT645_FOLLOW_UP_BIT) !== 0,
  };
}

/** Number of bytes of a data identifier in each edition (docs/dlt645.md §2.3): 4 in 2007, 2 in 1997. */
export function diLength(version: Dlt645Version): 2 | 4 {
  return version === '2007' ? 4 : 2;
}
