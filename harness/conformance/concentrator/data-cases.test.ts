import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../../../protocols/bytes.ts';
import { badCaseFile } from '../data-cases.ts';
import { ConformanceError } from '../errors.ts';
import { compileGdw376, matchesGdw376 } from '../gdw376-pattern.ts';
import { caseFileFolder, thrownBy } from '../testing/case-files.ts';
import { runAgainstSimulatedConcentrator } from './bench.ts';
import { concentratorCatalogue } from './concentrator-suite.ts';
import { loadConcentratorCaseFile } from './data-cases.ts';

const { dir, file } = caseFileFolder('concentrator-cases-');

const good = {
  id: 'X-1',
  title: 't',
  clause: 'c',
  send: { forward: { meter: '{meter}' } },
  expect: '68 {L} {L} 68 88 {A} * 10 {SEQ:6} 00 00 01 00 {PORT} {K} ... {MCS} 16 {CS} 16',
};
const concentratorFile = (...cases: unknown[]) => ({ role: 'concentrator', protocol: 'gdw376', cases });

/** Vector Q15 (docs/gdw376.md §3.6): a forward reply on port 31 with a 20-byte DL/T 645 reply, EC and Tp. */
const Q15 = hexToBytes(
  '68 AE 00 AE 00 68 A8 00 02 34 12 04 10 E0 00 00 01 00 1F 14 00 68 61 10 01 30 12 15 68 91 08 33 33 34 33 AB 39 33 33 49 16 4F 00 00 06 50 23 21 05 AE 16',
);
const Q15_VALUES = {
  a: [0x00, 0x02, 0x34, 0x12],
  pseq: 0,
  port: 0x1f,
  addr: Uint8Array.of(0x61, 0x10, 0x01, 0x30, 0x12, 0x15),
};
const bad = badCaseFile('test.json');
const forward = (p: string) => compileGdw376(p, 'expect', bad, { extras: ['port', 'addr', 'k', 'mcs'] });

describe('concentrator data cases: patterns', () => {
  const q15 =
    '68 {L} {L} 68 A8 {A} * 10 {SEQ:E} 00 00 01 00 {PORT} {K} 68 {ADDR} 68 91 08 33 33 34 33 * * * * {MCS} 16 ... {CS} 16';

  it('matches vector Q15: k counts the meter frame up to EC and Tp, the meter checksum is checked', () => {
    expect(matchesGdw376(forward(q15), Q15, Q15_VALUES)).toBe(true);
    expect(matchesGdw376(forward(q15), Q15, { ...Q15_VALUES, port: 1 })).toBe(false);
    const loose = forward('68 {L} {L} 68 A8 {A} * 10 {SEQ:E} ... {CS} 16');
    const wrongK = Q15.slice();
    wrongK[19] += 1;
    wrongK[wrongK.length - 2] += 1; // the frame's own checksum stays right: only k is wrong
    expect(matchesGdw376(loose, wrongK, Q15_VALUES)).toBe(true);
    expect(matchesGdw376(forward(q15), wrongK, Q15_VALUES)).toBe(false);
    const wrongMeterCs = Q15.slice();
    wrongMeterCs[38] += 1; // the reading's last byte up, the meter's checksum down: the frame's sum holds
    wrongMeterCs[39] -= 1;
    expect(matchesGdw376(loose, wrongMeterCs, Q15_VALUES)).toBe(true);
    expect(matchesGdw376(forward(q15), wrongMeterCs, Q15_VALUES)).toBe(false);
  });

  it('refuses forward tokens where they mean nothing, and wildcards in a frame to send', () => {
    expect(() => compileGdw376('68 {K} 16', 'w', bad)).toThrow(/"\{K\}" is not a hex byte/);
    expect(() => forward('68 {MCS} {K} 16')).toThrow(/\{MCS\} needs a \{K\} before it/);
    expect(() => compileGdw376('68 * 16', 'w', bad, { send: true })).toThrow(/cannot contain them/);
  });
});

describe('concentrator data cases: loader', () => {
  it('reads a good file into a case with its clause and file', () => {
    const [c, ...rest] = loadConcentratorCaseFile(file('good.json', concentratorFile(good)));
    expect(rest).toEqual([]);
    expect(c).toMatchObject({ id: 'X-1', title: 't', clause: 'c', origin: 'good.json' });
  });

  it('refuses a malformed file with one error naming the file and the JSON path', () => {
    const cases: [unknown, RegExp][] = [
      ['{"role": "concentrator", "cases": [', /: file: not readable JSON/],
      [{ role: 'concentrator', protocol: 'cjt188', cases: [] }, /: \$\.protocol: must be "gdw376"/],
      [concentratorFile({ ...good, wait: 1 }), /\$\.cases\[0\]\.wait \(case X-1\): unknown field/],
      [
        concentratorFile(good, { ...good, id: 'X-2', expect: '68 zz' }),
        /\$\.cases\[1\]\.expect \(case X-2\): "zz" is not a hex byte/,
      ],
      [
        concentratorFile({ ...good, send: { forward: { meter: '{metre}' } } }),
        /\$\.cases\[0\]\.send\.forward\.meter \(case X-1\): must be "\{meter\}", "\{absent\}"/,
      ],
      [
        concentratorFile({ ...good, send: { forward: { meter: '{meter}', port: 40 } } }),
        /\$\.cases\[0\]\.send\.forward\.port \(case X-1\): must be "\{port\}", "\{absentPort\}" or a port/,
      ],
      [
        concentratorFile({ ...good, send: '68 {L} {L} 68 4B {A} 00 0C {SEQ:7} 00 00 02 00 {CS} 16' }),
        /\$\.cases\[0\]\.expect \(case X-1\): \{PORT\} names a forward's field/,
      ],
      [
        concentratorFile({ ...good, send: '68 * 16' }),
        /\$\.cases\[0\]\.send \(case X-1\): "\*" and "\.\.\." match bytes/,
      ],
      [concentratorFile({ ...good, expect: undefined }), /\$\.cases\[0\]\.expect \(case X-1\): is required/],
      [
        concentratorFile({ ...good, silence: { grade: 'great', why: '' } }),
        /\$\.cases\[0\]\.silence \(case X-1\): must be \{"grade": one of/,
      ],
      [concentratorFile({ ...good, meters: 'modbus' }), /\$\.cases\[0\]\.meters \(case X-1\): must be/],
      [concentratorFile({ ...good, id: undefined }), /\$\.cases\[0\]\.id: must be a non-empty string/],
    ];
    for (const [doc, message] of cases) {
      const path = file('bad.json', doc);
      const error = thrownBy(() => loadConcentratorCaseFile(path));
      expect(error, String(message)).toBeInstanceOf(ConformanceError);
      expect((error as ConformanceError).code).toBe('CONFORM_BAD_CASE_FILE');
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message.startsWith(`${path}: `)).toBe(true);
    }
  });

  it('skips files of other roles, adds --cases-dir cases to the built-in ones, and keeps ids unique', () => {
    const own = mkdtempSync(join(dir, 'own-'));
    writeFileSync(
      join(own, 'master.json'),
      JSON.stringify({ role: 'master', protocol: 'gdw376', cases: [] }),
    );
    writeFileSync(join(own, 'vendor.json'), JSON.stringify(concentratorFile(good)));
    const catalogue = concentratorCatalogue({ casesDirs: [own] });
    const ids = catalogue.map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['C376-1.1', 'C376-D1.1', 'C376-D1.2', 'C376-D2.1', 'X-1']));
    expect(ids.indexOf('C376-7.3')).toBeLessThan(ids.indexOf('C376-D1.1'));
    expect(catalogue.find((c) => c.id === 'C376-D2.1')?.origin).toBe('concentrator-gdw376.json');
    expect(concentratorCatalogue({ noBuiltinCases: true }).some((c) => c.id.startsWith('C376-D'))).toBe(
      false,
    );
    writeFileSync(join(own, 'twice.json'), JSON.stringify(concentratorFile(good)));
    expect(() => concentratorCatalogue({ casesDirs: [own] })).toThrow(/case id X-1 is defined twice/);
  });
});

describe('concentrator data cases: against meterlab’s concentrator (real TCP, socat pty)', () => {
  it("a user's cases are run and graded: a raw frame, a forward, a wrong expectation, a protocol skip", async () => {
    const own = join(dir, 'vendor');
    mkdirSync(own);
    writeFileSync(
      join(own, 'vendor.json'),
      JSON.stringify(
        concentratorFile(
          {
            id: 'V-1',
            title: 'terminal clock (AFN 0CH F2) is answered with data or denied',
            clause: 'c',
            send: '68 {L} {L} 68 4B {A} 00 0C {SEQ:6} 00 00 02 00 {CS} 16',
            expect: '68 {L} {L} 68 88 {A} * 0C {SEQ:6} 00 00 02 00 ... {CS} 16',
            nonStrict: [
              { expect: '68 {L} {L} 68 89 {A} * 00 {SEQ:6} 00 00 02 00 {CS} 16', why: 'denied (AFN 00H F2)' },
            ],
          },
          {
            id: 'V-2',
            title: 'a forward with the meter request written out',
            clause: 'c',
            send: {
              forward: {
                meter: '{meter}',
                request: 'FE FE 68 10 {ADDR} 01 03 1F 90 07 {CS} 16',
                frameTimeout: 1,
              },
            },
            expect:
              '68 {L} {L} 68 88 {A} * 10 {SEQ:6} 00 00 01 00 {PORT} {K} ... 68 10 {ADDR} 81 16 1F 90 07 ... {MCS} 16 {CS} 16',
          },
          {
            ...good,
            id: 'V-3',
            expect: '68 {L} {L} 68 88 {A} * 10 {SEQ:6} 00 00 01 00 {PORT} 00 00 {CS} 16',
          },
          { ...good, id: 'V-4', meters: 'dlt645' },
        ),
      ),
    );
    const report = await runAgainstSimulatedConcentrator({ cases: 'V-*', casesDirs: [own] });
    expect(report.results.map((r) => [r.id, r.grade])).toEqual([
      // meterlab's concentrator denies AFN 0CH (simulator/concentrator/concentrator.ts): the tolerated form.
      ['V-1', 'non-strict'],
      ['V-2', 'pass'],
      ['V-3', 'fail'],
      ['V-4', 'skipped'],
    ]);
    expect(report.results[0].message).toBe('denied (AFN 00H F2)');
    expect(report.results[2].trace.at(-1)?.text).toMatch(/^expected: 68 \{L\} \{L\} 68 88 \{A\} \* 10/);
  }, 30_000);
});
