import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeLine } from '../../protocols/point-read/index.ts';
import { LinkWrapper, TcpClientLink } from '../../simulator/link/index.ts';
import type { RelayLogEntry } from './log.ts';
import { Relay, type RelayOptions } from './relay.ts';
import { errorFor, FakeMaster, readingFor } from './testing/fake-master.ts';
import { WsProbe } from './testing/ws-probe.ts';

/** A tap that counts bytes each way; the relay only sees a Link. */
class ByteCounter extends LinkWrapper {
  transmitted = 0;
  received = 0;
  protected override transmit(bytes: Uint8Array): Promise<void> {
    this.transmitted += bytes.length;
    return super.transmit(bytes);
  }
  protected override receive(bytes: Uint8Array): void {
    this.received += bytes.length;
    super.receive(bytes);
  }
}

/** Log collector that tests can wait on. */
class LogTap extends EventEmitter<{ entry: [RelayLogEntry] }> {
  readonly entries: RelayLogEntry[] = [];
  readonly log = (entry: RelayLogEntry) => {
    this.entries.push(entry);
    this.emit('entry', entry);
  };
  async waitFor(match: (e: RelayLogEntry) => boolean): Promise<RelayLogEntry> {
    for (;;) {
      const found = this.entries.find(match);
      if (found) return found;
      await new Promise<void>((resolve) => this.once('entry', () => resolve()));
    }
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakeMaster(encoding: 'utf8' | 'gb2312' = 'utf8'): Promise<FakeMaster> {
  const master = new FakeMaster({ encoding });
  await master.start();
  cleanups.push(() => master.stop());
  return master;
}

async function relayFor(
  master: FakeMaster,
  options: Partial<RelayOptions> = {},
  { waitForMaster = true } = {},
): Promise<{ relay: Relay; url: string; logs: LogTap }> {
  const logs = new LogTap();
  const relay = new Relay({
    host: '127.0.0.1',
    port: 0,
    master: { host: '127.0.0.1', port: master.port },
    masterBackoff: { initialMs: 20, maxMs: 200, jitter: 0 },
    log: logs.log,
    ...options,
  });
  const up = new Promise<void>((resolve) => relay.once('master-up', () => resolve()));
  const { url } = await relay.start();
  cleanups.push(() => relay.stop());
  if (waitForMaster) await up;
  return { relay, url, logs };
}

async function probe(url: string, options: ConstructorParameters<typeof WsProbe>[1] = {}): Promise<WsProbe> {
  const p = new WsProbe(url, options);
  cleanups.push(() => p.close());
  await p.opened();
  return p;
}

/** Asserts every answer id on the probe appears exactly once. */
function expectEachIdOnce(p: WsProbe): void {
  const ids = p.messages.map((m) => m.id).filter((id) => id !== undefined);
  expect(new Set(ids).size).toBe(ids.length);
}

describe('Relay', () => {
  it('answers a v1 read with the reading under the client id, using its own id upstream', async () => {
    const master = await fakeMaster();
    const { url, logs } = await relayFor(master);
    const client = await probe(url);
    const answer = await client.read('r1', '017102082', '00000000101001');
    expect(answer).toEqual({
      type: 'reading',
      id: 'r1',
      concentrator: '017102082',
      meter: '00000000101001',
      value: 123.45,
      unit: 'm3',
    });
    expect(master.requests).toHaveLength(1);
    expect(master.requests[0]).toMatchObject({
      type: 'read',
      concentrator: '017102082',
      meter: '00000000101001',
    });
    expect(master.requests[0].id).not.toBe('r1');
    const line = logs.entries.find((e) => e.event === 'listening');
    expect(line?.message).toMatch(/^meterlab relay listening on ws:\/\/127\.0\.0\.1:\d+ — auth: OFF/);
    expect(logs.entries.some((e) => e.event === 'read' && e.fields?.outcome === 'reading')).toBe(true);
  });

  it('runs its master connection through a wrapper it does not know about, every byte counted, over real TCP', async () => {
    const master = await fakeMaster();
    const counters: ByteCounter[] = [];
    const { url } = await relayFor(master, {
      masterLink: () => {
        const counter = new ByteCounter(new TcpClientLink({ host: '127.0.0.1', port: master.port }));
        counters.push(counter);
        return counter;
      },
    });
    const client = await probe(url);
    expect(await client.read('w1', '101', '101001')).toMatchObject({ type: 'reading', value: 123.45 });
    expect(await client.read('w2', '101', '101002')).toMatchObject({ type: 'reading', value: 123.45 });
    expect(counters).toHaveLength(1);
    const sent = master.requests.map((r) =>
      encodeLine({ type: 'read', id: r.id, concentrator: '101', meter: r.meter, origin: r.origin }),
    );
    const answers = master.requests.map(
      (r) =>
        `${JSON.stringify({ id: r.id, type: 'reading', concentrator: '101', meter: r.meter, value: 123.45, unit: 'm3' })}\n`,
    );
    expect(counters[0].transmitted).toBe(sent.reduce((n, line) => n + line.length, 0));
    expect(counters[0].received).toBe(answers.reduce((n, line) => n + Buffer.byteLength(line), 0));
  });

  it('passes protocol and port upstream and master errors back with the client id', async () => {
    const master = await fakeMaster();
    master.handler = (req) => errorFor(req, 'METER_TIMEOUT', 'meter did not answer');
    const { url } = await relayFor(master);
    const client = await probe(url);
    client.send({ type: 'read', id: 'x', concentrator: '101', meter: '101001', protocol: 'dlt645', port: 2 });
    expect(await client.answer('x')).toEqual({
      type: 'error',
      id: 'x',
      code: 'METER_TIMEOUT',
      message: 'meter did not answer',
      concentrator: '101',
      meter: '101001',
    });
    expect(master.requests[0]).toMatchObject({ protocol: 'dlt645', port: 2 });
  });

  it("passes the master's error detail through to every sharer, and leaves it out of the legacy shape", async () => {
    const master = await fakeMaster('gb2312');
    const detail = {
      reason: 'ABNORMAL_REPLY',
      protocol: 'cjt188',
      statusWord: '0003',
      meaning: '阀门异常',
      reply: '68 10 01 00 00 00 00 00 00 C1 03 1F 90 00 03 00 B7 16',
    };
    master.handler = (req) => ({
      kind: 'json',
      body: { type: 'error', id: req.id, code: 'BAD_REPLY', message: '表计异常应答', detail },
    });
    const { url } = await relayFor(master, { encoding: 'gb2312' });
    const a = await probe(url);
    const b = await probe(url);
    a.send({ type: 'read', id: 'a1', concentrator: '101', meter: '101001' });
    b.send({ type: 'read', id: 'b1', concentrator: '101', meter: '101001' });
    b.send({ ModuleName: 'ClickToCopy', Content: { ConcentratorNo: '101', WaterMtrAddress: '101001' } });
    const expected = {
      type: 'error',
      code: 'BAD_REPLY',
      message: '表计异常应答',
      concentrator: '101',
      meter: '101001',
      detail,
    };
    expect(await a.answer('a1')).toEqual({ ...expected, id: 'a1' });
    expect(await b.answer('b1')).toEqual({ ...expected, id: 'b1' });
    // Issue 14 item 1: the legacy answer is flat (ErrorMsg/ErrorCode at the top level), still without detail.
    expect(await b.waitFor((m) => m.IsDownCommand === true)).toEqual({
      ConcentratorNo: '101',
      WaterMtrAddress: '101001',
      AccumVal: null,
      IsDownCommand: true,
      ErrorCode: 'BAD_REPLY',
      ErrorMsg: '表计异常应答',
    });
  });

  it('answers BAD_REPLY when the master sends a detail the contract refuses', async () => {
    const master = await fakeMaster();
    master.handler = (req) => ({
      kind: 'json',
      body: {
        type: 'error',
        id: req.id,
        code: 'BAD_REPLY',
        message: 'x',
        detail: { reason: 'BAD_REPLY', st: 3 },
      },
    });
    const { url, logs } = await relayFor(master);
    const client = await probe(url);
    expect(await client.read('bd', '101', '1')).toMatchObject({
      type: 'error',
      code: 'BAD_REPLY',
      message: /detail\.st/,
    });
    expect(logs.entries.some((e) => e.event === 'master-bad-line')).toBe(true);
  });

  // Issue 14 item 1 changed the shape asserted here: the answer is the flat ClickToCopyModel the original
  // clientserver filled in (README "Legacy point-read shapes"), no longer the request's envelope with Content.
  it('answers a legacy ClickToCopy request in the flat legacy shape, with AccumVal or an error text', async () => {
    const master = await fakeMaster();
    master.handler = (req) =>
      req.meter === '101001' ? readingFor(req, 42.5) : errorFor(req, 'UNKNOWN_METER', '表计不在档案中');
    const { url } = await relayFor(master);
    const client = await probe(url);
    client.send({ ModuleName: 'ClickToCopy', Content: { ConcentratorNo: '101', WaterMtrAddress: '101001' } });
    client.send({ ModuleName: 'ClickToCopy', Content: { ConcentratorNo: '101', WaterMtrAddress: '101999' } });
    const ok = await client.waitFor((m) => typeof m.AccumVal === 'number');
    expect(ok).toEqual({
      ConcentratorNo: '101',
      WaterMtrAddress: '101001',
      AccumVal: 42.5,
      IsDownCommand: true,
    });
    const failed = await client.waitFor((m) => m.ErrorCode !== undefined);
    expect(failed).toEqual({
      ConcentratorNo: '101',
      WaterMtrAddress: '101999',
      AccumVal: null,
      IsDownCommand: true,
      ErrorCode: 'UNKNOWN_METER',
      ErrorMsg: '表计不在档案中',
    });
    expect(master.requests.map((r) => [r.type, r.concentrator, r.meter])).toEqual([
      ['read', '101', '101001'],
      ['read', '101', '101999'],
    ]);
  });

  it('shares one upstream read between two clients reading the same meter, each answered under its own id', async () => {
    const master = await fakeMaster();
    master.handler = () => ({ kind: 'silent' });
    const { url, logs } = await relayFor(master);
    const a = await probe(url);
    const b = await probe(url);
    a.send({ type: 'read', id: 'same', concentrator: '017102082', meter: '00000000101001' });
    await master.waitForRequests(1);
    // The same meter, written without its padding, from another connection, with a colliding id.
    b.send({ type: 'read', id: 'same', concentrator: '017102082', meter: '101001' });
    b.send({ type: 'read', id: 'b2', concentrator: '017102082', meter: '101001' });
    await logs.waitFor((e) => e.event === 'read-start' && e.fields?.shared === true && e.fields.id === 'b2');
    master.respond(master.requests[0], readingFor(master.requests[0], 7.25));
    const [fromA, fromB, fromB2] = await Promise.all([a.answer('same'), b.answer('same'), b.answer('b2')]);
    expect(master.requests).toHaveLength(1);
    for (const answer of [fromA, fromB, fromB2])
      expect(answer).toMatchObject({ type: 'reading', value: 7.25 });
    expect(fromB2.id).toBe('b2');
    // A read after the shared one settled is a fresh field read, never a stale copy.
    master.handler = (req) => readingFor(req, 8);
    expect(await a.read('later', '017102082', '00000000101001')).toMatchObject({ type: 'reading', value: 8 });
    expect(master.requests).toHaveLength(2);
  }, 30_000);

  it('answers TIMEOUT after readTimeoutMs and ignores the late answer (each read answered once)', async () => {
    const master = await fakeMaster();
    master.handler = () => ({ kind: 'silent' });
    const { url, logs } = await relayFor(master, { readTimeoutMs: 300 });
    const client = await probe(url);
    const answer = await client.read('t1', '017102082', '101001');
    expect(answer).toMatchObject({ type: 'error', id: 't1', code: 'TIMEOUT' });
    master.respond(master.requests[0], readingFor(master.requests[0]));
    await logs.waitFor((e) => e.event === 'master-stray-answer');
    master.handler = (req) => readingFor(req);
    // Answers on one connection arrive in order, so a duplicate of t1 would have arrived before this one.
    expect(await client.read('t2', '017102082', '101001')).toMatchObject({ type: 'reading', id: 't2' });
    expect(client.messages.filter((m) => m.id === 't1')).toHaveLength(1);
    expectEachIdOnce(client);
  });

  it('answers MASTER_UNAVAILABLE at once while the master is away', async () => {
    const master = await fakeMaster();
    await master.stop();
    const { url, relay } = await relayFor(master, { readTimeoutMs: 20_000 }, { waitForMaster: false });
    expect(relay.masterConnected).toBe(false);
    const client = await probe(url);
    const started = Date.now();
    const answer = await client.read('m1', '017102082', '101001');
    expect(answer).toMatchObject({ type: 'error', id: 'm1', code: 'MASTER_UNAVAILABLE' });
    expect(String(answer.message)).toContain(`127.0.0.1:${master.port}`);
    // "At once" means not after the 20 s read timeout; the bound is loose for a busy machine.
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('answers reads in flight MASTER_UNAVAILABLE when the master goes, and reconnects when it comes back', async () => {
    const master = await fakeMaster();
    master.handler = () => ({ kind: 'silent' });
    const { url, relay } = await relayFor(master);
    const client = await probe(url);
    client.send({ type: 'read', id: 'inflight', concentrator: '017102082', meter: '101001' });
    await master.waitForRequests(1);
    const down = new Promise<void>((resolve) => relay.once('master-down', () => resolve()));
    await master.stop();
    expect(await client.answer('inflight')).toMatchObject({ code: 'MASTER_UNAVAILABLE' });
    await down;
    expect(await client.read('while-down', '017102082', '101001')).toMatchObject({
      code: 'MASTER_UNAVAILABLE',
    });
    const up = new Promise<void>((resolve) => relay.once('master-up', () => resolve()));
    master.handler = (req) => readingFor(req, 9);
    await master.start();
    await up;
    expect(await client.read('after', '017102082', '101001')).toMatchObject({ type: 'reading', value: 9 });
    expectEachIdOnce(client);
  });

  it('answers bad messages with an error naming the problem and keeps the connection open', async () => {
    const master = await fakeMaster();
    const { url } = await relayFor(master);
    const client = await probe(url);
    client.send('{"type":"read",');
    const badJson = await client.waitFor((m) => m.code === 'BAD_JSON');
    expect(badJson).toMatchObject({ type: 'error', code: 'BAD_JSON' });
    expect(String(badJson.message)).toMatch(/not valid JSON/);
    client.send({ type: 'subscribe', id: 's1' });
    const unknown = await client.answer('s1');
    expect(unknown).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    expect(String(unknown.message)).toContain('subscribe');
    client.send({ type: 'reading', id: 's2', concentrator: '101', meter: '1', value: 1, unit: 'm3' });
    expect(await client.answer('s2')).toMatchObject({ code: 'BAD_REQUEST' });
    client.send({ type: 'read', id: 's3', concentrator: '101', meter: '10x' });
    const badMeter = await client.answer('s3');
    expect(String(badMeter.message)).toContain('meter');
    client.send({ ModuleName: 'Other', Content: {} });
    await client.waitFor((m) => String(m.message ?? '').includes('ModuleName'));
    client.ws.send(Buffer.from('{}'), { binary: true });
    await client.waitFor((m) => String(m.message ?? '').includes('binary'));
    expect(await client.read('ok', '017102082', '101001')).toMatchObject({ type: 'reading' });
    expect(client.closed).toBeUndefined();
    expect(master.requests).toHaveLength(1);
  });

  it('echoes an invalid id of 60,000 characters as its first 64 and says it was shortened', async () => {
    const master = await fakeMaster();
    const { url } = await relayFor(master);
    const client = await probe(url);
    const long = `${'x'.repeat(63)}y${'z'.repeat(59_936)}`;
    client.send({ type: 'read', id: long, concentrator: '101', meter: '1' });
    const reply = await client.waitFor((m) => m.type === 'error');
    expect(reply.id).toBe(`${'x'.repeat(63)}y…`);
    expect(reply.code).toBe('BAD_REQUEST');
    expect(String(reply.message)).toContain('(id shortened from 60,000 characters)');
    expect(JSON.stringify(reply).length).toBeLessThan(1000);
    // A valid id of the longest allowed length is echoed exactly.
    const longest = 'i'.repeat(128);
    client.send({ type: 'read', id: longest, concentrator: '101', meter: '10x' });
    expect(await client.answer(longest)).toMatchObject({ code: 'BAD_REQUEST' });
    // Control characters in a short invalid id are not sent back.
    client.send({ type: 'read', id: 'a\u0007b', concentrator: '101', meter: '1' });
    expect(await client.answer('a?b')).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('refuses a second read with an id already in flight on the same connection', async () => {
    const master = await fakeMaster();
    master.handler = (req) => readingFor(req, 1, 200);
    const { url } = await relayFor(master);
    const client = await probe(url);
    client.send({ type: 'read', id: 'dup', concentrator: '101', meter: '1' });
    client.send({ type: 'read', id: 'dup', concentrator: '101', meter: '2' });
    const first = await client.answer('dup');
    expect(first).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    await client.waitFor((m) => m.id === 'dup' && m.type === 'reading');
  });

  it('closes with 1009 on a message over maxPayload', async () => {
    const master = await fakeMaster();
    const { url } = await relayFor(master, { maxPayload: 1024 });
    const client = await probe(url);
    client.send({ type: 'read', id: 'big', concentrator: '101', meter: '1', pad: 'x'.repeat(2000) });
    expect((await client.waitClosed()).code).toBe(1009);
  });

  it('answers QUEUE_FULL at once beyond maxInFlightPerClient and maxPendingUpstream', async () => {
    const master = await fakeMaster();
    master.handler = () => ({ kind: 'silent' });
    const { url } = await relayFor(master, { maxInFlightPerClient: 2, maxPendingUpstream: 3 });
    const a = await probe(url);
    const b = await probe(url);
    a.send({ type: 'read', id: 'a1', concentrator: '101', meter: '1' });
    a.send({ type: 'read', id: 'a2', concentrator: '101', meter: '2' });
    a.send({ type: 'read', id: 'a3', concentrator: '101', meter: '3' });
    expect(await a.answer('a3')).toMatchObject({ code: 'QUEUE_FULL' });
    expect(String((await a.answer('a3')).message)).toContain('maxInFlightPerClient');
    await master.waitForRequests(2);
    b.send({ type: 'read', id: 'b1', concentrator: '101', meter: '4' });
    await master.waitForRequests(3);
    b.send({ type: 'read', id: 'b2', concentrator: '101', meter: '5' });
    const full = await b.answer('b2');
    expect(full).toMatchObject({ code: 'QUEUE_FULL' });
    expect(String(full.message)).toContain('maxPendingUpstream');
    // Joining a read already in flight costs no upstream slot.
    b.send({ type: 'read', id: 'b3', concentrator: '101', meter: '1' });
    master.respond(master.requests[0], readingFor(master.requests[0], 5));
    expect(await b.answer('b3')).toMatchObject({ type: 'reading', value: 5 });
    expect(await a.answer('a1')).toMatchObject({ type: 'reading', value: 5 });
  });

  it('speaks GB2312 to the master when asked', async () => {
    const master = await fakeMaster('gb2312');
    master.handler = (req) => errorFor(req, 'CONCENTRATOR_OFFLINE', '集中器不在线');
    const { url } = await relayFor(master, { encoding: 'gb2312' });
    const client = await probe(url);
    client.send({ ModuleName: 'ClickToCopy', Content: { ConcentratorNo: '101', WaterMtrAddress: '101001' } });
    // Issue 14 item 1: the flat legacy answer (ErrorMsg at the top level; it was Content.Error).
    const answer = await client.waitFor((m) => m.IsDownCommand === true);
    expect(answer).toMatchObject({ ErrorMsg: '集中器不在线', ErrorCode: 'CONCENTRATOR_OFFLINE' });
    expect(master.badLines).toEqual([]);
  });

  it('answers BAD_REPLY when the master sends an invalid answer for a read', async () => {
    const master = await fakeMaster();
    master.handler = (req) => ({
      kind: 'raw',
      line: JSON.stringify({ type: 'reading', id: req.id, value: 'lots' }),
    });
    const { url, logs } = await relayFor(master);
    const client = await probe(url);
    expect(await client.read('br', '101', '1')).toMatchObject({ type: 'error', code: 'BAD_REPLY' });
    expect(logs.entries.some((e) => e.event === 'master-bad-line')).toBe(true);
  });

  describe('auth', () => {
    it('refuses a missing or wrong token with 401 and accepts it in the header or the query', async () => {
      const master = await fakeMaster();
      const { url, logs } = await relayFor(master, { token: 's3cret' });
      expect(logs.entries.find((e) => e.event === 'listening')?.message).toContain(
        'auth: bearer token required',
      );
      await expect(new WsProbe(url).opened()).rejects.toMatchObject({ status: 401 });
      await expect(new WsProbe(`${url}/?token=nope`).opened()).rejects.toMatchObject({ status: 401 });
      await expect(
        new WsProbe(url, { headers: { Authorization: 'Bearer nope' } }).opened(),
      ).rejects.toMatchObject({ status: 401 });
      const byHeader = await probe(url, { headers: { Authorization: 'Bearer s3cret' } });
      expect(await byHeader.read('h', '101', '1')).toMatchObject({ type: 'reading' });
      const byQuery = await probe(`${url}/?token=s3cret`);
      expect(await byQuery.read('q', '101', '1')).toMatchObject({ type: 'reading' });
      const refused = logs.entries.filter((e) => e.event === 'client-refused');
      expect(refused).toHaveLength(3);
      for (const e of refused) expect(e.message).not.toContain('nope');
    });

    it('lets in a client whose query token is right although its header token is wrong (either is enough)', async () => {
      const master = await fakeMaster();
      const { url } = await relayFor(master, { token: 's3cret' });
      const client = await probe(`${url}/?token=s3cret`, { headers: { Authorization: 'Bearer proxy' } });
      expect(await client.read('hq', '101', '1')).toMatchObject({ type: 'reading' });
      await expect(
        new WsProbe(`${url}/?token=nope`, { headers: { Authorization: 'Bearer proxy' } }).opened(),
      ).rejects.toMatchObject({ status: 401 });
    });

    it('refuses an origin that is not allowed with 403', async () => {
      const master = await fakeMaster();
      const { url } = await relayFor(master, { allowedOrigins: ['http://meters.example'] });
      await expect(new WsProbe(url, { origin: 'http://evil.example' }).opened()).rejects.toMatchObject({
        status: 403,
      });
      const ok = await probe(url, { origin: 'http://METERS.example' });
      expect(await ok.read('o', '101', '1')).toMatchObject({ type: 'reading' });
    });

    it('serves wss with a certificate and key file', async (ctx) => {
      let openssl = true;
      try {
        execFileSync('openssl', ['version'], { stdio: 'ignore' });
      } catch {
        openssl = false;
      }
      if (!openssl) {
        ctx.skip('openssl is not installed, so no self-signed certificate can be made');
        return;
      }
      const dir = mkdtempSync(join(tmpdir(), 'meterlab-relay-tls-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const cert = join(dir, 'cert.pem');
      const key = join(dir, 'key.pem');
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          key,
          '-out',
          cert,
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
        ],
        { stdio: 'ignore' },
      );
      const master = await fakeMaster();
      const { url, logs } = await relayFor(master, { tls: { cert, key } });
      expect(url).toMatch(/^wss:\/\//);
      expect(logs.entries.find((e) => e.event === 'listening')?.message).toContain('TLS on');
      const client = await probe(url, { ca: readFileSync(cert) });
      expect(await client.read('tls', '101', '1')).toMatchObject({ type: 'reading' });
    });

    it('fails to start with RELAY_ERR_TLS when the certificate file is missing', async () => {
      const relay = new Relay({
        port: 0,
        master: { host: '127.0.0.1', port: 9 },
        tls: { cert: '/nonexistent/cert.pem', key: '/nonexistent/key.pem' },
      });
      await expect(relay.start()).rejects.toMatchObject({ code: 'RELAY_ERR_TLS' });
    });
  });

  it('terminates a peer that stops answering pings and keeps the live ones', async () => {
    const master = await fakeMaster();
    const { url, relay, logs } = await relayFor(master, { heartbeatIntervalMs: 100 });
    const live = await probe(url);
    const dead = await probe(url, { autoPong: false });
    expect((await dead.waitClosed()).code).toBe(1006);
    await logs.waitFor((e) => e.event === 'heartbeat-timeout');
    // The live client has answered pings all along and still reads.
    expect(await live.read('alive', '101', '1')).toMatchObject({ type: 'reading' });
    expect(relay.clientCount).toBe(1);
  });

  it('answers plain HTTP with 426 and rejects bad options with TypeError', async () => {
    const master = await fakeMaster();
    // Without the web console (which serves GET /), every plain HTTP request is refused.
    const { url } = await relayFor(master, { console: false });
    const res = await fetch(url.replace('ws://', 'http://'));
    expect(res.status).toBe(426);
    expect(() => new Relay({ port: -1, master: { host: '127.0.0.1', port: 1 } })).toThrow(TypeError);
    expect(() => new Relay({ master: { host: '127.0.0.1', port: 1 }, maxInFlightPerClient: 0 })).toThrow(
      /maxInFlightPerClient/,
    );
  });

  it('closes clients with 1001 on stop', async () => {
    const master = await fakeMaster();
    const { url, relay } = await relayFor(master);
    const client = await probe(url);
    await relay.stop();
    expect((await client.waitClosed()).code).toBe(1001);
  });
});
