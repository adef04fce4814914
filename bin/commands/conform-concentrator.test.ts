import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type BenchConcentrator, benchConcentrator } from '../../harness/conformance/concentrator/bench.ts';
import { main } from '../cli.ts';

// The concentrator role's flags as the command line parses them (the runs themselves are tested in
// harness/conformance/concentrator/), and --cases-dir end to end: meterlab listens on 127.0.0.1 port 0, the test
// reads the port from the heading and points meterlab's own concentrator at it, the meters on a socat pty.

function capture(onOut?: (text: string) => void) {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out.push(String(chunk));
    onOut?.(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err.push(String(chunk));
    return true;
  });
  return { out, err };
}

let bench: BenchConcentrator | undefined;
const dirs: string[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
  await bench?.stop();
  bench = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A folder holding one case file of the user's. */
function casesDir(doc: unknown): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'meterlab-c376-cases-'));
  dirs.push(dir);
  const file = join(dir, 'vendor.json');
  writeFileSync(file, JSON.stringify(doc));
  return { dir, file };
}

const userCase = {
  id: 'V-1',
  title: 'the forward reply carries the water meter answer, reading wildcarded',
  clause: 'vendor spec §4',
  send: { forward: { meter: '{meter}', port: '{port}' } },
  expect:
    '68 {L} {L} 68 88 {A} * 10 {SEQ:6} 00 00 01 00 {PORT} {K} ... 68 * {ADDR} 81 16 * * * * * * * 2C ... {MCS} 16 {CS} 16',
};

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

  it('--cases-dir: a user case file runs over real TCP against meterlab’s concentrator and is graded', async () => {
    bench = await benchConcentrator();
    const meterPath = bench.meterPath;
    const b = bench;
    const { dir } = casesDir({
      role: 'concentrator',
      protocol: 'gdw376',
      cases: [
        userCase,
        {
          ...userCase,
          id: 'V-2',
          title: 'expects k = 0 from a meter that answers',
          expect: '68 {L} {L} 68 88 {A} * 10 {SEQ:6} 00 00 01 00 {PORT} 00 00 {CS} 16',
        },
      ],
    });
    let dialled = false;
    const { out } = capture((text) => {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(text);
      if (m && !dialled) {
        dialled = true;
        void b.dial(Number(m[1]));
      }
    });
    const status = await conform(
      '--target',
      'tcp-listen:127.0.0.1:0',
      '--meters',
      '101001,101002',
      '--meters-on',
      `serial:${meterPath}@2400-8E1`,
      '--link-wait',
      '3',
      '--frame-timeout',
      '1',
      '--reply-wait',
      '1500',
      '--cases',
      'V-*',
      '--cases-dir',
      dir,
    );
    const text = out.join('');
    expect(text).toMatch(/V-1 +pass/);
    expect(text).toMatch(/V-2 +fail/);
    expect(text).toMatch(/1 pass, 0 non-strict, 1 fail/);
    expect(status).toBe(1);
  }, 30_000);

  it('--cases-dir: a bad case file gives status 2 naming the file and the JSON path, before listening', async () => {
    const { file, dir } = casesDir({
      role: 'concentrator',
      protocol: 'gdw376',
      cases: [{ ...userCase, send: { forward: { meter: '{meter}', port: 'two' } } }],
    });
    const { out, err } = capture();
    const status = await conform('--target', 'tcp-listen:127.0.0.1:0', '--cases-dir', dir);
    expect(status).toBe(2);
    expect(err.join('')).toContain(
      `CONFORM_BAD_CASE_FILE: ${file}: $.cases[0].send.forward.port (case V-1): must be "{port}", "{absentPort}" or a port number 1–31`,
    );
    expect(out.join('')).not.toMatch(/listening/);
    const listed = capture();
    expect(await conform('--list', '--cases-dir', dir)).toBe(2);
    expect(listed.err.join('')).toContain(`${file}: $.cases[0].send.forward.port`);
  });

  it('--list shows the built-in data cases with their file', async () => {
    const { out } = capture();
    expect(await conform('--list')).toBe(0);
    expect(out.join('')).toMatch(
      /^C376-D2\.1 +AFN 10H F1 forward on a port the concentrator does not have: AFN 00H F2 deny\n.*\[concentrator-gdw376\.json\]$/m,
    );
  });
});
