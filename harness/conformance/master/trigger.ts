import { spawn } from 'node:child_process';

/**
 * The trigger of the active master cases: something that makes the master under test start a point-read of the
 * simulated meter — the user's shell command (`--trigger 'curl …/read?meter={meter}'`), or a function in tests.
 * What it prints is searched for the reading (see {@link printedValues}).
 * @packageDocumentation
 */

/** Placeholders a trigger command may use. */
export interface TriggerVars {
  /** The meter's full address. */
  meter: string;
  /** A1 + A2 as 9 digits, e.g. `017102082`. */
  concentrator: string;
  a1: string;
  /** A2 in decimal. */
  a2: string;
  /** Concentrator port of the meter. */
  port: string;
  /** `cjt188` or `dlt645`. */
  protocol: string;
}

/** What a trigger did. */
export interface TriggerOutput {
  /** Exit status; null when it was killed (see `signal`). */
  exitCode: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

/** Starts a read at the master. `run` never rejects: a failure is an output with a non-zero exit. */
export interface MasterTrigger {
  describe(vars: TriggerVars): string;
  /** Runs it; `signal` (Ctrl-C) stops it early. */
  run(vars: TriggerVars, signal?: AbortSignal): Promise<TriggerOutput>;
}

const PLACEHOLDER = /\{(meter|concentrator|a1|a2|port|protocol)\}/g;

/** `template` with its placeholders filled in. */
export function fillTemplate(template: string, vars: TriggerVars): string {
  return template.replace(PLACEHOLDER, (_, name: keyof TriggerVars) => vars[name]);
}

/** Bound of the output kept from a trigger command, bytes per stream. */
const MAX_OUTPUT = 64 * 1024;

/**
 * A trigger that runs `template` (placeholders filled in) with `/bin/sh -c`. It is killed with its children
 * (SIGTERM to its process group, then SIGKILL a second later) after `timeoutMs`.
 */
export function shellTrigger(template: string, options: { timeoutMs: number }): MasterTrigger {
  return {
    describe: (vars) => fillTemplate(template, vars),
    run: (vars, signal) =>
      new Promise((resolve) => {
        // Its own process group, so a timeout kills the whole pipeline (curl | jq …), not only the shell.
        const child = spawn('/bin/sh', ['-c', fillTemplate(template, vars)], {
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        });
        const killGroup = (signal: NodeJS.Signals) => {
          try {
            if (child.pid !== undefined) process.kill(-child.pid, signal);
          } catch {
            // already gone
          }
        };
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (b: Buffer) => {
          if (stdout.length < MAX_OUTPUT) stdout += b.toString('utf8');
        });
        child.stderr.on('data', (b: Buffer) => {
          if (stderr.length < MAX_OUTPUT) stderr += b.toString('utf8');
        });
        let kill: NodeJS.Timeout | undefined;
        const stop = () => {
          killGroup('SIGTERM');
          kill = setTimeout(() => killGroup('SIGKILL'), 1000);
        };
        const timer = setTimeout(stop, options.timeoutMs);
        signal?.addEventListener('abort', stop, { once: true });
        const done = (output: TriggerOutput) => {
          clearTimeout(timer);
          if (kill) clearTimeout(kill);
          signal?.removeEventListener('abort', stop);
          resolve(output);
        };
        child.on('error', (error) => done({ exitCode: 127, stdout, stderr: `${stderr}${error.message}` }));
        child.on('close', (code, signal) =>
          done(signal ? { exitCode: code, signal, stdout, stderr } : { exitCode: code, stdout, stderr }),
        );
      }),
  };
}

/**
 * The numbers a trigger printed that can be a reading: a JSON `value` or `AccumVal` field when the output is
 * JSON (meterlab's v1 reading, the legacy flat answer), otherwise every decimal number in the text.
 */
export function printedValues(stdout: string): number[] {
  const fields = [...stdout.matchAll(/"(?:value|AccumVal)"\s*:\s*(-?\d+(?:\.\d+)?)/g)].map((m) =>
    Number(m[1]),
  );
  if (fields.length > 0) return fields;
  return [...stdout.matchAll(/-?\d+(?:\.\d+)?/g)].map((m) => Number(m[0]));
}
