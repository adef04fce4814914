import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Link } from './link.ts';
import { TcpClientLink, TcpServerLink } from './tcp-link.ts';
import { collect, once } from './testing.ts';

const bytes = (...b: number[]) => Uint8Array.from(b);

describe('TCP links', () => {
  const cleanup: (Link | net.Server | net.Socket)[] = [];
  afterEach(async () => {
    for (const item of cleanup.splice(0).reverse()) {
      if (item instanceof net.Socket) item.destroy();
      else if (item instanceof net.Server) await new Promise((r) => item.close(r));
      else await item.close();
    }
  });

  async function serverAndClient() {
    const server = new TcpServerLink({ port: 0 });
    cleanup.push(server);
    await server.open();
    const port = server.address()!.port;
    expect(server.description).toBe(`127.0.0.1:${port}`);
    const client = new TcpClientLink({ host: '127.0.0.1', port });
    cleanup.push(client);
    const connected = server.waitForConnection();
    await client.open();
    await connected;
    return { server, client };
  }

  it('carries bytes both ways between a client link and a server link on port 0', async () => {
    const { server, client } = await serverAndClient();
    const atServer = collect(server);
    const atClient = collect(client);
    await client.write(bytes(0x68, 0x01, 0x16));
    await server.write(bytes(0xfe, 0xfe));
    expect(await atServer.waitFor(3)).toEqual(bytes(0x68, 0x01, 0x16));
    expect(await atClient.waitFor(2)).toEqual(bytes(0xfe, 0xfe));
    expect(server.connected).toBe(true);
    expect(server.remote).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('keeps listening when the client leaves, and closes the client link when the server closes', async () => {
    const { server, client } = await serverAndClient();
    const clientClosed = once(client, 'close');
    const disconnected = once(server.events, 'disconnect');
    await client.close();
    await disconnected;
    expect(server.isOpen).toBe(true);
    expect(server.connected).toBe(false);
    await clientClosed;
    await expect(server.write(bytes(1))).rejects.toMatchObject({ code: 'LINK_NOT_CONNECTED' });

    const again = new TcpClientLink({ host: '127.0.0.1', port: server.address()!.port });
    cleanup.push(again);
    const reconnected = server.waitForConnection();
    await again.open();
    await reconnected;
    const lost = once(again, 'close');
    await server.close();
    await lost;
    expect(again.isOpen).toBe(false);
  });

  it('replaces the current connection with a new one by default', async () => {
    const { server, client } = await serverAndClient();
    const firstLost = once(client, 'close');
    const second = new TcpClientLink({ host: '127.0.0.1', port: server.address()!.port });
    cleanup.push(second);
    const swapped = once(server.events, 'connection');
    await second.open();
    await swapped;
    await firstLost;
    const atServer = collect(server);
    await second.write(bytes(7));
    expect(await atServer.waitFor(1)).toEqual(bytes(7));
  });

  it('reports CONNECT_FAILED naming the address when nothing listens', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const client = new TcpClientLink({ host: '127.0.0.1', port });
    const error = await client.open().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONNECT_FAILED' });
    expect(String((error as Error).message)).toContain(`127.0.0.1:${port}`);
    expect(client.isOpen).toBe(false);
  });

  it('reports LISTEN_FAILED when the port is taken', async () => {
    const first = new TcpServerLink({ port: 0 });
    cleanup.push(first);
    await first.open();
    const second = new TcpServerLink({ port: first.address()!.port });
    await expect(second.open()).rejects.toMatchObject({ code: 'LISTEN_FAILED' });
  });

  it('waitForConnection times out with LINK_TIMEOUT', async () => {
    const server = new TcpServerLink({ port: 0 });
    cleanup.push(server);
    await server.open();
    await expect(server.waitForConnection(20)).rejects.toMatchObject({ code: 'LINK_TIMEOUT' });
  });

  it('validates options with TypeErrors naming them', () => {
    expect(() => new TcpClientLink({ host: '', port: 1 })).toThrow(/"host"/);
    expect(() => new TcpClientLink({ host: 'x', port: 0 })).toThrow(/"port"/);
    expect(() => new TcpClientLink({ host: 'x', port: 1, connectTimeoutMs: 0 })).toThrow(
      /"connectTimeoutMs"/,
    );
    expect(() => new TcpServerLink({ port: 70000 })).toThrow(/"port"/);
    expect(() => new TcpServerLink({ port: 0, onNewConnection: 'keep' as 'reject' })).toThrow(
      /"onNewConnection"/,
    );
  });
});
