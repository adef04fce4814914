import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureReport } from './fixture-report.ts';
import { htmlReport } from './html.ts';

// The HTML report in a real browser (Debian's Chromium through playwright-core): it loads nothing from the
// network, filters by grade, expands traces and shows hex on request.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.warn(`skipping the HTML browser test: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);

describe.skipIf(!haveChromium)('HTML report in Chromium', () => {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('is self-contained, filters by grade, expands traces and shows hex on request', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'meterlab-html-')), 'report.html');
    writeFileSync(file, htmlReport(fixtureReport()));
    const page = await (browser as Browser).newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(file).href);

    expect(await page.locator('.summary').textContent()).toBe(
      '1 pass, 1 non-strict, 1 fail, 1 info, 1 unimplemented, 1 skipped',
    );
    const cases = page.locator('details.case');
    expect(await cases.count()).toBe(6);
    expect(await page.locator('details.case:visible').count()).toBe(6);

    await page.locator('.chip[data-grade="pass"]').click();
    await page.locator('.chip[data-grade="info"]').click();
    expect(await page.locator('details.case:visible').count()).toBe(4);
    expect(await page.locator('#M188-1\\.1').isVisible()).toBe(false);
    await page.locator('.chip[data-grade="pass"]').click();
    expect(await page.locator('#M188-1\\.1').isVisible()).toBe(true);

    const failed = page.locator('#M188-3\\.1');
    expect(await failed.locator('.msg').isVisible()).toBe(false);
    await failed.locator('summary').click();
    expect(await failed.locator('.msg').textContent()).toContain('fail because <b>a & b</b>');
    expect(await failed.locator('.hex').first().isVisible()).toBe(false);
    await page.locator('#hex').check();
    expect(await failed.locator('.hex').first().textContent()).toBe('FE 68 16');
    expect(await failed.locator('.hex').first().isVisible()).toBe(true);

    await page.locator('#open-bad').click();
    expect(await page.locator('#M188-2\\.1').getAttribute('open')).not.toBeNull();
    expect(await page.locator('#M188-1\\.1').getAttribute('open')).toBeNull();

    expect(errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
    await page.close();
  });
});
