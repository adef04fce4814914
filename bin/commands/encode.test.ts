import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = new URL('../meterlab.mjs', import.meta.url).pathname;

describe('meterlab encode CJ/T 188 DI order (issue 14, item 8)', () => {
  it('sends the DI low byte first by default, as poll, meters and the master do (vector C1, BLOG-SC)', async () => {
    const { stdout } = await run(bin, ['encode', 'cjt188-read', '--meter', '78330011223344']);
    expect(stdout.trim()).toBe('FE FE FE FE 68 10 44 33 22 11 00 33 78 01 03 1F 90 00 80 16');
  });

  it('shows the default in --help', async () => {
    const { stdout } = await run(bin, ['encode', 'cjt188-read', '--help']);
    expect(stdout).toMatch(/--di-order <order>[\s\S]*default: "low-first"/);
  });
});
