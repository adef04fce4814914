/**
 * `meterlab master --read-policy archived` as a real process (issue 13 item 5): a fake concentrator logs in over
 * TCP and a client-API connection asks for a meter the archive lacks (naming its protocol and port) and for an
 * archived one. The first is refused UNKNOWN_METER without a forward reaching the concentrator; the second is read.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeConcentrator } from '../../harness/master/testing/fake-concentrator.ts';
import { LineClient } from '../../harness/master/testing/line-client.ts';
import { stopAll } from '../../harness/recording/testing/cli-process.ts';
import { startMaster } from '../../harness/recording/testing/processes.ts';

const scenario = new URL('../../fixtures/scenarios/demo.json', import.meta.url).pathname;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await stopAll();
});

describe('meterlab master --read-policy archived', () => {
  it('refuses a read of a meter the archive lacks before it reaches the field, and reads an archived one', async () => {
    const ports = await startMaster(scenario, '--read-policy', 'archived');
    const concentrator = await FakeConcentrator.connect(Number(ports.listen), '0171', 2082);
    cleanups.push(() => concentrator.close());
    expect((await concentrator.exchange(() => concentrator.login())).units[0].fn).toEqual([1]);
    concentrator.meters.set('00000000101001', { value: 42.5 });
    concentrator.meters.set('00000000909001', { value: 7 });
    const client = await LineClient.connect(Number(ports.api));
    cleanups.push(() => client.socket.destroy());
    const refused = await client.request({
      type: 'read',
      id: 'absent',
      concentrator: '101',
      meter: '909001',
      protocol: 'cjt188',
      port: 1,
    });
    expect(refused).toMatchObject({ type: 'error', id: 'absent', code: 'UNKNOWN_METER' });
    expect(String(refused.message)).toMatch(/read policy archived/);
    expect(concentrator.forwards).toHaveLength(0);
    expect(
      await client.request({ type: 'read', id: 'ok', concentrator: '101', meter: '101001' }),
    ).toMatchObject({
      type: 'reading',
      id: 'ok',
      value: 42.5,
    });
  }, 60_000);
});
