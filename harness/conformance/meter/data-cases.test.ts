import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../../../protocols/bytes.ts';
import { ConformanceError } from '../errors.ts';
import { runAgainstSimulatedMeter } from '../testing/meter-bench.ts';
import { compile, loadCaseFile, matches, requestBytes } from './data-cases.ts';

const values = {
  address: hexToBytes('01 10 10 00 00 00 00'),
  meterType: 0x10,
  ser: 0x41,
  diOrder: 'low-first' as const,
};

describe('data-case patterns', () => {
  it('builds the C1 vector from placeholders, checksum computed', () => {
    const tokens = compile(
      'FE FE FE FE 68 10 44 33 22 11 00 33 78 01 03 {DI:901F} 00 {CS} 16',
      'cjt188',
      'request',
      values,
    );
    // Vector C1 (fixtures/vectors/cjt188.json, docs/cjt188.md §1.13): the read of 901F sent 1F 90, CS 80.
    expect(requestBytes(tokens)).toEqual(
      hexToBytes('FE FE FE FE 68 10 44 33 22 11 00 33 78 01 03 1F 90 00 80 16'),
    );
  });

  it('writes a DL/T 645 DI DI0 first with +33H (D4)', () => {
    const tokens = compile(
      '68 12 90 78 56 34 12 68 11 04 {DI:00010000} {CS} 16',
      'dlt645',
      'request',
      values,
    );
    expect(requestBytes(tokens)).toEqual(hexToBytes('68 12 90 78 56 34 12 68 11 04 33 33 34 33 68 16'));
  });

  it('matches a CJ/T 188 reply DI in either byte order, wildcards, and checks {CS}', () => {
    const reply = 'FE FE 68 10 01 10 10 00 00 00 00 81 04 03 81 41 15 {CS} 16';
    const good = requestBytes(compile(reply.replace('FE FE ', ''), 'cjt188', 'request', values));
    const pattern = compile('68 {TYPE} {ADDR} 81 04 {DI:8103} {SER} * {CS} 16', 'cjt188', 'reply', values);
    expect(matches(pattern, good)).toBe(true);
    const swapped = good.slice();
    [swapped[11], swapped[12]] = [swapped[12], swapped[11]];
    expect(matches(pattern, swapped)).toBe(true);
    const badCs = good.slice();
    badCs[badCs.length - 2] ^= 1;
    expect(matches(pattern, badCs)).toBe(false);
    const otherSer = good.slice();
    otherSer[13] = 0x42;
    expect(matches(pattern, otherSer)).toBe(false);
  });

  it('"..." matches any number of bytes, "*" exactly one', () => {
    const bytes = hexToBytes('68 01 02 03 16');
    expect(matches(compile('68 ... 16', 'cjt188', 'reply', values), bytes)).toBe(true);
    expect(matches(compile('68 * * * 16', 'cjt188', 'reply', values), bytes)).toBe(true);
    expect(matches(compile('68 * * 16', 'cjt188', 'reply', values), bytes)).toBe(false);
  });

  it('refuses wildcards in a request and unknown tokens, naming them', () => {
    expect(() => compile('68 * 16', 'cjt188', 'request', values)).toThrow(/"\*" is a wildcard/);
    expect(() => compile('68 {FOO} 16', 'cjt188', 'reply', values)).toThrow(/unknown token "\{FOO\}"/);
  });
});

describe('data-case files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meterlab-cases-'));
  const write = (name: string, doc: unknown) => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(doc));
    return file;
  };
  const base = {
    id: 'V-1',
    title: 'vendor read',
    clause: 'field practice',
    request: 'FE FE 68 {TYPE} {ADDR} 01 03 {DI:901F} {SER} {CS} 16',
    expect: '68 {TYPE} {ADDR} 81 ... {CS} 16',
  };

  it('names the file, the case and the field of a mistake', () => {
    const file = write('bad.json', {
      role: 'meter',
      protocol: 'cjt188',
      cases: [base, { ...base, id: 'V-2', expect: '68 ZZ' }],
    });
    let error: unknown;
    try {
      loadCaseFile(file, 'cjt188');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConformanceError);
    expect((error as ConformanceError).code).toBe('CONFORM_BAD_CASE_FILE');
    expect((error as Error).message).toContain(`${file}: cases[1] (V-2).expect: unknown token "ZZ"`);
  });

  it('refuses unknown fields and a bad silence grade', () => {
    const unknown = write('unknown.json', {
      role: 'meter',
      protocol: 'cjt188',
      cases: [{ ...base, expected: 'x' }],
    });
    expect(() => loadCaseFile(unknown, 'cjt188')).toThrow(/cases\[0\] \(V-1\)\.expected: unknown field/);
    const grade = write('grade.json', {
      role: 'meter',
      protocol: 'cjt188',
      cases: [{ ...base, silence: { grade: 'meh', why: '' } }],
    });
    expect(() => loadCaseFile(grade, 'cjt188')).toThrow(/\.silence: must be/);
  });

  it('skips files of another protocol (after checking them)', () => {
    const file = write('other.json', { role: 'meter', protocol: 'dlt645', cases: [] });
    expect(loadCaseFile(file, 'cjt188')).toEqual([]);
  });

  it("a user's case from --cases-dir runs against the simulated meter and is graded", async () => {
    const cases = join(dir, 'vendor');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(cases);
    writeFileSync(
      join(cases, 'vendor.json'),
      JSON.stringify({
        role: 'meter',
        protocol: 'cjt188',
        cases: [
          base,
          {
            ...base,
            id: 'V-2',
            title: 'expects a reply the meter does not give',
            expect: '68 {TYPE} {ADDR} 81 17 ... {CS} 16',
          },
          {
            ...base,
            id: 'V-3',
            title: 'must be silent',
            request: 'FE FE 68 {TYPE} 99 99 99 99 99 99 99 01 03 {DI:901F} {SER} {CS} 16',
            expect: null,
          },
        ],
      }),
    );
    const report = await runAgainstSimulatedMeter('cjt188', {}, 'V-*', [cases]);
    expect(report.results.map((r) => [r.id, r.grade])).toEqual([
      ['V-1', 'pass'],
      ['V-2', 'fail'],
      ['V-3', 'pass'],
    ]);
    expect(report.results[1].trace.at(-1)?.text).toMatch(/^expected: 68 \{TYPE\} \{ADDR\} 81 17/);
  });
});
