import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { loadScenarioFile, parseScenario } from '../../simulator/scenario/index.ts';
import { type RunningDemo, runDemo, socatAvailable, withoutPty } from '../demo/run-demo.ts';

// The whole chain of `npm start` on real sockets (and a real socat pty pair when socat is installed):
// WebSocket relay → master station client API (TCP) → concentrator (376.1 over TCP) → RS-485 bus → meter.
const scenarioPath = new URL('../../fixtures/scenarios/demo.json', import.meta.url).pathname;
const ephemeral = { host: '127.0.0.1', port: 0 };

function ask(url: string, messages: object[]): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const answers: Record<string, unknown>[] = [];
    ws.on('open', () => {
      for (const m of messages) ws.send(JSON.stringify(m));
    });
    ws.on('message', (data) => {
      answers.push(JSON.parse(String(data)));
      if (answers.length === messages.length) {
        ws.close();
        resolve(answers);
      }
    });
    ws.on('error', reject);
  });
}

describe('the demo chain', () => {
  let demo: RunningDemo;

  beforeAll(async () => {
    let scenario = loadScenarioFile(scenarioPath);
    if (!socatAvailable()) scenario = withoutPty(scenario);
    demo = await runDemo({ scenario, master: ephemeral, api: ephemeral, relay: ephemeral });
  }, 120_000);

  afterAll(async () => {
    await demo?.stop();
  });

  it('reads every meter once through the relay with the value the consumption model predicts', () => {
    expect(demo.outcomes.filter((o) => o.error)).toEqual([]);
    expect(demo.outcomes).toHaveLength(60);
    expect(demo.mismatches).toEqual([]);
    if (socatAvailable()) expect(demo.fleet.status().ptys).toBe(1);
  });

  it("answers the seed system's legacy message in the legacy shape", async () => {
    const [answer] = await ask(demo.relayUrl, [
      { ModuleName: 'ClickToCopy', Content: { ConcentratorNo: '101', WaterMtrAddress: '101001' } },
    ]);
    // Issue 14 item 1: the flat shape the original clientserver filled in (it was the request's envelope).
    expect(answer).toMatchObject({ ConcentratorNo: '101', WaterMtrAddress: '101001', IsDownCommand: true });
    expect(typeof answer.AccumVal).toBe('number');
  }, 60_000);

  it('gives each of two concurrent reads of one meter its own answer, and reads a meter behind the pty port', async () => {
    const answers = await ask(demo.relayUrl, [
      { type: 'read', id: 'a', concentrator: '103', meter: '103005' },
      { type: 'read', id: 'b', concentrator: '103', meter: '103005' },
    ]);
    expect(answers.map((a) => a.id).sort()).toEqual(['a', 'b']);
    expect(answers.every((a) => a.type === 'reading' && a.value === answers[0].value)).toBe(true);
  }, 60_000);

  it('answers an unknown meter with a typed error and keeps the connection', async () => {
    const answers = await ask(demo.relayUrl, [
      { type: 'read', id: 'x', concentrator: '101', meter: '999999' },
      { type: 'read', id: 'y', concentrator: '101', meter: '101002' },
    ]);
    const byId = Object.fromEntries(answers.map((a) => [a.id, a]));
    expect(byId.x).toMatchObject({ type: 'error', code: 'UNKNOWN_METER' });
    expect(byId.y).toMatchObject({ type: 'reading', unit: 'm3' });
  }, 60_000);
});

describe('the demo chain with DL/T 645 meters', () => {
  it('checks readings without a meter clock against the model by when the master received them', async () => {
    // DL/T 645 energy replies carry no meter time: the check falls back to the master's readAt.
    const scenario = parseScenario(
      {
        name: 'mixed',
        seed: 7,
        master: { host: '127.0.0.1', port: 9093 },
        concentrators: [
          {
            a1: '0171',
            a2: 3001,
            alias: '301',
            ports: [
              {
                port: 1,
                meters: [
                  { address: '301001' },
                  { address: '301002', protocol: 'dlt645' },
                  { address: '301003', protocol: 'dlt645' },
                ],
              },
            ],
          },
        ],
      },
      'mixed.json',
    );
    const demo = await runDemo({ scenario, master: ephemeral, api: ephemeral, relay: ephemeral });
    try {
      expect(demo.outcomes.filter((o) => o.error)).toEqual([]);
      expect(demo.outcomes.filter((o) => o.reading?.meterTime === undefined)).toHaveLength(2);
      expect(demo.mismatches).toEqual([]);
    } finally {
      await demo.stop();
    }
  }, 120_000);
});
