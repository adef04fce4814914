import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../cli.ts';
import { masterRoleFlags } from './conform-master.ts';

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

describe('meterlab conform --role master (flags)', () => {
  it('--list prints the master catalogue', async () => {
    const { out } = capture();
    const status = await main(['node', 'meterlab', 'conform', '--role', 'master', '--list']);
    vi.restoreAllMocks();
    expect(status).toBe(0);
    expect(out.join('')).toMatch(/^G376M-6\.2 +Two frames in one TCP segment are both understood$/m);
  });

  it('gives status 2 for a malformed --a1, --a2 or --meter-port, naming the flag', async () => {
    const { err } = capture();
    const base = ['node', 'meterlab', 'conform', '--role', 'master', '--target', 'tcp:127.0.0.1:1'];
    const statuses = [
      await main([...base, '--a1', '171']),
      await main([...base, '--a2', '0']),
      await main([...base, '--meter-port', '32']),
    ];
    vi.restoreAllMocks();
    expect(statuses).toEqual([2, 2, 2]);
    const text = err.join('');
    expect(text).toMatch(/--a1.*4 decimal digits/);
    expect(text).toMatch(/--a2.*1\.\.65535/);
    expect(text).toMatch(/--meter-port.*1\.\.31/);
  });

  it('turns seconds into milliseconds', () => {
    expect(masterRoleFlags({ heartbeat: 60, idleLimit: 300, confirmTimeout: 5000 })).toMatchObject({
      heartbeatPeriodMs: 60_000,
      idleLimitMs: 300_000,
      confirmTimeoutMs: 5000,
    });
  });
});
