/**
 * A concentrator as a point-read message names it: its Q/GDW 1376.1 address or a short alias.
 *
 * - `address`: nine decimal digits, A1 then A2. A1 is the 4-digit BCD area code (行政区划码); A2 is the
 *   terminal address, binary 1–65535 on the wire, written as 5 decimal digits (A2 = 0 is "no address" in
 *   376.1, so it cannot name a concentrator).
 * - `alias`: 1–32 characters of `[0-9A-Za-z_.-]`, such as the legacy page's `"101"`; the master station maps
 *   aliases to addresses. A string of exactly nine digits is always read as an address, never as an alias.
 */
export type ConcentratorId = { kind: 'address'; a1: string; a2: number } | { kind: 'alias'; alias: string };

const ADDRESS = /^(\d{4})(\d{5})$/;
const ALIAS = /^[0-9A-Za-z_.-]{1,32}$/;

/**
 * Reads a concentrator id, or explains why it is not one (the text completes `"concentrator" …`).
 * Never throws.
 */
export function parseConcentratorId(text: string): ConcentratorId | { kind: 'invalid'; problem: string } {
  const address = ADDRESS.exec(text);
  if (address) {
    const a2 = Number(address[2]);
    if (a2 < 1 || a2 > 65535) {
      return {
        kind: 'invalid',
        problem: `has A2 (digits 5–9) ${address[2]}, outside 00001–65535`,
      };
    }
    return { kind: 'address', a1: address[1], a2 };
  }
  if (ALIAS.test(text)) return { kind: 'alias', alias: text };
  return {
    kind: 'invalid',
    problem: 'must be A1+A2 (9 digits) or an alias of 1–32 characters [0-9A-Za-z_.-]',
  };
}
