import { Command, CommanderError } from 'commander';
import { registerConform } from './commands/conform.ts';
import { registerDecode } from './commands/decode.ts';
import { registerDemo } from './commands/demo.ts';
import { registerEncode } from './commands/encode.ts';
import { registerImport } from './commands/import.ts';
import { registerMaster } from './commands/master.ts';
import { registerMeters } from './commands/meters.ts';
import { registerPoll } from './commands/poll.ts';
import { registerRead } from './commands/read.ts';
import { registerRelay } from './commands/relay.ts';
import { registerDiff, registerLearn, registerReplay } from './commands/replay.ts';
import { registerSim } from './commands/sim.ts';
import { registerTap } from './commands/tap.ts';
import { registerVport } from './commands/vport.ts';

/** Builds the `meterlab` program. Each subcommand lives in bin/commands/ and only parses flags. */
export function buildProgram(): Command {
  const program = new Command('meterlab')
    .description('Meter-concentrator simulator and protocol test harness (CJ/T 188, DL/T 645, Q/GDW 1376.1)')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerDemo(program);
  registerDecode(program);
  registerEncode(program);
  registerVport(program);
  registerMeters(program);
  registerPoll(program);
  registerSim(program);
  registerMaster(program);
  registerRelay(program);
  registerRead(program);
  registerTap(program);
  registerImport(program);
  registerReplay(program);
  registerDiff(program);
  registerLearn(program);
  registerConform(program);
  return program;
}

/** Runs the CLI and resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    const e = err as Error & { code?: string };
    process.stderr.write(`meterlab: ${e.code ? `${e.code}: ` : ''}${e.message}\n`);
    return 1;
  }
}
