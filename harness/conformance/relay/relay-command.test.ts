import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Relay } from '../../relay/relay.ts';
import { errorFor, FakeMaster, readingFor } from '../../relay/testing/fake-master.ts';
import { runConformance } from '../run-conformance.ts';
import { RelayDefectProxy } from './defect-proxy.ts';
import { listRelayCases } from './relay-command.ts';

// `meterlab conform --role relay` as the command runs it: catalogue, console table, report files, exit status.

let master: FakeMaster;
let relay: Relay;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meterlab-relay-conform-'));
  master = new FakeMaster();
  await master.start();
  // A reading carries readAt, as meterlab's master stamps every reading (harness/master/client-api.ts).
  master.handler = (req) => {
    if (req.concentrator === 'meterlab-absent')
      return errorFor(req, 'UNKNOWN_CONCENTRATOR', 'no such concentrator');
    const answer = readingFor(req, 42.5, 5);
    return answer.kind === 'json'
      ? { ...answer, body: { ...answer.body, readAt: new Date().toISOString() } }
      : answer;
  };
  relay = new Relay({
    host: '127.0.0.1',
    port: 0,
    token: 'tk',
    master: { host: '127.0.0.1', port: master.port },
  });
  const up = once(relay, 'master-up');
  await relay.start();
  await up;
});

afterAll(async () => {
  await relay?.stop();
  await master?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function conform(args: Record<string, unknown>) {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runConformance(
    { role: 'relay', timeoutMs: 400, readTimeoutMs: 1500, ...args },
    { out: (l) => out.push(l), err: (l) => err.push(l) },
  );
  return { status, out, err };
}

describe('meterlab conform --role relay', () => {
  it('--list prints every case with its source', async () => {
    const { status, out } = await conform({ list: true });
    expect(status).toBe(0);
    const ids = out.filter((l) => /^RLY-/.test(l)).map((l) => l.split(' ')[0]);
    // 20 code cases and the 3 built-in data cases (fixtures/conformance/relay/).
    expect(ids).toHaveLength(23);
    expect(out.join('\n')).toContain('RFC 6455 §5.5.2');
  });

  it("passes meterlab's relay: exit 0, a table, and a JUnit file a parser reads back", async () => {
    const junit = join(dir, 'relay.xml');
    const { status, out } = await conform({ target: `${relay.url}?token=tk`, junit });
    expect(status, out.join('\n')).toBe(0);
    expect(out[0]).toBe(`meterlab conform: relay ${relay.url}/?token=*** (point-read WebSocket endpoint)`);
    expect(out.some((l) => l.startsWith('23 pass, 0 non-strict, 0 fail'))).toBe(true);
    const xml = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(junit, 'utf8'));
    const suite = xml.testsuites?.testsuite ?? xml.testsuite;
    expect([suite.testcase].flat()).toHaveLength(23);
  });

  it('exits 1 when a case fails (a relay answering legacy reads in the old envelope)', async () => {
    const proxy = new RelayDefectProxy({ upstream: relay.url, defect: 'legacy-envelope' });
    await proxy.start();
    try {
      const { status, out } = await conform({ target: `${proxy.url}?token=tk`, cases: 'RLY-2.*' });
      expect(status).toBe(1);
      expect(out.join('\n')).toMatch(/RLY-2\.1 +fail/);
    } finally {
      await proxy.stop();
    }
  });

  it("--cases-dir adds a user's data cases; a bad case file stops the run with exit 2 before connecting", async () => {
    const own = mkdtempSync(join(dir, 'cases-'));
    const vendorCase = {
      id: 'V-1',
      title: 'The text heartbeat is answered Pong',
      source: 'field practice',
      send: 'Ping',
      expect: 'Pong',
    };
    writeFileSync(
      join(own, 'vendor.json'),
      JSON.stringify({ role: 'relay', protocol: 'point-read', cases: [vendorCase] }),
    );
    const listed: string[] = [];
    listRelayCases((l) => listed.push(l), [own]);
    expect(listed.join('\n')).toMatch(/V-1 +The text heartbeat[^\n]*\n +field practice \[vendor\.json\]/);
    const ran = await conform({ target: `${relay.url}?token=tk`, cases: 'V-1,RLY-D*', casesDirs: [own] });
    expect(ran.status, ran.out.join('\n')).toBe(0);
    expect(ran.out.join('\n')).toMatch(/V-1 +pass/);
    expect(ran.out.some((l) => l.startsWith('4 pass, 0 non-strict, 0 fail'))).toBe(true);
    writeFileSync(
      join(own, 'vendor.json'),
      JSON.stringify({ role: 'relay', protocol: 'point-read', cases: [{ ...vendorCase, expect: '*Pong' }] }),
    );
    const bad = await conform({ target: 'ws://127.0.0.1:1', casesDirs: [own] });
    expect(bad.status).toBe(2);
    expect(bad.err.join('\n')).toContain(
      `${join(own, 'vendor.json')}: $.cases[0].expect (case V-1): "*Pong"`,
    );
    expect(bad.err.join('\n')).not.toMatch(/UNREACHABLE/);
  });

  it('exits 2 for a target that is not ws://, an unreachable one, and a token the endpoint refuses', async () => {
    const bad = await conform({ target: 'serial:/dev/ttyUSB0' });
    expect(bad.status).toBe(2);
    expect(bad.err[0]).toMatch(/CONFORM_USAGE: --target must be a ws:\/\/ or wss:\/\/ URL/);
    const gone = await conform({ target: 'ws://127.0.0.1:1' });
    expect(gone.status).toBe(2);
    expect(gone.err[0]).toMatch(/CONFORM_UNREACHABLE/);
    const refused = await conform({ target: `${relay.url}?token=wrong` });
    expect(refused.status).toBe(2);
    expect(refused.err[0]).toMatch(/HTTP 401.*token/);
    expect((await conform({})).err[0]).toMatch(/--target is required/);
  });
});
