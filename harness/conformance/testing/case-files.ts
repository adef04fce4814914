import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * What the roles' data-case tests share: a folder of case files written by the test, and the error a loader
 * throws. Test support only.
 * @packageDocumentation
 */

/**
 * A temporary folder (its name starts with `prefix`) removed after the test file's tests; `file` writes one case
 * file in it (a string as it is, anything else as JSON) and returns its path.
 */
export function caseFileFolder(prefix: string): {
  dir: string;
  file: (name: string, doc: unknown) => string;
} {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, doc: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc));
    return path;
  };
  return { dir, file };
}

/** What `load` throws, or undefined when it returns. */
export function thrownBy(load: () => unknown): unknown {
  try {
    load();
  } catch (error) {
    return error;
  }
  return undefined;
}
