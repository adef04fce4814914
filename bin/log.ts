/**
 * Log lines of the long-running commands (issue 14 items 10–11): each starts with the local time and its UTC
 * offset, `2026-12-05T21:13:07.412+08:00`, so a line read later or next to another machine's log says exactly when
 * it happened. The offset is the process's time zone (TZ), not assumed.
 */
export function timestamp(at: Date = new Date()): string {
  const offsetMin = -at.getTimezoneOffset();
  const local = new Date(at.getTime() + offsetMin * 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${local.toISOString().slice(0, 23)}${zone}`;
}

/**
 * Writes `text` to stderr, the time in front of its first line; the lines after it (a decoded frame under its
 * hex) are indented under it and keep the stamp of the first.
 */
export function logLine(text: string, at: Date = new Date()): void {
  process.stderr.write(`${timestamp(at)} ${text}\n`);
}
