import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { runAgainstSimulatedMeter } from '../testing/meter-bench.ts';
import { summaryLine } from '../types.ts';
import { ConsoleReporter, traceLines } from './console.ts';
import { fixtureReport } from './fixture-report.ts';
import { junitXml } from './junit.ts';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  isArray: (name) => name === 'testcase',
});

describe('JUnit XML', () => {
  it('has one testcase per case: fail -> failure with the trace, unimplemented/skipped -> skipped, others system-out', () => {
    const report = fixtureReport();
    const doc = parser.parse(junitXml(report));
    const suite = doc.testsuites.testsuite;
    expect(doc.testsuites.tests).toBe('6');
    expect(suite.failures).toBe('1');
    expect(suite.skipped).toBe('2');
    const byName = Object.fromEntries(
      suite.testcase.map((t: Record<string, unknown>) => [String(t.name).split(' ')[0], t]),
    );
    expect(Object.keys(byName)).toEqual(report.results.map((r) => r.id));
    const failed = byName['M188-3.1'];
    expect(failed.failure.message).toBe('fail because <b>a & b</b>');
    expect(failed.failure['#text']).toContain('-> cjt188 request <x>');
    expect(failed.failure['#text']).toContain('FE 68 16');
    expect(byName['M188-5.1'].skipped.message).toMatch(/^unimplemented: /);
    expect(byName['M188-6.1'].skipped.message).toMatch(/^skipped: /);
    expect(byName['M188-2.1']['system-out']).toMatch(/^non-strict: non-strict because/);
    expect(byName['M188-4.1']['system-out']).toMatch(/^info: /);
    expect(byName['M188-1.1'].failure).toBeUndefined();
    expect(byName['M188-1.1'].name).toBe('M188-1.1 case graded pass <&> "quoted"');
  });

  it('parses back from a real run of the suite', async () => {
    const report = await runAgainstSimulatedMeter(
      'dlt645',
      { faults: [{ kind: 'duplicate', when: { always: true } }] },
      'M645-3.*,M645-4.1',
    );
    const doc = parser.parse(junitXml(report));
    const cases = doc.testsuites.testsuite.testcase;
    expect(cases.map((c: { name: string }) => c.name.split(' ')[0])).toEqual(['M645-3.2', 'M645-4.1']);
    expect(cases[0].failure.message).toMatch(/more frame/);
    expect(cases[1].failure).toBeUndefined();
  });
});

describe('console report', () => {
  it('prints a row per case with progress, the reason for anything but pass, and the summary line', () => {
    const lines: string[] = [];
    const reporter = new ConsoleReporter({
      write: (l) => {
        lines.push(l);
      },
    });
    const report = fixtureReport();
    for (const [i, r] of report.results.entries()) reporter.caseFinished(r, i, report.results.length);
    reporter.finish(report);
    expect(lines[0]).toMatch(/^\[1\/6\] M188-1\.1 +pass +case graded pass/);
    expect(lines[1]).toMatch(/^\[2\/6\] M188-2\.1 +non-strict/);
    expect(lines[2]).toContain('non-strict because');
    expect(lines.at(-1)).toBe(`1 pass, 1 non-strict, 1 fail, 1 info, 1 unimplemented, 1 skipped (1.2 s)`);
    expect(summaryLine(report.counts)).toBe(
      '1 pass, 1 non-strict, 1 fail, 1 info, 1 unimplemented, 1 skipped',
    );
  });

  it('prints traces with hex only when asked', () => {
    const r = fixtureReport().results[0];
    expect(traceLines(r, false).join('\n')).not.toContain('FE 68 16');
    expect(traceLines(r, true).join('\n')).toContain('FE 68 16');
  });
});
