import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../../protocols/bytes.ts';
import { ConformanceError } from '../errors.ts';
import { caseFileFolder } from '../testing/case-files.ts';
import { compile, loadMasterCaseFile, matches, sendBytes } from './data-cases.ts';
import { masterSuiteCatalogue } from './master-suite.ts';

const { dir, file } = caseFileFolder('master-cases-');

const bad = (where: string, problem: string) =>
  new ConformanceError('CONFORM_BAD_CASE_FILE', `${where}: ${problem}`);
/** A1 0171, A2 2082 (08 22 on the wire) as in vector Q1 (docs/gdw376.md §3.6). */
const Q1_VALUES = { a: [0x71, 0x01, 0x22, 0x08], pseq: 8 };

describe('master data cases', () => {
  it('builds vector Q1 (login) from a pattern: L and CS computed', () => {
    const tokens = compile('68 {L} {L} 68 C9 {A} 00 02 {SEQ:7} 00 00 01 00 {CS} 16', 'send', bad);
    expect(bytesToHex(sendBytes(tokens, Q1_VALUES))).toBe(
      '68 32 00 32 00 68 C9 71 01 22 08 00 02 78 00 00 01 00 E0 16',
    );
  });

  it('matches an answer with wildcards, the SEQ echo, L and CS checked', () => {
    const confirm = hexToBytes('68 32 00 32 00 68 0B 71 01 22 08 00 00 68 00 00 01 00 10 16');
    const pattern = compile('68 {L} {L} 68 * {A} * 00 {SEQ:6} ... {CS} 16', 'expect', bad);
    expect(matches(pattern, confirm, Q1_VALUES)).toBe(true);
    expect(matches(pattern, confirm, { ...Q1_VALUES, pseq: 9 })).toBe(false);
    const wrongCs = confirm.slice();
    wrongCs[18] ^= 1;
    expect(matches(pattern, wrongCs, Q1_VALUES)).toBe(false);
    expect(matches(compile('68 {L1} {L1} 68 ...', 'expect', bad), confirm, Q1_VALUES)).toBe(false);
  });

  it('refuses a malformed file, naming the file, the case and the field', () => {
    const cases = [
      [
        {
          role: 'master',
          protocol: 'gdw376',
          cases: [{ id: 'X-1', title: 't', clause: 'c', send: '68 zz', expect: null }],
        },
        /case X-1\.send: "zz" is not a hex byte/,
      ],
      [
        {
          role: 'master',
          protocol: 'gdw376',
          cases: [{ id: 'X-1', title: 't', clause: 'c', send: '68 *', expect: null }],
        },
        /cannot contain them/,
      ],
      [
        {
          role: 'master',
          protocol: 'gdw376',
          cases: [{ id: 'X-1', title: 't', clause: 'c', send: '68', expect: null, extra: 1 }],
        },
        /case X-1\.extra: unknown field/,
      ],
      [{ role: 'master', protocol: 'dlt645', cases: [] }, /protocol: must be "gdw376"/],
    ] as const;
    for (const [doc, message] of cases) {
      const path = file('bad.json', doc);
      expect(() => loadMasterCaseFile(path)).toThrow(message);
      expect(() => loadMasterCaseFile(path)).toThrow(path);
    }
  });

  it('skips files of other roles and adds --cases-dir cases to the catalogue; ids stay unique', () => {
    const own = mkdtempSync(join(dir, 'own-'));
    writeFileSync(join(own, 'meter.json'), JSON.stringify({ role: 'meter', protocol: 'cjt188', cases: [] }));
    const doc = {
      role: 'master',
      protocol: 'gdw376',
      cases: [
        {
          id: 'V-1',
          title: 't',
          clause: 'c',
          send: '68 {L} {L} 68 C9 {A} 00 02 {SEQ:7} 00 00 04 00 {CS} 16',
          expect: null,
        },
      ],
    };
    writeFileSync(join(own, 'vendor.json'), JSON.stringify(doc));
    const ids = masterSuiteCatalogue({ casesDirs: [own] }).map((c) => c.id);
    expect(ids).toContain('V-1');
    expect(ids).toContain('G376M-D1.1');
    writeFileSync(join(own, 'twice.json'), JSON.stringify(doc));
    expect(() => masterSuiteCatalogue({ casesDirs: [own] })).toThrow(/V-1 is defined twice/);
  });
});
