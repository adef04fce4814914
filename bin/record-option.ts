import type { Command } from 'commander';
import { ProcessRecording } from '../harness/recording/process-recording.ts';

/**
 * `--record FILE` on the long-running commands (meters, poll, sim, master, relay): the process records its own
 * links, each wrapped in a TapLink (harness/recording/process-recording.ts). One place for the flag's words,
 * so every command offers it the same way.
 */
export function addRecordOption(command: Command): Command {
  return command.option(
    '--record <file>',
    "record this process's own links, every chunk and frame, as a recording (JSON Lines; replaced if it exists)",
  );
}

/** The recording `--record` asks for, or undefined without the flag. `process` names the command. */
export function startRecording(file: string | undefined, process: string): ProcessRecording | undefined {
  return file ? ProcessRecording.toFile(file, process) : undefined;
}
