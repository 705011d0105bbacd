import fs from 'node:fs';
import path from 'node:path';
import { type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newMessageSid, signedWebhook } from '../../src/integrations/signed-webhook';
import { sentTo } from '../support/conversation';
import { eventually, PUBLIC_BASE_URL, randomPhone, startHarness, type Harness } from '../support/harness';
import { CHROMIUM, launchBrowser } from '../support/browser';

// Debian's Chromium (`apt-get install chromium`; .ci/run installs it). Without it this file is skipped, loudly.
const SCREENSHOT = path.resolve(import.meta.dirname, '../../test-results/journey.png');

let h: Harness;
let browser: Browser;
beforeAll(async () => {
  if (!CHROMIUM) return;
  h = await startHarness({ MESSAGE_DEBOUNCE: '100ms', NPS_WAIT: '0s' });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe.skipIf(!CHROMIUM)('journey page in a real browser (O3)', () => {
  it('draws the journey as a timeline of trace clusters with the causal link, and takes a screenshot', async () => {
    if (!CHROMIUM) console.warn('[test] chromium not installed: journey page test skipped');
    const tenant = await h.createTestTenant();
    const operator = await h.createOperator(tenant, 'SUPERVISOR');
    const phone = randomPhone();
    const from = `whatsapp:${phone}`;
    await h.postInbound(tenant, { body: 'Olá, quero saber do meu pedido', from });
    await h.twilio.waitFor(() => sentTo(h, from).length === 1);
    const params = {
      MessageSid: newMessageSid(),
      AccountSid: tenant.accountSid,
      From: from,
      To: tenant.address,
      Body: 'obrigado!',
      NumMedia: '0',
      OriginalRepliedMessageSid: sentTo(h, from)[0]!.sid,
    };
    const req = signedWebhook({
      publicBaseUrl: PUBLIC_BASE_URL,
      path: '/webhooks/twilio/messages',
      authToken: tenant.authToken,
      params,
    });
    await fetch(`${h.apiUrl}/webhooks/twilio/messages`, { method: 'POST', headers: req.headers, body: req.body });
    await h.twilio.waitFor(() => sentTo(h, from).length === 2);
    await eventually(
      async () => {
        const { json } = await h.api(`/api/contacts/${encodeURIComponent(phone)}/journey`, { key: operator.apiKey });
        return (
          json.links?.length === 1 && json.clusters[1].events.some((e: { type: string }) => e.type === 'reply.sent')
        );
      },
      10_000,
      'the causal link and the second reply',
    );

    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${h.apiUrl}/journey?phone=${encodeURIComponent(phone)}`);
    await page.fill('#key', operator.apiKey);
    await page.click('#load');
    await page.waitForSelector('.cluster .causal-link');

    expect(await page.locator('.cluster').count()).toBe(2);
    expect(await page.locator('#status').textContent()).toBe('2 traces, 1 causal links');
    expect(await page.locator('.cluster').nth(0).locator('.kind').textContent()).toBe('Customer message');
    expect(await page.locator('.cluster').nth(1).locator('.kind').textContent()).toBe('Customer reply');
    const firstTrace = await page.locator('.cluster').nth(0).getAttribute('data-trace-id');
    expect(await page.locator('.causal-link').getAttribute('data-target')).toBe(firstTrace);
    expect(await page.locator('.cluster').nth(1).locator('.events li').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('Reply (reply.sent)')]),
    );
    // Each reply shows the outbound policy's decision it went out on (issue 21 C).
    const decisions = await page.locator('.cluster .events li .decision').allTextContents();
    expect(decisions).toHaveLength(2);
    for (const line of decisions)
      expect(line).toMatch(/^policy SEND · service · rules \S+ · an answer to the customer: no rule applies$/);
    await page.click('.causal-link');
    await page.waitForSelector('.cluster.highlight');
    expect(errors).toEqual([]);

    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    const png = await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(1100);

    // A wrong key is reported on the page, not as a blank screen.
    await page.fill('#key', 'cw_000000000000_' + 'x'.repeat(32));
    await page.click('#load');
    await page.waitForSelector('#status.error');
    expect(await page.locator('#status').textContent()).toBe('invalid or revoked API key');
    await page.close();
  });
});
