import { afterEach, describe, expect, it } from 'vitest';
import type { Link } from './link.ts';
import { MemoryLink } from './memory-pair.ts';
import { createLink, openLink } from './open-link.ts';
import { SerialLink } from './serial-link.ts';
import { TcpClientLink, TcpServerLink } from './tcp-link.ts';
import { collect } from './testing.ts';

describe('openLink', () => {
  const opened: Link[] = [];
  afterEach(async () => {
    for (const link of opened.splice(0).reverse()) await link.close();
  });

  it('opens a memory link whose peer is open too', async () => {
    const link = await openLink({ kind: 'memory' });
    opened.push(link, link.peer);
    expect(link).toBeInstanceOf(MemoryLink);
    const got = collect(link.peer);
    await link.write(Uint8Array.of(9));
    expect(await got.waitFor(1)).toEqual(Uint8Array.of(9));
  });

  it('opens a TCP server and a client that connects to it', async () => {
    const server = await openLink({ kind: 'tcp-server', port: 0 });
    opened.push(server);
    expect(server).toBeInstanceOf(TcpServerLink);
    const client = await openLink({ kind: 'tcp-client', host: '127.0.0.1', port: server.address()!.port });
    opened.push(client);
    expect(client).toBeInstanceOf(TcpClientLink);
    await server.waitForConnection();
  });

  it('makes serial links and passes open errors through with the path', async () => {
    expect(createLink({ kind: 'serial', path: '/dev/ttyX' })).toBeInstanceOf(SerialLink);
    await expect(openLink({ kind: 'serial', path: '/dev/ttyMETERLAB-NONE' })).rejects.toMatchObject({
      code: 'LINK_NOT_FOUND',
      message: expect.stringContaining('/dev/ttyMETERLAB-NONE'),
    });
  });

  it('rejects an unknown kind with a TypeError naming the field', () => {
    expect(() => createLink({ kind: 'carrier-pigeon' } as unknown as { kind: 'memory' })).toThrow(/"kind"/);
  });
});
