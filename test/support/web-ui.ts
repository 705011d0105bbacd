import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { Connection } from '@temporalio/client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { loadEnv } from '../../src/config/env';
import { ensureTemporalCli } from '../../src/local/temporal-cli';
import { ensureSearchAttributes } from '../../src/temporal/connection';
import { startDevServer, type DevServer } from '../../src/local/temporal-dev-server';
import { CHROMIUM, launchBrowser } from './browser';
import { startHarness, type Harness } from './harness';

/** The embedded Web UI (UI 2.42.1 of the pinned CLI's dev server) against the API's codec endpoint, in Chromium. */
export const SCREENSHOTS = path.resolve(import.meta.dirname, '../../test-results');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface WebUi {
  h: Harness;
  devServer: DevServer;
  /** Null when Chromium is not installed (the browser tests skip themselves). */
  browser: Browser | null;
  apiOrigin: string;
  uiOrigin: string;
  operatorBrowser(): Promise<BrowserContext>;
  signIn(context: BrowserContext, apiKey: string): Promise<string>;
  openWorkflow(
    context: BrowserContext,
    workflowId: string,
    name: string,
    options?: { running?: boolean },
  ): Promise<{ page: Page; codecStatus: number; text: string }>;
  close(): Promise<void>;
}

/**
 * A Temporal dev server with its Web UI, pointed at the codec endpoint of a harness's API (served on 127.0.0.1 so
 * UI and API differ in port only: the same site, SameSite=Lax cookies), and Chromium when installed.
 */
export async function startWebUi(harnessEnv: Record<string, string> = {}): Promise<WebUi> {
  // The API listens first (its handler is plugged in once the harness exists): the dev server needs the codec URL.
  let handler: http.RequestListener = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const front = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const apiOrigin = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  const env = loadEnv();
  const cli = await ensureTemporalCli({
    explicitPath: env.TEMPORAL_CLI_PATH,
    pathEnv: env.PATH,
    cacheDir: env.CACHE_DIR,
  });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-web-ui-'));
  const uiPort = await freePort();
  const devServer = await startDevServer({
    cliPath: cli.path,
    dataDir,
    port: await freePort(),
    uiPort,
    namespace: 'default',
    codecEndpoint: `${apiOrigin}/codec`,
  });
  const uiOrigin = `http://127.0.0.1:${uiPort}`;
  const connection = await Connection.connect({ address: devServer.address });
  await ensureSearchAttributes(connection, 'default');
  await connection.close();
  const h = await startHarness({ TEMPORAL_ADDRESS: devServer.address, CODEC_CORS_ORIGINS: uiOrigin, ...harnessEnv });
  const listener = getRequestListener(h.app.fetch);
  handler = (req, res) => void listener(req, res);
  const browser = CHROMIUM ? await launchBrowser() : null;

  return {
    h,
    devServer,
    browser,
    apiOrigin,
    uiOrigin,
    /**
     * A browser profile whose Web UI sends credentials to the codec endpoint: the UI's "Codec Server" settings with
     * "Use my browser setting" and "Include cross-origin credentials" (persisted by the UI in localStorage; the
     * dev server's own codec setting cannot turn credentials on).
     */
    async operatorBrowser() {
      if (!browser) throw new Error('chromium is not installed');
      const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
      const settings = {
        overrideRemoteCodecConfiguration: true,
        endpoint: `${apiOrigin}/codec`,
        includeCredentials: true,
      };
      await context.addInitScript({
        content: `if (location.origin === ${JSON.stringify(uiOrigin)}) { for (const [k, v] of Object.entries(${JSON.stringify(settings)})) localStorage.setItem(k, JSON.stringify(v)); }`,
      });
      return context;
    },
    async signIn(context, apiKey) {
      const page = await context.newPage();
      await page.goto(`${apiOrigin}/codec/sign-in`);
      await page.fill('#key', apiKey);
      await Promise.all([page.waitForNavigation(), page.click('#sign-in')]);
      const status = (await page.locator('#status').textContent()) ?? '';
      await page.close();
      return status;
    },
    /** Opens the workflow in the Web UI and waits for its codec request; returns the decode's status and the page text. */
    async openWorkflow(context, workflowId, name, options = {}) {
      const page = await context.newPage();
      const decode = page.waitForResponse(
        (r) => r.url() === `${apiOrigin}/codec/decode` && r.request().method() === 'POST',
        { timeout: 30_000 },
      );
      await page.goto(`${uiOrigin}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);
      const response = await decode;
      // The UI renders the payloads once the codec answered (and its later requests settled). The page of a running
      // workflow polls for new events and never settles: the caller waits for what it expects on the page instead.
      if (!options.running) await page.waitForLoadState('networkidle');
      fs.mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SCREENSHOTS, `codec-${name}.png`), fullPage: true });
      return { page, codecStatus: response.status(), text: await page.content() };
    },
    async close() {
      await browser?.close();
      await h.close();
      await devServer.stop();
      await new Promise((resolve) => front.close(resolve));
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
