import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPtyPair, type PtyPair } from '../../simulator/link/index.ts';

/**
 * Clean stops (issue 13 item 8; README "Stopping"): real `meterlab` processes, each the leader of its own process
 * group as a terminal's foreground job is, stopped the ways a user stops them — Ctrl-C (SIGINT to the whole group,
 * which also reaches any child), SIGINT to node alone, SIGTERM, SIGKILL — at different phases. Each run gets its
 * own TMPDIR, so "no socat left" and "no folder left" are checked for that run alone.
 */

const bin = new URL('../meterlab.mjs', import.meta.url).pathname;
const roots: string[] = [];
const children: ChildProcess[] = [];
const pairs: PtyPair[] = [];

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.pid) kill(-child.pid, 'SIGKILL');
  for (const pair of pairs) await pair.close();
  for (const root of roots) {
    for (const pid of processesMentioning(root)) kill(pid, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
});

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Processes whose command line mentions `text`: socat and its watchdog name the pair's folder under TMPDIR. */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(text)) pids.push(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return pids;
}

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Run {
  child: ChildProcess;
  pid: number;
  tmp: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

function start(args: string[]): Run {
  const tmp = mkdtempSync(join(tmpdir(), 'meterlab-stop-'));
  roots.push(tmp);
  const child = spawn(process.execPath, [bin, ...args], {
    detached: true, // its own process group, as a shell puts a foreground job
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let text = '';
  child.stdout?.setEncoding('utf8').on('data', (t: string) => {
    text += t;
  });
  child.stderr?.setEncoding('utf8').on('data', (t: string) => {
    text += t;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    pid: child.pid ?? -1,
    tmp,
    output: () => text,
    exited,
    waitFor: (pattern, timeoutMs = 30_000) =>
      until(() => pattern.test(text), `${pattern} in:\n${text}`, timeoutMs),
  };
}

/** Exit status, no stack trace, no socat and no pair folder left for this run. */
async function expectCleanStop(run: Run, status = 0): Promise<void> {
  const deadline = new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000).unref());
  const exit = await Promise.race([run.exited, deadline]);
  expect(exit, run.output()).toEqual({ code: status, signal: null });
  expect(run.output()).not.toMatch(/^\s+at .+[(:]\d+/m); // a stack frame
  expect(run.output()).not.toMatch(/Emitted 'error' event|Unhandled|went away while open/);
  await until(() => processesMentioning(run.tmp).length === 0, `no process left under ${run.tmp}`, 5000);
  expect(readdirSync(run.tmp).filter((n) => n.startsWith('meterlab-vport-'))).toEqual([]);
}

const ANY_PORTS = ['--master', '127.0.0.1:0', '--api', '127.0.0.1:0', '--relay', '127.0.0.1:0'];

describe.runIf(existsSync('/usr/bin/socat') || existsSync('/bin/socat'))('meterlab stops cleanly', () => {
  it.concurrent('demo: Ctrl-C to the process group during the read pass', async () => {
    const run = start(['demo', ...ANY_PORTS]);
    await run.waitFor(/on socat pty pairs/);
    expect(readdirSync(run.tmp).some((n) => n.startsWith('meterlab-vport-'))).toBe(true);
    kill(-run.pid, 'SIGINT');
    await expectCleanStop(run);
  });

  it.concurrent('demo: SIGINT to node alone while serving, then SIGTERM at start-up', async () => {
    const serving = start(['demo', ...ANY_PORTS]);
    await serving.waitFor(/Serving until Ctrl-C/, 60_000);
    kill(serving.pid, 'SIGINT');
    await expectCleanStop(serving);

    const starting = start(['demo', ...ANY_PORTS]);
    await starting.waitFor(/master station:/);
    kill(starting.pid, 'SIGTERM');
    await expectCleanStop(starting);
  });

  it.concurrent('vport: Ctrl-C to the group, and SIGINT to node alone', async () => {
    for (const target of ['group', 'node'] as const) {
      const run = start(['vport']);
      await run.waitFor(/virtual serial pair ready/);
      kill(target === 'group' ? -run.pid : run.pid, 'SIGINT');
      await expectCleanStop(run);
    }
  });

  it.concurrent('sim with a pty port: Ctrl-C to the group; SIGKILL leaves no socat and no folder', async () => {
    const root = mkdtempSync(join(tmpdir(), 'meterlab-stop-scenario-'));
    roots.push(root);
    const scenario = join(root, 'pty.json');
    writeFileSync(
      scenario,
      JSON.stringify({
        name: 'pty',
        master: { host: '127.0.0.1', port: 1 }, // nobody listens: the concentrator keeps retrying
        concentrators: [
          { a1: '0171', a2: 1, ports: [{ port: 1, link: { kind: 'pty' }, meters: [{ address: '1' }] }] },
        ],
      }),
    );
    for (const how of ['SIGINT', 'SIGKILL'] as const) {
      const run = start(['sim', '--scenario', scenario, '--status-interval', '0']);
      await run.waitFor(/meterlab sim:/);
      await until(
        () => readdirSync(run.tmp).some((n) => n.startsWith('meterlab-vport-')),
        'the pty pair folder',
      );
      await until(() => processesMentioning(run.tmp).length > 0, 'socat');
      if (how === 'SIGINT') {
        kill(-run.pid, 'SIGINT');
        await expectCleanStop(run);
      } else {
        kill(run.pid, 'SIGKILL'); // node alone: nothing in it runs, the watchdog must do the cleaning
        expect(await run.exited).toEqual({ code: null, signal: 'SIGKILL' });
        await until(() => processesMentioning(run.tmp).length === 0, 'socat gone after SIGKILL', 5000);
        await until(
          () => !readdirSync(run.tmp).some((n) => n.startsWith('meterlab-vport-')),
          'folder gone after SIGKILL',
          5000,
        );
      }
    }
  });

  it.concurrent('meters, master and relay: Ctrl-C to the group and SIGTERM', async () => {
    const pair = await createPtyPair();
    pairs.push(pair);
    const meters = start(['meters', '--port', pair.paths[1], '--protocol', 'cjt188', '--meters', '101001']);
    const master = start(['master', '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0']);
    const relay = start(['relay', '--listen', '127.0.0.1:0', '--master', '127.0.0.1:9']);
    await meters.waitFor(/Ctrl-C to stop/);
    await master.waitFor(/meterlab master:/);
    await relay.waitFor(/listening/);
    kill(-meters.pid, 'SIGINT');
    kill(-master.pid, 'SIGINT');
    kill(relay.pid, 'SIGTERM');
    await Promise.all([expectCleanStop(meters), expectCleanStop(master), expectCleanStop(relay)]);
  });
});
