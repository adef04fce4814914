import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveToken } from './token.ts';

const dir = mkdtempSync(join(tmpdir(), 'meterlab-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('resolveToken', () => {
  it('takes --token, else --token-file, else METERLAB_TOKEN', () => {
    const env = { METERLAB_TOKEN: 'from-env' };
    expect(resolveToken({ token: 'flag', env })).toBe('flag');
    expect(resolveToken({ tokenFile: file('t', 's3cret\n'), env })).toBe('s3cret');
    expect(resolveToken({ tokenFile: file('crlf', '  s3cret \r\n\r\n'), env })).toBe('s3cret');
    expect(resolveToken({ env })).toBe('from-env');
    expect(resolveToken({ env: { METERLAB_TOKEN: '' } })).toBeUndefined();
    expect(resolveToken({ env: {} })).toBeUndefined();
  });

  it('refuses both flags, an empty or missing file and a file of several lines, without showing the token', () => {
    expect(() => resolveToken({ token: 'a', tokenFile: 'b', env: {} })).toThrow(/--token and --token-file/);
    expect(() => resolveToken({ tokenFile: file('empty', '\n \n'), env: {} })).toThrow(/empty/);
    expect(() => resolveToken({ tokenFile: join(dir, 'missing'), env: {} })).toThrow(/ENOENT/);
    const two = file('two', 'hunter2\nhunter3\n');
    expect(() => resolveToken({ tokenFile: two, env: {} })).toThrow(/one line/);
    try {
      resolveToken({ tokenFile: two, env: {} });
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter');
    }
    expect(() => resolveToken({ tokenFile: file('big', 'x'.repeat(5000)), env: {} })).toThrow(
      /not a token file/,
    );
  });
});
