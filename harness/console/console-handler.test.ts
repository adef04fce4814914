import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ConsoleHandlerOptions, createConsoleHandler } from './console-handler.ts';

let server: http.Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A real HTTP server on 127.0.0.1:0 with the handler in front of a 426, as the relay does. */
async function serve(options: ConsoleHandlerOptions = {}): Promise<string> {
  const handler = createConsoleHandler(options);
  server = http.createServer((req, res) => {
    if (!handler(req, res)) res.writeHead(426, { 'Content-Type': 'text/plain' }).end('websocket only\n');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

async function get(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    headers: res.headers,
    body: await res.text(),
  };
}

describe('createConsoleHandler', () => {
  it('serves the console, the legacy page and their assets with their content types', async () => {
    const base = await serve();
    const rows: [string, string, string][] = [
      ['/', 'text/html; charset=utf-8', 'meterlab console'],
      ['/index.html', 'text/html; charset=utf-8', 'id="tree"'],
      ['/legacy', 'text/html; charset=utf-8', 'ClickToCopy'],
      ['/assets/console.js', 'text/javascript; charset=utf-8', 'RelayConnection'],
      ['/assets/connection.js', 'text/javascript; charset=utf-8', 'relaySocketUrl'],
      ['/assets/i18n.js', 'text/javascript; charset=utf-8', '集中器'],
      ['/assets/legacy.js', 'text/javascript; charset=utf-8', 'messagehistory'],
      ['/assets/console.css', 'text/css; charset=utf-8', '.frame-log'],
      ['/assets/uplot/uPlot.iife.min.js', 'text/javascript; charset=utf-8', 'var uPlot='],
      ['/assets/uplot/uPlot.min.css', 'text/css; charset=utf-8', '.uplot'],
    ];
    for (const [path, type, text] of rows) {
      const res = await get(base + path);
      expect(res.status, path).toBe(200);
      expect(res.type, path).toBe(type);
      expect(res.body, path).toContain(text);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    }
  });

  it('refers only to assets it serves, and to no other host', async () => {
    const base = await serve();
    for (const page of ['/', '/legacy']) {
      const html = (await get(base + page)).body;
      const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) {
        expect(ref.startsWith('/'), ref).toBe(true);
        expect((await get(base + ref)).status, ref).toBe(200);
      }
    }
  });

  it('sends a content security policy that allows only its own origin and its WebSocket', async () => {
    const base = await serve();
    const csp = (await get(`${base}/`)).headers.get('content-security-policy') ?? '';
    const host = new URL(base).host;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src 'self' ws://${host} wss://${host}`);
    expect(csp).toContain("default-src 'none'");
  });

  it('leaves other paths to the caller', async () => {
    const base = await serve();
    expect((await get(`${base}/nope`)).status).toBe(426);
    expect((await get(`${base}/favicon.ico`)).status).toBe(204);
    expect((await get(`${base}/assets/../console-handler.ts`)).status).toBe(426);
    expect((await get(`${base}/assets/console-handler.ts`)).status).toBe(426);
  });

  it('answers only GET and HEAD', async () => {
    const base = await serve();
    const post = await get(`${base}/`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    const head = await fetch(`${base}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(100);
  });

  it('with a token, refuses a page without it and serves it with it', async () => {
    const base = await serve({ token: 's3cret' });
    const refused = await get(`${base}/`);
    expect(refused.status).toBe(401);
    expect(refused.body).toContain('/?token=<token>');
    expect(refused.body).not.toContain('s3cret');
    expect((await get(`${base}/legacy`)).status).toBe(401);
    expect((await get(`${base}/?token=wrong`)).status).toBe(401);
    expect((await get(`${base}/?token=s3cret`)).status).toBe(200);
    expect((await get(`${base}/legacy?token=s3cret`)).status).toBe(200);
    expect((await get(`${base}/`, { headers: { Authorization: 'Bearer s3cret' } })).status).toBe(200);
    // Scripts and styles carry no data and are the same everywhere: served without the token.
    expect((await get(`${base}/assets/console.js`)).status).toBe(200);
  });

  it('with allowed origins, refuses a request from another origin', async () => {
    const base = await serve({ allowedOrigins: ['http://platform.example'] });
    expect((await get(`${base}/`, { headers: { Origin: 'http://evil.example' } })).status).toBe(403);
    expect(
      (await get(`${base}/assets/console.js`, { headers: { Origin: 'http://evil.example' } })).status,
    ).toBe(403);
    expect((await get(`${base}/`, { headers: { Origin: 'http://platform.example' } })).status).toBe(200);
    expect((await get(`${base}/`)).status).toBe(200);
  });

  it('fails at creation, naming the file, when an asset is missing', () => {
    expect(() => createConsoleHandler({ assetsDir: '/nonexistent-dir' })).toThrow(
      /cannot read \/nonexistent-dir\/console.html/,
    );
  });
});
