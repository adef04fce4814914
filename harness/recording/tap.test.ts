import { afterEach, describe, expect, it } from 'vitest';
import { hexToBytes } from '../../protocols/bytes.ts';
import { type Link, listenTcp, TcpClientLink, type TcpListener } from '../../simulator/link/index.ts';
import { parseRecordLine } from './format.ts';
import { Tap } from './tap.ts';
import { memorySink } from './writer.ts';

// The TCP proxy of `meterlab tap tcp-listen:… tcp:…` on real sockets (127.0.0.1, port 0): the listener is
// simulator/link's listenTcp, each accepted connection its own link to b and its own link in the recording.

const LOGIN_0171 = hexToBytes('68 32 00 32 00 68 C9 71 01 22 08 00 02 78 00 00 01 00 E0 16');
const LOGIN_0200 = hexToBytes('68 32 00 32 00 68 C9 00 02 34 12 00 02 71 00 00 01 00 85 16');

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

/** A peer for `b` that answers every chunk with the same bytes reversed, on each connection. */
async function reversingPeer(): Promise<TcpListener> {
  const listener = await listenTcp({ port: 0 });
  listener.on('connection', (link) => {
    link.on('data', (bytes) => void link.write(Uint8Array.from(bytes).reverse()).catch(() => undefined));
  });
  cleanup.push(() => listener.close());
  return listener;
}

/** Resolves with the first `n` bytes a link receives, or rejects after `ms`. */
function receive(link: Link, n: number, ms = 5000): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const got: number[] = [];
    const timer = setTimeout(() => reject(new Error(`got ${got.length} of ${n} bytes`)), ms);
    link.on('data', (bytes) => {
      got.push(...bytes);
      if (got.length >= n) {
        clearTimeout(timer);
        resolve(Uint8Array.from(got.slice(0, n)));
      }
    });
  });
}

/** Resolves once `link` is closed, or rejects after `ms`. */
function closed(link: Link, ms = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!link.isOpen) return resolve();
    const timer = setTimeout(() => reject(new Error('still open')), ms);
    link.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function client(port: number): Promise<TcpClientLink> {
  const link = new TcpClientLink({ host: '127.0.0.1', port });
  link.on('error', () => undefined);
  await link.open();
  cleanup.push(() => link.close());
  return link;
}

describe('Tap as a TCP proxy', () => {
  it('forwards two connections at once, each to its own connection to b and its own recorded link', async () => {
    const peer = await reversingPeer();
    const sink = memorySink();
    const notes: string[] = [];
    const tap = await Tap.start({
      a: { kind: 'tcp-listen', host: '127.0.0.1', port: 0 },
      b: { kind: 'tcp', host: '127.0.0.1', port: peer.address().port },
      out: sink,
      onNote: (line) => notes.push(line),
    });
    cleanup.push(() => tap.stop());
    const port = tap.listening!.port;
    const [one, two] = [await client(port), await client(port)];
    const answers = [receive(one, LOGIN_0171.length), receive(two, LOGIN_0200.length)];
    await Promise.all([one.write(LOGIN_0171), two.write(LOGIN_0200)]);
    const [a1, a2] = await Promise.all(answers);
    expect(a1).toEqual(Uint8Array.from(LOGIN_0171).reverse());
    expect(a2).toEqual(Uint8Array.from(LOGIN_0200).reverse());
    expect(tap.connections).toBe(2);
    await one.close();
    // The tap goes on with the other connection.
    for (const deadline = Date.now() + 5000; tap.connections > 1 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(tap.connections).toBe(1);
    await tap.stop();
    const records = sink
      .text()
      .trim()
      .split('\n')
      .map((line, i) => parseRecordLine(line, { file: 'mem', line: i + 1 }, i === 0));
    const links = records.flatMap((r) => (r.type === 'link' ? [r.link.name] : []));
    expect(links).toEqual(['conn1', 'conn2']);
    const logins = records.flatMap((r) =>
      r.type === 'frame' && r.dir === 'ab' ? [`${r.link} ${r.summary.replace(/ seq .*/, '')}`] : [],
    );
    expect(logins.sort()).toEqual([
      'conn1 gdw376 up prm AFN 02H login F1',
      'conn2 gdw376 up prm AFN 02H login F1',
    ]);
    expect(notes.some((n) => /^conn\d: 127\.0\.0\.1:\d+ disconnected$/.test(n))).toBe(true);
  });

  it('closes a connection over maxConnections at once, with a note and an event line saying why', async () => {
    const peer = await reversingPeer();
    const sink = memorySink();
    const notes: string[] = [];
    const tap = await Tap.start({
      a: { kind: 'tcp-listen', host: '127.0.0.1', port: 0 },
      b: { kind: 'tcp', host: '127.0.0.1', port: peer.address().port },
      out: sink,
      maxConnections: 1,
      onNote: (line) => notes.push(line),
    });
    cleanup.push(() => tap.stop());
    const port = tap.listening!.port;
    const first = await client(port);
    const echoed = receive(first, LOGIN_0171.length);
    await first.write(LOGIN_0171);
    await echoed;
    const second = await client(port);
    await closed(second);
    expect(notes).toContainEqual(
      expect.stringMatching(
        /^refused 127\.0\.0\.1:\d+: 1 connections are already forwarded \(the tap's limit\)/,
      ),
    );
    expect(first.isOpen).toBe(true);
    await tap.stop();
    expect(sink.text()).toMatch(
      /"event":"refused","detail":"127\.0\.0\.1:\d+: 1 connections are already forwarded"/,
    );
  });

  it('refuses a bad maxConnections by name', async () => {
    await expect(
      Tap.start({
        a: { kind: 'tcp-listen', host: '127.0.0.1', port: 0 },
        b: { kind: 'tcp', host: '127.0.0.1', port: 1 },
        out: memorySink(),
        maxConnections: 0,
      }),
    ).rejects.toThrow(/"maxConnections" must be an integer >= 1, got 0/);
  });
});
