/**
 * The relay's side of the web console on a real chain (master station, relay and a simulated fleet on
 * 127.0.0.1): the page is served on the WebSocket's port, and fleet, valve and frame-log messages pass through
 * to the master and back, under the relay's limits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { parseScenario } from '../../simulator/scenario/index.ts';
import { Chain } from '../e2e/chain.ts';
import { Relay } from './relay.ts';

const scenario = parseScenario(
  {
    name: 'console',
    seed: 12,
    master: { host: '127.0.0.1', port: 9093 },
    concentrators: [
      {
        a1: '0171',
        a2: 2082,
        alias: '101',
        ports: [
          {
            port: 1,
            link: { kind: 'memory' },
            wireTiming: false,
            meters: [{ address: '101001' }, { address: '101002', protocol: 'dlt645' }],
          },
        ],
      },
    ],
  },
  'console.json',
);

let chain: Chain;

beforeAll(async () => {
  chain = await Chain.start({ scenario });
}, 60_000);

afterAll(async () => {
  await chain?.stop();
});

/** A WebSocket client that keeps every message and waits for the ones it needs. */
async function client(url: string) {
  const ws = new WebSocket(url);
  const messages: Record<string, unknown>[] = [];
  let closed: number | undefined;
  ws.on('message', (data) => messages.push(JSON.parse(String(data))));
  ws.on('close', (code) => {
    closed = code;
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const waitFor = async (check: (m: Record<string, unknown>) => boolean, what: string) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = messages.find(check);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return {
    ws,
    messages,
    send: (m: unknown) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)),
    answer: (id: string) => waitFor((m) => m.id === id && m.type !== 'frame', `an answer to ${id}`),
    waitFor,
    closed: () => closed,
  };
}

describe('the relay and the web console', () => {
  it('serves the console and the legacy page on the WebSocket port', async () => {
    const http = chain.relayUrl.replace('ws:', 'http:');
    for (const path of ['/', '/legacy', '/assets/console.js', '/assets/uplot/uPlot.iife.min.js']) {
      expect((await fetch(http + path)).status, path).toBe(200);
    }
    expect((await fetch(`${http}/elsewhere`)).status).toBe(426);
    expect(chain.relay!.consoleUrl).toBe(`${http}/`);
  });

  it('passes fleet, frame-log and valve messages to the master and back', async () => {
    const c = await client(chain.relayUrl);
    c.send({ type: 'fleet', id: 'f' });
    expect(await c.answer('f')).toMatchObject({
      type: 'fleet',
      total: 1,
      concentrators: [
        {
          id: '017102082',
          alias: '101',
          online: true,
          ports: [
            {
              port: 1,
              meters: [
                { address: '00000000101001', protocol: 'cjt188', valve: true },
                { address: '000000101002', protocol: 'dlt645', valve: false },
              ],
            },
          ],
        },
      ],
    });
    c.send({ type: 'subscribe', id: 's', stream: 'frames', meter: '101001' });
    expect(await c.answer('s')).toEqual({ type: 'subscribed', id: 's', stream: 'frames' });
    c.send({ type: 'valve', id: 'v', concentrator: '101', meter: '101001', action: 'close' });
    expect(await c.answer('v')).toMatchObject({ type: 'valve-status', valve: 'closed' });
    c.send({ type: 'read', id: 'r', concentrator: '101', meter: '101001' });
    expect(await c.answer('r')).toMatchObject({ type: 'reading', status: { valve: 'closed' } });
    const frames = () => c.messages.filter((m) => m.type === 'frame');
    await c.waitFor(() => frames().length >= 4, 'four frames: valve and read, down and up');
    expect(frames().map((f) => [f.direction, f.afn, f.meter])).toEqual([
      ['down', 16, '00000000101001'],
      ['up', 16, '00000000101001'],
      ['down', 16, '00000000101001'],
      ['up', 16, '00000000101001'],
    ]);
    expect(String(frames()[0].summary)).toContain('valve close');
    c.send({ type: 'valve', id: 'v2', concentrator: '101', meter: '101001', action: 'open' });
    expect(await c.answer('v2')).toMatchObject({ valve: 'open' });
    c.send({ type: 'unsubscribe', id: 's' });
    await c.waitFor((m) => m.type === 'unsubscribed', 'unsubscribed');
    c.ws.close();
  });

  it('answers typed errors', async () => {
    const c = await client(chain.relayUrl);
    c.send({ type: 'valve', id: 'a', concentrator: '101', meter: '101002', action: 'close' });
    c.send({ type: 'valve', id: 'b', concentrator: 'nope', meter: '101001', action: 'close' });
    c.send({ type: 'unsubscribe', id: 'c' });
    c.send({ type: 'subscribe', id: 'd' });
    c.send({ type: 'frame', id: 'e' });
    const code = async (id: string) => (await c.answer(id)).code;
    expect(await code('a')).toBe('NO_VALVE');
    expect(await code('b')).toBe('UNKNOWN_CONCENTRATOR');
    expect(await code('c')).toBe('SUBSCRIPTION_CLOSED');
    expect(await code('d')).toBe('BAD_REQUEST');
    expect(String((await c.answer('d')).message)).toContain('missing "stream"');
    expect(await code('e')).toBe('BAD_REQUEST');
    c.ws.close();
  });

  it("applies the relay's limits to console clients", async () => {
    const relay = new Relay({
      host: '127.0.0.1',
      port: 0,
      master: { host: '127.0.0.1', port: 1 },
      maxConsoleClients: 0,
      maxPayload: 1024,
      token: 'tok',
    });
    const { url } = await relay.start();
    try {
      const http = url.replace('ws:', 'http:');
      expect((await fetch(`${http}/`)).status).toBe(401);
      expect((await fetch(`${http}/?token=tok`)).status).toBe(200);
      const c = await client(`${url}/?token=tok`);
      c.send({ type: 'fleet', id: 'f' });
      expect(await c.answer('f')).toMatchObject({ type: 'error', code: 'BUSY' });
      c.send({ type: 'subscribe', id: 's', stream: 'frames', concentrator: 'x'.repeat(2000) });
      await c.waitFor(() => c.closed() !== undefined, 'the close');
      expect(c.closed()).toBe(1009);
    } finally {
      await relay.stop();
    }
  });
});
