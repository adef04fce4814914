/**
 * The console page in a real browser against a scripted relay: a real HTTP server with the console handler
 * and a real `ws` server on one port, answering from a small fixed fleet. This tests the page alone (rendering,
 * filters, bounds, language); harness/e2e/console.e2e.test.ts runs it against the whole chain.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { createConsoleHandler } from './console-handler.ts';
import { browserMissing, laptopPage, launchBrowser, screenshot } from './testing/browser.ts';

const FLEET = [
  {
    id: '017102082',
    alias: '101',
    a1: '0171',
    a2: 2082,
    online: true,
    lastHeartbeatAt: new Date().toISOString(),
    ports: [
      {
        port: 1,
        meters: [
          { address: '101001', protocol: 'cjt188', kind: 'cold-water', valve: true },
          { address: '101002', protocol: 'cjt188', kind: 'cold-water', valve: true },
        ],
      },
      {
        port: 2,
        meters: [{ address: '202020202020', protocol: 'dlt645', kind: 'electricity', valve: false }],
      },
    ],
  },
  {
    id: '017100003',
    a1: '0171',
    a2: 3,
    online: false,
    ports: [{ port: 1, meters: [{ address: '3001', protocol: 'cjt188', kind: 'gas', valve: true }] }],
  },
];

interface Peer {
  received: Record<string, unknown>[];
  sockets: Set<WebSocket>;
  valve: 'open' | 'closed';
  /** Meters whose reads are held unanswered (a silent meter) until cancelled. */
  hold: Set<string>;
  /** Held reads by id. */
  held: Map<string, { ws: WebSocket; msg: Record<string, unknown> }>;
  /** A cancel crosses the reading: the held read is answered first, then the cancel refused as the relay does. */
  crossing: boolean;
}

const peer: Peer = {
  received: [],
  sockets: new Set(),
  valve: 'open',
  hold: new Set(),
  held: new Map(),
  crossing: false,
};

function sendReading(ws: WebSocket, msg: Record<string, unknown>): void {
  ws.send(
    JSON.stringify({
      type: 'reading',
      id: msg.id,
      concentrator: msg.concentrator,
      meter: msg.meter,
      value: 123.45,
      unit: 'm3',
      meterTime: '2026-12-05T17:00:00',
      status: { valve: peer.valve, batteryLow: false },
      latencyMs: 312,
      readAt: new Date().toISOString(),
    }),
  );
}
let server: http.Server;
let base = '';
let browser: Browser | undefined;
let page: Page;
/** Uncaught errors of the page under test. */
let pageErrors: Error[] = [];
const skip = browserMissing();

function answer(ws: WebSocket, msg: Record<string, unknown>): void {
  const id = msg.id;
  switch (msg.type) {
    case 'fleet':
      ws.send(JSON.stringify({ type: 'fleet', id, total: FLEET.length, offset: 0, concentrators: FLEET }));
      return;
    case 'read':
      if (peer.hold.has(String(msg.meter))) {
        peer.held.set(String(id), { ws, msg });
        return;
      }
      if (msg.meter === '101002') {
        ws.send(
          JSON.stringify({
            type: 'error',
            id,
            code: 'BAD_REPLY',
            message: 'meter 00000000101002 answered from another address',
            detail: { reason: 'ADDRESS_MISMATCH', expected: '00000000101002', got: '00000000101009' },
          }),
        );
        return;
      }
      sendReading(ws, msg);
      return;
    case 'cancel': {
      // As harness/relay/client-session.ts answers: CANCELLED under the read's id while it waits, else
      // BAD_REQUEST without an id.
      const held = peer.held.get(String(id));
      peer.held.delete(String(id));
      if (held && peer.crossing) sendReading(held.ws, held.msg);
      if (held && !peer.crossing) {
        ws.send(
          JSON.stringify({
            type: 'error',
            id,
            code: 'CANCELLED',
            message: `the client cancelled the read; meter ${held.msg.meter} of concentrator ${held.msg.concentrator} is withdrawn (not sent to the field unless it had already gone)`,
          }),
        );
        return;
      }
      ws.send(
        JSON.stringify({
          type: 'error',
          code: 'BAD_REQUEST',
          message: `cancel: no read with id ${JSON.stringify(id)} is in flight on this connection (already answered, already cancelled, or never sent)`,
        }),
      );
      return;
    }
    case 'valve':
      peer.valve = msg.action === 'close' ? 'closed' : 'open';
      ws.send(
        JSON.stringify({
          type: 'valve-status',
          id,
          concentrator: msg.concentrator,
          meter: msg.meter,
          valve: peer.valve,
          latencyMs: 280,
        }),
      );
      return;
    case 'subscribe':
      ws.send(JSON.stringify({ type: 'subscribed', id, stream: 'frames' }));
      return;
    default:
  }
}

/** Sends `count` frame events to every open subscription of the page. */
function pushFrames(count: number, first = 0): void {
  const subs = peer.received.filter((m) => m.type === 'subscribe').map((m) => m.id as string);
  const unsubscribed = new Set(peer.received.filter((m) => m.type === 'unsubscribe').map((m) => m.id));
  const open = subs.filter((id) => !unsubscribed.has(id));
  for (const ws of peer.sockets) {
    for (const id of open) {
      for (let i = first; i < first + count; i++) {
        ws.send(
          JSON.stringify({
            type: 'frame',
            id,
            at: new Date().toISOString(),
            concentrator: '017102082',
            direction: i % 2 === 0 ? 'down' : 'up',
            afn: 16,
            seq: i % 16,
            hex: '68 4A 00 4A 00 68',
            summary: `frame number ${i}`,
            meter: '00000000101001',
            port: 1,
          }),
        );
      }
    }
  }
}

async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  if (skip) return;
  const handler = createConsoleHandler();
  server = http.createServer((req, res) => {
    if (!handler(req, res)) res.writeHead(426).end();
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => {
    peer.sockets.add(ws);
    ws.on('close', () => peer.sockets.delete(ws));
    ws.on('message', (data) => {
      const text = String(data);
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(text);
      } catch {
        return;
      }
      peer.received.push(msg);
      if ('ModuleName' in msg) {
        const content = msg.Content as Record<string, unknown>;
        // The flat answer the relay sends (README "Legacy point-read shapes").
        ws.send(JSON.stringify({ ...content, AccumVal: 123.45, IsDownCommand: true }));
        return;
      }
      answer(ws, msg);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  for (const ws of peer.sockets) ws.terminate();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

beforeEach(async () => {
  if (skip) return;
  peer.received = [];
  peer.valve = 'open';
  peer.hold = new Set();
  peer.held = new Map();
  peer.crossing = false;
  page = await laptopPage(browser!);
  pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error));
  await page.goto(`${base}/`);
  await page.locator('#status[data-state="connected"]').waitFor();
  await page.locator('.meter-item').first().waitFor();
});

describe.skipIf(skip)('console page (scripted relay)', () => {
  it('shows the fleet tree with counts, online state and search', async () => {
    expect(await page.locator('#count-concentrators').textContent()).toBe('2');
    expect(await page.locator('#count-online').textContent()).toBe('1');
    expect(await page.locator('#count-meters').textContent()).toBe('4');
    expect(await page.locator('#count-valves').textContent()).toBe('3');
    expect(await page.locator('.meter-item').count()).toBe(4);
    expect(await page.locator('.concentrator .dot.online').count()).toBe(1);
    await page.fill('#search', '2020');
    await eventually(() => true, '');
    expect(await page.locator('.meter-item').allTextContents()).toEqual([
      expect.stringContaining('202020202020'),
    ]);
    await page.fill('#search', '');
    expect(await page.locator('.meter-item').count()).toBe(4);
  });

  it('reads a clicked meter and shows value, unit, meter time, valve, battery and latency', async () => {
    await page.click('.meter-item[data-meter="101001"]');
    await page.locator('#r-value', { hasText: '123.45' }).waitFor();
    expect(await page.locator('#r-unit').textContent()).toBe('m3');
    expect(await page.locator('#r-meter-time').textContent()).toBe('2026-12-05T17:00:00');
    expect(await page.locator('#r-valve').textContent()).toBe('open');
    expect(await page.locator('#r-battery').textContent()).toBe('ok');
    expect(await page.locator('#r-latency').textContent()).toBe('312 ms');
    expect(peer.received).toContainEqual(
      expect.objectContaining({ type: 'read', concentrator: '017102082', meter: '101001' }),
    );
    await page.locator('.meter-item[data-meter="101001"] .last', { hasText: '123.45 m3' }).waitFor();
  });

  it('shows a failed read with its code, message and detail', async () => {
    await page.click('.meter-item[data-meter="101002"]');
    await page.locator('#e-code', { hasText: 'BAD_REPLY' }).waitFor();
    expect(await page.locator('#e-message').textContent()).toContain('another address');
    expect(await page.locator('#e-detail').textContent()).toContain('reason: ADDRESS_MISMATCH');
    expect(await page.locator('#meter-result').isHidden()).toBe(true);
  });

  it('drives the valve of a meter that has one, and not of one without', async () => {
    await page.click('.meter-item[data-meter="202020202020"]');
    await page.locator('#r-value', { hasText: '123.45' }).waitFor();
    expect(await page.locator('#valve-close').isDisabled()).toBe(true);
    await page.click('.meter-item[data-meter="101001"]');
    await page.locator('#r-valve', { hasText: 'open' }).waitFor();
    await page.click('#valve-close');
    await page.locator('#r-valve[data-valve="closed"]').waitFor();
    expect(peer.received).toContainEqual(
      expect.objectContaining({ type: 'valve', meter: '101001', action: 'close' }),
    );
  });

  it('reads all meters of a concentrator and fills every row', async () => {
    await page.click('.concentrator[data-concentrator="017102082"] .read-all');
    await page.locator('#progress-text', { hasText: '3 / 3 · failed 1' }).waitFor();
    expect(await page.locator('#results-body tr').count()).toBe(3);
    expect(await page.locator('#results-body tr.pending').count()).toBe(0);
    expect(await page.locator('#results-body tr.failed td.result').textContent()).toBe('BAD_REPLY');
  });

  it('cancels a waiting read from the meter card: one cancel sent, CANCELLED shown, the tree badge kept', async () => {
    peer.hold.add('101001');
    await page.click('.meter-item[data-meter="101001"]');
    await page.locator('#read-cancel:visible').waitFor();
    expect(await page.locator('#read-cancel').textContent()).toBe('Cancel');
    const read = peer.received.find((m) => m.type === 'read' && m.meter === '101001');
    expect(read).toBeDefined();
    await page.click('#read-cancel');
    await page.locator('#e-code', { hasText: 'CANCELLED' }).waitFor();
    expect(await page.locator('#e-message').textContent()).toBe(
      'You cancelled this read: it was withdrawn (not sent to the meter unless it had already gone).',
    );
    expect(await page.locator('#read-cancel').isHidden()).toBe(true);
    expect(await page.locator('#meter-busy').isHidden()).toBe(true);
    expect(peer.received.filter((m) => m.type === 'cancel')).toEqual([{ type: 'cancel', id: read!.id }]);
    expect(await page.locator('.meter-item[data-meter="101001"] .last').textContent()).toBe('');
    // The meter reads again once it answers.
    peer.hold.clear();
    await page.click('#read-one');
    await page.locator('#r-value', { hasText: '123.45' }).waitFor();
    expect(await page.locator('#read-cancel').isHidden()).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('withdraws a read still waiting when another meter is read from the card', async () => {
    peer.hold.add('101001');
    await page.click('.meter-item[data-meter="101001"]');
    await page.locator('#read-cancel:visible').waitFor();
    await page.click('.meter-item[data-meter="202020202020"]');
    await page.locator('#r-value', { hasText: '123.45' }).waitFor();
    const first = peer.received.find((m) => m.type === 'read' && m.meter === '101001');
    await eventually(() => peer.received.some((m) => m.type === 'cancel'), 'the first read is cancelled');
    expect(peer.received.filter((m) => m.type === 'cancel')).toEqual([{ type: 'cancel', id: first!.id }]);
    expect(await page.locator('#meter-error').isHidden()).toBe(true);
    expect(await page.locator('#read-cancel').isHidden()).toBe(true);
  });

  it('cancels a waiting read-all row; Stop cancels the others; labels in Chinese too', async () => {
    peer.hold.add('101001');
    peer.hold.add('202020202020');
    await page.click('.concentrator[data-concentrator="017102082"] .read-all');
    await page.locator('#progress-text', { hasText: '1 / 3 · failed 1' }).waitFor();
    const row = (meter: string) => page.locator(`#results-body tr[data-meter="${meter}"]`);
    expect(await row('101001').getAttribute('class')).toBe('pending');
    expect(await row('101001').locator('.row-cancel').textContent()).toBe('Cancel');
    await row('101001').locator('.row-cancel').click();
    await page.locator('#results-body tr.cancelled[data-meter="101001"]').waitFor();
    expect(await row('101001').locator('td.result').textContent()).toBe('cancelled');
    expect(await row('101001').locator('td.result').getAttribute('title')).toContain(
      'You cancelled this read',
    );
    expect(await row('101001').locator('td').count()).toBe(7);
    expect(await row('101001').locator('.row-cancel').count()).toBe(0);
    await page.locator('#progress-text', { hasText: '2 / 3 · failed 1 · cancelled 1' }).waitFor();
    expect(await row('202020202020').locator('.row-cancel').isVisible()).toBe(true);
    await page.click('#read-stop');
    await page.locator('#progress-text', { hasText: '3 / 3 · failed 1 · cancelled 2' }).waitFor();
    await page.locator('#read-stop:disabled').waitFor();
    expect(await page.locator('#results-body tr.pending').count()).toBe(0);
    expect(await page.locator('#results-body .row-cancel').count()).toBe(0);
    const reads = peer.received.filter((m) => m.type === 'read');
    const cancels = peer.received.filter((m) => m.type === 'cancel').map((m) => m.id);
    expect(cancels.sort()).toEqual(
      reads
        .filter((m) => m.meter !== '101002')
        .map((m) => m.id)
        .sort(),
    );
    await page.click('#lang');
    expect(await row('101001').locator('td.result').textContent()).toBe('已取消');
    // A waiting row in Chinese.
    await page.click('.concentrator[data-concentrator="017102082"] .read-all');
    await page.locator('#results-body tr.pending .row-cancel', { hasText: '取消' }).first().waitFor();
    expect(await row('101001').locator('td.result').textContent()).toBe('等待');
    await screenshot(page, 'console-page-cancel-zh');
    expect(pageErrors).toEqual([]);
  });

  it('a new read-all cancels the one still waiting and keeps its own progress line', async () => {
    peer.hold.add('101001');
    peer.hold.add('3001');
    await page.click('.concentrator[data-concentrator="017102082"] .read-all');
    await page.locator('#progress-text', { hasText: '2 / 3 · failed 1' }).waitFor();
    const first = peer.received.find((m) => m.type === 'read' && m.meter === '101001');
    await page.click('.concentrator[data-concentrator="017100003"] .read-all');
    await page.locator('#results-body tr.pending[data-meter="3001"]').waitFor();
    await eventually(() => peer.received.some((m) => m.type === 'cancel'), 'the first read-all is cancelled');
    expect(peer.received.filter((m) => m.type === 'cancel')).toEqual([{ type: 'cancel', id: first!.id }]);
    // A read answered after the CANCELLED was sent proves the page has taken it in (one socket, in order).
    await page.click('.meter-item[data-meter="202020202020"]');
    await page.locator('#r-value', { hasText: '123.45' }).waitFor();
    expect(await page.locator('#progress-text').textContent()).toBe('0 / 1');
    expect(await page.locator('#results-body tr').count()).toBe(1);
    expect(pageErrors).toEqual([]);
  });

  it('a cancel that crosses the answer: the reading stands and the id-less BAD_REQUEST changes nothing', async () => {
    peer.hold.add('101001');
    peer.crossing = true;
    await page.click('.meter-item[data-meter="101001"]');
    await page.locator('#read-cancel:visible').waitFor();
    const socketsBefore = peer.sockets.size;
    const receivedBefore = peer.received.length;
    await page.click('#read-cancel');
    await page.locator('#r-value', { hasText: '123.45' }).waitFor();
    expect(peer.received.length).toBe(receivedBefore + 1); // the one cancel
    // A read-all answered after the refusal was sent proves the page has taken the refusal in (one socket, in order).
    await page.click('.concentrator[data-concentrator="017100003"] .read-all');
    await page.locator('#results-body tr.done[data-meter="3001"]').waitFor();
    expect(await page.locator('#meter-error').isHidden()).toBe(true);
    expect(await page.locator('#read-cancel').isHidden()).toBe(true);
    expect(await page.locator('#r-value').textContent()).toBe('123.45');
    expect(await page.locator('body').textContent()).not.toContain('BAD_REQUEST');
    // Still one working connection: the next read is answered.
    peer.hold.clear();
    await page.click('.meter-item[data-meter="101002"]');
    await page.locator('#e-code', { hasText: 'BAD_REPLY' }).waitFor();
    expect(peer.sockets.size).toBe(socketsBefore);
    expect(await page.locator('#status').getAttribute('data-state')).toBe('connected');
    expect(pageErrors).toEqual([]);
  });

  it('reads waiting when the connection drops end DISCONNECTED without a Cancel, and reading works after', async () => {
    peer.hold.add('101001');
    peer.hold.add('202020202020');
    await page.click('.concentrator[data-concentrator="017102082"] .read-all');
    await page.locator('#progress-text', { hasText: '1 / 3 · failed 1' }).waitFor();
    await page.click('.meter-item[data-meter="101001"]');
    await page.locator('#read-cancel:visible').waitFor();
    peer.hold.clear();
    for (const ws of peer.sockets) ws.terminate();
    await page.locator('#e-code', { hasText: 'DISCONNECTED' }).waitFor();
    expect(await page.locator('#read-cancel').isHidden()).toBe(true);
    await page.locator('#progress-text', { hasText: '3 / 3 · failed 3' }).waitFor();
    expect(await page.locator('#results-body tr.failed[data-code="DISCONNECTED"]').count()).toBe(2);
    expect(await page.locator('#results-body .row-cancel').count()).toBe(0);
    await page.locator('#status[data-state="connected"]').waitFor();
    await page.click('#read-one');
    await page.locator('#r-value', { hasText: '123.45' }).waitFor();
    expect(peer.received.some((m) => m.type === 'cancel')).toBe(false);
    expect(pageErrors).toEqual([]);
  });

  it('keeps the frame log bounded, pauses, resumes, expands hex and filters', async () => {
    await eventually(() => peer.received.some((m) => m.type === 'subscribe'), 'the page subscribes');
    pushFrames(520);
    await page.locator('#frame-log li', { hasText: 'frame number 519' }).waitFor();
    expect(await page.locator('#frame-log li').count()).toBe(500);
    expect(await page.locator('#frame-log li', { hasText: /frame number 19$/ }).count()).toBe(0);
    const first = page.locator('#frame-log li').first();
    expect(await first.locator('pre').isHidden()).toBe(true);
    await first.click();
    expect(await first.locator('pre').textContent()).toBe('frame number 519\n68 4A 00 4A 00 68');
    expect(await first.locator('.summary').textContent()).toBe('frame number 519');

    await page.click('#frames-pause');
    pushFrames(3, 1000);
    await page.locator('#frames-count', { hasText: '3 waiting' }).waitFor();
    expect(await page.locator('#frame-log li', { hasText: 'frame number 1000' }).count()).toBe(0);
    await page.click('#frames-pause');
    await page.locator('#frame-log li', { hasText: 'frame number 1002' }).waitFor();
    expect(await page.locator('#frame-log li').count()).toBe(500);

    await page.fill('#filter-concentrator', '101');
    await page.fill('#filter-meter', '101001');
    await page.click('#filter-apply');
    await eventually(
      () =>
        peer.received.some((m) => m.type === 'subscribe' && m.concentrator === '101' && m.meter === '101001'),
      'the page subscribes with the filter',
    );
    expect(peer.received.some((m) => m.type === 'unsubscribe')).toBe(true);
    expect(await page.locator('#frame-log li').count()).toBe(0);
  });

  it('says so when the master closes the frame stream', async () => {
    await eventually(() => peer.received.some((m) => m.type === 'subscribe'), 'the page subscribes');
    const sub = peer.received.find((m) => m.type === 'subscribe')!;
    for (const ws of peer.sockets) {
      ws.send(JSON.stringify({ type: 'error', id: sub.id, code: 'SLOW_SUBSCRIBER', message: 'too slow' }));
    }
    await page.locator('#frames-count', { hasText: 'frame stream closed: SLOW_SUBSCRIBER' }).waitFor();
  });

  it('switches its labels between English and Chinese', async () => {
    expect(await page.locator('#fleet-title').textContent()).toBe('Fleet');
    await page.click('#lang');
    expect(await page.locator('#fleet-title').textContent()).toBe('档案');
    expect(await page.locator('.concentrator .read-all').first().textContent()).toBe('全部点抄');
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    await page.click('.meter-item[data-meter="101001"]');
    await page.locator('#r-valve', { hasText: '开' }).waitFor();
    await screenshot(page, 'console-page-zh');
    await page.click('#lang');
    expect(await page.locator('#fleet-title').textContent()).toBe('Fleet');
  });

  it('fits a 1366×768 screen without a page scroll bar', async () => {
    await page.click('.meter-item[data-meter="101001"]');
    await page.locator('#r-value', { hasText: '123.45' }).waitFor();
    pushFrames(40);
    await page.click('.concentrator[data-concentrator="017102082"] .read-all');
    await page.locator('#progress-text', { hasText: '3 / 3' }).waitFor();
    const { scrollWidth, scrollHeight } = await page.evaluate<{ scrollWidth: number; scrollHeight: number }>(
      '({ scrollWidth: document.documentElement.scrollWidth, scrollHeight: document.documentElement.scrollHeight })',
    );
    expect(scrollWidth).toBeLessThanOrEqual(1366);
    expect(scrollHeight).toBeLessThanOrEqual(768);
    expect(await page.locator('#latency-chart canvas').count()).toBeGreaterThan(0);
    await screenshot(page, 'console-page');
  });

  it('legacy page: sends the ClickToCopy text and lists what was sent and received', async () => {
    await page.goto(`${base}/legacy`);
    await page.locator('#status[data-state="connected"]').waitFor();
    await page.click('#send');
    await page.locator('#messagehistory li.received', { hasText: 'AccumVal' }).waitFor();
    expect(peer.received).toContainEqual({
      ModuleName: 'ClickToCopy',
      Content: { ConcentratorNo: '101', WaterMtrAddress: '101001' },
    });
    expect(await page.locator('#messagehistory li.sent').textContent()).toContain(
      '"WaterMtrAddress":"101001"',
    );
    await screenshot(page, 'legacy-page');
  });
});
