import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.ts';
import { realClock } from '../clock/real-clock.ts';
import type { Link } from './link.ts';
import { LinkWrapper } from './link-wrapper.ts';
import { listenTcp, TcpClientLink, type TcpListener, type TcpSocketLink } from './tcp-link.ts';
import { collect, once } from './testing.ts';

const bytes = (...b: number[]) => Uint8Array.from(b);

/** Polls `check` every few ms until it holds; fails after `timeoutMs` (real time) naming `what`. */
async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function listener(options: Partial<Parameters<typeof listenTcp>[0]> = {}): Promise<TcpListener> {
  const l = await listenTcp({ port: 0, ...options });
  cleanup.push(() => l.close());
  return l;
}

async function client(port: number, options: Partial<ConstructorParameters<typeof TcpClientLink>[0]> = {}) {
  const c = new TcpClientLink({ host: '127.0.0.1', port, ...options });
  cleanup.push(() => c.close());
  await c.open();
  return c;
}

describe('listenTcp', () => {
  it('hands out each accepted connection as an open Link with its remote, bytes flowing both ways', async () => {
    const l = await listener();
    const { port } = l.address();
    expect(port).toBeGreaterThan(0);
    const accepted: TcpSocketLink[] = [];
    l.on('connection', (link) => accepted.push(link));
    const a = await client(port);
    const b = await client(port);
    await until(() => accepted.length === 2, 'two connections accepted');
    expect(accepted.every((link) => link.isOpen)).toBe(true);
    expect(accepted[0].remote).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(accepted[0].remote).not.toBe(accepted[1].remote);
    expect(l.connections).toBe(2);
    const atA = collect(a);
    const atServer = collect(accepted[1]);
    await b.write(bytes(0x68, 0x16));
    expect(await atServer.waitFor(2)).toEqual(bytes(0x68, 0x16));
    await accepted[0].write(bytes(1, 2, 3));
    expect(await atA.waitFor(3)).toEqual(bytes(1, 2, 3));
    await expect(accepted[0].open()).rejects.toMatchObject({ code: 'LINK_ALREADY_OPEN' });
  });

  it('closes an accepted link when its peer leaves, and every link on close()', async () => {
    const l = await listener();
    const accepted: TcpSocketLink[] = [];
    l.on('connection', (link) => accepted.push(link));
    const a = await client(l.address().port);
    const b = await client(l.address().port);
    await until(() => accepted.length === 2, 'two connections accepted');
    const firstGone = once(accepted[0], 'close');
    await a.close();
    await firstGone;
    expect(l.connections).toBe(1);
    const bGone = once(b, 'close');
    await l.close();
    await bGone;
    expect(accepted[1].isOpen).toBe(false);
  });

  it('refuses connections beyond maxConnections', async () => {
    const l = await listener({ maxConnections: 1 });
    const accepted: TcpSocketLink[] = [];
    l.on('connection', (link) => accepted.push(link));
    await client(l.address().port);
    await until(() => accepted.length === 1, 'first accepted');
    const second = await client(l.address().port);
    await once(second, 'close');
    expect(l.refused).toBe(1);
    expect(accepted).toHaveLength(1);
  });

  it('reports LISTEN_FAILED when the port is taken, and validates options', async () => {
    const l = await listener();
    await expect(listenTcp({ port: l.address().port })).rejects.toMatchObject({ code: 'LISTEN_FAILED' });
    await expect(listenTcp({ port: -1 })).rejects.toThrow(/"port"/);
    await expect(listenTcp({ port: 0, minFrameGapMs: -1 })).rejects.toThrow(/"minFrameGapMs"/);
    await expect(listenTcp({ port: 0, maxConnections: 0 })).rejects.toThrow(/"maxConnections"/);
    expect(() => new TcpClientLink({ host: 'x', port: 1, maxQueuedWrites: 0 })).toThrow(/"maxQueuedWrites"/);
  });
});

describe('TCP frame pacing (minFrameGapMs)', () => {
  it('holds each write until minFrameGapMs after the previous one reached the socket, on the given clock', async () => {
    const l = await listener();
    const atServer: Uint8Array[] = [];
    l.on('connection', (link) => link.on('data', (d) => atServer.push(Uint8Array.from(d))));
    const clock = new VirtualClock();
    const c = await client(l.address().port, { minFrameGapMs: 20, clock });
    const done: number[] = [];
    const writes = [1, 2, 3].map((n) => c.write(bytes(n, n)).then(() => done.push(n)));
    await until(() => done.length === 1, 'first write handed to the OS');
    expect(c.bufferedBytes).toBe(4); // two frames wait in the pacing queue
    clock.advance(19);
    await new Promise((r) => setImmediate(r));
    expect(done).toEqual([1]);
    clock.advance(1);
    await until(() => done.length === 2, 'second write after 20 ms');
    clock.advance(20);
    await Promise.all(writes);
    expect(done).toEqual([1, 2, 3]);
    await until(() => atServer.reduce((n, d) => n + d.length, 0) === 6, 'all bytes at the server');
  });

  it('lets the next frame go at once when the peer answered the last one written (peerHasRead), and only then', async () => {
    const l = await listener();
    const atServer: Uint8Array[] = [];
    l.on('connection', (link) => link.on('data', (d) => atServer.push(Uint8Array.from(d))));
    const clock = new VirtualClock();
    const c = await client(l.address().port, { minFrameGapMs: 20, clock });
    const done: number[] = [];
    const frame = (n: number) => bytes(0x68, n, 0x16);
    void c.write(frame(1)).then(() => done.push(1));
    const second = c.write(frame(2)).then(() => done.push(2));
    await until(() => done.length === 1, 'first frame handed to the OS');
    c.peerHasRead(frame(9)); // not a frame it wrote: proves nothing
    await new Promise((r) => setImmediate(r));
    expect(done).toEqual([1]);
    c.peerHasRead(frame(1)); // a copy of the frame it wrote last, as a protocol layer would hold it
    await second;
    expect(done).toEqual([1, 2]);
    const third = c.write(frame(3)).then(() => done.push(3));
    c.peerHasRead(frame(1)); // an older frame says nothing about the one after it
    await new Promise((r) => setImmediate(r));
    expect(done).toEqual([1, 2]);
    clock.advance(20);
    await third;
    expect(done).toEqual([1, 2, 3]);
    await until(() => atServer.reduce((n, d) => n + d.length, 0) === 9, 'all bytes at the server');
  });

  it('passes peerHasRead through a LinkWrapper to the link that paces', async () => {
    const l = await listener();
    const clock = new VirtualClock();
    const inner = await client(l.address().port, { minFrameGapMs: 20, clock });
    const wrapped: Link = new LinkWrapper(inner);
    await wrapped.write(bytes(1));
    const second = wrapped.write(bytes(2));
    wrapped.peerHasRead(bytes(1));
    await second; // without the hint it would wait for a clock nobody advances
  });

  it('spaces writes by at least the gap in real time', async () => {
    const l = await listener();
    const c = await client(l.address().port, { minFrameGapMs: 15 });
    const at: number[] = [];
    await Promise.all([1, 2, 3, 4].map((n) => c.write(bytes(n)).then(() => at.push(realClock.now()))));
    for (let i = 1; i < at.length; i++) expect(at[i] - at[i - 1]).toBeGreaterThanOrEqual(14);
  });

  it('refuses a write beyond maxQueuedWrites with LINK_QUEUE_FULL, and close() fails the queued ones', async () => {
    const l = await listener();
    const clock = new VirtualClock();
    const c = await client(l.address().port, { minFrameGapMs: 50, maxQueuedWrites: 2, clock });
    const first = c.write(bytes(1));
    await first;
    const queued = Promise.allSettled([c.write(bytes(2)), c.write(bytes(3))]);
    await expect(c.write(bytes(4))).rejects.toMatchObject({ code: 'LINK_QUEUE_FULL' });
    await c.close();
    const outcomes = await queued;
    expect(outcomes.map((o) => o.status === 'rejected' && (o.reason as { code: string }).code)).toEqual([
      'LINK_CLOSED',
      'LINK_CLOSED',
    ]);
  });

  it('refuses writes with LINK_QUEUE_FULL once maxBufferedBytes are unsent to a peer that does not read', async () => {
    const sockets: net.Socket[] = [];
    const stalled = net.createServer((socket) => {
      socket.pause();
      sockets.push(socket);
    });
    await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => stalled.close(() => r())));
    const c = await client((stalled.address() as net.AddressInfo).port, { maxBufferedBytes: 64 * 1024 });
    cleanup.push(() => {
      for (const s of sockets) s.destroy();
    });
    // More than the loopback socket buffers can take: most of it stays in the link's socket.
    void c.write(new Uint8Array(32 * 1024 * 1024)).catch(() => undefined);
    expect(c.bufferedBytes).toBeGreaterThan(64 * 1024);
    await expect(c.write(bytes(1))).rejects.toMatchObject({ code: 'LINK_QUEUE_FULL' });
  });
});

/** A tap that counts the bytes each way: the smallest useful LinkWrapper. */
class ByteCounter extends LinkWrapper {
  sent = 0;
  received = 0;
  protected override transmit(b: Uint8Array): Promise<void> {
    this.sent += b.length;
    return super.transmit(b);
  }
  protected override receive(b: Uint8Array): void {
    this.received += b.length;
    super.receive(b);
  }
}

describe('LinkWrapper', () => {
  it('counts bytes both ways over real TCP without the code above knowing', async () => {
    const l = await listener();
    // The far end echoes every chunk back.
    l.on('connection', (link) => link.on('data', (d) => void link.write(Uint8Array.from(d))));
    const counter = new ByteCounter(new TcpClientLink({ host: '127.0.0.1', port: l.address().port }));
    cleanup.push(() => counter.close());
    const link: Link = counter;
    await link.open();
    expect(link.isOpen).toBe(true);
    expect(link.description).toBe(`127.0.0.1:${l.address().port}`);
    const echoed = collect(link);
    await link.write(bytes(0x68, 1, 2, 3, 0x16));
    await link.write(bytes(9, 9));
    expect(await echoed.waitFor(7)).toEqual(bytes(0x68, 1, 2, 3, 0x16, 9, 9));
    expect([counter.sent, counter.received]).toEqual([7, 7]);
    const closed = once(link, 'close');
    await l.close();
    await closed;
    expect(link.isOpen).toBe(false);
  });
});
