import fs from 'node:fs';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setHybridMode } from '../../src/db/conversations/drafts';
import { conversations, suggestedResponses } from '../../src/db/schema';
import { conversationOf, sentTo } from '../support/conversation';
import { eventually, randomPhone, startHarness, type Harness } from '../support/harness';
import { CHROMIUM, launchBrowser, SCREENSHOTS, signInToConsole } from '../support/browser';

// Issue 13 B in the console: the draft panel of the conversation view, in Debian's Chromium. Without it: skipped.

let h: Harness;
let browser: Browser;
beforeAll(async () => {
  if (!CHROMIUM) return;
  h = await startHarness({ MESSAGE_DEBOUNCE: '100ms', NPS_WAIT: '0s', HYBRID_DRAFT_TIMEOUT: '10m' });
  browser = await launchBrowser();
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe.skipIf(!CHROMIUM)('console: hybrid draft panel', () => {
  it('a draft appears without reload; edit and send, then reject with a reason; works at 390 px', async () => {
    const tenant = await h.createTestTenant();
    await setHybridMode(h.db, { tenantId: tenant.tenantId, department: null, enabled: true });
    const agent = await h.createOperator(tenant, 'AGENT', 'Duda');
    const from = `whatsapp:${randomPhone()}`;
    const { messageSid } = await h.postInbound(tenant, { body: 'primeira pergunta', from });
    const workflowId = await conversationOf(h, messageSid);
    const conversationId = await eventually(
      async () => (await h.db.select().from(conversations).where(eq(conversations.workflowId, workflowId)))[0]?.id,
      10_000,
      'the conversation row',
    );

    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const errors: string[] = [];
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await signInToConsole(page, h.apiUrl, agent.apiKey);
      await page.goto(`${h.apiUrl}/console/conversations/${conversationId}`);
      await page.waitForSelector('#draft-text');
      expect(await page.textContent('#draft-text')).toBe('Echo: primeira pergunta');

      await page.fill('#draft-edit-text', 'Resposta revisada pela Duda.');
      await page.click('#draft-edit');
      await page.waitForSelector('#flash.ok');
      await h.twilio.waitFor(() => sentTo(h, from).length === 1);
      expect(sentTo(h, from)[0]!.body).toBe('Resposta revisada pela Duda.');

      // The next draft arrives while the page is open: the live region shows it without a reload.
      await h.postInbound(tenant, { body: 'segunda pergunta', from });
      await page.locator('#draft-text', { hasText: 'Echo: segunda pergunta' }).waitFor({ timeout: 20_000 });
      const width = await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number);
      expect(width).toBeLessThanOrEqual(390);
      await page.screenshot({ path: path.join(SCREENSHOTS, 'console-hybrid-draft-390.png'), fullPage: true });

      await page.fill('#draft-reject-reason', 'promete prazo que não temos');
      await page.click('#draft-reject');
      await page.waitForSelector('#flash.ok');
      await page.waitForSelector('#draft-history li[data-outcome="rejected"]');
      expect(await page.$('#draft-text')).toBeNull();
      expect(sentTo(h, from)).toHaveLength(1);
      const rows = await h.db
        .select()
        .from(suggestedResponses)
        .where(eq(suggestedResponses.conversationId, conversationId));
      expect(rows.map((r) => [r.outcome, r.reason, r.decidedBy]).sort()).toEqual([
        ['edited', null, agent.id],
        ['rejected', 'promete prazo que não temos', agent.id],
      ]);
      await page.screenshot({ path: path.join(SCREENSHOTS, 'console-hybrid-rejected-390.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
