/**
 * The web console in a real browser (Playwright driving the system's Chromium) against the demo chain on real
 * sockets: page and WebSocket from the relay's own port → master station → concentrators → meters. One browser
 * for the file; screenshots go to artifacts/screenshots (git-ignored, kept by CI).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsumptionModel } from '../../simulator/meter/consumption.ts';
import { loadScenarioFile, parseScenario } from '../../simulator/scenario/index.ts';
import { browserMissing, laptopPage, launchBrowser, screenshot } from '../console/testing/browser.ts';
import { withoutPty } from '../demo/run-demo.ts';
import { Relay } from '../relay/index.ts';
import { Chain } from './chain.ts';

const scenarioPath = new URL('../../fixtures/scenarios/demo.json', import.meta.url).pathname;
// In-memory buses: this file tests the console, not the pty path (demo.e2e.test.ts covers that).
const scenario = withoutPty(loadScenarioFile(scenarioPath));
const skip = browserMissing();
const METER = '101001';
/** As the archive (and so the tree) writes it: 14 digits for CJ/T 188. */
const METER_ADDRESS = METER.padStart(14, '0');

let chain: Chain;
let browser: Browser;
let page: Page;
let base = '';

beforeAll(async () => {
  if (skip) return;
  [chain, browser] = await Promise.all([Chain.start({ scenario }), launchBrowser()]);
  base = chain.relayUrl.replace(/^ws:/, 'http:');
  page = await laptopPage(browser);
  await page.goto(`${base}/`);
  await page.locator('#status[data-state="connected"]').waitFor();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await chain?.stop();
});

describe.skipIf(skip)('the web console against the demo chain', () => {
  it('shows every concentrator and meter of the fleet, online', async () => {
    const meters = scenario.concentrators.flatMap((c) => c.ports.flatMap((p) => p.meters));
    await page
      .locator('.meter-item')
      .nth(meters.length - 1)
      .waitFor();
    expect(await page.locator('.concentrator').count()).toBe(scenario.concentrators.length);
    expect(await page.locator('.concentrator .dot.online').count()).toBe(scenario.concentrators.length);
    expect(await page.locator('.meter-item').count()).toBe(meters.length);
    expect(await page.locator('#count-meters').textContent()).toBe(String(meters.length));
    for (const c of scenario.concentrators) {
      expect(await page.locator(`.concentrator[data-concentrator="${c.id}"] .name`).textContent()).toBe(
        c.alias ?? c.id,
      );
    }
  });

  it(`reads meter ${METER} on click and shows the value the consumption model gives`, async () => {
    await page.click(`.meter-item[data-meter="${METER_ADDRESS}"]`);
    await page.locator('#r-value:not(:empty)').waitFor();
    const value = Number(await page.locator('#r-value').textContent());
    const meterTime = (await page.locator('#r-meter-time').textContent()) ?? '';
    expect(await page.locator('#r-unit').textContent()).toBe('m3');
    expect(await page.locator('#r-latency').textContent()).toMatch(/^\d+ ms$/);
    // The meter's clock is China Standard Time to the second; the model's value then lies in that second.
    const at = Date.parse(`${meterTime}+08:00`);
    expect(Number.isNaN(at)).toBe(false);
    const model = new ConsumptionModel({ seed: scenario.seed });
    expect(value).toBeGreaterThanOrEqual(model.readingAt(METER_ADDRESS, at - 1000));
    expect(value).toBeLessThanOrEqual(model.readingAt(METER_ADDRESS, at + 1000));
  });

  it('shows the AFN 10 request and reply of that read in the frame log', async () => {
    const line = (direction: string) =>
      page.locator(
        `#frame-log li[data-afn="16"][data-direction="${direction}"][data-meter="${METER_ADDRESS}"]`,
      );
    await line('down').first().waitFor();
    await line('up').first().waitFor();
    expect(await line('down').first().locator('.summary').textContent()).toContain('CJ/T 188 read 901F');
    expect(await line('up').first().locator('.summary').textContent()).toContain('read-reply 901F');
    await line('up').first().click();
    const [summary, hex] = ((await line('up').first().locator('pre').textContent()) ?? '').split('\n');
    expect(summary).toMatch(
      /^AFN 10H F1 reply, port 1 ← CJ\/T 188 read-reply 901F 00000000101001: [\d.]+ m3, valve open$/,
    );
    expect(hex).toMatch(/^68( [0-9A-F]{2})+ 16$/);
  });

  it('reads the whole fleet with a progress bar and fills every row', async () => {
    const total = scenario.concentrators.flatMap((c) => c.ports.flatMap((p) => p.meters)).length;
    await page.click('#read-fleet');
    await page
      .locator('#progress-text', { hasText: new RegExp(`^${total} / ${total}$`) })
      .waitFor({ timeout: 60_000 });
    expect(await page.locator('#results-body tr').count()).toBe(total);
    expect(await page.locator('#results-body tr.pending').count()).toBe(0);
    expect(await page.locator('#results-body tr.failed').count()).toBe(0);
    await screenshot(page, 'console-demo');
  });

  it("Stop cancels a read-all's reads still waiting, those sent and those not sent yet", async () => {
    const second = scenario.concentrators[1];
    const total = second.ports.flatMap((p) => p.meters).length;
    await page.locator('.concentrator').nth(1).locator('.read-all').click();
    await page.locator('#results-body tr.pending .row-cancel').first().waitFor();
    await page.click('#read-stop');
    // The relay answers each cancelled read at once: nothing waits for the field.
    await page.locator('#read-stop:disabled').waitFor({ timeout: 5000 });
    const text = (await page.locator('#progress-text').textContent()) ?? '';
    expect(text).toMatch(new RegExp(`^${total} / ${total} · cancelled \\d+$`));
    const cancelledRows = await page.locator('#results-body tr.cancelled').count();
    expect(text.endsWith(` ${cancelledRows}`)).toBe(true);
    expect(cancelledRows).toBeGreaterThan(0);
    expect(await page.locator('#results-body tr.pending').count()).toBe(0);
    expect(await page.locator('#results-body tr.failed').count()).toBe(0);
    expect(await page.locator('#results-body tr.done').count()).toBe(total - cancelledRows);
  });

  it('closes a valve, shows it closed, and a following read shows it closed too', async () => {
    await page.click(`.meter-item[data-meter="${METER_ADDRESS}"]`);
    await page.locator('#r-valve[data-valve="open"]').waitFor();
    await page.click('#valve-close');
    await page.locator('#r-valve[data-valve="closed"]').waitFor();
    await page.locator('#meter-busy').waitFor({ state: 'hidden' });
    await page.click('#read-one');
    await page.locator('#meter-busy').waitFor({ state: 'hidden' });
    await page.locator('#r-read-at:not(:empty)').waitFor();
    expect(await page.locator('#r-valve').getAttribute('data-valve')).toBe('closed');
    expect(await page.locator('#meter-error').isHidden()).toBe(true);
    await page.click('#valve-open');
    await page.locator('#r-valve[data-valve="open"]').waitFor();
  });

  it('legacy page: sends ClickToCopy and shows AccumVal', async () => {
    const legacy = await laptopPage(browser);
    await legacy.goto(`${base}/legacy`);
    await legacy.locator('#status[data-state="connected"]').waitFor();
    await legacy.click('#send');
    const received = legacy.locator('#messagehistory li.received');
    await received.waitFor();
    const answer = JSON.parse((await received.locator('code').textContent()) ?? '');
    // Issue 14 item 1: the flat shape the original clientserver filled in (it was the request's envelope).
    expect(answer).toMatchObject({ ConcentratorNo: '101', WaterMtrAddress: METER, IsDownCommand: true });
    expect(typeof answer.AccumVal).toBe('number');
    await screenshot(legacy, 'legacy-demo');
    await legacy.context().close();
  });

  it('with a token set, refuses the page without it and serves it, connected, with it', async () => {
    // A second relay, with a token. Its master is not there: the page and its WebSocket are what is checked.
    const relay = new Relay({
      host: '127.0.0.1',
      port: 0,
      token: 'console-secret',
      master: { host: '127.0.0.1', port: 1 },
    });
    const { url } = await relay.start();
    const http = url.replace(/^ws:/, 'http:');
    const guest = await laptopPage(browser);
    try {
      const refused = await guest.goto(`${http}/`);
      expect(refused?.status()).toBe(401);
      expect(await guest.content()).not.toContain('id="tree"');
      const served = await guest.goto(`${http}/?token=console-secret`);
      expect(served?.status()).toBe(200);
      // The page passed the token on to its WebSocket: the upgrade was accepted.
      await guest.locator('#status[data-state="connected"]').waitFor();
    } finally {
      await guest.context().close();
      await relay.stop();
    }
  });
});

/** The AFN 10 F1 frame-wait of the second chain: a read of a silent meter holds its port this long (ms). */
const FRAME_WAIT_MS = 5000;
const PRESENT = '301001';
const SILENT = '301002';

// Issue 13 (cancel in the console): a concentrator whose port 1 has a meter that answers and one that never does,
// behind a master that lets the concentrator wait FRAME_WAIT_MS for a meter's reply. A read of the silent meter
// waits that long unless it is cancelled.
describe.skipIf(skip)('the web console cancels a waiting read', () => {
  let slow: Chain;
  let cancelPage: Page;

  beforeAll(async () => {
    if (skip) return;
    const silentScenario = parseScenario(
      {
        name: 'console-cancel',
        seed: 13,
        concentrators: [
          {
            a1: '0171',
            a2: 301,
            alias: '301',
            ports: [
              {
                port: 1,
                wireTiming: false,
                turnaroundMs: 0,
                meters: [
                  { address: PRESENT },
                  { address: SILENT, faults: [{ kind: 'silence', when: { always: true } }] },
                ],
              },
            ],
          },
        ],
      },
      'console-cancel scenario',
    );
    slow = await Chain.start({
      scenario: silentScenario,
      masterOptions: { meterFrameTimeoutMs: FRAME_WAIT_MS },
    });
    cancelPage = await laptopPage(browser);
    await cancelPage.goto(`${slow.relayUrl.replace(/^ws:/, 'http:')}/`);
    await cancelPage.locator('#status[data-state="connected"]').waitFor();
    await cancelPage.locator('.meter-item').nth(1).waitFor();
  }, 120_000);

  afterAll(async () => {
    await cancelPage?.context().close();
    await slow?.stop();
  });

  it('ends a waiting read CANCELLED at once from the meter card and from a read-all row; the port still reads', async () => {
    const silent = SILENT.padStart(14, '0');
    const present = PRESENT.padStart(14, '0');
    // The meter card: the silent meter's read waits, with its Cancel next to "reading…". Without a working
    // cancel it would end METER_TIMEOUT after the frame-wait, so CANCELLED is the proof (no stopwatch here: a
    // screenshot on a loaded machine takes its own time).
    await cancelPage.click(`.meter-item[data-meter="${silent}"]`);
    await cancelPage.locator('#read-cancel:visible').waitFor();
    expect(await cancelPage.locator('#meter-busy').isVisible()).toBe(true);
    await screenshot(cancelPage, 'console-cancel-pending');
    await cancelPage.click('#read-cancel');
    await cancelPage.locator('#e-code', { hasText: 'CANCELLED' }).waitFor();
    expect(await cancelPage.locator('#e-message').textContent()).toContain('You cancelled this read');
    expect(await cancelPage.locator('#read-cancel').isHidden()).toBe(true);
    expect(await cancelPage.locator('#meter-busy').isHidden()).toBe(true);
    // A cancel says nothing about the meter: its badge in the tree is not a failure.
    expect(await cancelPage.locator(`.meter-item[data-meter="${silent}"] .last`).textContent()).toBe('');

    // Read-all of the concentrator: the silent meter's row waits with a Cancel; cancelled, it says so at once,
    // and the present meter on the same port is still read (after the frame-wait the field may still be in).
    await cancelPage.click('.concentrator[data-concentrator] .read-all');
    const silentRow = cancelPage.locator(`#results-body tr[data-meter="${silent}"]`);
    const presentRow = cancelPage.locator(`#results-body tr[data-meter="${present}"]`);
    await silentRow.locator('.row-cancel:visible').waitFor();
    await screenshot(cancelPage, 'console-cancel-row-pending');
    await silentRow.locator('.row-cancel').click();
    await cancelPage.locator(`#results-body tr.cancelled[data-meter="${silent}"]`).waitFor();
    expect(await silentRow.locator('td.result').textContent()).toBe('cancelled');
    expect(await silentRow.locator('.row-cancel').count()).toBe(0);
    await cancelPage
      .locator(`#results-body tr.done[data-meter="${present}"]`)
      .waitFor({ timeout: FRAME_WAIT_MS * 3 });
    expect(Number(await presentRow.locator('td.num').first().textContent())).toBeGreaterThan(0);
    await cancelPage.locator('#progress-text', { hasText: '2 / 2 · cancelled 1' }).waitFor();

    // And the meter card reads the present meter of that port.
    await cancelPage.click(`.meter-item[data-meter="${present}"]`);
    await cancelPage.locator('#r-value:not(:empty)').waitFor({ timeout: FRAME_WAIT_MS * 3 });
    expect(await cancelPage.locator('#meter-error').isHidden()).toBe(true);
  }, 60_000);
});
