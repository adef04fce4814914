import { type Command, InvalidArgumentError } from 'commander';

/**
 * The meter clock's zone (issue 14 item 10). CJ/T 188 and DL/T 645 carry the meter's time as local digits with no
 * zone; meters in China keep China Standard Time, so meterlab's simulated meters default to UTC+08:00, and every
 * command that prints a meter's time says which offset it assumed. Timestamps meterlab makes itself (`readAt`,
 * log lines) are UTC and say so (`Z`).
 */
export const DEFAULT_METER_UTC_OFFSET = '+08:00';

/** `+08:00`, `-05:30`, `+8`, `0` → minutes east of UTC; throws InvalidArgumentError in the user's terms. */
export function parseUtcOffset(text: string): number {
  const m = /^([+-])?(\d{1,2})(?::?(\d{2}))?$/.exec(text.trim());
  if (!m || (text.trim() !== '0' && !m[1])) {
    throw new InvalidArgumentError(`"${text}" is not a UTC offset; write it as +08:00, -05:30 or 0`);
  }
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  if (Number(m[2]) > 14 || Number(m[3] ?? 0) > 59 || minutes > 14 * 60) {
    throw new InvalidArgumentError(`"${text}" is not a UTC offset between -14:00 and +14:00`);
  }
  return m[1] === '-' ? -minutes : minutes;
}

/** Minutes east of UTC → `+08:00`. */
export function formatUtcOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** Adds `--meter-utc-offset <±hh:mm>` (default +08:00), parsed to minutes east of UTC. */
export function addMeterClockOption(command: Command, what: string): Command {
  return command.option(
    '--meter-utc-offset <offset>',
    `zone of the meter clock ${what} (meter times carry no zone of their own)`,
    parseUtcOffset,
    parseUtcOffset(DEFAULT_METER_UTC_OFFSET),
  );
}

/** A meter's clock reading as a user should see it: `2026-12-05 20:30:00 +08:00 (meter clock)`. */
export function formatMeterTime(meterTime: string, offsetMinutes: number): string {
  return `${meterTime.replace('T', ' ')} ${formatUtcOffset(offsetMinutes)} (meter clock)`;
}
