import { type CaseResult, countGrades, GRADES, type SuiteReport } from '../types.ts';

/** @internal A report with one case of every grade and text that needs escaping, for the report tests. */
export function fixtureReport(): SuiteReport {
  const results: CaseResult[] = GRADES.map((grade, i) => ({
    id: `M188-${i + 1}.1`,
    title: `case graded ${grade} <&> "quoted"`,
    clause: 'CJ/T 188-2004 §x & field practice',
    grade,
    message: `${grade} because <b>a & b</b>\u0001`,
    durationMs: 10 * (i + 1),
    trace: [
      { atMs: 0, kind: 'sent', hex: 'FE 68 16', text: 'cjt188 request <x>' },
      {
        atMs: 12.5,
        kind: i % 2 === 0 ? 'received' : 'silence',
        hex: i % 2 === 0 ? '68 81 16' : undefined,
        text: 'reply & more',
      },
    ],
  }));
  results[0].reason = 'because "peers" do <this>';
  return {
    role: 'meter',
    protocol: 'cjt188',
    target: 'serial:/dev/ttyUSB0@2400-8E1',
    device: '00000000101001',
    startedAt: '2026-12-05T09:00:00.000Z',
    durationMs: 1234,
    results,
    counts: countGrades(results),
  };
}
