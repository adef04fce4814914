/**
 * `meterlab master --read-policy archived` as a real process (issue 13 item 5): a fake concentrator logs in over
 * TCP and a client-API connection asks for a meter the archive lacks (naming its protocol and port) and for an
 * archived one. The first is refused UNKNOWN_METER without a forward reaching the concentrator; the second is read.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeConcentrator } from '../../harness/master/testing/fake-concentrator.ts';
import { LineClient } from '../../harness/master/testing/line-client.ts';

const bin = new URL('../meterlab.mjs', import.meta.url).pathname;
const scenario = new URL('../../fixtures/scenarios/demo.json', import.meta.url).pathname;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Starts `meterlab master` and resolves with its two ports, read from its start-up line (polled, with a deadline). */
async function startMaster(args: string[]): Promise<{ listen: number; api: number }> {
  const child: ChildProcess = spawn(process.execPath, [bin, 'master', ...args], { stdio: 'pipe' });
  let text = '';
  child.stdout?.on('data', (d) => {
    text += String(d);
  });
  child.stderr?.on('data', (d) => {
    text += String(d);
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  );
  const deadline = Date.now() + 20_000;
  for (;;) {
    const match = /concentrators on [\d.]+:(\d+), client API on [\d.]+:(\d+)/.exec(text);
    if (match) return { listen: Number(match[1]), api: Number(match[2]) };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`master did not start: ${text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('meterlab master --read-policy archived', () => {
  it('refuses a read of a meter the archive lacks before it reaches the field, and reads an archived one', async () => {
    const ports = await startMaster([
      '--listen',
      '127.0.0.1:0',
      '--api',
      '127.0.0.1:0',
      '--scenario',
      scenario,
      '--read-policy',
      'archived',
    ]);
    const concentrator = await FakeConcentrator.connect(ports.listen, '0171', 2082);
    cleanups.push(() => concentrator.close());
    expect((await concentrator.exchange(() => concentrator.login())).units[0].fn).toEqual([1]);
    concentrator.meters.set('00000000101001', { value: 42.5 });
    concentrator.meters.set('00000000909001', { value: 7 });
    const client = await LineClient.connect(ports.api);
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
