/**
 * Concentrator ids as the point-read clients write them: A1 (4 BCD digits, the area code) followed by A2 (the
 * terminal address, binary 1–65535 on the wire, written as 5 decimal digits). A1 "0171" + A2 2082 →
 * "017102082" (docs/gdw376.md §3.1: A1 BCD low byte first, A2 binary low byte first, 0000 invalid).
 */

/** A1/A2 of one concentrator. */
export interface ConcentratorAddress {
  /** Area code, 4 decimal digits. */
  a1: string;
  /** Terminal address, 1–65535. */
  a2: number;
}

const ID_PATTERN = /^(\d{4})(\d{5})$/;

/** "0171" + 2082 → "017102082". */
export function formatConcentratorId(a1: string, a2: number): string {
  return `${a1.padStart(4, '0')}${String(a2).padStart(5, '0')}`;
}

/**
 * Parses a 9-digit id into A1/A2; undefined when the text is not of that form or A2 is outside 1–65535.
 * Aliases such as "101" are resolved through the archive; the point-read codec's `parseConcentratorId` is the
 * form that also tells aliases and problems apart.
 */
export function parseConcentratorAddress(id: string): ConcentratorAddress | undefined {
  const m = ID_PATTERN.exec(id);
  if (!m) return undefined;
  const a2 = Number(m[2]);
  if (a2 < 1 || a2 > 0xffff) return undefined;
  return { a1: m[1], a2 };
}
