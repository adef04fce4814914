/**
 * Playwright with the system's Chromium (Debian's `chromium` package; CI installs it with apt-get when it is
 * missing): never a downloaded browser. `CHROMIUM_PATH` points at another binary. Screenshots go to the
 * git-ignored `artifacts/` folder at the repository root (kept by CI as artefacts).
 * @internal test support
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Where the browser binary is expected. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** `artifacts/screenshots` at the repository root. */
export const SCREENSHOT_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../artifacts/screenshots');

/** Why browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  return existsSync(CHROMIUM_PATH)
    ? undefined
    : `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`;
}

/** Launches headless Chromium. `--no-sandbox`: CI and containers run as root, where the sandbox cannot start. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'] });
}

/** A page at a laptop's 1366×768, the size the console is laid out for. */
export async function laptopPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'en-US' });
  return context.newPage();
}

/** Saves a screenshot of `page` as `artifacts/screenshots/<name>.png`; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path });
  return path;
}
