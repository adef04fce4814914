/** A benchmark was given a flag it does not know or a value it cannot use: the user's to fix. */
export class UsageError extends Error {
  readonly code = 'BENCH_USAGE';
  override name = 'UsageError';
}

/** Command-line flags of a benchmark: `--name value` pairs and bare switches, read in order. */
export interface FlagValue {
  /** The flag's value as text; a UsageError naming the flag if it has none. */
  text(): string;
  /** The flag's value as a positive number; a UsageError naming the flag otherwise. */
  positive(): number;
}

/**
 * Calls `take(flag, value)` for each flag in `args`; `take` reads the value it needs (if any) and returns
 * false for a flag it does not know, which is then reported as an unknown option.
 */
export function readFlags(args: readonly string[], take: (flag: string, value: FlagValue) => boolean): void {
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const value: FlagValue = {
      text() {
        const v = args[++i];
        if (v === undefined) throw new UsageError(`${flag} needs a value`);
        return v;
      },
      positive() {
        const n = Number(this.text());
        if (!(n > 0)) throw new UsageError(`${flag} must be a positive number`);
        return n;
      },
    };
    if (!take(flag, value)) throw new UsageError(`unknown option ${flag}`);
  }
}
