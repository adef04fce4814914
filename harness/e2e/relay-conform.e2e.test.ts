import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScenario } from '../../simulator/scenario/index.ts';
import { parseRelayTarget, relayCatalogue, runRelaySuite } from '../conformance/relay/index.ts';
import { Chain } from './chain.ts';

// The relay conformance suite (issue 11, relay role) against meterlab's whole chain on real sockets: relay (with
// a token) → master station → concentrator → simulated meters with wire timing. Every case must pass.

const scenario = parseScenario(
  {
    name: 'relay-conform',
    seed: 5,
    concentrators: [
      {
        a1: '0173',
        a2: 1,
        alias: '401',
        ports: [{ port: 1, meters: [{ address: '401001' }, { address: '401002' }] }],
      },
    ],
  },
  'relay-conform scenario',
);

let chain: Chain | undefined;

beforeAll(async () => {
  chain = await Chain.start({ scenario, relayOptions: { token: 'e2e-token', readTimeoutMs: 10_000 } });
}, 30_000);

afterAll(async () => {
  await chain?.stop();
});

describe('meterlab conform --role relay against the whole chain', () => {
  it('passes every case, each with its trace', async () => {
    const report = await runRelaySuite({
      target: parseRelayTarget(`${chain?.relayUrl}?token=e2e-token`),
      concentrator: '401',
      meter: '401001',
      timeoutMs: 1000,
      readTimeoutMs: 10_000,
    });
    const grades = Object.fromEntries(report.results.map((r) => [r.id, r.grade]));
    const notPass = report.results.filter((r) => r.grade !== 'pass');
    expect(grades, JSON.stringify(notPass, null, 1)).toEqual(
      Object.fromEntries(relayCatalogue().map((c) => [c.id, 'pass'])),
    );
    for (const r of report.results) expect(r.trace.length, r.id).toBeGreaterThan(0);
  }, 60_000);
});
