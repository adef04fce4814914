import { InvalidArgumentError } from 'commander';

/**
 * A command line that cannot be run as given (issue 14 item 12): `main` prints its message on one line with a
 * hint to `--help` and exits 2. The message names the flag as the user typed it (`--timeout`, not `timeoutMs`).
 */
export class UsageError extends Error {
  readonly code = 'USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * An option parser for a number in [min, max] (whole when `integer`); commander reports a bad value with the
 * flag's name: `option '--heartbeat' argument 'abc' is invalid. must be a number of seconds > 0`.
 */
export function numberArg(
  what: string,
  options: { min?: number; max?: number; integer?: boolean; above?: number } = {},
) {
  const { min, max, integer = false, above } = options;
  return (text: string): number => {
    const n = Number(text);
    const ok =
      text.trim() !== '' &&
      Number.isFinite(n) &&
      (!integer || Number.isInteger(n)) &&
      (min === undefined || n >= min) &&
      (max === undefined || n <= max) &&
      (above === undefined || n > above);
    if (!ok) {
      const range = [
        above !== undefined ? `> ${above}` : min !== undefined ? `≥ ${min}` : '',
        max !== undefined ? `≤ ${max}` : '',
      ]
        .filter(Boolean)
        .join(' and ');
      throw new InvalidArgumentError(
        `must be ${integer ? 'a whole number' : 'a number'} of ${what}${range ? ` ${range}` : ''}`,
      );
    }
    return n;
  };
}
