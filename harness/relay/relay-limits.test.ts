/**
 * The relay's connection limits under hostile or careless peers (issue 13 item 7), over real sockets on
 * 127.0.0.1 with the relay's time on a VirtualClock: idle clients, stalled upgrades, slow readers.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../simulator/clock/index.ts';
import { type RelayLogEntry, throttleLog } from './log.ts';
import { Relay, type RelayOptions } from './relay.ts';
import { errorFor, FakeMaster } from './testing/fake-master.ts';
import { WsProbe } from './testing/ws-probe.ts';

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

/** Polls `condition` until it holds or `ms` of real time passed; true when it held. */
async function eventually(condition: () => boolean, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

async function start(options: Partial<RelayOptions>) {
  const master = new FakeMaster();
  await master.start();
  cleanups.push(() => master.stop());
  const clock = new VirtualClock({ start: 1_000_000 });
  const logs = new LogTap();
  const relay = new Relay({
    host: '127.0.0.1',
    port: 0,
    master: { host: '127.0.0.1', port: master.port },
    clock,
    heartbeatIntervalMs: 3_600_000, // not under test here
    console: false,
    log: logs.log,
    ...options,
  });
  const up = new Promise<void>((resolve) => relay.once('master-up', () => resolve()));
  const { url } = await relay.start();
  cleanups.push(() => relay.stop());
  await up;
  return { relay, url, clock, logs, master };
}

async function probe(url: string): Promise<WsProbe> {
  const p = new WsProbe(url);
  cleanups.push(() => p.close());
  await p.opened();
  return p;
}

describe('Relay limits', () => {
  it('closes a client idle for idleTimeoutMs with 1000, but not one that speaks or waits for an answer', async () => {
    const { url, clock, relay } = await start({ idleTimeoutMs: 5000 });
    const quiet = await probe(url);
    const talker = await probe(url);
    clock.advance(3000);
    expect(await talker.read('t1', '101', '1')).toMatchObject({ type: 'reading' });
    clock.advance(2000);
    expect(await quiet.waitClosed()).toEqual({ code: 1000, reason: 'idle for 5 s' });
    expect(talker.closed).toBeUndefined();
    expect(relay.clientCount).toBe(1);
    clock.advance(3000);
    expect((await talker.waitClosed()).code).toBe(1000);
    expect(relay.clientCount).toBe(0);
  });

  it('gives a new client the slot of the client idle longest when maxClients are connected', async () => {
    const { url, clock, logs } = await start({
      maxClients: 3,
      evictIdleAfterMs: 60_000,
      evictSilentAfterMs: 60_000,
    });
    const idle = [await probe(url), await probe(url), await probe(url)];
    clock.advance(50_000);
    expect(await idle[2].read('busy', '101', '1')).toMatchObject({ type: 'reading' });
    // Before anyone has been idle for a minute, a 4th client is refused.
    await expect(new WsProbe(url).opened()).rejects.toMatchObject({ status: 503 });
    clock.advance(11_000);
    const fourth = await probe(url);
    expect(await idle[0].waitClosed()).toEqual({ code: 1000, reason: 'idle; slot needed' });
    expect(await fourth.read('f', '101', '2')).toMatchObject({ type: 'reading' });
    await probe(url);
    expect((await idle[1].waitClosed()).code).toBe(1000);
    // idle[2] spoke 11 s ago and the others just connected: nobody to evict.
    await expect(new WsProbe(url).opened()).rejects.toMatchObject({ status: 503 });
    expect(idle[2].closed).toBeUndefined();
    expect(logs.entries.filter((e) => e.event === 'idle-evicted')).toHaveLength(2);
  });

  it('lets newcomers in within seconds when full of silent clients, evicting those that never spoke first', async () => {
    // The soak's ws-idle attack: sockets that connect and never send a message hold every slot. With
    // evictSilentAfterMs as long as the default evictIdleAfterMs (2 s) a newcomer gets a slot once they have been
    // silent that long, and a page that has read keeps its connection while a silent socket is left to evict.
    const { url, clock } = await start({ maxClients: 3, evictSilentAfterMs: 2000 });
    const page = await probe(url);
    expect(await page.read('p1', '101', '1')).toMatchObject({ type: 'reading' });
    const silent = [await probe(url), await probe(url)];
    clock.advance(1000);
    await expect(new WsProbe(url).opened()).rejects.toMatchObject({ status: 503 });
    clock.advance(1000);
    const first = await probe(url);
    expect(await silent[0].waitClosed()).toEqual({ code: 1000, reason: 'idle; slot needed' });
    expect(await first.read('f1', '101', '2')).toMatchObject({ type: 'reading' });
    await probe(url);
    expect((await silent[1].waitClosed()).code).toBe(1000);
    expect(page.closed).toBeUndefined();
    expect(await page.read('p2', '101', '3')).toMatchObject({ type: 'reading' });
  });

  it('by default evicts a socket that never spoke after 500 ms, and a client that spoke only after 2 s of silence', async () => {
    // The soak's ws-idle row: 1,000 silent sockets fill the relay in about a second; a fresh client arriving then
    // must not wait 2 s for one of them to become evictable.
    const { url, clock } = await start({ maxClients: 3 });
    const page = await probe(url);
    const silent = [await probe(url), await probe(url)];
    clock.advance(400);
    expect(await page.read('p1', '101', '1')).toMatchObject({ type: 'reading' });
    await expect(new WsProbe(url).opened()).rejects.toMatchObject({ status: 503 });
    clock.advance(100);
    const first = await probe(url);
    expect(await silent[0].waitClosed()).toEqual({ code: 1000, reason: 'idle; slot needed' });
    expect(await first.read('f1', '101', '2')).toMatchObject({ type: 'reading' });
    const second = await probe(url);
    expect((await silent[1].waitClosed()).code).toBe(1000);
    expect(await second.read('s1', '101', '3')).toMatchObject({ type: 'reading' });
    // Now everyone connected has spoken: the page that read 100 ms ago keeps its slot.
    await expect(new WsProbe(url).opened()).rejects.toMatchObject({ status: 503 });
    expect(page.closed).toBeUndefined();
    clock.advance(2000);
    await probe(url);
    expect((await page.waitClosed()).code).toBe(1000);
  });

  it('caps unfinished upgrades (oldest closed first) and closes them after handshakeTimeoutMs', async () => {
    // evictHandshakeAfterMs 0: every pending handshake may be evicted at once (the burst test below has the default).
    const { url, clock, relay } = await start({
      maxPendingHandshakes: 20,
      handshakeTimeoutMs: 10_000,
      evictHandshakeAfterMs: 0,
    });
    const { port } = new URL(url);
    const slow: { socket: net.Socket; closed: boolean }[] = [];
    for (let i = 0; i < 50; i++) {
      const socket = net.connect(Number(port), '127.0.0.1');
      const entry = { socket, closed: false };
      socket.on('close', () => {
        entry.closed = true;
      });
      socket.on('error', () => {});
      // A request head that never ends: the slowloris.
      socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n');
      slow.push(entry);
      cleanups.push(() => void socket.destroy());
    }
    expect(await eventually(() => slow.filter((s) => s.closed).length === 30)).toBe(true);
    expect(relay.pendingHandshakes).toBe(20);
    expect(slow.slice(0, 30).every((s) => s.closed)).toBe(true);
    // A real client still gets in while the stalled ones hold every pending slot.
    const client = await probe(url);
    expect(await client.read('r', '101', '1')).toMatchObject({ type: 'reading' });
    expect(relay.pendingHandshakes).toBeLessThanOrEqual(20);
    clock.advance(10_000);
    expect(await eventually(() => slow.every((s) => s.closed))).toBe(true);
    expect(relay.pendingHandshakes).toBe(0);
    expect(client.closed).toBeUndefined();
  });

  it('lets a burst of honest clients in past maxPendingHandshakes: only a handshake pending a while is evicted', async () => {
    // Beyond the cap the oldest pending handshake is destroyed only once it has waited evictHandshakeAfterMs
    // (1 s by default). 40 clients whose connections all land before the relay has read any request head (a page
    // reloaded by every browser after a restart) are pending together for a moment; each still gets its 101.
    const { url, relay } = await start({ maxPendingHandshakes: 5, handshakeTimeoutMs: 10_000 });
    const { port } = new URL(url);
    const sockets = Array.from({ length: 40 }, () => net.connect(Number(port), '127.0.0.1'));
    cleanups.push(() => {
      for (const socket of sockets) socket.destroy();
    });
    const answers = sockets.map(
      (socket) =>
        new Promise<string>((resolve) => {
          let text = '';
          socket.on('data', (d: Buffer) => {
            text += d.toString('latin1');
            if (text.includes('\r\n\r\n')) resolve(text.split('\r\n')[0]);
          });
          socket.on('error', () => resolve('error'));
          socket.on('close', () => resolve(text.split('\r\n')[0] || 'closed'));
        }),
    );
    expect(await eventually(() => relay.pendingHandshakes === 40)).toBe(true);
    for (const socket of sockets) {
      socket.write(
        'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
    }
    expect(new Set(await Promise.all(answers))).toEqual(new Set(['HTTP/1.1 101 Switching Protocols']));
  });

  it('stops reading a slow reader once it decided to close it with 1013, and terminates it after the grace', async () => {
    const { url, clock, logs, master } = await start({
      maxBufferedBytes: 64 * 1024,
      slowReaderGraceMs: 1000,
    });
    // Answers of ~60 KB each fill the kernel's socket buffers towards a client that does not read in a few
    // hundred reads, where answers of ~150 bytes would take tens of thousands.
    master.handler = (req) => errorFor(req, 'METER_TIMEOUT', 'm'.repeat(60_000));
    const client = await probe(url);
    client.ws.pause(); // the client no longer reads what the relay sends
    let n = 0;
    while (!logs.entries.some((e) => e.event === 'slow-client')) {
      expect(n).toBeLessThan(5000); // bounded
      for (let i = 0; i < 20; i++)
        client.send({ type: 'read', id: `r${n++}`, concentrator: '101', meter: '1' });
      await eventually(() => logs.entries.some((e) => e.event === 'slow-client'), 20);
    }
    // 2,000 more messages of 1 KB: a relay that still reads would take them all within milliseconds.
    const more = 'y'.repeat(1000);
    for (let i = 0; i < 2000; i++) client.send(more);
    // Real time for a relay that still reads to take them (its socket is in this process): the pass does not
    // depend on this wait, only the failure of a relay that keeps reading shows through it.
    await eventually(() => false, 300);
    clock.advance(1000);
    const closed = await logs.waitFor((e) => e.event === 'client-close');
    // At most what had already arrived when the relay decided: the rest of a burst and one socket read.
    expect(closed.fields?.ignoredAfterClose).toBeLessThan(20 + 65);
    client.ws.resume();
    expect((await client.waitClosed()).code).not.toBe(1000);
  });

  it('stops taking requests from a client that does not read its answers, and takes them again once it reads', async () => {
    // The master holds every read: 100 stay in flight (maxInFlightPerClient) and each further request is answered
    // QUEUE_FULL at once, ~300 bytes. 40,000 of them are ~12 MB of answers, more than the loopback socket buffers
    // take (a few MB): a relay that kept reading would pass maxBufferedBytes (1 MiB) and close the client with 1013.
    // (maxMessagesPerSecond off: the relay's clock is virtual and stands still here.)
    const { url, master, logs, relay } = await start({ maxMessagesPerSecond: 0 });
    master.handler = () => ({ kind: 'silent' });
    const client = await probe(url);
    client.ws.pause(); // a real ws client that does not read its socket
    const total = 40_000;
    const pad = 'p'.repeat(100);
    for (let i = 0; i < total; i++) {
      client.send({ type: 'read', id: `${pad}${i}`, concentrator: '101', meter: String(i + 1) });
    }
    const first = await logs.waitFor((e) => e.event === 'client-paused' || e.event === 'slow-client');
    expect(first.event).toBe('client-paused');
    expect(relay.pausedClients).toBe(1);
    // Real time for a relay that still reads to take all 40,000 (its socket is in this process): the pass does
    // not depend on this wait, only the failure of a relay that keeps reading shows through it.
    await eventually(() => client.closed !== undefined, 1000);
    expect(client.closed).toBeUndefined();
    expect(logs.entries.some((e) => e.event === 'slow-client')).toBe(false);
    client.ws.resume();
    // Every request taken once it reads: 100 in flight at the master, the rest answered QUEUE_FULL, each once.
    await client.waitFor(() => client.messages.length === total - 100);
    expect(new Set(client.messages.map((m) => m.id)).size).toBe(total - 100);
    expect(client.messages.every((m) => m.code === 'QUEUE_FULL')).toBe(true);
    expect(master.requests).toHaveLength(100);
    expect(relay.pausedClients).toBe(0);
  }, 30_000);

  it('serves another client between every maxMessagesPerTurn messages of a client that sends as fast as it can', async () => {
    // One socket read holds hundreds of small messages; ws parses them all at once. Client B's read, sent at the same
    // moment as client A's burst of 3,000, must not wait for a whole socket read of A's (about 700 of them).
    const { url, master } = await start({
      maxInFlightPerClient: 10_000,
      maxPendingUpstream: 10_000,
      maxInFlightUpstream: 10_000,
      maxMessagesPerSecond: 0, // the relay's clock is virtual and stands still here: the rate is tested below
    });
    master.handler = () => ({ kind: 'silent' });
    const a = await probe(url);
    const b = await probe(url);
    for (let i = 0; i < 3000; i++)
      a.send({ type: 'read', id: `a${i}`, concentrator: '101', meter: String(i + 1) });
    b.send({ type: 'read', id: 'b', concentrator: '101', meter: '999999' });
    await master.waitForRequests(3001);
    const at = master.requests.findIndex((r) => r.meter === '999999');
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(300);
    // A's reads all went up, in order.
    const aMeters = master.requests.filter((r) => r.meter !== '999999').map((r) => Number(r.meter));
    expect(aMeters).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
  }, 20_000);

  it('reads a client no faster than maxMessagesPerSecond, holding the rest in TCP, and serves others meanwhile', async () => {
    // The soak's ws-flood row under the archived read policy: every read is refused at once, so a client with
    // 100 in flight sends ~15,000 messages a second and the relay and master spend their CPU on it.
    const { url, clock, logs } = await start({ maxMessagesPerSecond: 100 });
    const a = await probe(url);
    const b = await probe(url);
    for (let i = 0; i < 250; i++) a.send('not json');
    await logs.waitFor((e) => e.event === 'client-throttled');
    await a.waitFor(() => a.messages.length >= 100);
    expect(await b.read('b1', '101', '1')).toMatchObject({ type: 'reading' });
    expect(a.messages).toHaveLength(100); // a second's burst, then nothing until the clock moves
    clock.advance(500);
    await a.waitFor(() => a.messages.length >= 145);
    expect(await b.read('b2', '101', '2')).toMatchObject({ type: 'reading' });
    expect(a.messages.length).toBeLessThanOrEqual(152);
    clock.advance(2000);
    await a.waitFor(() => a.messages.length === 250);
    expect(a.closed).toBeUndefined();
    expect(new Set(a.messages.map((m) => `${m.type} ${m.code}`))).toEqual(new Set(['error BAD_JSON']));
  });

  it('prints one line per kind per 10 s for 2,000 bad messages and refused upgrades, then the count', async () => {
    const printed: RelayLogEntry[] = [];
    const clock = new VirtualClock();
    const throttled = throttleLog<RelayLogEntry>((e) => printed.push(e), { clock, windowMs: 10_000 });
    const logs2 = new LogTap();
    const { url, logs } = await start({
      token: 's3cret',
      log: (e) => {
        logs2.log(e);
        throttled(e);
      },
    });
    const client = new WsProbe(`${url}/?token=s3cret`);
    cleanups.push(() => client.close());
    await client.opened();
    for (let i = 0; i < 2000; i++) client.send('not json');
    for (let i = 0; i < 5; i++)
      await expect(new WsProbe(url).opened()).rejects.toMatchObject({ status: 401 });
    await client.waitFor(() => client.messages.length === 2000);
    expect(logs2.entries.filter((e) => e.event === 'bad-message')).toHaveLength(2000);
    expect(printed.filter((e) => e.event === 'bad-message')).toHaveLength(1);
    expect(printed.filter((e) => e.event === 'client-refused')).toHaveLength(1);
    clock.advance(10_000);
    const summaries = printed.filter((e) => e.fields?.throttled).map((e) => e.message);
    expect(summaries.sort()).toEqual([
      '… 1,999 more bad-message in the last 10 s',
      '… 4 more client-refused 401 in the last 10 s',
    ]);
    expect(logs.entries).toHaveLength(0); // the relay's own tap is replaced by the log given here
  });
});
