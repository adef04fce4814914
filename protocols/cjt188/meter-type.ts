/**
 * Meter type T (docs/cjt188.md §1.3).
 * @packageDocumentation
 */

/** Names of the meter type byte T. Codes with no agreed meaning decode as `'unknown'` (the raw code is kept). */
export type Cjt188MeterTypeName =
  | 'cold-water'
  | 'hot-water'
  | 'drinking-water'
  | 'reclaimed-water'
  | 'water'
  | 'heat'
  | 'cooling'
  | 'heat-cooling'
  | 'heat-meter'
  | 'gas'
  | 'electricity'
  | 'custom'
  | 'wildcard'
  | 'unknown';

/** Meter type codes with their own name (BLOG-SC, KINGDA, NGGW, SYN). */
export const CJT188_METER_TYPES = {
  coldWater: 0x10,
  hotWater: 0x11,
  drinkingWater: 0x12,
  reclaimedWater: 0x13,
  heat: 0x20,
  cooling: 0x21,
  heatCooling: 0x22,
  gas: 0x30,
  electricity: 0x40,
  wildcard: 0xaa,
} as const;

/**
 * The name of a T byte. Ranges follow the 2018 grouping reported by NGGW-DOC (10–19 water, 20–29 heat,
 * 30–39 gas, 40–49 custom); `40` itself is "electricity" as in the 2004-era sources (BLOG-SC, SYN), which
 * conflict with NGGW-DOC there. `22` heat+cooling is 2018-only (NGGW-DOC). `AA` is the wildcard (AIXI, KINGDA).
 */
export function meterTypeName(code: number): Cjt188MeterTypeName {
  switch (code) {
    case 0x10:
      return 'cold-water';
    case 0x11:
      return 'hot-water';
    case 0x12:
      return 'drinking-water';
    case 0x13:
      return 'reclaimed-water';
    case 0x20:
      return 'heat';
    case 0x21:
      return 'cooling';
    case 0x22:
      return 'heat-cooling';
    case 0x40:
      return 'electricity';
    case 0xaa:
      return 'wildcard';
  }
  if (code >= 0x14 && code <= 0x19) return 'water';
  if (code >= 0x23 && code <= 0x29) return 'heat-meter';
  if (code >= 0x30 && code <= 0x39) return 'gas';
  if (code >= 0x41 && code <= 0x49) return 'custom';
  return 'unknown';
}
