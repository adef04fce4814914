/** Line settings of a serial link: what a UART is configured with, and what decides a frame's wire time. */
export interface SerialSettings {
  /** Bits per second on the wire. */
  baudRate: number;
  /** Data bits per character. */
  dataBits: 5 | 6 | 7 | 8;
  /** Parity bit: `'none'` adds no bit; the others add one. */
  parity: 'none' | 'even' | 'odd' | 'mark' | 'space';
  /** Stop bits per character. */
  stopBits: 1 | 1.5 | 2;
}

/**
 * 2400 bit/s, 8 data bits, even parity, 1 stop bit: the default of CJ/T 188 water meters and DL/T 645-2007
 * electricity meters on RS-485 (docs/cjt188.md §1.1, docs/dlt645.md §2.1). 11 bits per character.
 */
export const DEFAULT_METER_SERIAL: Readonly<SerialSettings> = Object.freeze({
  baudRate: 2400,
  dataBits: 8,
  parity: 'even',
  stopBits: 1,
});

const PARITIES = ['none', 'even', 'odd', 'mark', 'space'] as const;

/**
 * Bits one character occupies on the wire: 1 start bit + data bits + parity bit (if any) + stop bits.
 * 8E1 = 11, 8N1 = 10, 7E1 = 10, 8N2 = 11.
 */
export function bitsPerChar(settings: SerialSettings): number {
  return 1 + settings.dataBits + (settings.parity === 'none' ? 0 : 1) + settings.stopBits;
}

/**
 * How long `bytes` characters occupy the wire, in ms, sent back to back: `bytes × bitsPerChar / baud`.
 * 16 bytes at 2400 8E1 = 16 × 11 / 2400 s = 73.33 ms.
 */
export function wireTimeMs(bytes: number, settings: SerialSettings): number {
  return (bytes * bitsPerChar(settings) * 1000) / settings.baudRate;
}

/**
 * Checks settings and returns a complete copy, filling gaps from `defaults`.
 * @throws TypeError naming the field (prefixed with `what`) when a value is not allowed.
 */
export function validateSerialSettings(
  settings: Partial<SerialSettings> | undefined,
  what = 'settings',
  defaults: SerialSettings = DEFAULT_METER_SERIAL,
): SerialSettings {
  if (settings !== undefined && (typeof settings !== 'object' || settings === null)) {
    throw new TypeError(`"${what}" must be an object`);
  }
  const s = { ...defaults, ...settings };
  if (typeof s.baudRate !== 'number' || !Number.isFinite(s.baudRate) || s.baudRate <= 0) {
    throw new TypeError(`"${what}.baudRate" must be a positive number, got ${String(s.baudRate)}`);
  }
  if (![5, 6, 7, 8].includes(s.dataBits)) {
    throw new TypeError(`"${what}.dataBits" must be 5, 6, 7 or 8, got ${String(s.dataBits)}`);
  }
  if (!PARITIES.includes(s.parity)) {
    throw new TypeError(`"${what}.parity" must be one of ${PARITIES.join(', ')}, got ${String(s.parity)}`);
  }
  if (![1, 1.5, 2].includes(s.stopBits)) {
    throw new TypeError(`"${what}.stopBits" must be 1, 1.5 or 2, got ${String(s.stopBits)}`);
  }
  return { baudRate: s.baudRate, dataBits: s.dataBits, parity: s.parity, stopBits: s.stopBits };
}

/** "2400 8E1" — the way field engineers write line settings. */
export function formatSerialSettings(settings: SerialSettings): string {
  return `${settings.baudRate} ${settings.dataBits}${settings.parity[0].toUpperCase()}${settings.stopBits}`;
}
