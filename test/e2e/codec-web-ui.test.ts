import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { Connection } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundWorkflowId } from '../../src/contract';
import { codecAudit } from '../../src/db/schema';
import { ensureTemporalCli } from '../../src/local/temporal-cli';
import { ensureSearchAttributes } from '../../src/temporal/connection';
import { startDevServer, type DevServer } from '../../src/local/temporal-dev-server';
import { loadEnv } from '../../src/config/env';
import { eventually, randomPhone, startHarness, type Harness } from '../support/harness';
import { CHROMIUM, launchBrowser } from '../support/browser';

// The embedded Web UI (UI 2.42.1 of the pinned CLI's dev server) against the API's codec endpoint, in Chromium.
const SCREENSHOTS = path.resolve(import.meta.dirname, '../../test-results');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let h: Harness;
let devServer: DevServer;
let browser: Browser;
let front: http.Server;
let apiOrigin: string;
let uiOrigin: string;
let dataDir: string;
beforeAll(async () => {
  if (!CHROMIUM) return;
  // The API listens first (its handler is plugged in once the harness exists): the dev server needs the codec URL.
  let handler: http.RequestListener = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  front = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  apiOrigin = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  const env = loadEnv();
  const cli = await ensureTemporalCli({
    explicitPath: env.TEMPORAL_CLI_PATH,
    pathEnv: env.PATH,
    cacheDir: env.CACHE_DIR,
  });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-codec-ui-'));
  const uiPort = await freePort();
  devServer = await startDevServer({
    cliPath: cli.path,
    dataDir,
    port: await freePort(),
    uiPort,
    namespace: 'default',
    codecEndpoint: `${apiOrigin}/codec`,
  });
  // The browser uses 127.0.0.1 for both: UI and API then differ in port only, the same site (cookies: SameSite=Lax).
  uiOrigin = `http://127.0.0.1:${uiPort}`;
  const connection = await Connection.connect({ address: devServer.address });
  await ensureSearchAttributes(connection, 'default');
  await connection.close();
  h = await startHarness({
    TEMPORAL_ADDRESS: devServer.address,
    CODEC_CORS_ORIGINS: uiOrigin,
    MESSAGE_DEBOUNCE: '100ms',
    NPS_WAIT: '0s',
  });
  const listener = getRequestListener(h.app.fetch);
  handler = (req, res) => void listener(req, res);
  browser = await launchBrowser();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await h?.close();
  await devServer?.stop();
  await new Promise((resolve) => (front ? front.close(resolve) : resolve(undefined)));
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/**
 * A browser profile whose Web UI sends credentials to the codec endpoint: the UI's "Codec Server" settings with
 * "Use my browser setting" and "Include cross-origin credentials" (persisted by the UI in localStorage; the
 * dev server's own codec setting cannot turn credentials on).
 */
async function operatorBrowser(): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const endpoint = `${apiOrigin}/codec`;
  const settings = { overrideRemoteCodecConfiguration: true, endpoint, includeCredentials: true };
  await context.addInitScript({
    content: `if (location.origin === ${JSON.stringify(uiOrigin)}) { for (const [k, v] of Object.entries(${JSON.stringify(settings)})) localStorage.setItem(k, JSON.stringify(v)); }`,
  });
  return context;
}

async function signIn(context: BrowserContext, apiKey: string): Promise<string> {
  const page = await context.newPage();
  await page.goto(`${apiOrigin}/codec/sign-in`);
  await page.fill('#key', apiKey);
  await Promise.all([page.waitForNavigation(), page.click('#sign-in')]);
  const status = (await page.locator('#status').textContent()) ?? '';
  await page.close();
  return status;
}

/** Opens the workflow in the Web UI and waits for its codec request; returns the decode's status and the page text. */
async function openWorkflow(
  context: BrowserContext,
  workflowId: string,
  name: string,
): Promise<{ page: Page; codecStatus: number; text: string }> {
  const page = await context.newPage();
  const decode = page.waitForResponse(
    (r) => r.url() === `${apiOrigin}/codec/decode` && r.request().method() === 'POST',
    { timeout: 30_000 },
  );
  await page.goto(`${uiOrigin}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);
  const response = await decode;
  // The UI renders the payloads once the codec answered (and its later requests settled).
  await page.waitForLoadState('networkidle');
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `codec-${name}.png`), fullPage: true });
  return { page, codecStatus: response.status(), text: await page.content() };
}

describe.skipIf(!CHROMIUM)('the Web UI reads payloads through the codec endpoint (issue 11, B)', () => {
  it('ciphertext without a session, plaintext for a supervisor, 403 for an agent; every decode audited', async () => {
    const tenant = await h.createTestTenant();
    const supervisor = await h.createOperator(tenant, 'SUPERVISOR');
    const agent = await h.createOperator(tenant, 'AGENT');
    const phone = randomPhone();
    const body = `quero negociar minha dívida ${Math.random().toString(36).slice(2, 8)}`;
    const { messageSid } = await h.postInbound(tenant, { body, from: `whatsapp:${phone}` });
    const workflowId = inboundWorkflowId(messageSid);
    await h.client.workflow.getHandle(workflowId).result();

    // No session: the codec answers 401, the UI shows the payload as stored (encrypted).
    const anonymous = await operatorBrowser();
    const none = await openWorkflow(anonymous, workflowId, 'anonymous');
    expect(none.codecStatus).toBe(401);
    expect(none.text).not.toContain(body);
    expect(none.text).not.toContain(phone);
    // What the UI shows instead: the stored payload, `encoding` = base64 of binary/encrypted.
    expect(none.text).toContain(Buffer.from('binary/encrypted').toString('base64'));
    expect(none.text).toContain('Codec Server could not connect');
    await anonymous.close();

    // A supervisor's session: the UI sends the cookie and shows the input in plaintext.
    const supervisorBrowser = await operatorBrowser();
    expect(await signIn(supervisorBrowser, supervisor.apiKey)).toContain('(SUPERVISOR');
    const plain = await openWorkflow(supervisorBrowser, workflowId, 'supervisor');
    expect(plain.codecStatus).toBe(200);
    await plain.page.waitForFunction(
      `document.documentElement.outerHTML.includes(${JSON.stringify(body)})`,
      undefined,
      { timeout: 15_000 },
    );
    expect(await plain.page.content()).toContain(`whatsapp:${phone}`);
    // The result card too (its own decode request).
    await plain.page.waitForFunction(
      `document.documentElement.outerHTML.includes('conversationWorkflowId')`,
      undefined,
      { timeout: 15_000 },
    );
    await plain.page.screenshot({ path: path.join(SCREENSHOTS, 'codec-supervisor-result.png'), fullPage: true });
    await supervisorBrowser.close();

    // An agent's session: 403, and the page stays encrypted.
    const agentBrowser = await operatorBrowser();
    expect(await signIn(agentBrowser, agent.apiKey)).toContain('(AGENT');
    const refused = await openWorkflow(agentBrowser, workflowId, 'agent');
    expect(refused.codecStatus).toBe(403);
    expect(refused.text).not.toContain(body);
    expect(refused.text).toContain(Buffer.from('binary/encrypted').toString('base64'));
    await agentBrowser.close();

    const audit = await eventually(
      async () => {
        const rows = await h.db
          .select()
          .from(codecAudit)
          .where(and(eq(codecAudit.tenantId, tenant.tenantId), eq(codecAudit.action, 'decode')));
        return rows.some((r) => r.userId === agent.id) ? rows : null;
      },
      10_000,
      'the audit rows',
    );
    const bySupervisor = audit.filter((r) => r.userId === supervisor.id);
    expect(bySupervisor.length).toBeGreaterThan(0);
    expect(
      bySupervisor.every(
        (r) => r.outcome === 'allowed' && r.via === 'session' && r.namespace === 'default' && r.origin === uiOrigin,
      ),
    ).toBe(true);
    expect(bySupervisor.some((r) => r.encrypted > 0 && r.keyIds.includes(h.payloadKeys![0]!.id))).toBe(true);
    expect(audit.filter((r) => r.userId === agent.id).every((r) => r.outcome === 'forbidden')).toBe(true);
  });
});
