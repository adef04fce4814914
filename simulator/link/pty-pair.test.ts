import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPtyPair, type PtyPair, sweepStaleFolders } from './pty-pair.ts';
import { once } from './testing.ts';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('createPtyPair', () => {
  const pairs: PtyPair[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const pair of pairs.splice(0)) await pair.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('makes two pty symlinks in a fresh folder and removes them, the folder and socat on close', async () => {
    const pair = await createPtyPair();
    pairs.push(pair);
    expect(pair.dir).toContain('meterlab-vport-');
    expect(pair.paths).toEqual([join(pair.dir, 'ttyV0'), join(pair.dir, 'ttyV1')]);
    for (const path of pair.paths) {
      expect(lstatSync(path).isSymbolicLink()).toBe(true);
      expect(existsSync(path)).toBe(true);
    }
    expect(processAlive(pair.pid)).toBe(true);
    await pair.close();
    expect(pair.closed).toBe(true);
    for (const path of pair.paths) expect(existsSync(path)).toBe(false);
    expect(existsSync(pair.dir)).toBe(false);
    await waitUntil(() => !processAlive(pair.pid));
    await pair.close();
  });

  it('uses the given folder and names, keeps a folder it did not make, and replaces stale links', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meterlab-test-'));
    dirs.push(dir);
    symlinkSync('/dev/pts/does-not-exist', join(dir, 'meter'));
    const pair = await createPtyPair({ dir, names: ['master', 'meter'] });
    pairs.push(pair);
    expect(pair.paths).toEqual([join(dir, 'master'), join(dir, 'meter')]);
    expect(existsSync(join(dir, 'meter'))).toBe(true);
    await expect(createPtyPair({ dir, names: ['other', 'meter'] })).rejects.toMatchObject({
      code: 'LINK_BUSY',
    });
    await pair.close();
    expect(existsSync(dir)).toBe(true);
    expect(existsSync(join(dir, 'master'))).toBe(false);
  });

  it('reports SOCAT_MISSING with the install hint when socat is not on PATH', async () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent-bin';
    try {
      const error = await createPtyPair().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'SOCAT_MISSING' });
      expect((error as Error).message).toContain('apt-get install socat');
    } finally {
      process.env.PATH = saved;
    }
  });

  it('reports SOCAT_MISSING for a socatPath that does not exist', async () => {
    await expect(createPtyPair({ socatPath: '/nonexistent/socat' })).rejects.toMatchObject({
      code: 'SOCAT_MISSING',
      message: expect.stringContaining('apt-get install socat'),
    });
  });

  it('reports SOCAT_FAILED with the program output when socat exits at once', async () => {
    // `false` exits with code 1 straight away, like socat rejecting its arguments.
    const error = await createPtyPair({ socatPath: '/bin/false' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SOCAT_FAILED' });
    expect((error as Error).message).toMatch(/exited \(code 1\)/);
  });

  it("emits 'exit' and cleans up when socat dies on its own", async () => {
    const pair = await createPtyPair();
    pairs.push(pair);
    const exited = once(pair, 'exit');
    process.kill(pair.pid, 'SIGKILL');
    const error = await exited;
    expect(error).toMatchObject({ code: 'SOCAT_FAILED' });
    expect(pair.closed).toBe(true);
    for (const path of pair.paths) expect(existsSync(path)).toBe(false);
  });

  it('validates options with TypeErrors naming them', async () => {
    await expect(createPtyPair({ names: ['a', 'a'] })).rejects.toThrow(/"names"/);
    await expect(createPtyPair({ names: ['a/b', 'c'] })).rejects.toThrow(TypeError);
    await expect(createPtyPair({ timeoutMs: 0 })).rejects.toThrow(/"timeoutMs"/);
  });
});

/** Processes whose command line mentions `text` (socat and its watchdog name the pair's folder). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(text)) pids.push(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return pids;
}

/**
 * A separate Node process that makes a pair (its own folder) and keeps it; resolves once the pair is ready, with
 * the process and the pair's folder. `release` kills the process and anything it left, even when a test failed.
 */
async function pairMaker(): Promise<{ child: ChildProcess; dir: string; release: () => void }> {
  const module = new URL('./pty-pair.ts', import.meta.url).pathname;
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { createPtyPair } = await import(${JSON.stringify(module)});
       const pair = await createPtyPair();
       process.stdout.write(pair.dir + '\\n');
       setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let dir = '';
  const release = () => {
    child.kill('SIGKILL');
    if (!dir) return;
    for (const pid of processesMentioning(dir)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    dir = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (t: string) => {
        out += t;
        if (out.includes('\n')) resolve(out.trim());
      });
      child.once('exit', (code) => reject(new Error(`child exited (${code}) before the pair was ready`)));
    });
  } catch (error) {
    release();
    throw error;
  }
  return { child, dir, release };
}

describe('a pair outlives no one (issue 13 item 8)', () => {
  it.runIf(process.platform === 'linux')(
    'socat and the folder go when the process that made the pair is killed with SIGKILL',
    async () => {
      const { child, dir, release } = await pairMaker();
      try {
        expect(existsSync(dir)).toBe(true);
        expect(processesMentioning(dir).length).toBeGreaterThan(0);
        child.kill('SIGKILL');
        await waitUntil(() => processesMentioning(dir).length === 0 && !existsSync(dir));
      } finally {
        release();
      }
    },
  );

  it.runIf(process.platform === 'linux')(
    'the watchdog removes the folder when socat ends before the death signal reaches it',
    async () => {
      // When a process is killed the kernel closes its files (its end of the pair) before it signals the children
      // of its death: socat can see the hang-up and end, and the watchdog with it, before the TERM arrives. The
      // maker is stopped (SIGSTOP) here so that only the watchdog can clean; socat is then ended on its own.
      const { child, dir, release } = await pairMaker();
      try {
        child.kill('SIGSTOP');
        const socat = processesMentioning(dir).filter((pid) =>
          readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0].endsWith('socat'),
        );
        expect(socat).toHaveLength(1);
        process.kill(socat[0], 'SIGKILL');
        await waitUntil(() => processesMentioning(dir).length === 0 && !existsSync(dir));
      } finally {
        release();
      }
    },
  );

  it('socat runs outside our process group, so a Ctrl-C at the terminal reaches us and not it', async () => {
    const pair = await createPtyPair();
    try {
      // /proc/PID/stat: "pid (comm) state ppid pgrp …"; comm has no ")" here (sh, setpriv, socat).
      const pgrp = (pid: number) =>
        Number(readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1].split(' ')[2]);
      const ours = pgrp(process.pid);
      const socats = processesMentioning(pair.dir);
      expect(socats.length).toBeGreaterThan(0);
      for (const pid of socats) expect(pgrp(pid)).not.toBe(ours);
    } finally {
      await pair.close();
    }
  });

  it('the next pair sweeps folders a killed run left: old, ours, only dangling links', () => {
    const parent = mkdtempSync(join(tmpdir(), 'meterlab-test-'));
    try {
      const stale = join(parent, 'meterlab-vport-stale');
      const live = join(parent, 'meterlab-vport-live');
      const fresh = join(parent, 'meterlab-vport-fresh');
      for (const d of [stale, live, fresh]) mkdirSync(d);
      symlinkSync('/dev/pts/does-not-exist', join(stale, 'ttyV0'));
      symlinkSync('/dev/null', join(live, 'ttyV0'));
      const old = new Date(Date.now() - 120_000);
      utimesSync(stale, old, old);
      utimesSync(live, old, old);
      expect(sweepStaleFolders(parent)).toEqual([stale]);
      expect(existsSync(stale)).toBe(false);
      expect(existsSync(live)).toBe(true);
      expect(existsSync(fresh)).toBe(true);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
