import type { EventEmitter } from 'node:events';
import { Command, CommanderError } from 'commander';
import { installStopHandlers, stopRequested } from './io.ts';
import { UsageError } from './usage.ts';

type Register = (program: Command) => void;

/**
 * Every subcommand and where its module is. A module is imported only when its command is the one chosen
 * (issue 14 item 13: `meterlab encode` must not pay for loading the master station, the relay and serialport);
 * the top-level help, or a name that is not here, loads them all.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  demo: async () => (await import('./commands/demo.ts')).registerDemo,
  decode: async () => (await import('./commands/decode.ts')).registerDecode,
  encode: async () => (await import('./commands/encode.ts')).registerEncode,
  vport: async () => (await import('./commands/vport.ts')).registerVport,
  meters: async () => (await import('./commands/meters.ts')).registerMeters,
  poll: async () => (await import('./commands/poll.ts')).registerPoll,
  sim: async () => (await import('./commands/sim.ts')).registerSim,
  master: async () => (await import('./commands/master.ts')).registerMaster,
  relay: async () => (await import('./commands/relay.ts')).registerRelay,
  read: async () => (await import('./commands/read.ts')).registerRead,
  tap: async () => (await import('./commands/tap.ts')).registerTap,
  import: async () => (await import('./commands/import.ts')).registerImport,
  replay: async () => (await import('./commands/replay.ts')).registerReplay,
  diff: async () => (await import('./commands/replay.ts')).registerDiff,
  learn: async () => (await import('./commands/replay.ts')).registerLearn,
  conform: async () => (await import('./commands/conform.ts')).registerConform,
};

/**
 * Commands that run until stopped: a Ctrl-C or SIGTERM asks them to stop cleanly (exit 0), from the moment the
 * process starts (README "Stopping"). Other commands end at once on Ctrl-C (exit 130, as a shell shows it).
 */
export const LONG_RUNNING = new Set(['demo', 'vport', 'meters', 'sim', 'master', 'relay', 'tap', 'replay']);

/** Exit status for a usage error: an unknown or malformed option, a missing argument (README "Exit status"). */
export const USAGE_EXIT = 2;

/**
 * Examples for commands whose module has none of its own yet (their modules belong to the recording work;
 * issue 14 item 13 wants one in every `--help`). A module that adds its own example wins.
 */
const FALLBACK_EXAMPLES: Record<string, string> = {
  replay: `
Examples:
  meterlab replay s.jsonl --as device --port serial:/tmp/vp/ttyV1
  meterlab replay s.jsonl --as driver --target serial:/dev/ttyUSB0 --ignore value,time`,
  diff: `
Example:
  meterlab diff before.jsonl after.jsonl --ignore time,seq`,
  learn: `
Example:
  meterlab learn field.jsonl --out scenario.json && meterlab sim --scenario scenario.json`,
};

/** The text a command's `addHelpText('after', …)` adds, as its --help would print it. */
export function helpAfter(command: Command): string {
  let text = '';
  const context = { error: false, command, write: (t: string) => (text += t) };
  // commander's Command is an EventEmitter at run time (addHelpText listens for 'afterHelp'); its typings omit it.
  (command as unknown as EventEmitter).emit('afterHelp', context);
  return text;
}

/** The subcommand named in `argv` (the first word that is not an option), if any. */
export function chosenCommand(argv: string[]): string | undefined {
  return argv.slice(2).find((a) => !a.startsWith('-'));
}

/**
 * Builds the `meterlab` program with the chosen subcommand only (all of them when `argv` names none, for the
 * top-level help). Each subcommand lives in bin/commands/ and only parses flags.
 */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command('meterlab')
    .description('Meter-concentrator simulator and protocol test harness (CJ/T 188, DL/T 645, Q/GDW 1376.1)')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  const name = chosenCommand(argv);
  const chosen = name !== undefined && Object.hasOwn(COMMANDS, name) ? [name] : Object.keys(COMMANDS);
  const registers = await Promise.all(chosen.map((n) => COMMANDS[n]()));
  for (const register of registers) register(program);
  for (const command of program.commands) {
    const example = FALLBACK_EXAMPLES[command.name()];
    if (example && !/Example/.test(helpAfter(command))) command.addHelpText('after', example);
  }
  return program;
}

/** `meterlab encode cjt188-read --meter x` → `meterlab encode cjt188-read`: how the usage hint names the command. */
function commandPath(program: Command | undefined, argv: string[]): string {
  const words = ['meterlab'];
  let command = program;
  for (const arg of argv.slice(2).filter((a) => !a.startsWith('-'))) {
    const sub = command?.commands.find((c) => c.name() === arg);
    if (!sub) break;
    words.push(arg);
    command = sub;
  }
  if (!program) {
    const name = chosenCommand(argv);
    if (name !== undefined && Object.hasOwn(COMMANDS, name)) words.push(name);
  }
  return words.join(' ');
}

/** Commander's "error: option '--baud <n>' argument 'x' is invalid. …" in the user's terms, on one line. */
function usageLine(message: string): string {
  return message
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

/** Runs the CLI and resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let program: Command | undefined;
  const usage = (message: string): number => {
    const where = commandPath(program, argv);
    process.stderr.write(`${where}: ${usageLine(message)} (see \`${where} --help\`)\n`);
    return USAGE_EXIT;
  };
  try {
    program = await buildProgram(argv);
  } catch (err) {
    return failure(err);
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end with status 0 through the same path.
      if (err.exitCode === 0) return 0;
      return usage(err.message);
    }
    // The flag checks in bin/ throw TypeErrors that name the flag (`--master must be HOST:PORT …`); any other
    // TypeError is a fault of ours and is reported as one.
    if (err instanceof UsageError || (err instanceof TypeError && /(^|[\s"'])--[a-z]/.test(err.message)))
      return usage(err.message);
    return failure(err);
  }
}

/** A runtime failure: one line with the error's stable code, exit 1 — or 0 when it came from a requested stop. */
function failure(err: unknown): number {
  const e = err as Error & { code?: string };
  // The reader of our output went away (`meterlab decode … | head`): nothing more to say to anyone.
  if (e?.code === 'EPIPE') return 0;
  if (stopRequested()) {
    if (e?.code !== 'STOPPED') process.stderr.write(`meterlab: while stopping: ${e?.message ?? String(e)}\n`);
    return 0;
  }
  process.stderr.write(`meterlab: ${e?.code ? `${e.code}: ` : ''}${e?.message ?? String(e)}\n`);
  return 1;
}

/**
 * The process entry (bin/meterlab.mjs): installs the stop handlers before anything starts, and a last guard so
 * that an error nobody handled ends the process with one line instead of a stack trace.
 */
export async function runCli(argv: string[]): Promise<number> {
  installStopHandlers({ claim: LONG_RUNNING.has(chosenCommand(argv) ?? '') });
  const last = (err: unknown) => {
    const code = failure(err);
    process.exit(code);
  };
  process.on('uncaughtException', last);
  process.on('unhandledRejection', last);
  const code = await main(argv);
  // After a requested stop everything the command started has been stopped; a handle that something still
  // holds (a socket half-closed by the peer, a timer) must not keep the process alive past it.
  if (stopRequested()) process.exit(code);
  return code;
}
