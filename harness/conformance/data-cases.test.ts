import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  badCaseFile,
  checkUniqueIds,
  type HexToken,
  hexToken,
  isForRole,
  loadCaseFolders,
  matchHex,
} from './data-cases.ts';
import { meterCatalogue } from './meter/meter-suite.ts';

const dir = mkdtempSync(join(tmpdir(), 'data-cases-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tokens = (pattern: string) => pattern.split(' ').map((w) => hexToken(w) as HexToken);
const noOwn = () => undefined;

describe('shared data-case loader', () => {
  it('matches "*" as one byte and "..." as any run, whole frames only', () => {
    const bytes = Uint8Array.of(0x68, 1, 2, 3, 0x16);
    expect(matchHex(tokens('68 * * * 16'), bytes, undefined, noOwn)).toBe(true);
    expect(matchHex(tokens('68 ... 16'), bytes, undefined, noOwn)).toBe(true);
    expect(matchHex(tokens('68 * * 16'), bytes, undefined, noOwn)).toBe(false);
    expect(matchHex(tokens('68 ... 03'), bytes, undefined, noOwn)).toBe(false);
  });

  it('a pattern made from a frame, with any bytes turned into "*" or runs into "...", matches it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 24 }), fc.array(fc.nat(2)), (bytes, choices) => {
        const words: string[] = [];
        let i = 0;
        for (const b of bytes) {
          const c = choices[i++] ?? 0;
          if (c === 1) words.push('*');
          else if (c === 2 && words.at(-1) !== '...') words.push('...');
          else words.push(b.toString(16).padStart(2, '0'));
        }
        return matchHex(tokens(words.join(' ')), bytes, undefined, noOwn);
      }),
    );
  });

  it('skips another role’s file, refuses a role that is none, keeps ids unique', () => {
    const bad = badCaseFile('f.json');
    expect(isForRole({ role: 'concentrator' }, 'meter', bad)).toBe(false);
    expect(isForRole({ role: 'meter' }, 'meter', bad)).toBe(true);
    expect(() => isForRole({ role: 'meters' }, 'meter', bad)).toThrow(
      'f.json: role: must be one of meter, concentrator, master, relay, got "meters"',
    );
    expect(() =>
      checkUniqueIds([
        { id: 'A', origin: 'code' },
        { id: 'A', origin: 'x.json' },
      ]),
    ).toThrow('case id A is defined twice (code and x.json)');
    expect(() => loadCaseFolders([join(dir, 'nowhere')], () => [])).toThrow(/cannot read the cases folder/);
  });

  it('one --cases-dir folder can hold every role’s files: the meter role skips the others', () => {
    writeFileSync(
      join(dir, 'c.json'),
      JSON.stringify({ role: 'concentrator', protocol: 'gdw376', cases: [] }),
    );
    writeFileSync(join(dir, 'r.json'), JSON.stringify({ role: 'relay', protocol: 'point-read', cases: [] }));
    const withDir = meterCatalogue('cjt188', { casesDirs: [dir] }).map((c) => c.id);
    expect(withDir).toEqual(meterCatalogue('cjt188').map((c) => c.id));
  });
});
