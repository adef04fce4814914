/**
 * Control code C (docs/cjt188.md §1.5): D7 direction, D6 abnormal reply, D5–D0 function (KINGDA
 * `CJT_188_CTRStruct`).
 * @packageDocumentation
 */

/** Function codes (C & 3FH) of CJ/T 188-2004 (KINGDA, XJZ, AIXI, SYN, NGGW). */
export const CJT188_FUNCTIONS = {
  read: 0x01,
  readAddress: 0x03,
  write: 0x04,
  readKeyVersion: 0x09,
  writeAddress: 0x15,
  writeBaseReading: 0x16,
} as const;

/** D7: 1 = meter → master. */
export const CJT188_DIRECTION_BIT = 0x80;
/** D6: 1 = abnormal (error) reply. */
export const CJT188_ABNORMAL_BIT = 0x40;

/** The function part of C. KINGDA reads D5–D0; NGGW reads D4–D0 plus a D5 follow-up flag — no known code sets D5. */
export function controlFunction(control: number): number {
  return control & 0x3f;
}

/** `'reply'` when D7 is set. */
export function controlDirection(control: number): 'request' | 'reply' {
  return control & CJT188_DIRECTION_BIT ? 'reply' : 'request';
}

/** True when D6 is set (error reply, e.g. C1). */
export function controlAbnormal(control: number): boolean {
  return (control & CJT188_ABNORMAL_BIT) !== 0;
}

/** The normal reply code for a request code: request | 80H (01 → 81). */
export function replyControl(requestControl: number): number {
  return (requestControl & 0x3f) | CJT188_DIRECTION_BIT;
}

/** The error reply code for a request code: request | C0H (01 → C1, 15 → D5). */
export function errorControl(requestControl: number): number {
  return (requestControl & 0x3f) | CJT188_DIRECTION_BIT | CJT188_ABNORMAL_BIT;
}
