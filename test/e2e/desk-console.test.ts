import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { eq } from 'drizzle-orm';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertCannedResponse } from '../../src/db/knowledge/canned';
import { setContentTemplate } from '../../src/db/outbound/content-templates';
import { contacts, conversationNotes } from '../../src/db/schema';
import { CHROMIUM, consoleSession, launchBrowser, SCREENSHOTS, signInToConsole } from '../support/browser';
import { handOffToHuman, sentTo } from '../support/conversation';
import { seedConversation } from '../support/desk-data';
import { randomPhone, startHarness, type Harness } from '../support/harness';

// Issue 20 E/F in Debian's Chromium, as the console tests do. Without it: skipped, loudly.

let h: Harness;
let browser: Browser;
beforeAll(async () => {
  if (!CHROMIUM) return;
  h = await startHarness({ MESSAGE_DEBOUNCE: '100ms', NPS_WAIT: '0s' });
  browser = await launchBrowser();
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(SCREENSHOTS, `desk-${name}.png`), fullPage: true });

describe.skipIf(!CHROMIUM)('desk tools in the console, in a real browser (issue 20)', () => {
  it('an agent picks a canned response (variables filled), sends it, and leaves an internal note', async () => {
    const tenant = await h.createTestTenant();
    const agent = await h.createOperator(tenant, 'AGENT', 'Ana');
    await upsertCannedResponse(h.db, {
      tenantId: tenant.tenantId,
      department: null,
      title: 'Saudação',
      body: 'Olá {{first_name}}, aqui é {{agent_name}}. Como posso ajudar?',
      createdBy: 'test',
    });
    await upsertCannedResponse(h.db, {
      tenantId: tenant.tenantId,
      department: 'billing',
      title: 'Boleto',
      body: 'Segue o boleto.',
      createdBy: 'test',
    });
    const from = `whatsapp:${randomPhone()}`;
    const row = await handOffToHuman(h, tenant, from);
    await h.db.update(contacts).set({ name: 'Marina Costa' }).where(eq(contacts.id, row.contactId));
    const { context, page, errors } = await consoleSession(browser, { acceptDownloads: true });
    await signInToConsole(page, h.apiUrl, agent.apiKey);
    await page.goto(`${h.apiUrl}/console/conversations/${row.id}`);
    await page.click('#take-over');
    await page.waitForSelector('#flash.ok');

    // The picker lists the general response, not billing's (Ana is in support); a click fills the reply box.
    const items = page.locator('#canned-picker li');
    expect(await items.count()).toBe(1);
    await page.click('#canned-picker summary');
    await page.click('#canned-picker a.canned-use');
    await page.waitForURL(/canned=/);
    expect(await page.inputValue('#reply-body')).toBe('Olá Marina, aqui é Ana. Como posso ajudar?');
    await shot(page, 'canned');
    await page.click('#send-reply');
    await page.waitForSelector('#flash.ok');
    await h.twilio.waitFor(() =>
      sentTo(h, from).some((m) => m.body === 'Ana: Olá Marina, aqui é Ana. Como posso ajudar?'),
    );

    // An internal note: shown in the conversation, stored with its author, never sent.
    await page.fill('#note-body', 'Cliente pediu retorno amanhã cedo');
    await page.click('#add-note');
    await page.waitForSelector('#flash.ok');
    expect(await page.locator('#note-list .note .body').allTextContents()).toEqual([
      'Cliente pediu retorno amanhã cedo',
    ]);
    const notes = await h.db.select().from(conversationNotes).where(eq(conversationNotes.conversationId, row.id));
    expect(notes).toMatchObject([{ authorId: agent.id, body: 'Cliente pediu retorno amanhã cedo' }]);
    expect(sentTo(h, from).some((m) => (m.body ?? '').includes('retorno amanhã'))).toBe(false);
    await shot(page, 'note');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('search with paging; a supervisor exports the search as CSV (phones masked)', async () => {
    const tenant = await h.createTestTenant();
    const supervisor = await h.createOperator(tenant, 'SUPERVISOR', 'Sofia');
    const seeded: Awaited<ReturnType<typeof seedConversation>>[] = [];
    for (let i = 0; i < 53; i++)
      seeded.push(
        await seedConversation(h, tenant, {
          phone: `+55219${String(10_000_000 + i)}`,
          name: `Cliente ${i}`,
          status: i % 2 ? 'RESOLVED' : 'HUMAN',
          department: 'support',
          agentId: null,
          startedAt: new Date(Date.UTC(2026, 9, 1, 0, i)),
          transferredAt: null,
          firstAgentAt: null,
          closedAt: null,
          slaBreaches: 0,
          nps: null,
          bodies: [i === 7 ? 'o roteador queimou na tempestade' : 'bom dia'],
        }),
      );
    const { context, page, errors } = await consoleSession(browser, { acceptDownloads: true });
    await signInToConsole(page, h.apiUrl, supervisor.apiKey);
    await page.click('nav a[href="/console/search"]');
    await page.fill('#search-q', 'roteadores queimados');
    await page.click('#search');
    await page.waitForSelector('#results');
    expect(await page.locator('#results tbody tr').getAttribute('data-conversation-id')).toBe(seeded[7]!.id);

    await page.fill('#search-q', '');
    await page.selectOption('#search-status', 'HUMAN');
    await page.click('#search');
    await page.waitForSelector('#results');
    const firstPage = await page
      .locator('#results tbody tr')
      .evaluateAll((trs) => trs.map((t) => t.getAttribute('data-conversation-id')));
    expect(firstPage).toHaveLength(27);
    const human = seeded.filter((_, i) => i % 2 === 0).reverse();
    expect(firstPage).toEqual(human.map((s) => s.id));
    expect(await page.locator('#next-page').count()).toBe(0);

    await page.selectOption('#search-status', '');
    await page.click('#search');
    await page.waitForSelector('#next-page');
    const page1 = await page.locator('#results tbody tr').count();
    await page.click('#next-page');
    await page.waitForSelector('#results');
    const page2 = await page
      .locator('#results tbody tr')
      .evaluateAll((trs) => trs.map((t) => t.getAttribute('data-conversation-id')));
    expect(page1 + page2.length).toBe(53);
    expect(page2.at(-1)).toBe(seeded[0]!.id);

    await page.goto(`${h.apiUrl}/console/search?status=RESOLVED`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const csv = parse<Record<string, string>>(fs.readFileSync(await download.path(), 'utf8'), { columns: true });
    expect(csv).toHaveLength(26);
    expect(csv.every((r) => r.status === 'RESOLVED' && /^\+55\*+\d{2}$/.test(r.contact_phone!))).toBe(true);
    await shot(page, 'search');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('an agent cannot export; an agent starts a conversation by SMS and by an approved WhatsApp template', async () => {
    const tenant = await h.createTestTenant();
    const agent = await h.createOperator(tenant, 'AGENT', 'Otto');
    await setContentTemplate(h.db, {
      tenantId: tenant.tenantId,
      purpose: 'retomada',
      contentSid: `HX${'b'.repeat(32)}`,
      variables: { '1': 'first_name', '2': 'protocol' },
    });
    const { context, page, errors } = await consoleSession(browser, { acceptDownloads: true });
    await signInToConsole(page, h.apiUrl, agent.apiKey);
    expect((await page.goto(`${h.apiUrl}/console/search/export`))!.status()).toBe(404);
    errors.length = 0; // Chromium logs the 404 it was just given
    await page.goto(`${h.apiUrl}/console/search?q=x`);
    expect(await page.locator('#export-csv').count()).toBe(0);

    await page.click('nav a[href="/console/outreach"]');
    const sms = randomPhone();
    await page.fill('#outreach-phone', sms);
    await page.selectOption('#outreach-channel', 'sms');
    await page.fill('#outreach-body', 'Olá! Seu pedido chegou.');
    await page.click('#send-outreach');
    await page.waitForSelector('#flash.ok');
    await h.twilio.waitFor(() => sentTo(h, sms).some((m) => m.body === 'Otto: Olá! Seu pedido chegou.'));

    const wa = randomPhone();
    await page.fill('#outreach-phone', wa);
    await page.fill('#outreach-name', 'Lúcia Ramos');
    await page.selectOption('#outreach-channel', 'whatsapp');
    await page.selectOption('#outreach-template', 'retomada');
    await page.click('#send-outreach');
    await page.waitForSelector('#flash.error');
    expect(await page.textContent('#flash')).toMatch(/variables: protocol/);
    await page.fill('#outreach-phone', wa);
    await page.fill('#outreach-name', 'Lúcia Ramos');
    await page.selectOption('#outreach-channel', 'whatsapp');
    await page.selectOption('#outreach-template', 'retomada');
    await page.fill('#outreach-var-protocol', 'A-778');
    await page.click('#send-outreach');
    await page.waitForSelector('#flash.ok');
    await h.twilio.waitFor(() =>
      sentTo(h, `whatsapp:${wa}`).some(
        (m) =>
          m.contentSid === `HX${'b'.repeat(32)}` &&
          m.contentVariables?.['1'] === 'Lúcia' &&
          m.contentVariables['2'] === 'A-778',
      ),
    );
    await shot(page, 'outreach');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('reports: SVG charts drawn on the server, readable at 390 px', async () => {
    const tenant = await h.createTestTenant();
    const supervisor = await h.createOperator(tenant, 'SUPERVISOR', 'Rui');
    const now = Date.now();
    for (let i = 0; i < 9; i++)
      await seedConversation(h, tenant, {
        phone: randomPhone(),
        name: null,
        status: 'RESOLVED',
        department: 'support',
        agentId: supervisor.id,
        startedAt: new Date(now - (i % 3) * 86_400_000 - 3_600_000),
        transferredAt: i % 2 ? new Date(now - (i % 3) * 86_400_000 - 3_000_000) : null,
        firstAgentAt: i % 2 ? new Date(now - (i % 3) * 86_400_000 - 2_400_000) : null,
        closedAt: new Date(now - (i % 3) * 86_400_000),
        slaBreaches: 0,
        nps: 10,
      });
    const { context, page, errors } = await consoleSession(browser, { width: 390, acceptDownloads: true });
    await signInToConsole(page, h.apiUrl, supervisor.apiKey);
    await page.goto(`${h.apiUrl}/console/reports?since=7d`);
    await page.waitForSelector('#chart-conversations svg');
    const bars = await page
      .locator('#chart-conversations rect.bar.s1')
      .evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('data-value'))));
    expect(bars.reduce((a, b) => a + b, 0)).toBe(9);
    expect(await page.locator('#chart-first-response circle.dot').count()).toBeGreaterThan(0);
    expect(await page.textContent('#desk-summary')).toContain('9 conversations');
    const box = await page.locator('#chart-conversations svg').boundingBox();
    expect(box!.width).toBeGreaterThan(250);
    expect(box!.width).toBeLessThanOrEqual(390);
    const overflow = await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth);
    expect(overflow).toBeLessThanOrEqual(390);
    await shot(page, 'reports-390');
    for (const url of ['/console/search?q=cliente', '/console/outreach']) {
      await page.goto(`${h.apiUrl}${url}`);
      await page.waitForSelector('#operator');
      const width = await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth);
      expect(width, url).toBeLessThanOrEqual(390);
    }
    expect(errors).toEqual([]);
    await context.close();
  });
});
