/** Reads all of stdin as bytes. */
export async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * How `meterlab` stops (issue 13 item 8; README "Stopping"). The first SIGINT (Ctrl-C, to the process group or to
 * node alone) or SIGTERM asks for a clean stop: every long-running command is waiting on {@link untilInterrupted}
 * or {@link stopSignal} from the moment it starts, tears down what it built and exits 0. A second signal while
 * stopping, or a stop that hangs longer than {@link STOP_DEADLINE_MS}, ends the process at once (exit 130 / 1);
 * the process 'exit' hooks still remove pty pairs, and socat's watchdog covers even SIGKILL.
 */
export const STOP_DEADLINE_MS = 10_000;

/** Exit status after a second Ctrl-C cut a clean stop short: 128 + SIGINT, as a shell reports it. */
export const FORCED_EXIT = 130;

const controller = new AbortController();
let requested: NodeJS.Signals | undefined;
let installed = false;
/** Whether a signal means "stop cleanly" (a long-running command is running) or "end now" (the default). */
let claimed = false;
let resolveStop: (signal: NodeJS.Signals) => void = () => {};
const stopped = new Promise<NodeJS.Signals>((resolve) => {
  resolveStop = resolve;
});

/** Aborted once a stop was asked for; its reason is the signal's name. */
export const stopSignal: AbortSignal = controller.signal;

/** The signal that asked for a stop, if one did. */
export function stopRequested(): NodeJS.Signals | undefined {
  return requested;
}

/** @internal Marks a stop as asked for, as a signal would (also used by tests). */
export function requestStop(signal: NodeJS.Signals): void {
  if (requested) return;
  requested = signal;
  controller.abort(signal);
  resolveStop(signal);
}

/**
 * Installs the SIGINT/SIGTERM handlers that turn a signal into a clean stop. Called once by `runCli` before the
 * command starts, so a signal that arrives while a command is still starting is not lost: the command sees it
 * as soon as it waits. Commands that never wait (decode, encode …) keep the default: the first Ctrl-C ends them.
 */
export function installStopHandlers(options: { claim: boolean }): void {
  if (options.claim) claimed = true;
  if (installed) return;
  installed = true;
  const onSignal = (signal: NodeJS.Signals) => {
    if (requested) {
      process.stderr.write(`\n${signal} again: stopping now\n`);
      process.exit(FORCED_EXIT);
    }
    if (!claimed) process.exit(FORCED_EXIT);
    process.stderr.write(`\n${signal}: stopping…\n`);
    requestStop(signal);
    const deadline = setTimeout(() => {
      process.stderr.write(`meterlab: did not stop within ${STOP_DEADLINE_MS / 1000} s; stopping now\n`);
      process.exit(1);
    }, STOP_DEADLINE_MS);
    deadline.unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/**
 * Resolves with the signal's name once a stop is asked for — also when it was asked for before the call (a
 * Ctrl-C during start-up). Without {@link installStopHandlers} (library use, tests) it installs one-shot
 * handlers of its own.
 */
export function untilInterrupted(signal?: AbortSignal): Promise<string> {
  installStopHandlers({ claim: true });
  if (!signal) return stopped;
  return new Promise((resolve) => {
    if (signal.aborted) resolve('aborted');
    signal.addEventListener('abort', () => resolve('aborted'), { once: true });
    void stopped.then(resolve);
  });
}

/** Thrown by {@link abortable} when a stop was asked for while waiting. */
export class StopRequested extends Error {
  readonly code = 'STOPPED';
  constructor(signal: string) {
    super(`stopped by ${signal}`);
    this.name = 'StopRequested';
  }
}

/** Waits for `work`, or rejects with {@link StopRequested} as soon as a stop is asked for. */
export function abortable<T>(work: Promise<T>, signal: AbortSignal = stopSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(new StopRequested(String(signal.reason ?? 'a stop')));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new StopRequested(String(signal.reason ?? 'a stop')));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
