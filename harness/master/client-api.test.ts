import { afterEach, describe, expect, it } from 'vitest';
import { encodeText } from '../../protocols/point-read/index.ts';
import { VirtualClock } from '../../simulator/clock/index.ts';
import { ClientApiServer, type PointReadHandler } from './client-api.ts';
import { MasterError } from './master-error.ts';
import { LineClient } from './testing/line-client.ts';
import type { MasterReading, PointReadRequest } from './types.ts';

const reading = (req: PointReadRequest, value = 12.5): MasterReading => ({
  concentrator: '017102082',
  meter: req.meter.padStart(14, '0'),
  protocol: req.protocol ?? 'cjt188',
  value,
  unit: 'm3',
  latencyMs: 3,
  readAt: '2026-01-01T00:00:00.000Z',
});

let server: ClientApiServer | undefined;
let serverPort: number | undefined;
let client: LineClient | undefined;

async function start(handler: PointReadHandler, options = {}): Promise<LineClient> {
  server = new ClientApiServer(handler, { port: 0, ...options });
  const { port } = await server.listen();
  serverPort = port;
  client = await LineClient.connect(port, (options as { encoding?: 'utf8' | 'gb2312' }).encoding);
  return client;
}

afterEach(async () => {
  client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

describe('ClientApiServer', () => {
  it('answers a read with a reading carrying the request id and the names the client used', async () => {
    const c = await start(async (req) => reading(req));
    const answer = await c.request({ type: 'read', id: 'r1', concentrator: '101', meter: '101001' });
    expect(answer).toMatchObject({
      type: 'reading',
      id: 'r1',
      concentrator: '101',
      meter: '101001',
      value: 12.5,
      unit: 'm3',
      protocol: 'cjt188',
    });
  });

  it('answers a MasterError with its code and message', async () => {
    const c = await start(async () => {
      throw new MasterError('UNKNOWN_METER', 'meter 1 is not archived under 017102082');
    });
    const answer = await c.request({ type: 'read', id: 'r2', concentrator: '017102082', meter: '1' });
    expect(answer).toMatchObject({ type: 'error', id: 'r2', code: 'UNKNOWN_METER', message: /meter 1/ });
  });

  it('answers bad JSON and bad messages with an error line and keeps the connection open', async () => {
    const c = await start(async (req) => reading(req));
    expect(await c.request('{"type":"read",')).toMatchObject({ type: 'error', code: 'BAD_JSON' });
    expect(
      await c.request({ type: 'read', id: 'r3', concentrator: '017102082', meter: '10x' }),
    ).toMatchObject({
      type: 'error',
      id: 'r3',
      code: 'BAD_REQUEST',
      message: /meter/,
    });
    expect(await c.request({ type: 'reading', id: 'r4' })).toMatchObject({
      type: 'error',
      code: 'BAD_REQUEST',
    });
    expect(await c.request({ type: 'read', id: 'r5', concentrator: '017102082', meter: '1' })).toMatchObject({
      type: 'reading',
      id: 'r5',
    });
  });

  it('answers every request exactly once, out of order when reads finish out of order', async () => {
    const release: (() => void)[] = [];
    const c = await start(
      (req) =>
        new Promise<MasterReading>((resolve) => {
          release.push(() => resolve(reading(req, Number(req.meter))));
        }),
    );
    c.send({ type: 'read', id: 'a', concentrator: '017102082', meter: '1' });
    c.send({ type: 'read', id: 'b', concentrator: '017102082', meter: '2' });
    c.send('garbage');
    await c.waitFor(1);
    while (release.length < 2) await new Promise((r) => setImmediate(r));
    release[1]();
    await c.waitFor(2);
    release[0]();
    const lines = (await c.waitFor(3)) as { id?: string; value?: number; code?: string }[];
    expect(lines.map((l) => l.id ?? l.code)).toEqual(['BAD_JSON', 'b', 'a']);
    expect(lines[1].value).toBe(2);
  });

  it('answers BUSY beyond the per-connection in-flight limit', async () => {
    const release: (() => void)[] = [];
    const c = await start(
      (req) => new Promise<MasterReading>((resolve) => release.push(() => resolve(reading(req)))),
      { maxInFlightPerConnection: 1 },
    );
    c.send({ type: 'read', id: 'x', concentrator: '017102082', meter: '1' });
    const busy = await c.request({ type: 'read', id: 'y', concentrator: '017102082', meter: '2' });
    expect(busy).toMatchObject({ id: 'y', code: 'BUSY' });
    release[0]();
    expect((await c.waitFor(2))[1]).toMatchObject({ id: 'x', type: 'reading' });
  });

  it('answers a burst of reads beyond the write buffer with one drain listener, not one per answer', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const c = await start(async (req) => reading(req), { maxInFlightPerConnection: 1000 });
      const burst = Array.from({ length: 300 }, (_, i) =>
        JSON.stringify({ type: 'read', id: `b${i}`, concentrator: '017102082', meter: String(i + 1) }),
      );
      c.send(Buffer.from(`${burst.join('\n')}\n`));
      const lines = (await c.waitFor(300)) as { id: string }[];
      expect(lines.map((l) => l.id)).toEqual(burst.map((_, i) => `b${i}`));
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('reassembles a request line split across writes', async () => {
    const c = await start(async (req) => reading(req));
    const line = `${JSON.stringify({ type: 'read', id: 'half', concentrator: '017102082', meter: '9' })}\n`;
    c.send(Buffer.from(line.slice(0, 10)));
    await new Promise((r) => setImmediate(r));
    c.send(Buffer.from(line.slice(10)));
    expect((await c.waitFor(1))[0]).toMatchObject({ id: 'half', type: 'reading' });
  });

  it('answers a request sent just before the client ends its side', async () => {
    const c = await start(async (req) => reading(req));
    c.socket.end(`${JSON.stringify({ type: 'read', id: 'last', concentrator: '017102082', meter: '9' })}\n`);
    expect((await c.waitFor(1))[0]).toMatchObject({ id: 'last', type: 'reading' });
  });

  it('speaks GB2312 with legacy clients', async () => {
    const c = await start(
      async () => {
        throw new MasterError('METER_TIMEOUT', '表 1 无应答');
      },
      { encoding: 'gb2312' },
    );
    c.send(
      encodeText(
        `${JSON.stringify({ type: 'read', id: '点抄', concentrator: '017102082', meter: '1' })}\n`,
        'gb2312',
      ),
    );
    const [answer] = await c.waitFor(1);
    expect(answer).toMatchObject({ id: '点抄', code: 'METER_TIMEOUT', message: '表 1 无应答' });
  });

  it('answers the legacy ClickToCopy request in the legacy form', async () => {
    const c = await start(async (req) => reading(req, 7.25));
    const answer = await c.request({
      ModuleName: 'ClickToCopy',
      Content: { ConcentratorNo: '101', WaterMtrAddress: '101001' },
    });
    // Issue 14 item 1: the legacy answer is the flat ClickToCopyModel the original clientserver filled in.
    expect(answer).toEqual({
      ConcentratorNo: '101',
      WaterMtrAddress: '101001',
      AccumVal: 7.25,
      IsDownCommand: true,
    });
  });
});

describe('ClientApiServer limits (issue 13 item 4)', () => {
  /** Resolves when `predicate` holds, polling each turn of the event loop, or fails after `timeoutMs`. */
  async function until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setImmediate(r));
    }
  }

  async function closed(c: LineClient): Promise<void> {
    if (c.socket.destroyed || c.socket.readableEnded) return;
    await new Promise<void>((resolve) => c.socket.once('close', () => resolve()));
  }

  it('closes a connection idle for idleTimeoutMs with a last IDLE_TIMEOUT line, and frees its slot', async () => {
    const clock = new VirtualClock();
    const idle: string[] = [];
    const c = await start(async (req) => reading(req), { clock, idleTimeoutMs: 60_000, maxConnections: 1 });
    server!.on('idle', (remote: string) => idle.push(remote));
    await until(() => server!.connections === 1, 'the connection');
    clock.advance(59_999);
    expect(await c.request({ type: 'read', id: 'r', concentrator: '017102082', meter: '1' })).toMatchObject({
      id: 'r',
      type: 'reading',
    });
    // The read counts: 59.999 s after it the connection is still open.
    clock.advance(59_999);
    await new Promise((r) => setImmediate(r));
    expect(c.lines).toHaveLength(1);
    clock.advance(1);
    const [, last] = (await c.waitFor(2)) as Record<string, unknown>[];
    expect(last).toMatchObject({ type: 'error', code: 'IDLE_TIMEOUT', message: /no request for 60 s/ });
    expect(last.id).toBeUndefined();
    await closed(c);
    await until(() => server!.connections === 0, 'the server to let the connection go');
    expect(idle).toHaveLength(1);
    // The slot is free again: a new client is served (maxConnections 1).
    const next = await LineClient.connect(serverPort!);
    try {
      expect(
        await next.request({ type: 'read', id: 'n', concentrator: '017102082', meter: '2' }),
      ).toMatchObject({ id: 'n', type: 'reading' });
    } finally {
      next.close();
    }
  });

  it('keeps a connection open while one of its reads is in flight, however long', async () => {
    const clock = new VirtualClock();
    const release: (() => void)[] = [];
    const c = await start(
      (req) => new Promise<MasterReading>((resolve) => release.push(() => resolve(reading(req)))),
      { clock, idleTimeoutMs: 1000 },
    );
    c.send({ type: 'read', id: 'slow', concentrator: '017102082', meter: '1' });
    await until(() => release.length === 1, 'the read');
    clock.advance(10_000);
    await new Promise((r) => setImmediate(r));
    expect(c.lines).toEqual([]);
    release[0]();
    expect((await c.waitFor(1))[0]).toMatchObject({ id: 'slow', type: 'reading' });
    clock.advance(1000);
    expect((await c.waitFor(2))[1]).toMatchObject({ code: 'IDLE_TIMEOUT' });
  });

  it('does not count lines that are not requests as activity', async () => {
    const clock = new VirtualClock();
    const c = await start(async (req) => reading(req), { clock, idleTimeoutMs: 1000 });
    await until(() => server!.connections === 1, 'the connection');
    clock.advance(900);
    expect(await c.request('junk')).toMatchObject({ code: 'BAD_JSON' });
    clock.advance(100);
    expect((await c.waitFor(2))[1]).toMatchObject({ code: 'IDLE_TIMEOUT' });
    await closed(c);
  });

  it('rejects a bad idleTimeoutMs naming the option', () => {
    expect(() => new ClientApiServer(async (req) => reading(req), { idleTimeoutMs: -1 })).toThrow(
      /"idleTimeoutMs"/,
    );
  });
});
