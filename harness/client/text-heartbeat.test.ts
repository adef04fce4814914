/**
 * The client library's text heartbeat (issue 14 item 2, README "Text heartbeat"): `Ping` out, `Pong` back, a
 * dead connection dropped when a Pong does not come, and a server's text `Ping` answered.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { Relay } from '../relay/relay.ts';
import { FakeMaster } from '../relay/testing/fake-master.ts';
import { PointReadClient } from './point-read-client.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A bare ws server that records the texts it gets and answers with `answer(text)` when it returns one. */
async function bareServer(answer: (text: string) => string | undefined) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const texts: string[] = [];
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const text = String(data);
      texts.push(text);
      const reply = answer(text);
      if (reply !== undefined) ws.send(reply);
    });
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  );
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, texts, wss };
}

function client(url: string, textPingIntervalMs?: number): PointReadClient {
  const c = new PointReadClient({
    url,
    textPingIntervalMs,
    backoff: { initialMs: 20, maxMs: 200, jitter: 0 },
  });
  cleanups.push(() => c.close());
  return c;
}

describe('PointReadClient text heartbeat', () => {
  it('sends Ping and hears Pong from meterlab relay, and reads still work', async () => {
    const master = new FakeMaster();
    await master.start();
    cleanups.push(() => master.stop());
    const relay = new Relay({ port: 0, master: { host: '127.0.0.1', port: master.port } });
    const up = once(relay, 'master-up');
    await relay.start();
    cleanups.push(() => relay.stop());
    await up;
    // 200 ms: long enough that a loaded machine still answers within one interval.
    const c = client(relay.url, 200);
    await c.connect();
    for (let i = 0; i < 2; i++) await once(c, 'pong');
    expect(c.connected).toBe(true);
    expect((await c.read('101', '101001')).value).toBe(123.45);
  });

  it('drops a connection whose peer does not answer Ping, and reconnects', async () => {
    const server = await bareServer(() => undefined);
    const c = client(server.url, 20);
    await c.connect();
    const [code] = (await once(c, 'close')) as [number];
    expect(code).toBe(1006); // terminated, no close frame
    expect(server.texts).toEqual(['Ping']);
    await once(c, 'open');
  });

  it('sends no text Ping without the option, and answers a server text Ping with Pong', async () => {
    let sawPong: () => void = () => {};
    const pong = new Promise<void>((resolve) => {
      sawPong = resolve;
    });
    const server = await bareServer((text) => {
      if (text === 'Pong') sawPong();
      return undefined;
    });
    server.wss.on('connection', (ws) => ws.send('Ping'));
    const c = client(server.url);
    await c.connect();
    await pong;
    expect(server.texts).toEqual(['Pong']);
  });

  it('refuses a bad interval, naming the option', () => {
    expect(() => new PointReadClient({ url: 'ws://127.0.0.1:1', textPingIntervalMs: 0 })).toThrow(
      /"textPingIntervalMs" must be a positive integer/,
    );
  });
});
