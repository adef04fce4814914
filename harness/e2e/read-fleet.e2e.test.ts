import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// Issue 14 item 14, the way a user runs it: `meterlab master` with no archive, `meterlab sim` with a generated
// fleet printed by --print-fleet, `meterlab relay`, then `meterlab read --all --fleet`. Before the fix every read
// answered UNKNOWN_CONCENTRATOR: the fleet line named concentrators by alias, which only an archive resolves.

const CLI = fileURLToPath(new URL('../../bin/meterlab.mjs', import.meta.url));
const children: ChildProcess[] = [];
let dir: string | undefined;

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Starts `meterlab ARGS`; resolves with the first match of `pattern` in its stdout+stderr, and its output. */
function start(args: string[], pattern: RegExp): Promise<{ match: RegExpMatchArray; output: () => string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`meterlab ${args[0]} did not print ${pattern}:\n${text}`)),
      30_000,
    );
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const match = text.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve({ match, output: () => text });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`meterlab ${args[0]} exited ${code}:\n${text}`));
    });
  });
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('meterlab read --all --fleet', () => {
  it('reads every meter of a generated fleet through a master that has no archive', async () => {
    dir = mkdtempSync(join(tmpdir(), 'meterlab-read-fleet-'));
    const master = await start(
      ['master', '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0'],
      /concentrators on 127\.0\.0\.1:(\d+), client API on 127\.0\.0\.1:(\d+)/,
    );
    const [, listenPort, apiPort] = master.match;
    const sim = await start(
      [
        'sim',
        '--concentrators',
        '2',
        '--ports',
        '2',
        '--meters-per-port',
        '2',
        '--protocol',
        'dlt645',
        '--master',
        `127.0.0.1:${listenPort}`,
        '--print-fleet',
        '--status-interval',
        '0',
      ],
      /^(\{"concentrators".*\})$/m,
    );
    const fleetFile = join(dir, 'fleet.json');
    writeFileSync(fleetFile, `${sim.match[1]}\n`);
    const relay = await start(
      ['relay', '--listen', '127.0.0.1:0', '--master', `127.0.0.1:${apiPort}`],
      /listening on (ws:\/\/127\.0\.0\.1:\d+)/,
    );
    // Both concentrators log in before the read starts (the master prints each login).
    const deadline = Date.now() + 30_000;
    while ((master.output().match(/login 0001/g) ?? []).length < 2) {
      if (Date.now() > deadline) throw new Error(`the fleet did not log in:\n${master.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const read = await run(['read', '--relay', relay.match[1], '--all', '--fleet', fleetFile]);
    expect(read.stdout).toMatch(/^8 of 8 read; /m);
    expect(read.stdout).not.toMatch(/UNKNOWN_CONCENTRATOR/);
    expect(read.code).toBe(0);
  }, 90_000);
});
