import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ConsumptionModel } from '../../simulator/meter/consumption.ts';
import { generateFleet } from '../../simulator/scenario/index.ts';
import { PointReadClient } from '../client/index.ts';
import { Chain } from './chain.ts';

// Issue 14 items 1 and 3 through meterlab's own parts: the relay speaks the original clientserver framing to the
// master (`--master-protocol legacy`: flat objects back to back, GB2312), the master detects it on that connection
// and answers in kind, and both a v1 client and a seed-style page (ClickToCopy, flat answer) read real values.

let chain: Chain | undefined;
afterEach(async () => {
  await chain?.stop();
  chain = undefined;
});

describe('relay → master over the legacy clientserver link', () => {
  it('reads meters for a v1 client and for a seed-style page', async () => {
    const scenario = generateFleet({
      concentrators: 1,
      metersPerPort: 2,
      master: { host: '127.0.0.1', port: 1 },
    });
    chain = await Chain.start({ scenario, relayOptions: { masterProtocol: 'legacy' } });
    await chain.allLoggedIn();
    const alias = scenario.concentrators[0].alias ?? scenario.concentrators[0].id;
    const [first, second] = scenario.concentrators[0].ports[0].meters.map((m) => m.address);
    const model = new ConsumptionModel({ seed: scenario.seed });

    const client = new PointReadClient({ url: chain.relayUrl, reconnect: false });
    await client.connect();
    const before = Date.now();
    const reading = await client.read(alias, first);
    await client.close();
    expect(reading.value).toBeGreaterThanOrEqual(model.readingAt(first, before - 1000));
    expect(reading.value).toBeLessThanOrEqual(model.readingAt(first, Date.now() + 1000));

    const page = new WebSocket(chain.relayUrl);
    await new Promise((resolve, reject) => page.once('open', resolve).once('error', reject));
    const answer = new Promise<Record<string, unknown>>((resolve) =>
      page.once('message', (data) => resolve(JSON.parse(String(data)))),
    );
    page.send(
      JSON.stringify({
        ModuleName: 'ClickToCopy',
        Content: { ConcentratorNo: alias, WaterMtrAddress: second },
      }),
    );
    const flat = await answer;
    page.close();
    expect(flat).toMatchObject({ ConcentratorNo: alias, IsDownCommand: true });
    expect(typeof flat.AccumVal).toBe('number');
    expect(flat.ErrorCode).toBeUndefined();
  });
});
