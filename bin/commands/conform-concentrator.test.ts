import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../cli.ts';

// The concentrator role's flags as the command line parses them (the runs themselves are tested in
// harness/conformance/concentrator/).

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err.push(String(chunk));
    return true;
  });
  return { out, err };
}

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

const conform = (...args: string[]) =>
  main(['node', 'meterlab', 'conform', '--role', 'concentrator', ...args]);

describe('meterlab conform --role concentrator (flags)', () => {
  it('--list prints the C376 catalogue with clauses', async () => {
    const { out } = capture();
    expect(await conform('--list')).toBe(0);
    const text = out.join('');
    expect(text).toMatch(/^C376-1\.1 +Login frame: L field, both copies, protocol id$/m);
    expect(text).toMatch(/^C376-6\.1 +One frame per TCP segment\n +field practice$/m);
  });

  it('gives status 2 naming the flag for a bad --heartbeat, --forward-port, --a1 or target', async () => {
    const { err } = capture();
    const statuses = [
      await conform('--target', 'tcp-listen:127.0.0.1:0', '--heartbeat', 'soon'),
      await conform('--target', 'tcp-listen:127.0.0.1:0', '--forward-port', '40'),
      await conform('--target', 'tcp:127.0.0.1:9', '--a1', '17', '--a2', '2082'),
      await conform('--target', 'tcp:127.0.0.1'),
    ];
    expect(statuses).toEqual([2, 2, 2, 2]);
    const text = err.join('');
    expect(text).toContain("option '--heartbeat <s>' argument 'soon' is invalid");
    expect(text).toContain("option '--forward-port <n>' argument '40' is invalid");
    // --a1 is shared with the master role, whose flag parser refuses it first, naming the flag as typed.
    expect(text).toContain("option '--a1 <area>' argument '17' is invalid");
    expect(text).toContain('CONFORM_USAGE: --target must be tcp-listen:HOST:PORT');
  });
});
