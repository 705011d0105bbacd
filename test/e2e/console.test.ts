import fs from 'node:fs';
import { and, eq } from 'drizzle-orm';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alerts, conversations, messages, orphanInbound } from '../../src/db/schema';
import { updateTenant } from '../../src/db/tenants/tenants';
import { createUser } from '../../src/db/operators/users';
import { handOffToHuman, sentTo } from '../support/conversation';
import { eventually, randomPhone, startHarness, type Harness } from '../support/harness';
import { CHROMIUM, consoleSession, launchBrowser, screenshot, SCREENSHOTS, signInToConsole } from '../support/browser';

// Issue 13: the operator console in Debian's Chromium, as the journey page test does. Without it: skipped, loudly.
const DAY = 24 * 3_600_000;

let h: Harness;
let browser: Browser;
beforeAll(async () => {
  if (!CHROMIUM) return;
  // Status callbacks on: the conversation view shows delivery statuses as Twilio reports them.
  h = await startHarness({ MESSAGE_DEBOUNCE: '100ms', NPS_WAIT: '0s' }, { statusCallbacks: true });
  browser = await launchBrowser();
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

const signIn = (page: Page, apiKey: string) => signInToConsole(page, h.apiUrl, apiKey);

const shot = (page: Page, name: string) => screenshot(page, `console-${name}`);

describe.skipIf(!CHROMIUM)('operator console in a real browser (issue 13)', () => {
  it('an agent sees a handoff appear without reload, takes it over, replies, resolves; media through the proxy', async () => {
    const tenant = await h.createTestTenant();
    const agent = await h.createOperator(tenant, 'AGENT', 'Ana');
    const from = `whatsapp:${randomPhone()}`;
    const { context, page, errors, visited } = await consoleSession(browser);

    await signIn(page, agent.apiKey);
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'causeway_console')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
      path: '/console',
    });
    expect(await page.locator('#queue-live .empty').count()).toBe(1);
    // A marker in the page's JS realm: still there later means the page was never reloaded.
    await page.evaluate(() => ((globalThis as any).marker = 42));

    const row = await handOffToHuman(h, tenant, from, { media: true });
    // The model named no department: the handoff goes to the tenant's default one.
    expect(row.department).toBe('support');
    await page.waitForSelector(`#queue tr[data-conversation-id="${row.id}"]`, { timeout: 15_000 });
    expect(await page.evaluate(() => (globalThis as any).marker)).toBe(42);
    const queued = page.locator(`#queue tr[data-conversation-id="${row.id}"]`);
    expect(await queued.locator('.reason').textContent()).toBe('human_request');
    expect(await queued.locator('.wait').textContent()).toMatch(/^\d+ s$/);
    await shot(page, 'queue');

    // The JSON API carries the media too.
    const api = await h.api(`/api/conversations/${row.id}`, { key: agent.apiKey });
    const inbound = api.json.messages.find((m: { sentBy: string }) => m.sentBy === 'customer');
    expect(inbound.media).toEqual([{ url: expect.stringContaining('/Media/ME'), contentType: 'image/png' }]);

    await queued.locator('a').click();
    await page.waitForSelector('#messages');
    expect(await page.locator('#conversation-status').textContent()).toBe('HUMAN');
    expect(await page.locator('#handoff-reason').textContent()).toContain('human_request');
    const senders = await page
      .locator('#messages .msg')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-sender')));
    expect(senders).toEqual(['customer', 'ai']);
    // The image is fetched through the console's proxy, which authenticates to (fake) Twilio with the tenant's account.
    const img = page.locator('#messages .msg.customer img');
    await img.scrollIntoViewIfNeeded();
    await eventually(async () => (await img.evaluate((e: any) => e.complete && e.naturalWidth)) === 48, 5000, 'image');
    expect(h.twilio.mediaRequests.filter((r) => r.accountSid === tenant.accountSid)).toEqual([
      { accountSid: tenant.accountSid, authorized: true },
    ]);
    // Twilio itself refuses the media without credentials; the proxy refuses without a session.
    expect((await fetch(inbound.media[0].url)).status).toBe(401);
    const mediaPath = (await img.getAttribute('src'))!;
    expect((await fetch(`${h.apiUrl}${mediaPath}`)).status).toBe(401);

    await page.click('#take-over');
    await page.waitForSelector('#flash.ok');
    expect(await page.locator('#conversation-agent').textContent()).toBe('Ana');
    // The takeover is not a new handoff: the AI's reason stays.
    expect(await page.locator('#handoff-reason').textContent()).toContain('human_request');

    await page.fill('#reply-body', 'Oi, aqui é a Ana. Vou ver seu pedido.');
    await page.click('#send-reply');
    await page.waitForSelector('#flash.ok');
    expect(await page.locator('#flash').textContent()).toBe('Reply sent.');
    // The customer reads who writes (the service prefixes the agent's name).
    await h.twilio.waitFor(() => sentTo(h, from).some((m) => m.body === 'Ana: Oi, aqui é a Ana. Vou ver seu pedido.'));
    await page.waitForSelector('#messages .msg.agent');
    expect(await page.locator('#messages .msg.agent .sender').textContent()).toBe('Agent · Ana');
    // Twilio's status callbacks reach the view without reload.
    await page.waitForSelector('#messages .msg.agent .status.delivered', { timeout: 15_000 });
    await shot(page, 'conversation');

    // A media URL goes to Twilio as MediaUrl (the JSON API's rule: public https only); a bad one sends nothing.
    const sentBefore = sentTo(h, from).length;
    await page.fill('#reply-body', 'o comprovante');
    await page.fill('#reply-media', 'http://cdn.example.com/comprovante.pdf');
    await page.click('#send-reply');
    await page.waitForSelector('#flash.error');
    expect(await page.locator('#flash').textContent()).toContain('media URL must be a public https address');
    expect(sentTo(h, from).length).toBe(sentBefore);
    const mediaUrl = 'https://cdn.example.com/comprovante.pdf';
    await page.fill('#reply-body', 'o comprovante');
    await page.fill('#reply-media', mediaUrl);
    await page.click('#send-reply');
    await page.waitForSelector('#flash.ok');
    expect(await page.locator('#flash').textContent()).toBe('Reply sent.');
    await h.twilio.waitFor(() => sentTo(h, from).length > sentBefore);
    expect(sentTo(h, from).slice(sentBefore)).toEqual([
      expect.objectContaining({ body: 'Ana: o comprovante', mediaUrl: [mediaUrl] }),
    ]);

    // A customer message while the agent looks: it appears without reload.
    await h.postInbound(tenant, { body: 'obrigado, aguardo', from });
    await page.waitForSelector('#messages .msg.customer >> nth=1', { timeout: 15_000 });

    await page.click('#resolve');
    await page.waitForSelector('#flash.ok');
    expect(await page.locator('#conversation-status').textContent()).toBe('RESOLVED');
    const [after] = await h.db.select().from(conversations).where(eq(conversations.id, row.id));
    expect(after).toMatchObject({ status: 'RESOLVED', resolvedBy: 'human' });

    // A POST without the session's CSRF token does nothing.
    const forged = await context.request.post(`${h.apiUrl}/console/conversations/${row.id}/takeover`, {
      form: { _csrf: 'x'.repeat(43) },
    });
    expect(forged.status()).toBe(403);

    await page.click('#sign-out');
    await page.waitForSelector('#key');
    expect(
      (await context.request.get(`${h.apiUrl}/console/live/queue`, { headers: { 'x-console-live': '1' } })).status(),
    ).toBe(401);
    expect(errors).toEqual([]);
    expect([...visited]).toEqual(
      expect.arrayContaining(['/console', `/console/conversations/${row.id}`, '/console/sign-in']),
    );
    await context.close();
  });

  it('sign-in: Secure cookie over https, cross-site posts refused, bad keys answered on the page', async () => {
    const tenant = await h.createTestTenant();
    const agent = await h.createOperator(tenant, 'AGENT');
    const signInOver = (url: string, headers: Record<string, string> = {}, key = agent.apiKey) =>
      h.app.request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({ key }).toString(),
      });
    const https = await signInOver('https://causeway.example.test/console/sign-in', {
      host: 'causeway.example.test',
      origin: 'https://causeway.example.test',
    });
    expect(https.status).toBe(303);
    const cookie = https.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^causeway_console=[\w-]{43};/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).toMatch(/; Path=\/console/);
    expect(cookie).toMatch(/; Max-Age=28800/);
    const crossSite = await signInOver('https://causeway.example.test/console/sign-in', {
      host: 'causeway.example.test',
      origin: 'https://evil.example',
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.get('set-cookie')).toBeNull();
    const bad = await signInOver(
      'https://causeway.example.test/console/sign-in',
      {},
      'cw_000000000000_' + 'x'.repeat(32),
    );
    expect(bad.status).toBe(401);
    expect(await bad.text()).toContain('That API key is not valid');
    // A session's POST from another site is refused even with the right token.
    const token = /causeway_console=([\w-]{43})/.exec(cookie)![1]!;
    const { csrfTokenFor } = await import('../../src/api/console/session');
    const forged = await h.app.request('https://causeway.example.test/console/sign-out', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: `causeway_console=${token}`,
        host: 'causeway.example.test',
        origin: 'https://evil.example',
      },
      body: new URLSearchParams({ _csrf: csrfTokenFor(token) }).toString(),
    });
    expect(forged.status).toBe(403);
    const page = await h.app.request('https://causeway.example.test/console', {
      headers: { cookie: `causeway_console=${token}` },
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('a reply outside the WhatsApp window is refused with the reason shown', async () => {
    const tenant = await h.createTestTenant();
    const agent = await h.createOperator(tenant, 'AGENT', 'Bia');
    const from = `whatsapp:${randomPhone()}`;
    const row = await handOffToHuman(h, tenant, from);
    const at = new Date(Date.now() - DAY - 3_600_000);
    await h.db
      .update(messages)
      .set({ createdAt: at })
      .where(and(eq(messages.tenantId, tenant.tenantId), eq(messages.direction, 'inbound')));
    for (const m of h.twilio.received) if (m.from === from) m.dateCreated = at;
    const { context, page, errors } = await consoleSession(browser);
    await signIn(page, agent.apiKey);
    await page.goto(`${h.apiUrl}/console/conversations/${row.id}`);
    await page.click('#take-over');
    await page.waitForSelector('#flash.ok');
    const sentBefore = sentTo(h, from).length;
    await page.fill('#reply-body', 'Olá de novo');
    await page.click('#send-reply');
    await page.waitForSelector('#flash.error');
    expect(await page.locator('#flash').textContent()).toContain('more than 24 hours ago');
    expect(sentTo(h, from).length).toBe(sentBefore);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('a supervisor acknowledges an alert, sees an orphan, every agent’s conversations, and reassigns', async () => {
    const tenant = await h.createTestTenant();
    const supervisor = await h.createOperator(tenant, 'SUPERVISOR', 'Sofia');
    const agent = await h.createOperator(tenant, 'AGENT', 'Caio');
    const from = `whatsapp:${randomPhone()}`;
    const row = await handOffToHuman(h, tenant, from);
    const later = await handOffToHuman(h, tenant, `whatsapp:${randomPhone()}`);
    // A number of the tenant's Twilio account that no tenant owns: an orphan.
    const orphanTo = `whatsapp:${randomPhone()}`;
    const orphan = await h.postInbound(tenant, { body: 'alguém aí?', from: `whatsapp:${randomPhone()}`, to: orphanTo });
    expect(orphan.response.status).toBe(200);
    await eventually(
      async () => (await h.db.select().from(orphanInbound).where(eq(orphanInbound.messageSid, orphan.messageSid)))[0],
      5000,
      'orphan row',
    );

    const { context, page, errors } = await consoleSession(browser);
    await signIn(page, supervisor.apiKey);
    // The queue: the longest wait first.
    expect(
      await page
        .locator('#queue tr[data-conversation-id]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-conversation-id'))),
    ).toEqual([row.id, later.id]);
    expect(await page.locator('.bar nav a').allTextContents()).toEqual(
      expect.arrayContaining(['Queue', 'Alerts', 'AI failures', 'Orphans', 'Agents']),
    );
    await page.click('text=Alerts');
    const [alert] = await h.db
      .select()
      .from(alerts)
      .where(and(eq(alerts.conversationId, row.id), eq(alerts.type, 'handoff')));
    await page.waitForSelector(`#open-alerts tr[data-alert-id="${alert!.id}"]`);
    await shot(page, 'alerts');
    await page.locator(`#open-alerts tr[data-alert-id="${alert!.id}"] button.acknowledge`).click();
    await page.waitForSelector('#flash.ok');
    expect(await page.locator(`#open-alerts tr[data-alert-id="${alert!.id}"]`).count()).toBe(0);
    expect(await page.locator(`#acknowledged-alerts tr[data-alert-id="${alert!.id}"]`).textContent()).toContain(
      'by Sofia',
    );
    const [acked] = await h.db.select().from(alerts).where(eq(alerts.id, alert!.id));
    expect(acked!.resolvedAt).not.toBeNull();
    expect(acked!.resolvedBy).toBe(supervisor.id);

    await page.click('text=Orphans');
    await page.waitForSelector(`#orphans tr[data-message-sid="${orphan.messageSid}"]`);
    expect(await page.locator(`#orphans tr[data-message-sid="${orphan.messageSid}"]`).textContent()).toContain(
      orphanTo,
    );
    await shot(page, 'orphans');

    await page.click('text=AI failures');
    await page.waitForSelector('h1');

    // Reassign the waiting conversation to Caio; the agents page then lists it under him, with the journey link.
    await page.goto(`${h.apiUrl}/console/conversations/${row.id}`);
    await page.selectOption('#assign-to', agent.id);
    await page.click('#assign');
    await page.waitForSelector('#flash.ok');
    expect(await page.locator('#conversation-agent').textContent()).toBe('Caio');
    await page.click('text=Agents');
    const held = page.locator(`#agents tr[data-agent-id="${agent.id}"]`);
    await held.waitFor();
    expect(await held.locator('a[href^="/journey?phone="]').count()).toBe(1);
    await shot(page, 'agents');
    expect(errors).toEqual([]);
    await context.close();

    // An agent does not reach the supervisor pages.
    const asAgent = await consoleSession(browser);
    await signIn(asAgent.page, agent.apiKey);
    expect(await asAgent.page.locator('.bar nav a').allTextContents()).not.toContain('Alerts');
    const res = await asAgent.page.goto(`${h.apiUrl}/console/alerts`);
    expect(res!.status()).toBe(404);
    expect(asAgent.errors.filter((e) => !e.includes('404'))).toEqual([]);
    await asAgent.context.close();
  });

  it('department scoping: an agent of support gets 404 for a billing conversation, in the API and the console', async () => {
    const tenant = await h.createTestTenant();
    const support = await h.createOperator(tenant, 'AGENT', 'Duda');
    const billing = await createUser(h.db, {
      tenantId: tenant.tenantId,
      name: 'Edu',
      role: 'AGENT',
      department: 'billing',
    });
    const row = await handOffToHuman(h, tenant, `whatsapp:${randomPhone()}`, { department: 'billing' });
    expect(row.department).toBe('billing');
    // Without the tool's argument the handoff goes to the tenant's default department, which the tenant can change.
    await updateTenant(h.db, tenant.slug, { defaultDepartment: 'collections' });
    const defaulted = await handOffToHuman(h, tenant, `whatsapp:${randomPhone()}`);
    expect(defaulted.department).toBe('collections');

    expect((await h.api(`/api/conversations/${row.id}`, { key: support.apiKey })).status).toBe(404);
    expect((await h.api(`/api/conversations/${row.id}/takeover`, { key: support.apiKey, body: {} })).status).toBe(404);
    const listed = await h.api('/api/conversations?status=HUMAN', { key: support.apiKey });
    expect(listed.json.conversations.map((c: { id: string }) => c.id)).not.toContain(row.id);
    expect((await h.api(`/api/conversations/${row.id}`, { key: billing.apiKey })).status).toBe(200);

    const { context, page, errors } = await consoleSession(browser);
    await signIn(page, support.apiKey);
    expect(await page.locator(`#queue tr[data-conversation-id="${row.id}"]`).count()).toBe(0);
    const res = await page.goto(`${h.apiUrl}/console/conversations/${row.id}`);
    expect(res!.status()).toBe(404);
    expect(await page.locator('#not-found').count()).toBe(1);
    const post = await context.request.get(`${h.apiUrl}/console/live/conversations/${row.id}`, {
      headers: { 'x-console-live': '1' },
    });
    expect(post.status()).toBe(404);
    await context.close();
    expect(errors.filter((e) => !e.includes('404'))).toEqual([]);

    const other = await consoleSession(browser);
    await signIn(other.page, billing.apiKey);
    await other.page.waitForSelector(`#queue tr[data-conversation-id="${row.id}"]`);
    expect(other.errors).toEqual([]);
    await other.context.close();
  });

  it('every page works at 390 px wide: no horizontal scrolling, no console errors', async () => {
    const tenant = await h.createTestTenant();
    const supervisor = await h.createOperator(tenant, 'SUPERVISOR', 'Fabi');
    const row = await handOffToHuman(h, tenant, `whatsapp:${randomPhone()}`, { media: true });
    const { context, page, errors } = await consoleSession(browser, { width: 390 });
    await page.goto(`${h.apiUrl}/console/sign-in`);
    await shot(page, 'phone-sign-in');
    await signIn(page, supervisor.apiKey);
    for (const [name, url] of [
      ['queue', '/console'],
      ['conversation', `/console/conversations/${row.id}`],
      ['alerts', '/console/alerts'],
      ['failures', '/console/failures'],
      ['orphans', '/console/orphans'],
      ['agents', '/console/agents'],
      ['mine', '/console/mine'],
    ] as const) {
      const res = await page.goto(`${h.apiUrl}${url}`);
      expect(res!.status(), url).toBe(200);
      await page.waitForSelector('#operator');
      const overflow = await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth);
      expect(overflow, url).toBeLessThanOrEqual(390);
      await shot(page, `phone-${name}`);
    }
    expect(errors).toEqual([]);
    await context.close();
  });
});
