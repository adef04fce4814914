import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import {
  accessSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { LinkError, messageOf } from './errors.ts';

/** Options for {@link createPtyPair}. */
export interface PtyPairOptions {
  /**
   * Folder for the two symlinks. Created if missing; removed on close only if we created it.
   * @defaultValue a fresh `meterlab-vport-XXXXXX` folder under `os.tmpdir()`
   */
  dir?: string;
  /**
   * File names of the two symlinks inside `dir` — stable names to give other programs.
   * @defaultValue `['ttyV0', 'ttyV1']`
   */
  names?: [string, string];
  /**
   * The socat executable: a path, or a name looked up on PATH.
   * @defaultValue 'socat'
   */
  socatPath?: string;
  /**
   * How long to wait for socat to create both ptys before giving up with `SOCAT_FAILED`.
   * Generous by default: a loaded CI machine can take a while to start a process.
   * @defaultValue 10000
   */
  timeoutMs?: number;
}

/** Events of a {@link PtyPair}. */
export interface PtyPairEvents {
  /** socat ended without `close()` being called (killed, crashed); the pair is dead. */
  exit: [error: LinkError];
}

/**
 * Two linked pseudo-terminals made by `socat`: what is written to one path can be read from the other, and
 * any program that opens serial ports (a real master station, minicom, our {@link SerialLink}) can use them.
 * Line settings are accepted but do nothing on a pty: bytes pass at memory speed.
 */
export interface PtyPair extends EventEmitter<PtyPairEvents> {
  /** The two symlink paths, `dir/names[0]` and `dir/names[1]`. */
  readonly paths: [string, string];
  /** The folder holding the symlinks. */
  readonly dir: string;
  /**
   * The id of the process that holds the pair: socat, or (with `setpriv`) the watchdog shell that runs it and
   * takes socat down with it when it ends.
   */
  readonly pid: number;
  /** `true` once closed (or socat died). */
  readonly closed: boolean;
  /** Stops socat and removes the symlinks (and the folder if we made it). Harmless twice. */
  close(): Promise<void>;
}

/** Pairs still alive, cleaned up synchronously if the process exits without closing them. */
const live = new Set<PtyPairImpl>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: kill socat and unlink, nothing that waits.
  process.on('exit', () => {
    for (const pair of live) pair.closeSync();
  });
}

/**
 * Starts `socat -d -d pty,raw,echo=0,link=A pty,raw,echo=0,link=B` and resolves when both symlinks exist
 * and socat reports its transfer loop running. The pair is removed on `close()` and, failing that, when the
 * Node process exits; socat runs in its own process group (a Ctrl-C at the terminal does not reach it) under a
 * watchdog that removes the pair when this process dies, even by SIGKILL (see `supervised`).
 * @throws LinkError `SOCAT_MISSING` (install it with `apt-get install socat`), `SOCAT_FAILED` (with socat's
 *   stderr) or `LINK_BUSY` (a live pty already has one of the names).
 * @throws TypeError naming the option for invalid options.
 */
export async function createPtyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  const { names = ['ttyV0', 'ttyV1'], socatPath = 'socat', timeoutMs = 10_000 } = options;
  if (
    !Array.isArray(names) ||
    names.length !== 2 ||
    names[0] === names[1] ||
    !names.every((n) => typeof n === 'string' && n.length > 0 && !n.includes('/') && n !== '.' && n !== '..')
  ) {
    throw new TypeError('"names" must be two different file names (no "/")');
  }
  if (typeof socatPath !== 'string' || socatPath.length === 0) {
    throw new TypeError('"socatPath" must be a non-empty string');
  }
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) {
    throw new TypeError(`"timeoutMs" must be a positive number, got ${String(timeoutMs)}`);
  }
  if (options.dir !== undefined && (typeof options.dir !== 'string' || options.dir.length === 0)) {
    throw new TypeError('"dir" must be a non-empty string');
  }

  const socat = findExecutable(socatPath);
  if (!socat) {
    throw new LinkError(
      'SOCAT_MISSING',
      `socat not found (looked for "${socatPath}"${socatPath.includes('/') ? '' : ' on PATH'}); ` +
        'it makes the virtual serial pairs: install it with `apt-get install socat`',
    );
  }

  let ownDir = false;
  let dir: string;
  if (options.dir === undefined) {
    sweepStaleFolders(tmpdir());
    dir = await mkdtemp(join(tmpdir(), 'meterlab-vport-'));
    ownDir = true;
    ownFolder(dir);
  } else {
    dir = options.dir;
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true });
      ownDir = true;
      ownFolder(dir);
    }
  }
  const paths: [string, string] = [join(dir, names[0]), join(dir, names[1])];
  try {
    for (const path of paths) clearStaleLink(path);
  } catch (error) {
    if (ownDir) removeFolder(dir);
    throw error;
  }

  const pair = new PtyPairImpl(paths, dir, ownDir);
  await pair.start(socat, timeoutMs);
  return pair;
}

/**
 * The watchdog that ties socat's life to ours (issue 13 item 8; README "Stopping"). With util-linux's `setpriv`
 * (Linux), a small `sh` runs with PR_SET_PDEATHSIG=TERM, so the kernel signals it when this process dies, even
 * by SIGKILL; it then stops socat (which removes its links) and removes the folder if we made it. socat itself
 * runs with PR_SET_PDEATHSIG=KILL under the shell, so it cannot outlive a killed watchdog either. Without
 * `setpriv`, socat runs alone: an exit hook stops it on a normal exit, and {@link sweepStaleFolders} removes
 * what a SIGKILL left behind the next time a pair is made.
 */
function supervised(
  socat: string,
  args: string[],
  dir: string,
  ownDir: boolean,
): { command: string; argv: string[] } {
  const setpriv = findExecutable('setpriv');
  if (!setpriv || process.platform !== 'linux') return { command: socat, argv: args };
  const script = [
    'dir=$1; own=$2; shift 2',
    // Stop socat, wait for it to remove its links, remove the folder if it is ours.
    'stop() { kill -TERM "$pid" 2>/dev/null; wait "$pid"; [ "$own" = 1 ] && rm -rf -- "$dir"; exit 0; }',
    'trap stop TERM HUP INT',
    '"$@" & pid=$!',
    'wait "$pid"; code=$?',
    // socat ended by itself. When this process dies the kernel closes its end of the pair before it sends the
    // death signal, so socat may see the hang-up and end — and this shell exit — before the TERM arrives (seen
    // under load: the folder was left). The pair is gone either way: remove the folder here too.
    '[ "$own" = 1 ] && rm -rf -- "$dir"',
    'exit "$code"',
  ].join('\n');
  return {
    command: setpriv,
    argv: [
      '--pdeathsig',
      'TERM',
      '--',
      '/bin/sh',
      '-c',
      script,
      'meterlab-vport',
      dir,
      ownDir ? '1' : '0',
      setpriv,
      '--pdeathsig',
      'KILL',
      '--',
      socat,
      ...args,
    ],
  };
}

/** How old a left-over folder must be before {@link sweepStaleFolders} removes it: older than any start. */
const STALE_AFTER_MS = 60_000;

/**
 * Pair folders this process made and has not removed yet. A stop can land while a pair is still being made
 * (mkdtemp done, socat starting) and the process then exits before anything holds the pair to close it: the
 * `exit` hook removes what is left (synchronously, the only kind of work an exit hook can do). A kill -9 skips
 * it; {@link sweepStaleFolders} takes those folders later.
 */
const ownedFolders = new Set<string>();

function ownFolder(dir: string): void {
  if (ownedFolders.size === 0) process.once('exit', removeOwnedFolders);
  ownedFolders.add(dir);
}

function removeFolder(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  ownedFolders.delete(dir);
  if (ownedFolders.size === 0) process.removeListener('exit', removeOwnedFolders);
}

function removeOwnedFolders(): void {
  for (const dir of ownedFolders) rmSync(dir, { recursive: true, force: true });
  ownedFolders.clear();
}

/**
 * Removes `meterlab-vport-*` folders that a killed run left behind (only possible without `setpriv`, or when
 * the watchdog itself was killed): ours, older than a minute, and holding nothing but links to ptys that are
 * gone. A live pair's links point at live ptys, so it is never touched.
 */
export function sweepStaleFolders(parent: string, now = Date.now()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(parent).filter((n) => n.startsWith('meterlab-vport-'));
  } catch {
    return removed;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    const dir = join(parent, name);
    try {
      const st = lstatSync(dir);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      if (now - st.mtimeMs < STALE_AFTER_MS) continue;
      const entries = readdirSync(dir);
      const dangling = entries.every((e) => {
        const path = join(dir, e);
        return lstatSync(path).isSymbolicLink() && !existsSync(path);
      });
      if (!dangling) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // gone meanwhile, or not ours to read: leave it
    }
  }
  return removed;
}

/** A path with a slash is taken as is; a bare name is searched on PATH, as the shell would. */
function findExecutable(name: string): string | undefined {
  const candidates = name.includes('/')
    ? [name]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter((d) => d.length > 0 && isAbsolute(d))
        .map((d) => join(d, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * socat refuses to replace an existing link, so a link left by a killed run is removed first — but only
 * when it is dangling; a link to a live pty belongs to a pair that is still running.
 */
function clearStaleLink(path: string): void {
  let isLink = false;
  try {
    isLink = lstatSync(path).isSymbolicLink();
  } catch {
    return; // nothing there
  }
  if (!isLink) {
    throw new LinkError('LINK_BUSY', `${path} exists and is not a symlink; choose another "dir" or "names"`);
  }
  if (existsSync(path)) {
    throw new LinkError('LINK_BUSY', `${path} already points to a live pty (another pair is running?)`);
  }
  unlinkSync(path);
}

const MAX_STDERR = 8192;

class PtyPairImpl extends EventEmitter<PtyPairEvents> implements PtyPair {
  readonly paths: [string, string];
  readonly dir: string;
  readonly #ownDir: boolean;
  #child: ChildProcess | undefined;
  #stderr = '';
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(paths: [string, string], dir: string, ownDir: boolean) {
    super();
    this.paths = paths;
    this.dir = dir;
    this.#ownDir = ownDir;
  }

  get pid(): number {
    return this.#child?.pid ?? -1;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** socat's stderr so far (last 8 KiB), for error messages. */
  get stderr(): string {
    return this.#stderr;
  }

  async start(socat: string, timeoutMs: number): Promise<void> {
    const args = ['-d', '-d', ...this.paths.map((p) => `pty,raw,echo=0,link=${p}`)];
    const { command, argv } = supervised(socat, args, this.dir, this.#ownDir);
    // Its own process group (`detached`): a Ctrl-C at the terminal reaches the whole foreground group, and a
    // socat that died with it would pull the pty from under our open links (issue 13 item 8). We stop it
    // ourselves on close, and the watchdog stops it when we die.
    const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    this.#child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      this.#stderr = (this.#stderr + text).slice(-MAX_STDERR);
    });
    live.add(this);
    installExitHook();

    try {
      await new Promise<void>((resolve, reject) => {
        const fail = (error: LinkError) => {
          cleanup();
          reject(error);
        };
        const onError = (error: NodeJS.ErrnoException) => {
          fail(
            error.code === 'ENOENT'
              ? new LinkError(
                  'SOCAT_MISSING',
                  `cannot run ${socat}: install socat with \`apt-get install socat\``,
                  {
                    cause: error,
                  },
                )
              : new LinkError('SOCAT_FAILED', `cannot run ${socat}: ${messageOf(error)}`, { cause: error }),
          );
        };
        const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
          // Let the last stderr chunk arrive before quoting it.
          setImmediate(() =>
            fail(
              new LinkError(
                'SOCAT_FAILED',
                `socat exited (${signal ?? `code ${code}`}) before creating ${this.paths.join(' and ')}: ` +
                  (this.#stderr.trim() || '(no output)'),
              ),
            ),
          );
        };
        // socat prints "starting data transfer loop" once both ptys exist and their links are made; polling
        // the links as well covers socat builds that word it differently.
        const poll = setInterval(() => {
          if (this.paths.every((p) => existsSync(p))) {
            cleanup();
            resolve();
          }
        }, 20);
        const timer = setTimeout(() => {
          fail(
            new LinkError(
              'SOCAT_FAILED',
              `socat did not create ${this.paths.join(' and ')} within ${timeoutMs} ms: ` +
                (this.#stderr.trim() || '(no output)'),
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearInterval(poll);
          clearTimeout(timer);
          child.off('error', onError);
          child.off('exit', onExit);
        };
        child.on('error', onError);
        child.on('exit', onExit);
      });
    } catch (error) {
      await this.close();
      throw error;
    }

    child.on('exit', (code, signal) => {
      if (this.#closed || this.#closing) return;
      this.closeSync();
      const error = new LinkError(
        'SOCAT_FAILED',
        `socat for ${this.paths.join(' and ')} exited (${signal ?? `code ${code}`}): ${this.#stderr.trim()}`,
      );
      if (this.listenerCount('exit') > 0) this.emit('exit', error);
    });
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      const child = this.#child;
      // A child that never started (spawn failed) has no pid and will not emit 'exit'.
      if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          // SIGTERM lets socat remove its own links; SIGKILL after a while in case it hangs.
          const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        });
      }
      this.closeSync();
    })();
    return this.#closing;
  }

  /** @internal Synchronous part of closing, also used by the process 'exit' hook. */
  closeSync(): void {
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    for (const path of this.paths) {
      try {
        unlinkSync(path);
      } catch {
        // socat removed it already, or it was never made
      }
    }
    if (this.#ownDir) removeFolder(this.dir);
    this.#closed = true;
    live.delete(this);
  }
}
