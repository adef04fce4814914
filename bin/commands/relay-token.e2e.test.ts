/**
 * The token kept out of the process list (issue 13 item 9): `meterlab relay --token-file` and `meterlab read` with
 * METERLAB_TOKEN, as real processes against a fake master on 127.0.0.1. The token is never printed.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeMaster } from '../../harness/relay/testing/fake-master.ts';
import { WsProbe } from '../../harness/relay/testing/ws-probe.ts';

const run = promisify(execFile);
const bin = new URL('../meterlab.mjs', import.meta.url).pathname;
const TOKEN = 'tok-8c1f-in-a-file';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Starts `meterlab relay` and resolves with its URL from the startup line (polled, with a deadline). */
async function startRelay(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ url: string; output: () => string }> {
  const child: ChildProcess = spawn(process.execPath, [bin, 'relay', ...args], { env, stdio: 'pipe' });
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
    const match = /listening on (ws:\/\/[\d.]+:\d+)/.exec(text);
    if (match) return { url: match[1], output: () => text };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`relay did not start: ${text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('meterlab relay / read tokens', () => {
  it('takes the relay token from --token-file and the reader token from METERLAB_TOKEN, never printing it', async () => {
    const master = new FakeMaster();
    await master.start();
    cleanups.push(() => master.stop());
    const dir = mkdtempSync(join(tmpdir(), 'meterlab-token-e2e-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'token');
    writeFileSync(file, `${TOKEN}\n`);
    const { METERLAB_TOKEN: _, ...env } = process.env;
    const relay = await startRelay(
      ['--listen', '127.0.0.1:0', '--master', `127.0.0.1:${master.port}`, '--token-file', file, '-v'],
      env,
    );
    const read = ['read', '--relay', relay.url, '-c', '101', '-m', '101001', '--json', '--timeout', '5000'];
    const ok = await run(process.execPath, [bin, ...read], { env: { ...env, METERLAB_TOKEN: TOKEN } });
    expect(JSON.parse(ok.stdout)).toMatchObject({ concentrator: '101', meter: '101001', value: 123.45 });
    const refused = await run(process.execPath, [bin, ...read], { env }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(refused?.code).not.toBe(0);
    expect(relay.output()).toContain('401');
    expect(relay.output()).not.toContain(TOKEN);
  }, 60_000);
});

describe('meterlab relay limit flags', () => {
  it('--max-clients and --max-messages-per-second reach the relay', async () => {
    const master = new FakeMaster();
    await master.start();
    cleanups.push(() => master.stop());
    const relay = await startRelay(
      [
        '--listen',
        '127.0.0.1:0',
        '--master',
        `127.0.0.1:${master.port}`,
        '--max-clients',
        '1',
        '--max-messages-per-second',
        '5',
        '-v',
      ],
      process.env,
    );
    const first = new WsProbe(relay.url);
    cleanups.push(() => first.close());
    await first.opened();
    expect(await first.read('r1', '101', '101001')).toMatchObject({ type: 'reading' });
    // The only slot is held by a client with a read in flight (the master holds it): never evicted, so the
    // newcomer is refused.
    master.handler = () => ({ kind: 'silent' });
    first.send({ type: 'read', id: 'r2', concentrator: '101', meter: '101002' });
    await master.waitForRequests(2);
    await expect(new WsProbe(relay.url).opened()).rejects.toMatchObject({ status: 503 });
    for (let i = 0; i < 20; i++) first.send('not json');
    const deadline = Date.now() + 20_000;
    while (!/sends more than maxMessagesPerSecond 5/.test(relay.output())) {
      if (Date.now() > deadline) throw new Error(`no throttle line in:\n${relay.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }, 60_000);
});
