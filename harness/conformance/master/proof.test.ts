import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MasterError, MasterStation } from '../../master/index.ts';
import type { Grade, SuiteReport } from '../types.ts';
import { type MasterDefect, MasterDefectProxy } from './defect-proxy.ts';
import { type MasterSuiteOptions, masterSuiteCatalogue, runMasterSuite } from './master-suite.ts';
import { type MasterTrigger, shellTrigger } from './trigger.ts';

// The proof that every master case can fail (issue 11): each case runs against meterlab's own master station
// (it must pass) and against the same master behind a MasterDefectProxy that gives it the defect the case
// exists to catch (it must fail, or be non-strict where the case says so). Real TCP on 127.0.0.1; the waits
// are shortened with the suite's options so a whole run takes a few seconds.

// Long enough that a loaded CI host (2 cores, many suites) never stalls a keep-alive past 2 periods.
const PERIOD_MS = 1000;

/** A read through the master's own API, in-process: what a platform's "read now" button does. */
function inProcessTrigger(master: MasterStation): MasterTrigger {
  return {
    describe: (v) => `master.pointRead(${v.concentrator}, ${v.meter})`,
    run: async (v) => {
      try {
        const reading = await master.pointRead({
          concentrator: v.concentrator,
          meter: v.meter,
          protocol: v.protocol as 'cjt188',
          port: Number(v.port),
        });
        return { exitCode: 0, stdout: `${JSON.stringify(reading)}\n`, stderr: '' };
      } catch (error) {
        const e = error as MasterError;
        return { exitCode: 1, stdout: '', stderr: `${e.code}: ${e.message}` };
      }
    },
  };
}

let master: MasterStation;
let masterPort: number;
let apiPort: number;

beforeAll(async () => {
  master = new MasterStation({
    listen: { port: 0 },
    api: { port: 0 },
    heartbeatPeriodMs: PERIOD_MS,
    missedHeartbeats: 2,
    meterFrameTimeoutMs: 2000,
    forwardTimeoutMs: 4000,
  });
  const addresses = await master.start();
  masterPort = addresses.listen.port;
  apiPort = addresses.api?.port ?? 0;
});

afterAll(async () => {
  await master.stop();
});

function options(port: number, extra: Partial<MasterSuiteOptions> = {}): MasterSuiteOptions {
  return {
    host: '127.0.0.1',
    port,
    confirmTimeoutMs: 800,
    confirmLimitMs: 300,
    heartbeatPeriodMs: PERIOD_MS,
    idleLimitMs: 3500,
    forwardWaitMs: 3000,
    trigger: inProcessTrigger(master),
    ...extra,
  };
}

async function runBehindProxy(defects: MasterDefect[], cases: string): Promise<SuiteReport> {
  const proxy = await MasterDefectProxy.start({ master: { host: '127.0.0.1', port: masterPort }, defects });
  try {
    return await runMasterSuite(options(proxy.port, { cases }));
  } finally {
    await proxy.close();
  }
}

interface Row {
  id: string;
  defect: MasterDefect;
  grade: Grade;
}

const ROWS: Row[] = [
  { id: 'G376M-1.1', defect: { kind: 'no-confirm', fn: 1 }, grade: 'fail' },
  { id: 'G376M-1.1', defect: { kind: 'deny-login' }, grade: 'fail' },
  { id: 'G376M-1.2', defect: { kind: 'confirm-seq' }, grade: 'fail' },
  { id: 'G376M-1.2', defect: { kind: 'confirm-address' }, grade: 'fail' },
  { id: 'G376M-1.3', defect: { kind: 'confirm-f3-nonstandard' }, grade: 'non-strict' },
  { id: 'G376M-1.3', defect: { kind: 'confirm-tmnl' }, grade: 'non-strict' },
  { id: 'G376M-1.3', defect: { kind: 'deny-login' }, grade: 'fail' },
  { id: 'G376M-2.1', defect: { kind: 'no-confirm', fn: 3, clock: false }, grade: 'fail' },
  { id: 'G376M-2.1', defect: { kind: 'confirm-tmnl' }, grade: 'non-strict' },
  { id: 'G376M-2.2', defect: { kind: 'no-confirm', fn: 3, clock: true }, grade: 'fail' },
  { id: 'G376M-3.1', defect: { kind: 'delay-confirm', ms: 500 }, grade: 'non-strict' },
  { id: 'G376M-3.1', defect: { kind: 'delay-confirm', ms: 1200 }, grade: 'fail' },
  { id: 'G376M-3.2', defect: { kind: 'close-idle', ms: 300 }, grade: 'fail' },
  { id: 'G376M-3.2', defect: { kind: 'keep-open' }, grade: 'non-strict' },
  { id: 'G376M-4.1', defect: { kind: 'refuse-relogin' }, grade: 'fail' },
  { id: 'G376M-4.2', defect: { kind: 'keep-open' }, grade: 'non-strict' },
  { id: 'G376M-4.3', defect: { kind: 'confirm-address' }, grade: 'fail' },
  { id: 'G376M-5.1', defect: { kind: 'no-confirm', fn: 2 }, grade: 'fail' },
  { id: 'G376M-6.1', defect: { kind: 'one-frame-per-read' }, grade: 'fail' },
  { id: 'G376M-6.2', defect: { kind: 'one-frame-per-read' }, grade: 'fail' },
  { id: 'G376M-6.3', defect: { kind: 'one-frame-per-read' }, grade: 'non-strict' },
  { id: 'G376M-7.1', defect: { kind: 'forward-address' }, grade: 'fail' },
  { id: 'G376M-7.2', defect: { kind: 'forward-port', port: 2 }, grade: 'fail' },
  { id: 'G376M-7.3', defect: { kind: 'forward-control', word: 0x63 }, grade: 'fail' },
  { id: 'G376M-7.4', defect: { kind: 'forward-timeouts', frame: 0x05, byte: 10 }, grade: 'fail' },
  { id: 'G376M-7.4', defect: { kind: 'forward-timeouts', frame: 0x8a, byte: 0 }, grade: 'fail' },
  { id: 'G376M-7.5', defect: { kind: 'forward-meter-address' }, grade: 'fail' },
  { id: 'G376M-7.6', defect: { kind: 'reply-port' }, grade: 'fail' },
  { id: 'G376M-7.7', defect: { kind: 'match-by-order' }, grade: 'fail' },
  { id: 'G376M-7.8', defect: { kind: 'stale-on-silence' }, grade: 'fail' },
  { id: 'G376M-D1.1', defect: { kind: 'confirm-seq' }, grade: 'fail' },
  { id: 'G376M-D1.2', defect: { kind: 'no-confirm', fn: 3 }, grade: 'non-strict' },
];

describe('master suite: proof table', () => {
  const catalogue = masterSuiteCatalogue();

  it('every case has a defect row that makes it fail or non-strict', () => {
    const proven = new Set(ROWS.map((r) => r.id));
    expect(catalogue.map((c) => c.id).filter((id) => !proven.has(id))).toEqual([]);
    expect(ROWS.map((r) => r.id).filter((id) => !catalogue.some((c) => c.id === id))).toEqual([]);
  });

  it("every case passes against meterlab's master station", async () => {
    const report = await runMasterSuite(options(masterPort));
    const grades = Object.fromEntries(report.results.map((r) => [r.id, `${r.grade}: ${r.message}`]));
    for (const c of catalogue) expect(grades[c.id]).toMatch(/^pass: /);
    expect(report.counts.pass).toBe(catalogue.length);
  }, 60_000);

  it('the active cases pass with a DL/T 645 meter on port 2 as well', async () => {
    const report = await runMasterSuite(
      options(masterPort, {
        cases: 'G376M-7.*',
        meter: '202208310002',
        meterProtocol: 'dlt645',
        meterPort: 2,
      }),
    );
    const failed = report.results
      .filter((r) => r.grade !== 'pass')
      .map((r) => `${r.id} ${r.grade}: ${r.message}`);
    expect(failed).toEqual([]);
    expect(report.results.length).toBeGreaterThanOrEqual(8);
  }, 60_000);

  it('the proxy without defects changes no verdict', async () => {
    const report = await runBehindProxy([], '*');
    const failed = report.results
      .filter((r) => r.grade !== 'pass')
      .map((r) => `${r.id} ${r.grade}: ${r.message}`);
    expect(failed).toEqual([]);
  }, 60_000);

  it.each(ROWS.map((r) => [r.id, JSON.stringify(r.defect), r.grade, r] as const))(
    '%s against a master with %s is graded %s',
    async (id, _defect, grade, row) => {
      const report = await runBehindProxy([row.defect], id);
      expect(report.results.map((r) => r.id)).toEqual([id]);
      const result = report.results[0];
      expect({ id, grade: result.grade, message: result.message }).toMatchObject({ id, grade });
      expect(result.trace.length).toBeGreaterThan(0);
    },
    20_000,
  );

  it("a shell trigger reads through the master's client API and its printed value is checked", async () => {
    const script = [
      "const s=require('net').connect(Number(process.argv[1]),'127.0.0.1');",
      "s.write(JSON.stringify({type:'read',id:'1',concentrator:process.argv[2],meter:process.argv[3],protocol:process.argv[4],port:Number(process.argv[5])})+'\\n');",
      "let b='';s.on('data',d=>{b+=d;if(b.includes('\\n')){process.stdout.write(b);s.end();}});",
    ].join('');
    const command = `"${process.execPath}" -e "${script.replace(/"/g, '\\"')}" ${apiPort} {concentrator} {meter} {protocol} {port}`;
    const report = await runMasterSuite(
      options(masterPort, { cases: 'G376M-7.6', trigger: shellTrigger(command, { timeoutMs: 5000 }) }),
    );
    expect(report.results.map((r) => `${r.id} ${r.grade}: ${r.message}`)).toEqual([
      expect.stringMatching(/^G376M-7\.6 pass: answered in order: the trigger printed [\d.]+/),
    ]);
  }, 20_000);
});
