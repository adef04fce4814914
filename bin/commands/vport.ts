import type { Command } from 'commander';
import { createPtyPair, type PtyPair } from '../../simulator/link/pty-pair.ts';
import { untilInterrupted } from '../io.ts';
import { logLine } from '../log.ts';

/** Flags of `meterlab vport`. */
export interface VportFlags {
  dir?: string;
  names?: string;
}

/** Re-exported for the commands that import it from here (tap, replay, meters). */
export { untilInterrupted };

/**
 * Creates the pair `meterlab vport` serves. Throws LinkError SOCAT_MISSING / SOCAT_FAILED / LINK_BUSY, or a
 * TypeError for bad `--names`.
 */
export async function openVport(flags: VportFlags): Promise<PtyPair> {
  let names: [string, string] | undefined;
  if (flags.names !== undefined) {
    const parts = flags.names.split(',').map((n) => n.trim());
    if (parts.length !== 2)
      throw new TypeError(`--names must be two names separated by a comma, got "${flags.names}"`);
    names = [parts[0], parts[1]];
  }
  return createPtyPair({ dir: flags.dir, names });
}

/**
 * Runs `meterlab vport`: makes the pair, prints both paths (one per line on stdout), keeps it until Ctrl-C
 * (or `signal`), then removes it. Rejects when socat dies on its own.
 */
export async function runVport(
  flags: VportFlags,
  io: { out?: (line: string) => void; err?: (line: string) => void; signal?: AbortSignal } = {},
): Promise<void> {
  const out = io.out ?? ((line) => process.stdout.write(`${line}\n`));
  const err = io.err ?? ((line) => logLine(line));
  const pair = await openVport(flags);
  try {
    out(pair.paths[0]);
    out(pair.paths[1]);
    err(`virtual serial pair ready (socat pid ${pair.pid}); Ctrl-C removes it`);
    const died = new Promise<Error>((resolve) => pair.once('exit', resolve));
    const outcome = await Promise.race([untilInterrupted(io.signal), died]);
    if (outcome instanceof Error) throw outcome;
  } finally {
    await pair.close();
  }
}

/** `meterlab vport [--dir DIR]`. */
export function registerVport(program: Command): void {
  program
    .command('vport')
    .description(
      'create a virtual serial pair (two linked ptys via socat), print both paths, keep it until Ctrl-C',
    )
    .option('--dir <dir>', 'folder for the two links (default: a fresh temporary folder)')
    .option('--names <a,b>', 'file names of the two links', 'ttyV0,ttyV1')
    .addHelpText(
      'after',
      `
Example:
  meterlab vport --dir /tmp/vp        # prints /tmp/vp/ttyV0 and /tmp/vp/ttyV1
  meterlab meters --port /tmp/vp/ttyV1 --protocol cjt188 --meters 101001
  meterlab poll --port /tmp/vp/ttyV0 --protocol cjt188 --meter 101001`,
    )
    .action(async (flags: VportFlags) => {
      await runVport(flags);
    });
}
