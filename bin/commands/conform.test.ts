import { describe, expect, it, vi } from 'vitest';
import { main } from '../cli.ts';

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

describe('meterlab conform (flags)', () => {
  it('--list prints the catalogue with ids, titles and clauses', async () => {
    const { out } = capture();
    process.exitCode = undefined;
    const status = await main([
      'node',
      'meterlab',
      'conform',
      '--role',
      'meter',
      '--protocol',
      'dlt645',
      '--list',
    ]);
    vi.restoreAllMocks();
    expect(status).toBe(0);
    const text = out.join('');
    expect(text).toMatch(/^M645-1\.1 +Read forward active energy 00010000$/m);
    expect(text).toMatch(
      /M645-9\.1 +Abnormal reply word for an unknown DI\n +DL\/T 645-2007 .* \[meter-dlt645\.json\]/,
    );
  });

  it('gives status 2 for a missing --role, a bad --target and a bad --meter', async () => {
    const { err } = capture();
    const statuses = [
      await main(['node', 'meterlab', 'conform', '--protocol', 'cjt188']),
      await main([
        'node',
        'meterlab',
        'conform',
        '--role',
        'meter',
        '--protocol',
        'cjt188',
        '--meter',
        '1',
        '--target',
        'tcp:1.2.3.4:5',
      ]),
      await main([
        'node',
        'meterlab',
        'conform',
        '--role',
        'meter',
        '--protocol',
        'cjt188',
        '--meter',
        '12x',
        '--target',
        'serial:/dev/null',
      ]),
    ];
    vi.restoreAllMocks();
    process.exitCode = undefined;
    expect(statuses).toEqual([2, 2, 2]);
    const text = err.join('');
    expect(text).toContain("required option '--role <role>' not specified");
    expect(text).toContain('CONFORM_USAGE: --target must be serial:PATH');
    expect(text).toContain('CONFORM_USAGE: --meter "12x" is not a cjt188 address');
  });
});
