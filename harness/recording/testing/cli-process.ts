/**
 * A `meterlab` command run as its own process for whole-path tests: collects its stdout and stderr lines,
 * waits for a line with a deadline (never a fixed sleep), and stops it with a signal. @internal
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/meterlab.mjs', import.meta.url));
const running = new Set<CliProcess>();
/**
 * Generous on purpose: starting a `meterlab` process through tsx takes seconds on a loaded two-core machine.
 * Waits poll for a line, so a fast machine is not slowed down by it.
 */
export const STARTUP_DEADLINE_MS = 60_000;
/** A test timeout for tests that start several processes. */
export const PROCESS_TEST_TIMEOUT_MS = 180_000;

export class CliProcess {
  readonly child: ChildProcess;
  readonly out: string[] = [];
  readonly err: string[] = [];
  readonly exited: Promise<number | null>;
  #waiters: (() => void)[] = [];

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this);
    for (const [stream, lines] of [
      [this.child.stdout, this.out],
      [this.child.stderr, this.err],
    ] as const) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => {
        const parts = (partial + text).split('\n');
        partial = parts.pop() ?? '';
        lines.push(...parts);
        this.#wake();
      });
    }
    this.exited = new Promise((resolve) =>
      this.child.once('close', (code) => {
        running.delete(this);
        this.#wake();
        resolve(code);
      }),
    );
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** The first line (stdout or stderr) matching `pattern`, waiting up to `timeoutMs`. */
  async waitFor(pattern: RegExp, timeoutMs = STARTUP_DEADLINE_MS): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const line of [...this.out, ...this.err]) {
        const m = pattern.exec(line);
        if (m) return m;
      }
      if (this.child.exitCode !== null) {
        throw new Error(
          `process exited (${this.child.exitCode}) before printing ${pattern}:\n${this.err.join('\n')}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no line matching ${pattern} within ${timeoutMs} ms:\n${[...this.out, ...this.err].join('\n')}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends `signal` (SIGINT = Ctrl-C) and resolves with the exit code; SIGKILL after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGINT', timeoutMs = 10_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Runs a command to its end; resolves with its exit code and output. */
export async function runCli(args: string[]): Promise<{ code: number | null; out: string[]; err: string[] }> {
  const p = new CliProcess(args);
  const code = await p.exited;
  // Let the last piped data arrive.
  await new Promise((resolve) => setImmediate(resolve));
  return { code, out: p.out, err: p.err };
}

/** Kills whatever a failed test left running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop('SIGKILL')));
}
