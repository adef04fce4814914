import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { runConformance } from '../../harness/conformance/run-conformance.ts';
import type { SuiteReport } from '../../harness/conformance/types.ts';
import { createPtyPair, type PtyPair } from '../../simulator/link/index.ts';
import type { MeterHost } from '../../simulator/meter/index.ts';
import { METERS_DEFAULTS, type MetersFlags, startMeters } from './meters.ts';

// `meterlab conform --role meter` against `meterlab meters` over a real socat pty pair opened with serialport
// at 2400 8E1: the whole suite of each protocol, on the real clock, with the bus adding 2400-baud wire time.

let pair: PtyPair | undefined;
let host: MeterHost | undefined;

afterEach(async () => {
  await host?.close();
  host = undefined;
  await pair?.close();
  pair = undefined;
});

async function conform(
  protocol: 'cjt188' | 'dlt645',
  meterFlags: Partial<MetersFlags>,
  extra: Record<string, unknown> = {},
): Promise<{ status: number; out: string[]; err: string[]; dir: string }> {
  pair = await createPtyPair();
  host = await startMeters({
    ...METERS_DEFAULTS,
    port: pair.paths[1],
    protocol,
    meters: '101001',
    ...meterFlags,
  });
  const dir = mkdtempSync(join(tmpdir(), 'meterlab-conform-'));
  const out: string[] = [];
  const err: string[] = [];
  const status = await runConformance(
    {
      role: 'meter',
      protocol,
      target: `serial:${pair.paths[0]}@2400-8E1`,
      meter: '101001',
      timeoutMs: 800,
      junit: join(dir, 'report.xml'),
      json: join(dir, 'report.json'),
      html: join(dir, 'report.html'),
      ...extra,
    },
    { out: (l) => out.push(l), err: (l) => err.push(l) },
  );
  return { status, out, err, dir };
}

describe('meterlab conform --role meter over a pty pair against meterlab meters', () => {
  for (const protocol of ['cjt188', 'dlt645'] as const) {
    it(`runs the whole ${protocol} suite in well under a minute; nothing fails against the simulated meter`, async () => {
      const started = Date.now();
      const { status, out, dir } = await conform(protocol, {});
      const seconds = (Date.now() - started) / 1000;
      const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as SuiteReport;
      const notPass = report.results.filter((r) => r.grade !== 'pass').map((r) => [r.id, r.grade]);
      expect(notPass).toEqual([]);
      expect(status).toBe(0);
      expect(
        out.some((l) => /^\d+ pass, \d+ non-strict, 0 fail, 0 info, 0 unimplemented, 0 skipped/.test(l)),
      ).toBe(true);
      expect(seconds).toBeLessThan(45);
      const timing = report.results.find((r) => r.id.endsWith('-10.1'));
      // The reply time over the pty is the bus turnaround (20 ms) once the wire time is taken out.
      const measured = (timing?.trace ?? [])
        .filter((e) => e.kind === 'note')
        .map((e) => Number(/reply time ([\d.]+)/.exec(e.text)?.[1]));
      expect(measured).toHaveLength(3);
      for (const ms of measured) expect(ms).toBeGreaterThanOrEqual(15);
      const junit = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(
        readFileSync(join(dir, 'report.xml'), 'utf8'),
      );
      expect(Number(junit.testsuites.tests)).toBe(report.results.length);
      expect(junit.testsuites.failures).toBe('0');
      expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('<details class="case g-pass"');
    }, 45_000);
  }

  it('exits 1 and names the case when the meter sends every reply twice', async () => {
    const { status, out, dir } = await conform(
      'cjt188',
      { faults: 'duplicate' },
      { cases: 'M188-1.1,M188-3.*' },
    );
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as SuiteReport;
    expect(report.results.map((r) => [r.id, r.grade])).toEqual([
      ['M188-1.1', 'pass'],
      ['M188-3.1', 'pass'],
      ['M188-3.2', 'fail'],
    ]);
    expect(status).toBe(1);
    expect(out.join('\n')).toMatch(/M188-3\.2 +fail/);
  });

  it('exits 2 for a target that is not there', async () => {
    const err: string[] = [];
    const status = await runConformance(
      { role: 'meter', protocol: 'cjt188', target: 'serial:/dev/meterlab-no-such-port', meter: '101001' },
      { out: () => undefined, err: (l) => err.push(l) },
    );
    expect(status).toBe(2);
    expect(err.join('\n')).toMatch(/CONFORM_UNREACHABLE: cannot open \/dev\/meterlab-no-such-port/);
  });
});
