import { describe, expect, it } from 'vitest';
import type { Grade } from '../types.ts';
import { runAgainstSimulatedConcentrator } from './bench.ts';
import { concentratorCatalogue } from './concentrator-suite.ts';
import type { ConcentratorDefect } from './defect-proxy.ts';

// The proof that every concentrator case can fail (issue 11): each case runs against meterlab's faithful
// concentrator simulator (it must pass) and against the same concentrator behind a proxy that gives it the
// defect the case exists to catch (it must fail, or be non-strict where the case says so). Real TCP on
// 127.0.0.1, the meters on a real socat pty, the real clock with a 600 ms heartbeat.

interface Row {
  id: string;
  defect: ConcentratorDefect;
  grade: Grade;
  /** A shorter wait where the defect means waiting in vain (a login never confirmed, a link gone silent). */
  linkWaitMs?: number;
}

const SHORT = 1500;

const ROWS: Row[] = [
  { id: 'C376-1.1', defect: { kind: 'login-l-copy' }, grade: 'fail', linkWaitMs: SHORT },
  { id: 'C376-1.1', defect: { kind: 'login-protocol-id-1' }, grade: 'non-strict' },
  { id: 'C376-1.2', defect: { kind: 'login-control' }, grade: 'fail', linkWaitMs: SHORT },
  { id: 'C376-1.3', defect: { kind: 'login-a2-zero' }, grade: 'fail', linkWaitMs: SHORT },
  { id: 'C376-1.4', defect: { kind: 'login-no-con' }, grade: 'fail', linkWaitMs: SHORT },
  { id: 'C376-2.1', defect: { kind: 'heartbeat-no-con' }, grade: 'fail' },
  { id: 'C376-2.2', defect: { kind: 'no-heartbeat' }, grade: 'fail' },
  { id: 'C376-2.3', defect: { kind: 'clock-ahead' }, grade: 'non-strict' },
  { id: 'C376-3.1', defect: { kind: 'ignore-confirm', form: 'F1' }, grade: 'fail' },
  { id: 'C376-3.2', defect: { kind: 'ignore-confirm', form: 'F3' }, grade: 'fail' },
  { id: 'C376-3.3', defect: { kind: 'ignore-confirm', form: 'F3-nonstandard' }, grade: 'non-strict' },
  { id: 'C376-4.1', defect: { kind: 'pseq-stuck' }, grade: 'non-strict' },
  { id: 'C376-4.2', defect: { kind: 'rseq-wrong' }, grade: 'fail' },
  { id: 'C376-5.1', defect: { kind: 'corrupt-embedded' }, grade: 'fail' },
  { id: 'C376-5.2', defect: { kind: 'wrong-reading' }, grade: 'fail' },
  { id: 'C376-5.3', defect: { kind: 'no-empty-reply' }, grade: 'fail' },
  { id: 'C376-5.3', defect: { kind: 'deny-for-empty' }, grade: 'non-strict' },
  { id: 'C376-5.4', defect: { kind: 'no-deny' }, grade: 'fail' },
  { id: 'C376-5.5', defect: { kind: 'ignore-control-word', baud: 2400 }, grade: 'non-strict' },
  { id: 'C376-6.1', defect: { kind: 'coalesce', windowMs: 250 }, grade: 'fail' },
  { id: 'C376-6.2', defect: { kind: 'drop-tp-requests' }, grade: 'fail' },
  { id: 'C376-7.1', defect: { kind: 'no-relogin' }, grade: 'fail', linkWaitMs: SHORT },
  { id: 'C376-7.2', defect: { kind: 'mute-unconfirmed', afterMs: 150 }, grade: 'fail', linkWaitMs: SHORT },
  { id: 'C376-7.3', defect: { kind: 'login-burst', gapMs: 30 }, grade: 'fail' },
  // The built-in data cases (fixtures/conformance/gdw376-concentrator/), proven the same way.
  { id: 'C376-D1.1', defect: { kind: 'corrupt-embedded' }, grade: 'fail' },
  { id: 'C376-D1.1', defect: { kind: 'rseq-wrong' }, grade: 'fail' },
  { id: 'C376-D1.2', defect: { kind: 'no-empty-reply' }, grade: 'fail' },
  { id: 'C376-D1.2', defect: { kind: 'deny-for-empty' }, grade: 'non-strict' },
  { id: 'C376-D2.1', defect: { kind: 'no-deny' }, grade: 'fail' },
];

describe('concentrator suite: proof table', () => {
  const catalogue = concentratorCatalogue();

  it('every case has a defect row that makes it fail or non-strict, and every row names a case', () => {
    const proven = new Set(
      ROWS.filter((r) => r.grade === 'fail' || r.grade === 'non-strict').map((r) => r.id),
    );
    expect(catalogue.map((c) => c.id).filter((id) => !proven.has(id))).toEqual([]);
    expect(ROWS.map((r) => r.id).filter((id) => !catalogue.some((c) => c.id === id))).toEqual([]);
  });

  it('every case passes against the faithful concentrator, behind the proxy without defects', async () => {
    const report = await runAgainstSimulatedConcentrator({ proxy: true });
    const grades = Object.fromEntries(report.results.map((r) => [r.id, r.grade]));
    expect(grades).toEqual(Object.fromEntries(catalogue.map((c) => [c.id, 'pass'])));
    expect(report.device).toBe('0171/2082');
    for (const r of report.results) expect(r.trace.length).toBeGreaterThan(0);
  }, 60_000);

  it.each(ROWS.map((r) => [r.id, JSON.stringify(r.defect), r.grade, r] as const))(
    '%s against a concentrator with %s is graded %s',
    async (id, _defect, grade, row) => {
      const report = await runAgainstSimulatedConcentrator({
        defects: [row.defect],
        cases: id,
        linkWaitMs: row.linkWaitMs,
      });
      expect(report.results.map((r) => r.id)).toEqual([id]);
      const result = report.results[0];
      expect({ id, grade: result.grade, message: result.message }).toMatchObject({ id, grade });
      expect(result.trace.length).toBeGreaterThan(0);
    },
    20_000,
  );
});
