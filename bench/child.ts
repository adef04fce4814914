/**
 * One part of a benchmark in a child process, driven over IPC. The parent forks a bench file with
 * `--bench-child <role> <config JSON>`; the child sets the role up, says it is ready (with whatever the setup
 * returned, e.g. the port it listens on), then answers requests one by one. Keeping the load generator and the
 * simulated fleet out of the measured process is what a user's own set-up looks like (`meterlab sim`,
 * `meterlab relay`, `meterlab master` and the clients are separate programs), and it lets each process report
 * its own CPU time per operation.
 */
import { type ChildProcess, fork } from 'node:child_process';

/** What a child role offers: the reply to its setup, and a handler for each later request. */
export interface ChildRole {
  ready: unknown;
  handle(request: { cmd: string; [key: string]: unknown }): Promise<unknown>;
  stop(): Promise<void>;
}

type Envelope = { id: number; ok: true; body: unknown } | { id: number; ok: false; error: string };

/** The parent's handle on a child role. Requests are answered in order; `stop` ends the child. */
export class BenchChild {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #exited: Error | undefined;
  readonly ready: Promise<unknown>;

  /** `execArgv`: extra Node flags for the child (a heap limit, `--cpu-prof`). */
  constructor(file: string, role: string, config: unknown, options: { execArgv?: string[] } = {}) {
    this.#child = fork(file, ['--bench-child', role, JSON.stringify(config)], {
      execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.ready = this.#expect(0);
    this.#child.on('message', (m: Envelope) => {
      const waiter = this.#waiting.get(m.id);
      this.#waiting.delete(m.id);
      if (m.ok) waiter?.resolve(m.body);
      else waiter?.reject(new Error(`${role} process: ${m.error}`));
    });
    this.#child.on('exit', (code, signal) => {
      this.#exited = new Error(`${role} process exited (${signal ?? `code ${code}`})`);
      for (const w of this.#waiting.values()) w.reject(this.#exited);
      this.#waiting.clear();
    });
  }

  request<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.#nextId++;
    const answer = this.#expect(id) as Promise<T>;
    this.#child.send({ id, cmd, ...args });
    return answer;
  }

  /** Asks the child to stop; kills it if it has not exited within 30 s. */
  async stop(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.send({ id: 0, cmd: 'stop' });
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }

  #expect(id: number): Promise<unknown> {
    if (this.#exited) return Promise.reject(this.#exited);
    return new Promise((resolve, reject) => this.#waiting.set(id, { resolve, reject }));
  }
}

/**
 * In the child: if this process was started as `--bench-child <role>`, sets up that role and serves requests;
 * returns false otherwise (the file was imported as a benchmark, not forked).
 */
export function serveBenchChild(roles: Record<string, (config: never) => Promise<ChildRole>>): boolean {
  const at = process.argv.indexOf('--bench-child');
  if (at < 0) return false;
  const name = process.argv[at + 1];
  const send = (m: Envelope) => process.send?.(m);
  const fail = (id: number, error: unknown) =>
    send({ id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  const setup = roles[name];
  if (!setup) {
    fail(0, `unknown role ${name}`);
    process.exit(2);
  }
  void (async () => {
    try {
      const role = await setup(JSON.parse(process.argv[at + 2]) as never);
      process.on('message', (m: { id: number; cmd: string }) => {
        if (m.cmd === 'stop') {
          void role.stop().finally(() => process.exit(0));
          return;
        }
        role.handle(m).then(
          (body) => send({ id: m.id, ok: true, body }),
          (error: unknown) => fail(m.id, error),
        );
      });
      // The parent went away (Ctrl-C, crash): don't linger.
      process.on('disconnect', () => void role.stop().finally(() => process.exit(0)));
      send({ id: 0, ok: true, body: role.ready });
    } catch (error) {
      fail(0, error);
      process.exit(1);
    }
  })();
  return true;
}

/** CPU time this process has used, in microseconds (user + system). */
export function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}
