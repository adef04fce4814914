import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../simulator/scenario/index.ts';
import { learnScenario } from './learn.ts';
import { readRecording } from './reader.ts';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../fixtures/recordings/${name}`, import.meta.url));

describe('learnScenario', () => {
  it('finds the concentrator and the meters inside its forwards, with their quirks, as a valid scenario', async () => {
    const scenario = learnScenario(await readRecording(fixture('tcp-376.jsonl')), 'field');
    const loaded = parseScenario(scenario, 'learned');
    expect(loaded.concentrators).toHaveLength(1);
    expect(loaded.concentrators[0]).toMatchObject({ a1: '0171', a2: 2082, heartbeatSeconds: 60 });
    const meters = loaded.concentrators[0].ports[0].meters;
    expect(meters.map((m) => [m.address, m.protocol, m.kind])).toEqual([
      ['00000000101001', 'cjt188', 'cold-water'],
      ['00000000101002', 'cjt188', 'cold-water'],
      ['000000000042', 'dlt645', 'electricity'],
    ]);
    expect(meters[0].quirks).toMatchObject({ diOrder: 'low-first', preamble: 2 });
    expect((scenario as unknown as { description: string }).description).toContain(
      '00000000101001 4914.06 m3',
    );
  });

  it('gives each meter its last recorded reading as its baseReading', async () => {
    const loaded = parseScenario(
      learnScenario(await readRecording(fixture('tcp-376.jsonl')), 'field'),
      'learned',
    );
    const meters = loaded.concentrators[0].ports[0].meters;
    expect(meters.map((m) => [m.address, m.baseReading])).toEqual([
      ['00000000101001', 4914.06],
      ['00000000101002', 3595.48],
      ['000000000042', 4174.07],
    ]);
  });

  it('puts meters heard on a serial link under a concentrator named learned', async () => {
    const scenario = learnScenario(await readRecording(fixture('pty-cjt188.jsonl')), 'bus');
    expect(scenario.concentrators.map((c) => c.alias)).toEqual(['learned']);
    expect(scenario.concentrators[0].ports[0].meters.map((m) => m.address)).toEqual([
      '00000000101001',
      '00000000101002',
    ]);
  });
});
