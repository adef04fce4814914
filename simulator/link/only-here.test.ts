import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Every byte path is a Link (issue 9): outside simulator/link/, product code reaches sockets and serial ports
 * only through it, so a recorder or a device under test can be wrapped around any of them. Tests and
 * `testing/` helpers may open bare sockets (a fake peer is not a product path), a type-only import costs
 * nothing, and a bench that measures bare sockets on purpose says so in its opening comment.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const SKIP = new Set(['node_modules', '.git', 'dist', 'coverage', '.vitest-results', 'fixtures', 'docs']);
const TRANSPORT = /^import\s+(?!type\b)[^;]*?from\s+'(node:net|serialport|@serialport\/[^']+)'/gm;

function sourceFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...sourceFiles(path));
    else if (/\.(ts|mts|mjs|js)$/.test(entry.name)) found.push(path);
  }
  return found;
}

/** Why `file` may import a transport module, or undefined when it may not. */
function exemption(file: string, text: string): string | undefined {
  const path = relative(ROOT, file).split(sep).join('/');
  if (path.startsWith('simulator/link/')) return 'the link layer';
  if (/\.test\.ts$/.test(path)) return 'a test';
  if (path.split('/').includes('testing')) return 'a test helper';
  const opening = text.slice(0, text.indexOf('*/') + 2);
  if (path.startsWith('bench/') && /bare[\s*]+(`node:net` )?sockets on purpose/i.test(opening))
    return 'a bench baseline';
  return undefined;
}

describe('transport imports', () => {
  it('node:net and serialport are imported only under simulator/link/ (tests, testing/ helpers and declared bench baselines aside)', () => {
    const offenders: string[] = [];
    for (const file of sourceFiles(ROOT)) {
      const text = readFileSync(file, 'utf8');
      const modules = [...text.matchAll(TRANSPORT)].map((m) => m[1]);
      if (modules.length > 0 && exemption(file, text) === undefined) {
        offenders.push(`${relative(ROOT, file)} imports ${modules.join(', ')}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the rule catches a value import and lets a type-only import pass', () => {
    expect([..."import { BlockList } from 'node:net';".matchAll(TRANSPORT)]).toHaveLength(1);
    expect([..."import { SerialPort } from 'serialport';".matchAll(TRANSPORT)]).toHaveLength(1);
    expect([..."import type { Socket } from 'node:net';".matchAll(TRANSPORT)]).toHaveLength(0);
  });
});
