/**
 * Issue 14 items 1–2 against peers written from the original system's documented behaviour (the browser page
 * and .NET clients of the C#/Fleck system meterlab replaces, README "Legacy point-read shapes" and "Text
 * heartbeat"), over a real `ws` socket to a real relay with a contract master behind it.
 */
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { READ_ERROR_CODES } from '../../protocols/point-read/index.ts';
import { Relay } from './relay.ts';
import { errorFor, FakeMaster, readingFor } from './testing/fake-master.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function relayWithMaster(): Promise<{ url: string; master: FakeMaster }> {
  const master = new FakeMaster();
  await master.start();
  cleanups.push(() => master.stop());
  master.handler = (req) =>
    req.meter === '101001' ? readingFor(req, 123.45) : errorFor(req, 'METER_TIMEOUT', '表计无应答');
  const relay = new Relay({
    host: '127.0.0.1',
    port: 0,
    master: { host: '127.0.0.1', port: master.port },
    masterBackoff: { initialMs: 20, maxMs: 200, jitter: 0 },
  });
  const up = once(relay, 'master-up');
  const { url } = await relay.start();
  cleanups.push(() => relay.stop());
  await up;
  return { url, master };
}

/**
 * The original page: sends the text typed in its box and shows every text it receives; an old page of that
 * system reads `AccumVal` from the top level of the answer and matched it to its request by `WaterMtrAddress`
 * (the original webserver's Reply() did the same). Plain `ws`, no meterlab codec, so the wire is what is tested.
 */
class SeedPage {
  readonly received: string[] = [];
  readonly ws: WebSocket;
  #wake: (() => void) | undefined;
  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data) => {
      this.received.push(String(data));
      this.#wake?.();
    });
    cleanups.push(() => {
      this.ws.terminate();
    });
  }
  async open(): Promise<void> {
    await once(this.ws, 'open');
  }
  send(text: string): void {
    this.ws.send(text);
  }
  /** The first received text that `match` accepts, waiting for it (no sleeping). */
  async waitFor(match: (text: string) => boolean): Promise<string> {
    for (;;) {
      const found = this.received.find(match);
      if (found !== undefined) return found;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }
  /** What the old page read: the answer for this meter, parsed, fields at the top level. */
  async answerFor(meter: string): Promise<Record<string, unknown>> {
    const text = await this.waitFor((t) => {
      try {
        return (JSON.parse(t) as { WaterMtrAddress?: unknown }).WaterMtrAddress === meter;
      } catch {
        return false;
      }
    });
    return JSON.parse(text) as Record<string, unknown>;
  }
}

describe('legacy wire, as the original system spoke it', () => {
  it("answers the seed page's ClickToCopy text with the flat model, AccumVal at the top level", async () => {
    const { url, master } = await relayWithMaster();
    const page = new SeedPage(url);
    await page.open();
    // The test data of the original page, byte for byte.
    page.send('{"ModuleName":"ClickToCopy","Content":{"ConcentratorNo":"101","WaterMtrAddress":"101001"}}');
    const answer = await page.answerFor('101001');
    expect(answer.AccumVal).toBe(123.45);
    expect(answer).toEqual({
      ConcentratorNo: '101',
      WaterMtrAddress: '101001',
      AccumVal: 123.45,
      IsDownCommand: true,
    });
    // Exactly the text Json.NET wrote for the filled-in model, no envelope.
    expect(page.received).toContain(
      '{"ConcentratorNo":"101","WaterMtrAddress":"101001","AccumVal":123.45,"IsDownCommand":true}',
    );
    expect(master.requests).toMatchObject([{ type: 'read', concentrator: '101', meter: '101001' }]);
  });

  it('answers a failed read in the same flat shape: AccumVal null, ErrorCode from the documented set, ErrorMsg', async () => {
    const { url } = await relayWithMaster();
    const page = new SeedPage(url);
    await page.open();
    page.send('{"ModuleName":"ClickToCopy","Content":{"ConcentratorNo":"101","WaterMtrAddress":"101002"}}');
    const answer = await page.answerFor('101002');
    expect(answer).toEqual({
      ConcentratorNo: '101',
      WaterMtrAddress: '101002',
      AccumVal: null,
      IsDownCommand: true,
      ErrorCode: 'METER_TIMEOUT',
      ErrorMsg: '表计无应答',
    });
    expect(READ_ERROR_CODES).toContain(answer.ErrorCode);
  });

  it('keeps v1 answers as they were on the same connection', async () => {
    const { url } = await relayWithMaster();
    const page = new SeedPage(url);
    await page.open();
    page.send(JSON.stringify({ type: 'read', id: 'v1', concentrator: '101', meter: '101001' }));
    const text = await page.waitFor((t) => t.includes('"v1"'));
    expect(JSON.parse(text)).toEqual({
      type: 'reading',
      id: 'v1',
      concentrator: '101',
      meter: '101001',
      value: 123.45,
      unit: 'm3',
    });
  });

  it('answers the text heartbeat Ping with the text Pong, between reads, and only the exact text', async () => {
    const { url } = await relayWithMaster();
    // The .NET client's heartbeat: a text "Ping", expecting a text "Pong".
    const client = new SeedPage(url);
    await client.open();
    client.send('Ping');
    client.send(JSON.stringify({ type: 'read', id: 'r1', concentrator: '101', meter: '101001' }));
    client.send('Ping');
    await client.waitFor((t) => t.includes('"r1"'));
    while (client.received.filter((t) => t === 'Pong').length < 2) await client.waitFor((t) => t === 'Pong');
    // "ping", "Ping\n", " Ping" are not the heartbeat: they are text that is not JSON.
    client.send('ping');
    const refused = JSON.parse(await client.waitFor((t) => t.includes('BAD_JSON')));
    expect(refused).toMatchObject({ type: 'error', code: 'BAD_JSON' });
    expect(client.received.filter((t) => t === 'Pong')).toHaveLength(2);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('refuses a legacy answer or the flat clientserver request sent as a request, naming what to send', async () => {
    const { url, master } = await relayWithMaster();
    const page = new SeedPage(url);
    await page.open();
    page.send('{"ConcentratorNo":"101","WaterMtrAddress":"101001","IsDownCommand":false}');
    const flat = JSON.parse(await page.waitFor((t) => t.includes('BAD_REQUEST')));
    expect(flat.message).toMatch(/ModuleName/);
    page.send('{"ConcentratorNo":"101","WaterMtrAddress":"101001","AccumVal":1,"IsDownCommand":true}');
    await page.waitFor((t) => t.includes('is not a request'));
    expect(master.requests).toEqual([]);
  });
});
