/** Command-line flags of a benchmark: `--name value` pairs and bare switches, read in order. */
export interface FlagValue {
  /** The flag's value as text; a TypeError naming the flag if it has none. */
  text(): string;
  /** The flag's value as a positive number; a TypeError naming the flag otherwise. */
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
        if (v === undefined) throw new TypeError(`${flag} needs a value`);
        return v;
      },
      positive() {
        const n = Number(this.text());
        if (!(n > 0)) throw new TypeError(`${flag} must be a positive number`);
        return n;
      },
    };
    if (!take(flag, value)) throw new TypeError(`unknown option ${flag}`);
  }
}
