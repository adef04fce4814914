/**
 * Where a command line finds the relay's bearer token without showing it to `ps` (issue 13 item 9): a file
 * (`--token-file PATH`) or the `METERLAB_TOKEN` environment variable, besides `--token` (kept for scripts that
 * already use it; it is visible in the process list). The token is never logged by meterlab.
 */
import { readFileSync } from 'node:fs';

/** The environment variable both `meterlab relay` and `meterlab read` look at. */
export const TOKEN_ENV = 'METERLAB_TOKEN';

/** Largest token file read (a token is a line; anything bigger is the wrong file). */
const MAX_TOKEN_FILE_BYTES = 4096;

export interface TokenSources {
  /** `--token` as given. */
  token?: string;
  /** `--token-file` as given. */
  tokenFile?: string;
  /** The environment to look in. @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
}

/**
 * The token to use, or `undefined` for none. Rule: `--token` or `--token-file` (giving both is an error), else
 * `METERLAB_TOKEN` when set and not empty. A token file holds the token on its first line; surrounding white space
 * and the line end are ignored, and it must not be empty.
 * @throws TypeError naming the flag (bad usage, unreadable or empty file); its message never contains the token.
 */
export function resolveToken(sources: TokenSources): string | undefined {
  const { token, tokenFile } = sources;
  const env = sources.env ?? process.env;
  if (token !== undefined && tokenFile !== undefined) {
    throw new TypeError('--token and --token-file: give one of them');
  }
  if (token !== undefined) {
    if (token === '') throw new TypeError('--token: the token is empty');
    return token;
  }
  if (tokenFile !== undefined) {
    let text: string;
    try {
      const bytes = readFileSync(tokenFile);
      if (bytes.length > MAX_TOKEN_FILE_BYTES) {
        throw new TypeError(
          `--token-file ${tokenFile}: ${bytes.length} bytes is not a token file (at most ${MAX_TOKEN_FILE_BYTES})`,
        );
      }
      text = bytes.toString('utf8');
    } catch (error) {
      if (error instanceof TypeError) throw error;
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new TypeError(`--token-file ${tokenFile}: cannot read it (${reason})`);
    }
    const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
    if (lines.length === 0) throw new TypeError(`--token-file ${tokenFile}: the file is empty`);
    if (lines.length > 1) throw new TypeError(`--token-file ${tokenFile}: put the token alone on one line`);
    return lines[0].trim();
  }
  const fromEnv = env[TOKEN_ENV];
  return fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv.trim() : undefined;
}
