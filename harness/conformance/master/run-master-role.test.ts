import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MasterStation } from '../../master/index.ts';
import { type ConformOptions, runConformance } from '../run-conformance.ts';
import { MasterDefectProxy } from './defect-proxy.ts';
import { masterSuiteCatalogue } from './master-suite.ts';
import { parseMeterLine, parseTcpTarget } from './run-master-role.ts';

// `meterlab conform --role master` through runConformance, as the CLI calls it: exit statuses, --list, the
// report files, and a shell trigger that reads through the master's own client API (a real child process).

let master: MasterStation;
let port: number;
let apiPort: number;
let dir: string;

beforeAll(async () => {
  master = new MasterStation({
    listen: { port: 0 },
    api: { port: 0 },
    heartbeatPeriodMs: 1000,
    missedHeartbeats: 2,
    meterFrameTimeoutMs: 2000,
    forwardTimeoutMs: 4000,
  });
  const a = await master.start();
  port = a.listen.port;
  apiPort = a.api?.port ?? 0;
  dir = mkdtempSync(join(tmpdir(), 'conform-master-'));
});

afterAll(async () => {
  await master.stop();
  rmSync(dir, { recursive: true, force: true });
});

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

/** A trigger command reading through the master's NDJSON client API with node (no curl or nc needed). */
function apiTrigger(): string {
  const script = [
    "const s=require('net').connect(Number(process.argv[1]),'127.0.0.1');",
    "s.write(JSON.stringify({type:'read',id:'1',concentrator:process.argv[2],meter:process.argv[3],protocol:process.argv[4],port:Number(process.argv[5])})+'\\n');",
    "let b='';s.on('data',d=>{b+=d;if(b.includes('\\n')){process.stdout.write(b);s.end();}});",
  ].join('');
  return `"${process.execPath}" -e "${script.replace(/"/g, '\\"')}" ${apiPort} {concentrator} {meter} {protocol} {port}`;
}

function options(target: string, extra: Partial<ConformOptions> = {}): ConformOptions {
  return {
    role: 'master',
    target,
    master: {
      a1: '0171',
      a2: 2082,
      confirmTimeoutMs: 800,
      confirmLimitMs: 300,
      heartbeatPeriodMs: 1000,
      idleLimitMs: 3500,
      forwardWaitMs: 3000,
      trigger: apiTrigger(),
      triggerTimeoutMs: 5000,
    },
    ...extra,
  };
}

describe('meterlab conform --role master', () => {
  it('--list prints every case with its clause', async () => {
    const c = io();
    expect(await runConformance({ role: 'master', list: true }, c.io)).toBe(0);
    const text = c.out.join('\n');
    expect(text).toMatch(/^G376M-1\.1 +Login is confirmed$/m);
    expect(text).toMatch(/^G376M-7\.7 +A forward reply with another SEQ/m);
  });

  it("exits 0 against meterlab's master, with JUnit XML that parses and a JSON report", async () => {
    const c = io();
    const junit = join(dir, 'm.xml');
    const json = join(dir, 'm.json');
    const status = await runConformance(options(`tcp:127.0.0.1:${port}`, { junit, json }), c.io);
    expect({ status, err: c.err }).toEqual({ status: 0, err: [] });
    expect(c.out.join('\n')).toMatch(/^\d+ pass, 0 non-strict, 0 fail, 0 info, 0 unimplemented, 0 skipped/m);
    const xml = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(junit, 'utf8'));
    const cases = [xml.testsuites?.testsuite ?? xml.testsuite].flat()[0].testcase;
    expect(cases.length).toBeGreaterThanOrEqual(20);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.role).toBe('master');
    expect(report.counts.fail).toBe(0);
  }, 60_000);

  it('exits 1 when a case fails (a master that does not echo SEQ in its confirms)', async () => {
    const proxy = await MasterDefectProxy.start({
      master: { host: '127.0.0.1', port },
      defects: [{ kind: 'confirm-seq' }],
    });
    try {
      const c = io();
      const status = await runConformance(
        options(`tcp:127.0.0.1:${proxy.port}`, { cases: 'G376M-1.*' }),
        c.io,
      );
      expect(status).toBe(1);
      expect(c.out.join('\n')).toMatch(/G376M-1\.2 +fail/);
    } finally {
      await proxy.close();
    }
  });

  it('exits 2 for an unreachable master and for bad flags, naming what was wrong', async () => {
    const cases: [ConformOptions, RegExp][] = [
      [options('tcp:127.0.0.1:1'), /CONFORM_UNREACHABLE: cannot reach the master station/],
      [options('serial:/dev/ttyUSB0'), /--target must be tcp:HOST:PORT/],
      [{ role: 'master' }, /--target is required/],
      [options(`tcp:127.0.0.1:${port}`, { meter: '12ab' }), /--meter "12ab" is not a cjt188 address/],
      [options(`tcp:127.0.0.1:${port}`, { cases: 'X-*' }), /selects no case/],
      [{ ...options(`tcp:127.0.0.1:${port}`), master: { a1: '171' } }, /--a1 must be 4 decimal digits/],
      [
        { ...options(`tcp:127.0.0.1:${port}`), master: { meterLine: '2400' } },
        /--meter-line must be BAUD-8E1/,
      ],
    ];
    for (const [o, message] of cases) {
      const c = io();
      expect(await runConformance(o, c.io)).toBe(2);
      expect(c.err.join('\n')).toMatch(message);
    }
  });

  it('without --trigger the active cases are skipped and the run still passes', async () => {
    const c = io();
    const o = options(`tcp:127.0.0.1:${port}`, { cases: 'G376M-7.*' });
    const status = await runConformance({ ...o, master: { ...o.master, trigger: undefined } }, c.io);
    expect(status).toBe(0);
    const active = masterSuiteCatalogue().filter((x) => x.id.startsWith('G376M-7.')).length;
    expect(c.out.join('\n')).toMatch(
      new RegExp(`0 pass, 0 non-strict, 0 fail, 0 info, 0 unimplemented, ${active} skipped`),
    );
  });

  it('Ctrl-C ends a long wait at once: the case is skipped and the status is 130', async () => {
    const proxy = await MasterDefectProxy.start({
      master: { host: '127.0.0.1', port },
      defects: [{ kind: 'keep-open' }],
    });
    try {
      const c = io();
      const controller = new AbortController();
      const o = options(`tcp:127.0.0.1:${proxy.port}`, { cases: 'G376M-3.2', json: join(dir, 'int.json') });
      const started = Date.now();
      const run = runConformance(
        { ...o, master: { ...o.master, idleLimitMs: 60_000 } },
        { ...c.io, signal: controller.signal },
      );
      setTimeout(() => controller.abort(), 300);
      expect(await run).toBe(130);
      expect(Date.now() - started).toBeLessThan(5000);
      const report = JSON.parse(readFileSync(join(dir, 'int.json'), 'utf8'));
      expect(report.results[0]).toMatchObject({ id: 'G376M-3.2', grade: 'skipped' });
      expect(report.results[0].message).toMatch(/interrupted/);
    } finally {
      await proxy.close();
    }
  });

  it('parses targets and meter lines', () => {
    expect(parseTcpTarget('tcp:127.0.0.1:9093')).toEqual({ host: '127.0.0.1', port: 9093 });
    expect(parseTcpTarget('tcp:[::1]:9093')).toEqual({ host: '::1', port: 9093 });
    expect(() => parseTcpTarget('tcp:host:70000')).toThrow(/tcp:HOST:PORT/);
    expect(parseMeterLine('9600-8N1')).toEqual({ baud: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
    expect(() => parseMeterLine('115200-8E1')).toThrow(/300 … 19200/);
  });
});
