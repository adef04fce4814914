import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConsoleMessage } from '../../protocols/point-read/console-messages.ts';
import type { ReadError } from '../../protocols/point-read/index.ts';
import { ConsoleUpstream } from './console-upstream.ts';

let server: Server | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A real TCP master stand-in that answers each line with `answer(line)`. */
async function master(answer: (msg: Record<string, unknown>, socket: Socket) => void): Promise<number> {
  server = createServer((socket) => {
    sockets.push(socket);
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        answer(JSON.parse(buffered.slice(0, i)), socket);
        buffered = buffered.slice(i + 1);
      }
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ConsoleUpstream', () => {
  it('connects on the first request, passes valid answers on and drops invalid lines', async () => {
    const port = await master((msg, socket) => {
      if (msg.type === 'fleet') {
        socket.write('not json\n');
        socket.write(
          `${JSON.stringify({ type: 'reading', id: 'x', concentrator: '1', meter: '1', value: 1, unit: 'm3' })}\n`,
        );
        socket.write(
          `${JSON.stringify({ type: 'fleet', id: msg.id, total: 0, offset: 0, concentrators: [] })}\n`,
        );
      }
      if (msg.type === 'subscribe')
        socket.write(`${JSON.stringify({ type: 'subscribed', id: msg.id, stream: 'frames' })}\n`);
    });
    const got: (ConsoleMessage | ReadError)[] = [];
    const logs: string[] = [];
    const up = new ConsoleUpstream({
      master: { host: '127.0.0.1', port },
      onMessage: (m) => got.push(m),
      log: (e) => logs.push(e.message),
    });
    up.send({ type: 'fleet', id: 'f1' });
    up.send({ type: 'subscribe', id: 's1', stream: 'frames' });
    await eventually(() => got.length === 2, 'both answers arrive');
    expect(got).toEqual([
      { type: 'fleet', id: 'f1', total: 0, offset: 0, concentrators: [] },
      { type: 'subscribed', id: 's1', stream: 'frames' },
    ]);
    expect(logs.filter((l) => l.includes('dropped a line'))).toHaveLength(2);

    // The master's side closing takes the open subscription away: the client is told.
    for (const s of sockets) s.destroy();
    await eventually(() => got.length === 3, 'the subscription is reported closed');
    expect(got[2]).toMatchObject({ type: 'error', id: 's1', code: 'MASTER_UNAVAILABLE' });
    up.close();
  });

  it('answers MASTER_UNAVAILABLE for each waiting request when the master cannot be reached, and bounds the queue', async () => {
    const port = await master(() => {});
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const got: (ConsoleMessage | ReadError)[] = [];
    const up = new ConsoleUpstream({
      master: { host: '127.0.0.1', port },
      maxQueued: 2,
      onMessage: (m) => got.push(m),
    });
    up.send({ type: 'fleet', id: 'a' });
    up.send({ type: 'valve', id: 'b', concentrator: '101', meter: '101001', action: 'close' });
    up.send({ type: 'fleet', id: 'c' });
    await eventually(() => got.length === 3, 'every request is answered');
    expect(got.map((m) => [m.id, (m as ReadError).code])).toEqual([
      ['c', 'QUEUE_FULL'],
      ['a', 'MASTER_UNAVAILABLE'],
      ['b', 'MASTER_UNAVAILABLE'],
    ]);
    up.close();
  });
});
