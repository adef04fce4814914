import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateFleet } from './generate-fleet.ts';
import { loadScenarioFile, parseScenario, ScenarioError } from './load-scenario.ts';
import { fleetSummary } from './types.ts';

const demoPath = new URL('../../fixtures/scenarios/demo.json', import.meta.url).pathname;

function problemsOf(json: unknown): string[] {
  try {
    parseScenario(json, 'test.json');
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioError);
    return (err as ScenarioError).problems;
  }
  throw new Error('expected a ScenarioError');
}

describe('scenario files', () => {
  it('loads the demo scenario with every default filled in', () => {
    const s = loadScenarioFile(demoPath);
    expect(s.concentrators).toHaveLength(3);
    const first = s.concentrators[0];
    expect(first).toMatchObject({ id: '017102082', alias: '101', upstream: { mode: 'client', port: 9093 } });
    expect(first.ports[0].serial).toEqual({ baudRate: 2400, dataBits: 8, parity: 'even', stopBits: 1 });
    expect(first.ports[0].meters[0]).toMatchObject({
      address: '00000000101001',
      protocol: 'cjt188',
      kind: 'cold-water',
    });
    expect(s.concentrators.flatMap((c) => c.ports.flatMap((p) => p.meters))).toHaveLength(60);
    expect(s.concentrators[2].ports[0].link).toEqual({ kind: 'pty' });
  });

  it('names the file, the JSON path and the problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meterlab-scenario-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ concentrators: [{ a1: '171', a2: 0, ports: [{ port: 1 }] }] }));
    expect(() => loadScenarioFile(file)).toThrow(file);
    expect(problemsOf({ concentrators: [{ a1: '171', a2: 0, ports: [{ port: 1 }] }] })).toEqual([
      '/concentrators/0/a1: must match pattern "^[0-9]{4}$"',
      '/concentrators/0/a2: must be >= 1',
    ]);
  });

  it('reports bad JSON with the parser position', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meterlab-scenario-'));
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"concentrators": [');
    expect(() => loadScenarioFile(file)).toThrow(/not valid JSON/);
    expect(() => loadScenarioFile(join(dir, 'missing.json'))).toThrow(/cannot read the file/);
  });

  it('says what a link lacks in plain words, and names an unknown link kind (issue 14 item 12)', () => {
    const withLink = (link: unknown) => ({
      concentrators: [{ a1: '0171', a2: 1, ports: [{ port: 1, link }] }],
    });
    expect(problemsOf(withLink({ kind: 'serial' }))).toEqual([
      '/concentrators/0/ports/0/link: link "serial" needs a path',
    ]);
    expect(problemsOf(withLink({ kind: 'usb' }))).toEqual([
      '/concentrators/0/ports/0/link: unknown link kind "usb" (one of "memory", "pty", "serial")',
    ]);
  });

  it('places invalid JSON by line and column (issue 14 item 12)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meterlab-scenario-'));
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{\n  "concentrators": [\n    {"a1": "0171",, }\n  ]\n}');
    expect(() => loadScenarioFile(file)).toThrow(/not valid JSON at line 3, column 19: /);
  });

  it('rejects unknown fields, bad enums and duplicates', () => {
    expect(problemsOf({ concentrators: [{ a1: '0171', a2: 1, ports: [{ port: 1, baud: 9600 }] }] })).toEqual([
      '/concentrators/0/ports/0: unknown field "baud"',
    ]);
    expect(
      problemsOf({
        concentrators: [
          {
            a1: '0171',
            a2: 1,
            alias: 'x',
            ports: [{ port: 1, meters: [{ address: '1' }, { address: '01' }] }],
          },
          { a1: '0171', a2: 1, alias: 'x', ports: [{ port: 1 }, { port: 1 }] },
        ],
      }),
    ).toEqual([
      '/concentrators/0/ports/0/meters/1/address: 00000000000001 is already on this port',
      '/concentrators/1: A1/A2 0171/1 already used by /concentrators/0',
      '/concentrators/1/alias: "x" already used by /concentrators/0',
      '/concentrators/1/ports/1/port: port 1 is listed twice',
    ]);
    expect(
      problemsOf({
        concentrators: [
          { a1: '0171', a2: 1, ports: [{ port: 1, meters: [{ address: '1', protocol: 'dlt646' }] }] },
        ],
      })[0],
    ).toMatch(/protocol: must be one of "cjt188", "dlt645"/);
  });

  it('generates the quick fleet with seed-style addresses and prints it as a summary', () => {
    const s = generateFleet({
      concentrators: 2,
      metersPerPort: 3,
      ports: 2,
      master: { host: '127.0.0.1', port: 9 },
    });
    const summary = fleetSummary(s);
    expect(summary.concentrators[0]).toMatchObject({ id: '000100001', alias: '101', a1: '0001', a2: 1 });
    expect(summary.concentrators[0].ports[0].meters[0]).toEqual({
      address: '00000000101001',
      protocol: 'cjt188',
    });
    expect(summary.concentrators[1].ports[1].meters[2].address).toBe('00000000202003');
  });
});
