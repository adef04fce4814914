import { afterEach, describe, expect, it } from 'vitest';
import { Relay, type RelayOptions } from '../relay/relay.ts';
import { errorFor, FakeMaster, type FakeMasterRequest, readingFor } from '../relay/testing/fake-master.ts';
import { PointReadError } from './errors.ts';
import { PointReadClient, type PointReadClientOptions } from './point-read-client.ts';
import { formatReadTable, readAll } from './read-all.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(relayOptions: Partial<RelayOptions> = {}) {
  const master = new FakeMaster();
  await master.start();
  cleanups.push(() => master.stop());
  const relay = await startRelay(master, relayOptions);
  return { master, relay };
}

async function startRelay(master: FakeMaster, options: Partial<RelayOptions> = {}): Promise<Relay> {
  const relay = new Relay({
    port: 0,
    master: { host: '127.0.0.1', port: master.port },
    masterBackoff: { initialMs: 20, maxMs: 200, jitter: 0 },
    ...options,
  });
  const up = new Promise<void>((resolve) => relay.once('master-up', () => resolve()));
  await relay.start();
  cleanups.push(() => relay.stop());
  await up;
  return relay;
}

async function client(url: string, options: Partial<PointReadClientOptions> = {}): Promise<PointReadClient> {
  const c = new PointReadClient({ url, backoff: { initialMs: 20, maxMs: 200, jitter: 0 }, ...options });
  cleanups.push(() => c.close());
  await c.connect();
  return c;
}

async function rejection(promise: Promise<unknown>): Promise<PointReadError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PointReadError);
    return error as PointReadError;
  }
  throw new Error('expected a rejection');
}

describe('PointReadClient', () => {
  it('keeps many reads in flight and gives each its own answer', async () => {
    const { master, relay } = await setup();
    // Answers come back out of order: later meters answer sooner.
    master.handler = (req) => readingFor(req, Number(req.meter), 100 - Number(req.meter));
    const c = await client(relay.url);
    const meters = Array.from({ length: 60 }, (_, i) => String(i + 1));
    const readings = await Promise.all(meters.map((m) => c.read('017102082', m)));
    expect(readings.map((r) => r.value)).toEqual(meters.map(Number));
    expect(readings.map((r) => r.meter)).toEqual(meters);
    expect(new Set(readings.map((r) => r.id)).size).toBe(60);
    expect(master.requests).toHaveLength(60);
    expect(c.inFlight).toBe(0);
  });

  it('rejects with the master error code as a PointReadError', async () => {
    const { master, relay } = await setup();
    master.handler = (req) => errorFor(req, 'METER_TIMEOUT', 'the meter did not answer');
    const c = await client(relay.url);
    const error = await rejection(c.read('017102082', '101001', { protocol: 'cjt188', port: 1 }));
    expect(error).toMatchObject({ code: 'METER_TIMEOUT', source: 'remote', meter: '101001' });
    expect(master.requests[0]).toMatchObject({ protocol: 'cjt188', port: 1 });
  });

  it("exposes the master's error detail, and readAll reports its reason", async () => {
    const { master, relay } = await setup();
    const detail = {
      reason: 'ADDRESS_MISMATCH',
      protocol: 'cjt188',
      expected: '00000000101001',
      got: '00000000999999',
    };
    master.handler = (req) =>
      req.meter === '101001'
        ? { kind: 'json', body: { type: 'error', code: 'BAD_REPLY', message: 'wrong meter', detail } }
        : errorFor(req, 'UNKNOWN_METER', 'not archived');
    const c = await client(relay.url);
    const error = await rejection(c.read('101', '101001'));
    expect(error).toMatchObject({ code: 'BAD_REPLY', source: 'remote', detail });
    expect((await rejection(c.read('101', '7'))).detail).toBeUndefined();
    const outcomes = await readAll(c, [
      { concentrator: '101', meter: '101001' },
      { concentrator: '101', meter: '7' },
    ]);
    expect(outcomes.map((o) => o.error)).toEqual([
      { code: 'BAD_REPLY', message: 'wrong meter', detail },
      { code: 'UNKNOWN_METER', message: 'not archived' },
    ]);
    expect(formatReadTable(outcomes)).toMatch(/ERROR BAD_REPLY\/ADDRESS_MISMATCH[\s\S]*ERROR UNKNOWN_METER/);
  });

  it('rejects MASTER_UNAVAILABLE when the relay has no master, and TIMEOUT after its own limit', async () => {
    const { master, relay } = await setup();
    master.handler = () => ({ kind: 'silent' });
    const c = await client(relay.url);
    expect(await rejection(c.read('101', '1', { timeoutMs: 200 }))).toMatchObject({
      code: 'TIMEOUT',
      source: 'local',
    });
    const down = new Promise<void>((resolve) => relay.once('master-down', () => resolve()));
    await master.stop();
    await down;
    expect(await rejection(c.read('101', '1'))).toMatchObject({
      code: 'MASTER_UNAVAILABLE',
      source: 'remote',
    });
  });

  it('rejects bad arguments with BAD_REQUEST without sending anything', async () => {
    const { master, relay } = await setup();
    const c = await client(relay.url);
    const error = await rejection(c.read('101', '12ab'));
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.message).toContain('meter');
    expect(master.requests).toHaveLength(0);
  });

  it('rejects reads in flight DISCONNECTED when the relay goes and reconnects when it comes back', async () => {
    const { master, relay } = await setup();
    master.handler = () => ({ kind: 'silent' });
    const port = Number(new URL(relay.url).port);
    const c = await client(relay.url);
    const inFlight = rejection(c.read('101', '1'));
    await master.waitForRequests(1);
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    await relay.stop();
    expect(await inFlight).toMatchObject({ code: 'DISCONNECTED' });
    await closed;
    expect(await rejection(c.read('101', '1'))).toMatchObject({ code: 'DISCONNECTED' });
    master.handler = (req) => readingFor(req, 3);
    const reopened = new Promise<void>((resolve) => c.once('open', () => resolve()));
    await startRelay(master, { port });
    await reopened;
    expect(await c.read('101', '1')).toMatchObject({ type: 'reading', value: 3 });
  });

  it('presents a token, and fails connect() with UNAUTHORIZED without one', async () => {
    const { relay } = await setup({ token: 'tok', allowedOrigins: ['http://app.example'] });
    const refused = new PointReadClient({ url: relay.url });
    expect(await rejection(refused.connect())).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(refused.connected).toBe(false);
    const badOrigin = new PointReadClient({ url: relay.url, token: 'tok', origin: 'http://other.example' });
    expect(await rejection(badOrigin.connect())).toMatchObject({ code: 'UNAUTHORIZED' });
    const c = await client(relay.url, { token: 'tok', origin: 'http://app.example' });
    expect(await c.read('101', '1')).toMatchObject({ type: 'reading' });
  });

  it('fails connect() with CONNECT_FAILED when nothing listens', async () => {
    const master = new FakeMaster();
    await master.start();
    await master.stop();
    const c = new PointReadClient({ url: `ws://127.0.0.1:${master.port}` });
    expect(await rejection(c.connect())).toMatchObject({ code: 'CONNECT_FAILED' });
  });

  it('rejects reads CLOSED after close(), including those in flight', async () => {
    const { master, relay } = await setup();
    master.handler = () => ({ kind: 'silent' });
    const c = await client(relay.url);
    const inFlight = rejection(c.read('101', '1'));
    await master.waitForRequests(1);
    await c.close();
    expect(await inFlight).toMatchObject({ code: 'CLOSED' });
    expect(await rejection(c.read('101', '1'))).toMatchObject({ code: 'CLOSED' });
    expect(await rejection(c.connect())).toMatchObject({ code: 'CLOSED' });
  });

  it('rejects QUEUE_FULL beyond maxInFlight and bad options with TypeError', async () => {
    const { master, relay } = await setup();
    master.handler = () => ({ kind: 'silent' });
    const c = await client(relay.url, { maxInFlight: 1 });
    const first = rejection(c.read('101', '1', { timeoutMs: 30_000 }));
    expect(await rejection(c.read('101', '2'))).toMatchObject({ code: 'QUEUE_FULL', source: 'local' });
    await c.close();
    expect(await first).toMatchObject({ code: 'CLOSED' });
    expect(() => new PointReadClient({ url: 'http://x' })).toThrow(/"url"/);
    expect(() => new PointReadClient({ url: 'ws://x', timeoutMs: 0 })).toThrow(/"timeoutMs"/);
  });

  it('cancels a read with its AbortSignal: CANCELLED at once, and a read still queued never reaches the master', async () => {
    // One request at the master at a time: the second read waits in the relay's own queue.
    const { master, relay } = await setup({ maxInFlightUpstream: 1 });
    const held: FakeMasterRequest[] = [];
    master.handler = (req) => {
      held.push(req);
      return { kind: 'silent' };
    };
    const c = await client(relay.url);
    const first = c.read('101', '1');
    await master.waitForRequests(1);
    const controller = new AbortController();
    const second = rejection(c.read('101', '2', { signal: controller.signal }));
    // The relay has taken the read (it is counted there) before it is cancelled.
    await eventually(() => relay.readsInFlight === 2);
    controller.abort();
    expect(await second).toMatchObject({ code: 'CANCELLED', source: 'local', meter: '2' });
    expect(c.inFlight).toBe(1);
    await eventually(() => relay.readsInFlight === 1);
    master.respond(held[0], readingFor(held[0], 7));
    expect(await first).toMatchObject({ type: 'reading', value: 7 });
    // A read after it goes up, and the cancelled one never did.
    master.handler = (req) => readingFor(req, 9);
    expect(await c.read('101', '3')).toMatchObject({ value: 9 });
    expect(master.requests.map((r) => r.meter)).toEqual(['1', '3']);
    expect(c.inFlight).toBe(0);
  });

  it('tells the master to drop a cancelled read already sent, and refuses one aborted before it was sent', async () => {
    const { master, relay } = await setup();
    master.handler = () => ({ kind: 'silent' });
    const c = await client(relay.url);
    const controller = new AbortController();
    const read = rejection(c.read('101', '1', { signal: controller.signal }));
    await master.waitForRequests(1);
    const sent = master.requests[0];
    controller.abort(new Error('the user navigated away'));
    const error = await read;
    expect(error).toMatchObject({ code: 'CANCELLED' });
    expect((error.cause as Error).message).toBe('the user navigated away');
    await eventually(() => master.cancels.length === 1);
    expect(master.cancels).toEqual([sent.id]);
    expect(await rejection(c.read('101', '2', { signal: controller.signal }))).toMatchObject({
      code: 'CANCELLED',
    });
    expect(master.requests).toHaveLength(1);
    expect(c.inFlight).toBe(0);
  });
});

async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
