import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * Debian's Chromium (`apt-get install chromium`; .ci/run installs it), driven by playwright-core (no browser
 * download). The browser test files skip themselves when it is missing: `describe.skipIf(!CHROMIUM)`.
 */
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));

export const SCREENSHOTS = path.resolve(import.meta.dirname, '../../test-results/screenshots');

/** Headless, sandbox off (containers), and none of the background traffic a fresh profile starts. */
export function launchBrowser(): Promise<Browser> {
  if (!CHROMIUM) throw new Error('chromium is not installed (the browser tests skip themselves without it)');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Signs in to the operator console with an API key, as an operator does, and waits for the signed-in page. */
export async function signInToConsole(page: Page, apiUrl: string, apiKey: string): Promise<void> {
  await page.goto(`${apiUrl}/console`);
  await page.waitForSelector('#key');
  await page.fill('#key', apiKey);
  await page.click('#sign-in');
  await page.waitForSelector('#operator');
}

/** A full-page screenshot under test-results/screenshots, checked to be a PNG (a blank capture fails here). */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const png = await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  if (png.subarray(1, 4).toString() !== 'PNG') throw new Error(`screenshot ${name} is not a PNG`);
}

/**
 * A browser context for a console test: every page's console errors and uncaught exceptions are collected in
 * `errors` (the tests allow none), and the paths its pages navigated to in `visited`.
 */
export async function consoleSession(browser: Browser, options: { width?: number; acceptDownloads?: boolean } = {}) {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1200, height: 900 },
    ...(options.acceptDownloads ? { acceptDownloads: true } : {}),
  });
  const errors: string[] = [];
  const visited = new Set<string>();
  context.on('page', (p) => {
    p.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${p.url()}: ${m.text()}`);
    });
    p.on('pageerror', (e) => errors.push(`${p.url()}: ${e.message}`));
    p.on('framenavigated', (f) => {
      if (f === p.mainFrame()) visited.add(new URL(f.url()).pathname);
    });
  });
  const page = await context.newPage();
  return { context, page, errors, visited };
}
