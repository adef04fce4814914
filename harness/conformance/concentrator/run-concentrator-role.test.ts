import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { listenTcp } from '../../../simulator/link/index.ts';
import { type ConformOptions, runConformance } from '../run-conformance.ts';
import type { SuiteReport } from '../types.ts';
import { BENCH_HEARTBEAT_MS, type BenchConcentrator, benchConcentrator } from './bench.ts';
import type { ConcentratorDefect } from './defect-proxy.ts';

// `meterlab conform --role concentrator` as the command runs it: meterlab listens on 127.0.0.1 port 0, the test
// reads the port from the heading and points meterlab's own concentrator at it (through the defect proxy when
// asked); the meters are served on a real socat pty. Also server mode, --list and the usage errors.

let bench: BenchConcentrator | undefined;
afterEach(async () => {
  await bench?.stop();
  bench = undefined;
});

async function conform(
  options: Partial<ConformOptions>,
  defects: ConcentratorDefect[] = [],
  onLine?: (line: string) => void,
  signal?: AbortSignal,
): Promise<{ status: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  let dialled = false;
  const status = await runConformance(
    { role: 'concentrator', ...options },
    {
      signal,
      out: (line) => {
        out.push(line);
        onLine?.(line);
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(line);
        if (m && bench && !dialled) {
          dialled = true;
          void bench.dial(Number(m[1]), defects);
        }
      },
      err: (line) => err.push(line),
    },
  );
  return { status, out, err };
}

function concentratorFlags(meterPath: string) {
  return {
    meters: '101001,101002',
    metersOn: `serial:${meterPath}@2400-8E1`,
    heartbeatSeconds: BENCH_HEARTBEAT_MS / 1000,
    linkWaitSeconds: 3,
    frameTimeoutSeconds: 1,
    replyWaitMs: 1500,
    minRetryGapMs: 100,
    seed: 5,
  };
}

describe('meterlab conform --role concentrator', () => {
  it('--list prints every case with its clause and exits 0', async () => {
    const { status, out } = await conform({ list: true });
    expect(status).toBe(0);
    expect(out.filter((l) => /^C376-\d+\.\d+ /.test(l))).toHaveLength(22);
    expect(out.join('\n')).toContain('One frame per TCP segment');
  });

  it('exits 2 naming the flag for a bad target, a tcp: target without --a1/--a2, or --meters-on without --meters', async () => {
    const bad = await conform({ target: 'serial:/dev/ttyUSB0' });
    expect(bad.status).toBe(2);
    expect(bad.err.join('\n')).toMatch(/CONFORM_USAGE: --target must be tcp-listen:HOST:PORT/);
    const noAddress = await conform({ target: 'tcp:127.0.0.1:9093' });
    expect(noAddress.status).toBe(2);
    expect(noAddress.err.join('\n')).toMatch(/--a1 and --a2 are required/);
    const noMeters = await conform({
      target: 'tcp-listen:127.0.0.1:0',
      concentratorRole: { metersOn: 'serial:/tmp/x' },
    });
    expect(noMeters.status).toBe(2);
    expect(noMeters.err.join('\n')).toMatch(/--meters-on needs --meters/);
  });

  it('exits 2 when the concentrator in server mode cannot be reached, or none connects', async () => {
    const closed = await listenTcp({ port: 0 });
    const port = closed.address().port;
    await closed.close();
    const unreachable = await conform({
      target: `tcp:127.0.0.1:${port}`,
      concentratorRole: { a1: '0171', a2: 2082 },
    });
    expect(unreachable.status).toBe(2);
    expect(unreachable.err.join('\n')).toMatch(/CONFORM_UNREACHABLE/);
    const nobody = await conform({
      target: 'tcp-listen:127.0.0.1:0',
      concentratorRole: { linkWaitSeconds: 0.3 },
    });
    expect(nobody.status).toBe(2);
    expect(nobody.err.join('\n')).toMatch(/CONFORM_UNREACHABLE: no concentrator connected/);
  });

  // The whole suite runs in proof.test.ts; here the cases that need no waiting for heartbeats.
  it("runs against meterlab's concentrator: exit 0, a summary line, JUnit and JSON reports", async () => {
    bench = await benchConcentrator();
    const dir = mkdtempSync(join(tmpdir(), 'meterlab-conform-c376-'));
    const { status, out } = await conform({
      target: 'tcp-listen:127.0.0.1:0',
      concentratorRole: concentratorFlags(bench.meterPath),
      cases: 'C376-1.*,C376-4.*,C376-5.*,C376-6.*',
      junit: join(dir, 'c.xml'),
      json: join(dir, 'c.json'),
    });
    expect(out.join('\n')).toMatch(/13 pass, 0 non-strict, 0 fail/);
    expect(status).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8')) as SuiteReport;
    expect(report.role).toBe('concentrator');
    expect(report.device).toBe('0171/2082');
    const xml = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(join(dir, 'c.xml'), 'utf8'));
    const cases = xml.testsuites.testsuite.testcase as { '@_name': string }[];
    expect(cases.map((c) => c['@_name'].slice(0, 8))).toContain('C376-5.2');
    expect(cases).toHaveLength(13);
  }, 60_000);

  it('exits 1 when a case fails (responses with a wrong RSEQ)', async () => {
    bench = await benchConcentrator();
    const { status, out } = await conform(
      {
        target: 'tcp-listen:127.0.0.1:0',
        concentratorRole: concentratorFlags(bench.meterPath),
        cases: 'C376-4.2',
      },
      [{ kind: 'rseq-wrong' }],
    );
    expect(out.join('\n')).toMatch(/C376-4\.2 +fail/);
    expect(status).toBe(1);
  }, 20_000);

  it('Ctrl-C ends the case in progress at once: it is skipped, the run reports and exits 130', async () => {
    bench = await benchConcentrator();
    const controller = new AbortController();
    let abortedAt = 0;
    const { status, out } = await conform(
      {
        target: 'tcp-listen:127.0.0.1:0',
        concentratorRole: { ...concentratorFlags(bench.meterPath), linkWaitSeconds: 30 },
        cases: 'C376-1.1,C376-7.2',
      },
      [{ kind: 'mute-unconfirmed', afterMs: 100 }],
      (line) => {
        if (line.includes('C376-1.1')) {
          setTimeout(() => {
            abortedAt = Date.now();
            controller.abort();
          }, 300);
        }
      },
      controller.signal,
    );
    expect(Date.now() - abortedAt).toBeLessThan(5000);
    expect(out.join('\n')).toMatch(/C376-7\.2 +skipped/);
    expect(status).toBe(130);
  }, 20_000);

  it('tests a concentrator in server mode over tcp:, skipping what only a dialling concentrator does', async () => {
    bench = await benchConcentrator();
    const port = await bench.listen();
    const { status, out } = await conform({
      target: `tcp:127.0.0.1:${port}`,
      concentratorRole: { ...concentratorFlags(bench.meterPath), a1: '0171', a2: 2082 },
      cases: 'C376-1.1,C376-4.2,C376-5.*,C376-6.*,C376-7.*',
    });
    const text = out.join('\n');
    expect(text).toMatch(/C376-1\.1 +skipped/);
    expect(text).toMatch(/C376-5\.2 +pass/);
    expect(text).toMatch(/C376-7\.1 +pass/);
    expect(text).toMatch(/C376-7\.2 +skipped/);
    expect(status).toBe(0);
  }, 30_000);
});
