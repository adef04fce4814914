import { ProtocolError } from '../errors.ts';

/**
 * Bits of the error word ERR of an abnormal reply (docs/dlt645.md §2.3; PEACE `const.go` enum `ErrorCode`).
 * Bit 7 is reserved. The same names are used for 1997 abnormal replies (C1H): docs/dlt645.md §2.3 gives no
 * separate 1997 table.
 */
export const DLT645_ERROR_BITS = [
  { bit: 0, name: 'other error' }, // 其他错误
  { bit: 1, name: 'no data requested' }, // 无请求数据
  { bit: 2, name: 'password error or unauthorised' }, // 密码错误/未授权
  { bit: 3, name: 'baud rate cannot change' }, // 通信速率不能更改
  { bit: 4, name: 'year zone count exceeded' }, // 年时区数超
  { bit: 5, name: 'day period count exceeded' }, // 日时段数超
  { bit: 6, name: 'tariff count exceeded' }, // 费率数超
] as const;

/** Name of one error bit. */
export type Dlt645ErrorName = (typeof DLT645_ERROR_BITS)[number]['name'];

/** Name used for the reserved bit 7 when a meter sets it anyway. */
export const DLT645_RESERVED_ERROR_BIT = 'reserved bit 7';

/** The names of the bits set in an error word, lowest bit first. */
export function errorNames(error: number): string[] {
  const names: string[] = DLT645_ERROR_BITS.filter((b) => error & (1 << b.bit)).map((b) => b.name);
  if (error & 0x80) names.push(DLT645_RESERVED_ERROR_BIT);
  return names;
}

/** An error word from a number (0–255) or a list of bit names; throws BAD_FIELD on anything else. */
export function errorWord(error: number | readonly Dlt645ErrorName[]): number {
  if (typeof error === 'number') {
    if (!Number.isInteger(error) || error < 0 || error > 0xff) {
      throw new ProtocolError('BAD_FIELD', `DL/T 645 error word ${error} must be an integer 0–255`);
    }
    return error;
  }
  let word = 0;
  for (const name of error) {
    const bit = DLT645_ERROR_BITS.find((b) => b.name === name);
    if (!bit) {
      const known = DLT645_ERROR_BITS.map((b) => `"${b.name}"`).join(', ');
      throw new ProtocolError('BAD_FIELD', `unknown DL/T 645 error bit "${name}" (known: ${known})`);
    }
    word |= 1 << bit.bit;
  }
  return word;
}
