import { describe, expect, it } from 'vitest';
import type { FaultRule } from '../../../simulator/meter/index.ts';
import type { MeterDefect } from '../testing/defect-proxy.ts';
import { type BenchDevice, runAgainstSimulatedMeter } from '../testing/meter-bench.ts';
import type { Grade } from '../types.ts';
import { meterCatalogue } from './meter-suite.ts';
import type { MeterSuiteProtocol } from './meter-wire.ts';

// The proof that every case can fail (issue 11): each case runs against meterlab's faithful simulated meter
// (it must pass) and against a meter given the defect the case exists to catch (it must fail, or be
// non-strict where the case says so). Meter faults come from the meter's own fault plan; the other defects
// from the DefectProxy between the suite and the meter. All on a virtual clock: the timings are exact.

const always = { always: true } as const;
const fault = (kind: FaultRule['kind'], extra: Partial<FaultRule> = {}): BenchDevice => ({
  faults: [{ kind, when: always, ...extra }],
});
const defect = (d: MeterDefect): BenchDevice => ({ defects: [d] });

interface Row {
  id: string;
  device: BenchDevice;
  grade: Grade;
}

const CJT188_ROWS: Row[] = [
  { id: 'M188-1.1', device: fault('truncated'), grade: 'fail' },
  { id: 'M188-1.2', device: fault('wrong-address'), grade: 'fail' },
  { id: 'M188-1.3', device: fault('wrong-address'), grade: 'fail' },
  { id: 'M188-1.4', device: defect({ kind: 'wrong-ser' }), grade: 'fail' },
  { id: 'M188-2.1', device: defect({ kind: 'one-di-order', order: 'high-first' }), grade: 'non-strict' },
  { id: 'M188-2.2', device: defect({ kind: 'one-di-order', order: 'low-first' }), grade: 'non-strict' },
  { id: 'M188-2.3', device: defect({ kind: 'swap-reply-di' }), grade: 'fail' },
  { id: 'M188-3.1', device: defect({ kind: 'wrong-ser' }), grade: 'fail' },
  { id: 'M188-3.2', device: fault('duplicate'), grade: 'fail' },
  { id: 'M188-4.1', device: defect({ kind: 'answer-any-address' }), grade: 'fail' },
  { id: 'M188-4.2', device: defect({ kind: 'answer-any-type' }), grade: 'fail' },
  { id: 'M188-4.3', device: defect({ kind: 'ignore-checksum' }), grade: 'fail' },
  { id: 'M188-4.4', device: defect({ kind: 'act-before-end' }), grade: 'fail' },
  { id: 'M188-5.1', device: defect({ kind: 'min-preamble', count: 4 }), grade: 'fail' },
  { id: 'M188-5.2', device: defect({ kind: 'min-preamble', count: 2 }), grade: 'non-strict' },
  { id: 'M188-6.1', device: defect({ kind: 'inter-byte-reset', ms: 20 }), grade: 'fail' },
  { id: 'M188-6.2', device: defect({ kind: 'inter-byte-reset', ms: 5 }), grade: 'fail' },
  { id: 'M188-6.3', device: defect({ kind: 'junk-kills-frame' }), grade: 'fail' },
  { id: 'M188-7.1', device: defect({ kind: 'reply-wildcard-address' }), grade: 'fail' },
  { id: 'M188-7.2', device: fault('wrong-address'), grade: 'fail' },
  { id: 'M188-8.1', device: defect({ kind: 'status-stuck', valve: 'open' }), grade: 'fail' },
  { id: 'M188-8.2', device: defect({ kind: 'status-stuck', valve: 'closed' }), grade: 'fail' },
  { id: 'M188-9.1', device: defect({ kind: 'silent-on-error' }), grade: 'non-strict' },
  { id: 'M188-9.1', device: defect({ kind: 'normal-for-error' }), grade: 'fail' },
  { id: 'M188-10.1', device: fault('late', { delayMs: 700 }), grade: 'fail' },
];

const DLT645_ROWS: Row[] = [
  { id: 'M645-1.1', device: fault('truncated'), grade: 'fail' },
  { id: 'M645-1.2', device: fault('wrong-address'), grade: 'fail' },
  { id: 'M645-1.3', device: defect({ kind: 'no-offset33' }), grade: 'fail' },
  { id: 'M645-1.4', device: fault('wrong-address'), grade: 'fail' },
  { id: 'M645-1.5', device: fault('wrong-address'), grade: 'fail' },
  { id: 'M645-2.1', device: defect({ kind: 'no-offset33' }), grade: 'fail' },
  { id: 'M645-3.2', device: fault('duplicate'), grade: 'fail' },
  { id: 'M645-4.1', device: defect({ kind: 'answer-any-address' }), grade: 'fail' },
  { id: 'M645-4.3', device: defect({ kind: 'ignore-checksum' }), grade: 'fail' },
  { id: 'M645-4.4', device: defect({ kind: 'act-before-end' }), grade: 'fail' },
  { id: 'M645-5.1', device: defect({ kind: 'min-preamble', count: 2 }), grade: 'fail' },
  { id: 'M645-5.2', device: defect({ kind: 'min-preamble', count: 1 }), grade: 'non-strict' },
  { id: 'M645-6.1', device: defect({ kind: 'inter-byte-reset', ms: 20 }), grade: 'fail' },
  { id: 'M645-6.2', device: defect({ kind: 'inter-byte-reset', ms: 5 }), grade: 'fail' },
  { id: 'M645-6.3', device: defect({ kind: 'junk-kills-frame' }), grade: 'fail' },
  { id: 'M645-7.1', device: defect({ kind: 'reply-wildcard-address' }), grade: 'fail' },
  { id: 'M645-7.2', device: fault('wrong-address'), grade: 'fail' },
  { id: 'M645-8.1', device: defect({ kind: 'ignore-time-sync' }), grade: 'fail' },
  { id: 'M645-9.1', device: defect({ kind: 'error-word', word: 0x01 }), grade: 'non-strict' },
  { id: 'M645-9.1', device: defect({ kind: 'normal-for-error' }), grade: 'fail' },
  { id: 'M645-10.1', device: fault('late', { delayMs: 700 }), grade: 'fail' },
];

/**
 * Where meterlab's own simulated meter deviates, the faithful grade is what it really gets, with the reason;
 * every other case must pass against it.
 */
// Grades the faithful simulated meter is allowed to earn other than pass. Empty: the one earlier exception
// (M188-9.1, SER not echoed in the error reply to an unknown DI) was a simulator defect, fixed in simulator/meter.
const FAITHFUL_EXCEPTIONS: Record<string, { grade: Grade; why: string }> = {};

function describeDevice(device: BenchDevice): string {
  if (device.faults) return `fault ${device.faults.map((f) => f.kind).join('+')}`;
  return `defect ${device.defects?.map((d) => JSON.stringify(d)).join('+')}`;
}

for (const [protocol, rows] of [
  ['cjt188', CJT188_ROWS],
  ['dlt645', DLT645_ROWS],
] as [MeterSuiteProtocol, Row[]][]) {
  describe(`meter suite ${protocol}: proof table`, () => {
    const catalogue = meterCatalogue(protocol);

    it('every case has a defect row that makes it fail or non-strict', () => {
      const proven = new Set(
        rows.filter((r) => r.grade === 'fail' || r.grade === 'non-strict').map((r) => r.id),
      );
      expect(catalogue.map((c) => c.id).filter((id) => !proven.has(id))).toEqual([]);
      expect(rows.map((r) => r.id).filter((id) => !catalogue.some((c) => c.id === id))).toEqual([]);
    });

    it('every case passes against the faithful simulated meter (exceptions named)', async () => {
      const report = await runAgainstSimulatedMeter(protocol, {});
      const grades = Object.fromEntries(report.results.map((r) => [r.id, r.grade]));
      const expected = Object.fromEntries(
        catalogue.map((c) => [c.id, FAITHFUL_EXCEPTIONS[c.id]?.grade ?? 'pass']),
      );
      expect(grades).toEqual(expected);
    });

    it('the defect proxy without defects changes no verdict', async () => {
      const report = await runAgainstSimulatedMeter(protocol, { proxy: true });
      const expected = Object.fromEntries(
        catalogue.map((c) => [c.id, FAITHFUL_EXCEPTIONS[c.id]?.grade ?? 'pass']),
      );
      expect(Object.fromEntries(report.results.map((r) => [r.id, r.grade]))).toEqual(expected);
    });

    it.each(rows.map((r) => [r.id, describeDevice(r.device), r.grade, r] as const))(
      '%s against a meter with %s is graded %s',
      async (id, _device, grade, row) => {
        const report = await runAgainstSimulatedMeter(protocol, row.device, id);
        expect(report.results.map((r) => r.id)).toEqual([id]);
        const result = report.results[0];
        expect({ id, grade: result.grade, message: result.message }).toMatchObject({ id, grade });
        expect(result.trace.length).toBeGreaterThan(0);
      },
    );
  });
}
