import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../../protocols/bytes.ts';
import { decodeStream } from './decode.ts';

const run = promisify(execFile);
const bin = new URL('../meterlab.mjs', import.meta.url).pathname;

describe('meterlab decode', () => {
  it('prints one object per frame and an error for junk, with stream offsets', () => {
    const lines = decodeStream(
      hexToBytes(
        'FE FE FE FE 68 10 44 33 22 11 00 33 78 01 03 1F 90 00 80 16 00 11 68 32 00 32 00 68 C9 71 01 22 08 00 02 78 00 00 01 00 E0 16',
      ),
      'auto',
    );
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ protocol: 'cjt188', address: '78330011223344', body: { di: '901F' } });
    expect(lines[1]).toMatchObject({ error: { code: 'NO_START', offset: 20 }, hex: '00 11' });
    expect(lines[2]).toMatchObject({ protocol: 'gdw376', a1: '0171', a2: 2082 });
  });

  it('reads hex from stdin through the real command and exits 1 when bytes were dropped', async () => {
    const child = run(bin, ['decode', '--protocol', 'cjt188']);
    child.child.stdin?.end(
      '68 10 12 00 00 00 00 00 00 01 03 90 1F 00 3D 16\n68 10 12 00 00 00 00 00 00 01 03 90 1F 00 3E 16',
    );
    const err = await child.then(
      () => null,
      (e: { code: number; stdout: string }) => e,
    );
    expect(err?.code).toBe(1);
    const lines = (err?.stdout ?? '')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ protocol: 'cjt188', address: '00000000000012' });
    expect(lines[1].error.code).toBe('BAD_CHECKSUM');
  });
});

describe('meterlab encode', () => {
  it('builds the valve-open frame of vector C5 byte for byte', async () => {
    const { stdout } = await run(bin, [
      'encode',
      'cjt188-valve',
      '--meter',
      '78331505900569',
      '--valve',
      'open',
      '--ser',
      '1',
      '--di-order',
      'high-first',
    ]);
    expect(stdout.trim()).toBe('FE FE FE FE 68 10 69 05 90 05 15 33 78 04 04 A0 17 01 55 50 16');
  });

  it('builds the login of vector Q1 and the F1 confirm of vector Q10', async () => {
    expect((await run(bin, ['encode', 'gdw376-login', '--a2', '2082', '--seq', '8'])).stdout.trim()).toBe(
      '68 32 00 32 00 68 C9 71 01 22 08 00 02 78 00 00 01 00 E0 16',
    );
    const confirm = await run(bin, [
      'encode',
      'gdw376-confirm',
      '--a1',
      '0200',
      '--a2',
      '4660',
      '--seq',
      '1',
    ]);
    expect(confirm.stdout.trim()).toBe('68 32 00 32 00 68 0B 00 02 34 12 00 00 61 00 00 01 00 B5 16');
  });

  it('names a missing option and exits non-zero', async () => {
    const err = await run(bin, ['encode', 'cjt188-read']).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).not.toBe(0);
    expect(err?.stderr).toMatch(/--meter/);
  });
});
