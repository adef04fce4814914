import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEAT_KWH_PER_M3 } from '../../simulator/meter/index.ts';
import { parseScenario } from '../../simulator/scenario/index.ts';
import { PointReadClient } from '../client/index.ts';
import { Chain } from './chain.ts';

// Meters of every CJ/T 188 kind, read through the whole chain on real sockets:
// WebSocket client → relay → master station (archive with each meter's kind) → concentrator (376.1 over TCP)
// → RS-485 bus → meter. A meter answers only requests with its own meter type T (docs/cjt188.md §1.3), so a
// read succeeds only if every hop asks with the T of the meter's kind.
const scenario = parseScenario(
  {
    name: 'kinds',
    seed: 5,
    concentrators: [
      {
        a1: '0171',
        a2: 4001,
        alias: '401',
        ports: [
          {
            port: 1,
            wireTiming: false,
            turnaroundMs: 0,
            meters: [
              { address: '401001', kind: 'heat' },
              { address: '401002', kind: 'hot-water' },
              { address: '401003', kind: 'gas' },
              { address: '401004', kind: 'cold-water' },
              { address: '401005', protocol: 'dlt645' },
            ],
          },
        ],
      },
    ],
  },
  'kinds scenario',
);

describe('the chain reads meters of every kind', () => {
  let chain: Chain;
  let client: PointReadClient;

  beforeAll(async () => {
    chain = await Chain.start({ scenario });
    client = new PointReadClient({ url: chain.relayUrl, reconnect: false });
    await client.connect();
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await chain?.stop();
  });

  it('reads heat, hot-water, gas, cold-water and electricity meters with the values the model predicts', async () => {
    const model = chain.fleet.model;
    const meters = ['401001', '401002', '401003', '401004', '401005'];
    const readings = await Promise.all(meters.map((m) => client.read('401', m, { timeoutMs: 15_000 })));
    expect(readings.map((r) => r.unit)).toEqual(['kWh', 'm3', 'm3', 'm3', 'kWh']);
    // Values move with time: each reading lies between the model at the start and at the end of the reads.
    const now = chain.fleet.clock.now();
    const predicted = (address: string, at: number) => {
      const v = model.readingAt(address, at);
      return address === '00000000401001' ? v * HEAT_KWH_PER_M3 : v;
    };
    for (const r of readings) {
      const address = r.meter.padStart(r.meter === '401005' ? 12 : 14, '0');
      expect(r.value, r.meter).toBeLessThanOrEqual(predicted(address, now) + 0.02);
      expect(r.value, r.meter).toBeGreaterThanOrEqual(predicted(address, now - 60_000) - 0.02);
    }
  }, 60_000);

  it("reads them in the concentrator's own poll too", async () => {
    const concentrator = chain.fleet.concentrator('401')!;
    const round = await concentrator.poll.pollOnce();
    expect(round).toMatchObject({ read: 5, failed: 0 });
    expect(concentrator.poll.record('00000000401001')?.unit).toBe('kWh');
  }, 60_000);
});
