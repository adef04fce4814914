import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameAccumulator } from '../../protocols/framer.ts';
import {
  buildForwardReply,
  decodeGdw376,
  encodeGdw376,
  type Gdw376Frame,
} from '../../protocols/gdw376/index.ts';
import { VirtualClock } from '../../simulator/clock/index.ts';
import { listenTcp, type TcpSocketLink } from '../../simulator/link/index.ts';
import { ConcentratorConnection } from './concentrator-connection.ts';

// Frame pacing meets request–answer (docs/gdw376.md "Frame pacing"): the gap between two frames on one
// connection exists so they cannot meet in one read at a slow concentrator. A concentrator that answered the
// last forward has read it, so the next forward goes at once. The pacing runs on a virtual clock that nobody
// advances: a forward that waited for the gap would never be sent. Real TCP on 127.0.0.1.

const A = { a1: '0171', a2: 2082 };

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** The concentrator end: a raw socket that collects the forwards and answers each with its content. */
async function connected(answer: boolean) {
  const pacing = new VirtualClock();
  const listener = await listenTcp({ port: 0, minFrameGapMs: 20, clock: pacing });
  cleanup.push(() => listener.close());
  const accepted = new Promise<TcpSocketLink>((resolve) => listener.once('connection', resolve));
  const socket = net.connect(listener.address().port, '127.0.0.1');
  cleanup.push(() => {
    socket.destroy();
  });
  const forwards: Gdw376Frame[] = [];
  const frames = new FrameAccumulator(decodeGdw376);
  socket.on('data', (chunk: Buffer) => {
    for (const event of frames.push(new Uint8Array(chunk))) {
      if (event.kind !== 'frame') continue;
      forwards.push(event.frame);
      if (answer)
        socket.write(encodeGdw376(buildForwardReply(event.frame, { content: Uint8Array.of(0xaa) })));
    }
  });
  const link = await accepted;
  const conn = new ConcentratorConnection(link, { id: 1, maxInFlight: 4 });
  cleanup.push(() => conn.close());
  return { conn, forwards, pacing };
}

function forward(conn: ConcentratorConnection, n: number) {
  return conn.forward({
    ...A,
    port: 1,
    serial: { baud: 2400, parity: 'even', dataBits: 8, stopBits: 1 },
    frameTimeout: { value: 2, unit: 's' },
    content: Uint8Array.of(0x68, n, 0x16),
    timeoutMs: 5000,
    what: `forward ${n}`,
  });
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within 5 s: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('ConcentratorConnection frame pacing', () => {
  it('sends the next forward at once once the concentrator answered the last one', async () => {
    const { conn, forwards } = await connected(true);
    for (let n = 1; n <= 5; n++) {
      const reply = await forward(conn, n);
      expect(reply.content).toEqual(Uint8Array.of(0xaa));
    }
    expect(forwards).toHaveLength(5);
  });

  it('still spaces forwards that are in flight together: an unanswered frame keeps its gap', async () => {
    const { conn, forwards, pacing } = await connected(false);
    const outcomes = [1, 2].map((n) => forward(conn, n).catch(() => undefined));
    await until(() => forwards.length === 1, 'the first forward');
    await new Promise((r) => setTimeout(r, 20));
    expect(forwards).toHaveLength(1);
    pacing.advance(20);
    await until(() => forwards.length === 2, 'the second forward after the gap');
    conn.close();
    await Promise.all(outcomes);
  });
});
