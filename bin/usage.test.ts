import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from './cli.ts';

/** Runs `meterlab ARGS` in this process and returns its status and what it wrote to stderr. */
async function run(...args: string[]): Promise<{ status: number; err: string }> {
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err.push(String(chunk));
    return true;
  });
  try {
    const status = await main(['node', 'meterlab', ...args]);
    return { status, err: err.join('') };
  } finally {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  }
}

/** One line, naming the command and hinting at its --help; never the whole help text. */
function expectOneUsageLine(err: string, command: string): void {
  const lines = err.split('\n').filter((l) => l.trim() !== '');
  expect(lines, err).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^${command}: .*\\(see \`${command} --help\`\\)$`));
  expect(err).not.toMatch(/Usage:/);
}

describe('usage errors (issue 14 item 12)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('decode hello: the input is not hex, one line, exit 2', async () => {
    const { status, err } = await run('decode', 'hello');
    expect(status).toBe(2);
    expectOneUsageLine(err, 'meterlab decode');
    expect(err).toMatch(/the input is not hex/);
    expect(err).not.toMatch(/odd number/);
  });

  it('names the flag as the user typed it, never the option key behind it', async () => {
    const heartbeat = await run('master', '--heartbeat', 'abc');
    expect(heartbeat.status).toBe(2);
    expectOneUsageLine(heartbeat.err, 'meterlab master');
    expect(heartbeat.err).toMatch(/'--heartbeat <seconds>' argument 'abc' is invalid/);
    expect(heartbeat.err).not.toMatch(/heartbeatPeriodMs|NaN/);

    const timeout = await run('read', '-c', '101', '-m', '101001', '--timeout', '-5');
    expect(timeout.status).toBe(2);
    expect(timeout.err).toMatch(/'--timeout <ms>' argument '-5' is invalid/);
    expect(timeout.err).not.toMatch(/timeoutMs/);

    const unknown = await run('encode', 'cjt188-read', '--meter', '1', '--timeout-ms', '5');
    expect(unknown.status).toBe(2);
    expect(unknown.err).toMatch(/unknown option '--timeout-ms'/);
  });

  it('a missing required option exits 2: replay without --as', async () => {
    const { status, err } = await run('replay', 'some.jsonl');
    expect(status).toBe(2);
    expectOneUsageLine(err, 'meterlab replay');
    expect(err).toMatch(/--as/);
  });

  it('flag checks made in the command are usage errors too; an unknown command as well', async () => {
    const sim = await run('sim', '--master', 'nowhere');
    expect(sim.status).toBe(2);
    expectOneUsageLine(sim.err, 'meterlab sim');
    expect(sim.err).toMatch(/--master must be HOST:PORT/);

    const nosuch = await run('nosuch');
    expect(nosuch.status).toBe(2);
    expectOneUsageLine(nosuch.err, 'meterlab');
  });

  it('a runtime failure exits 1 with the error code, no usage hint', async () => {
    const { status, err } = await run('sim', '--scenario', '/nonexistent/scenario.json');
    expect(status).toBe(1);
    expect(err).toMatch(/^meterlab: BAD_SCENARIO: .*cannot read the file/);
    expect(err).not.toMatch(/--help/);
  });
});
