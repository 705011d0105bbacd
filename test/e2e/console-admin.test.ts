import fs from 'node:fs';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sentTo } from '../support/conversation';
import { randomPhone, startHarness, type Harness, type TestTenant } from '../support/harness';
import { CHROMIUM, consoleSession, launchBrowser, screenshot, SCREENSHOTS, signInToConsole } from '../support/browser';

// Issue 13 (admin part): the console's admin pages in Debian's Chromium. Without it: skipped, loudly.

let h: Harness;
let browser: Browser;
beforeAll(async () => {
  if (!CHROMIUM) return;
  h = await startHarness({ MESSAGE_DEBOUNCE: '100ms', CONVERSATION_IDLE_AFTER: '5m', CONVERSATION_CLOSE_AFTER: '10m' });
  browser = await launchBrowser();
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

const signIn = (page: Page, apiKey: string) => signInToConsole(page, h.apiUrl, apiKey);

const shot = (page: Page, name: string) => screenshot(page, `console-admin-${name}`);

/** The system prompt the next AI turn of a new conversation of the tenant is given. */
async function nextSystemPrompt(tenant: TestTenant): Promise<string> {
  const from = `whatsapp:${randomPhone()}`;
  const before = h.openai.requests.length;
  await h.postInbound(tenant, { body: 'oi', from });
  await h.twilio.waitFor(() => sentTo(h, from).length >= 1);
  const request = h.openai.requests.slice(before).find((r) => r.response_format)!;
  return request.messages.find((m) => m.role === 'system')!.content;
}

const flash = async (page: Page) => (await page.locator('#flash').textContent())?.trim() ?? '';

async function addPrompt(page: Page, version: string, content: string, activate = false) {
  await page.goto(`${h.apiUrl}/console/admin/prompts`);
  await page.fill('form:has(#add-prompt-submit) input[name=version]', version);
  await page.fill('form:has(#add-prompt-submit) textarea[name=content]', content);
  if (activate) await page.check('form:has(#add-prompt-submit) input[name=activate]');
  await page.click('#add-prompt-submit');
  await page.waitForSelector('#flash');
}

describe.skipIf(!CHROMIUM)('console: admin pages in a real browser (issue 13 A)', () => {
  it('an admin adds two prompt versions, sees their diff line by line, activates one (the next AI turn uses it) and rolls back', async () => {
    const tenant = await h.createTestTenant();
    const admin = await h.createOperator(tenant, 'ADMIN', 'Ada');
    const builtIn = await nextSystemPrompt(tenant);
    const { context, page, errors } = await consoleSession(browser);
    await signIn(page, admin.apiKey);
    await page.click('nav a[href="/console/admin/prompts"]');
    await page.waitForSelector('[data-type=support] tr[data-scope=built-in]');

    await addPrompt(page, '3.0.0', 'You are Zed.\nBe brief.\nNever promise refunds.');
    expect(await flash(page)).toContain('3.0.0 added (inactive)');
    await addPrompt(page, '3.1.0', 'You are Zed.\nAnswer in one sentence.\nNever promise refunds.\nSign as Zed.');
    expect(await page.locator('[data-type=support] tr[data-version="3.1.0"]').textContent()).toContain('inactive');
    // Nothing changed for the AI yet.
    expect(await nextSystemPrompt(tenant)).toBe(builtIn);

    // The diff between the two, line by line.
    await page.selectOption('[data-type=support] select[name=from]', '3.0.0');
    await page.selectOption('[data-type=support] select[name=to]', '3.1.0');
    await page.click('[data-type=support] .show-diff');
    await page.waitForSelector('#prompt-diff');
    const rows = await page
      .locator('#prompt-diff tr')
      .evaluateAll((trs) => trs.map((tr) => `${tr.className} ${tr.querySelector('.text')?.textContent ?? ''}`));
    expect(rows).toEqual([
      'diff-same You are Zed.',
      'diff-del Be brief.',
      'diff-add Answer in one sentence.',
      'diff-same Never promise refunds.',
      'diff-add Sign as Zed.',
    ]);
    expect(await page.locator('#diff-summary').textContent()).toBe('3 lines changed.');
    await shot(page, 'prompt-diff');

    // Activate 3.1.0: the next AI turn is given it.
    await page.goto(`${h.apiUrl}/console/admin/prompts`);
    await page.click('[data-type=support] tr[data-version="3.1.0"] button.activate');
    await page.waitForSelector('#flash');
    expect(await flash(page)).toContain('3.1.0 is active (was the built-in prompt)');
    expect(await page.locator('[data-type=support] tr[data-version="3.1.0"]').textContent()).toContain('in effect');
    expect(await nextSystemPrompt(tenant)).toMatch(
      /^You are Zed\.\nAnswer in one sentence\.\nNever promise refunds\.\nSign as Zed\./,
    );
    await shot(page, 'prompts');

    // Activate 3.0.0, then roll back to 3.1.0, then to the built-in prompt.
    await page.click('[data-type=support] tr[data-version="3.0.0"] button.activate');
    await page.waitForSelector('#flash');
    expect(await nextSystemPrompt(tenant)).toMatch(/^You are Zed\.\nBe brief\./);
    await page.click('[data-type=support] button.rollback');
    await page.waitForSelector('#flash');
    expect(await flash(page)).toContain('Rolled back from 3.0.0 to 3.1.0');
    expect(await nextSystemPrompt(tenant)).toMatch(/^You are Zed\.\nAnswer in one sentence\./);
    await page.click('[data-type=support] button.rollback');
    await page.waitForSelector('#flash');
    expect(await flash(page)).toContain('to the built-in prompt');
    expect(await nextSystemPrompt(tenant)).toBe(builtIn);

    // A duplicate version is refused with a message, not an error page.
    await addPrompt(page, '3.0.0', 'again');
    expect(await page.locator('#flash.error').textContent()).toContain('exists already');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('an admin adds a user with role and department (the key shown once), issues and revokes keys, adds departments and templates', async () => {
    const tenant = await h.createTestTenant();
    const admin = await h.createOperator(tenant, 'ADMIN', 'Ada');
    const { context, page, errors } = await consoleSession(browser);
    await signIn(page, admin.apiKey);

    await page.goto(`${h.apiUrl}/console/admin/departments`);
    await page.fill('form:has(#add-department-submit) input[name=name]', 'billing');
    await page.click('#add-department-submit');
    await page.waitForSelector('#flash');
    expect(await page.locator('#departments tr[data-department=billing]').count()).toBe(1);
    await page.selectOption('form:has(#set-default-department) select[name=name]', 'billing');
    await page.click('#set-default-department');
    await page.waitForSelector('#flash');
    expect(await flash(page)).toContain('now go to billing');
    expect(await page.locator('#departments tr[data-department=billing] .default-department').count()).toBe(1);
    expect(await page.locator('#departments .default-department').count()).toBe(1);

    await page.goto(`${h.apiUrl}/console/admin/users`);
    await page.fill('form:has(#add-user-submit) input[name=name]', 'Davi');
    await page.selectOption('form:has(#add-user-submit) select[name=role]', 'AGENT');
    await page.selectOption('form:has(#add-user-submit) select[name=department]', 'billing');
    await page.click('#add-user-submit');
    const key = (await page.locator('#new-api-key').textContent())!.trim();
    expect(key).toMatch(/^cw_[0-9a-f]{12}_/);
    expect((await h.api('/api/conversations', { key })).status).toBe(200);
    await page.goto(`${h.apiUrl}/console/admin/users`);
    const row = page.locator('#users tr[data-name=Davi]');
    expect(await row.textContent()).toContain('billing');
    // The list never shows the key again.
    expect(await page.content()).not.toContain(key);

    await row.locator('button.issue-key').click();
    const second = (await page.locator('#new-api-key').textContent())!.trim();
    expect(second).not.toBe(key);
    await page.goto(`${h.apiUrl}/console/admin/users`);
    const prefix = key.split('_')[1]!;
    await page.locator(`#users li:has(code:text("cw_${prefix}_…")) button.revoke-key`).click();
    await page.waitForSelector('#flash');
    expect(await flash(page)).toContain('Key revoked');
    expect((await h.api('/api/conversations', { key })).status).toBe(401);
    expect((await h.api('/api/conversations', { key: second })).status).toBe(200);

    await page.goto(`${h.apiUrl}/console/admin/templates`);
    const sid = `HX${'cd'.repeat(16)}`;
    await page.fill('form:has(#set-template-submit) input[name=purpose]', 'agent_reply');
    await page.fill('form:has(#set-template-submit) input[name=contentSid]', sid);
    await page.fill('form:has(#set-template-submit) input[name=variables]', '{"1":"text"}');
    await page.click('#set-template-submit');
    await page.waitForSelector('#flash');
    expect(await page.locator('#templates tr[data-purpose=agent_reply]').textContent()).toContain(sid);
    await shot(page, 'templates');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('supervisors and agents get 403 on the admin pages and actions', async () => {
    const tenant = await h.createTestTenant();
    for (const role of ['AGENT', 'SUPERVISOR'] as const) {
      const operator = await h.createOperator(tenant, role);
      const { context, page, errors } = await consoleSession(browser);
      await signIn(page, operator.apiKey);
      expect(await page.locator('nav a[href^="/console/admin"]').count()).toBe(0);
      for (const route of [
        '/console/admin/prompts',
        '/console/admin/users',
        '/console/admin/departments',
        '/console/admin/templates',
      ]) {
        const response = await page.goto(`${h.apiUrl}${route}`);
        expect(response!.status(), `${role} ${route}`).toBe(403);
      }
      // A POST with a valid session and CSRF token is refused too, and changes nothing.
      const csrf = await page.locator('input[name=_csrf]').first().inputValue();
      const posted = await page.request.post(`${h.apiUrl}/console/admin/departments`, {
        form: { _csrf: csrf, name: 'sneaky' },
        maxRedirects: 0,
      });
      expect(posted.status()).toBe(403);
      expect(errors.filter((e) => !e.includes('403'))).toEqual([]);
      await context.close();
    }
    const admin = await h.createOperator(tenant, 'ADMIN');
    const departments = await h.api('/api/admin/departments', { key: admin.apiKey });
    expect(departments.json.departments.map((d: { name: string }) => d.name)).not.toContain('sneaky');
  });

  it('the admin pages work at a 390 px wide viewport', async () => {
    const tenant = await h.createTestTenant();
    const admin = await h.createOperator(tenant, 'ADMIN');
    await h.api('/api/admin/prompts', {
      key: admin.apiKey,
      body: { version: 'a-rather-long-version-name-1', content: 'x'.repeat(400) + '\nline two' },
    });
    const { context, page, errors } = await consoleSession(browser, { width: 390 });
    await signIn(page, admin.apiKey);
    for (const route of ['prompts', 'users', 'departments', 'templates']) {
      await page.goto(`${h.apiUrl}/console/admin/${route}`);
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      expect(width, route).toBeLessThanOrEqual(390);
      await shot(page, `${route}-390`);
    }
    await page.goto(`${h.apiUrl}/console/admin/prompts/support/a-rather-long-version-name-1`);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    expect(errors).toEqual([]);
    await context.close();
  });
});
