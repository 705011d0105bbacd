import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messages } from '../../src/db/schema';
import { eventually, randomPhone, startHarness, type Harness } from '../support/harness';

// The console's role guard over plain HTTP (the browser tests need Chromium): the guard throws ConsoleNotFound and
// the composition root (src/api/console/index.tsx) renders the 404 page; session.ts renders nothing (issue 19).
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ MESSAGE_DEBOUNCE: '200ms' });
});
afterAll(async () => {
  await h?.close();
});

async function signIn(apiKey: string): Promise<string> {
  const response = await fetch(`${h.apiUrl}/console/sign-in`, {
    method: 'POST',
    body: new URLSearchParams({ key: apiKey }),
    redirect: 'manual',
  });
  expect(response.status).toBe(303);
  const cookie = response.headers.get('set-cookie');
  expect(cookie).toContain('causeway_console=');
  return cookie!.split(';')[0]!;
}

const get = (path: string, cookie: string) => fetch(`${h.apiUrl}${path}`, { headers: { cookie }, redirect: 'manual' });

describe('console role guard', () => {
  it("an AGENT gets the console's own 404 page for supervisor pages and actions; a SUPERVISOR gets the pages", async () => {
    const tenant = await h.createTestTenant();
    const agent = await signIn((await h.createOperator(tenant, 'AGENT')).apiKey);
    const supervisor = await signIn((await h.createOperator(tenant, 'SUPERVISOR')).apiKey);

    for (const path of ['/console/alerts', '/console/failures', '/console/agents']) {
      const refused = await get(path, agent);
      expect(refused.status, path).toBe(404);
      expect(refused.headers.get('content-type')).toContain('text/html');
      const html = await refused.text();
      expect(html).toContain('id="not-found"');
      expect(html).toContain('id="operator"'); // the console's layout, signed in: not the API's JSON 404

      const allowed = await get(path, supervisor);
      expect(allowed.status, path).toBe(200);
      expect(await allowed.text()).not.toContain('id="not-found"');
    }
    // Other errors still reach the API's error handler: an unknown page is the console's 404, as before.
    const unknown = await get('/console/no-such-page', agent);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('id="not-found"');
  });
});

describe("the console's message detail (issue 21 C)", () => {
  it('shows why a reply went out — the policy verdict, every check, the model — to its tenant only', async () => {
    const tenant = await h.createTestTenant();
    const supervisor = await signIn((await h.createOperator(tenant, 'SUPERVISOR')).apiKey);
    const stranger = await signIn((await h.createOperator(await h.createTestTenant(), 'SUPERVISOR')).apiKey);
    const from = `whatsapp:${randomPhone()}`;
    await h.postInbound(tenant, { body: 'hello there', from });
    const reply = (await h.twilio.waitFor((sent) => sent.some((m) => m.to === from))).find((m) => m.to === from);
    // The reply's SID is written once Twilio's answer is back: the fake may hold the message before that.
    const stored = () =>
      h.db
        .select({ id: messages.id, conversationId: messages.conversationId })
        .from(messages)
        .where(eq(messages.providerSid, reply!.sid));
    await eventually(async () => (await stored()).length === 1, 10_000, 'the reply stored with its SID');
    const [row] = await stored();

    const conversation = await (await get(`/console/conversations/${row!.conversationId}`, supervisor)).text();
    expect(conversation).toContain(`href="/console/messages/${row!.id}"`);

    const detail = await get(`/console/messages/${row!.id}`, supervisor);
    expect(detail.status).toBe(200);
    const html = await detail.text();
    expect(html).toMatch(/Policy: SEND · service \(ai_reply\) · rules br-\d{4}-\d{2}-\d{2}\.\d+/);
    expect(html).toContain('data-check="opt_out"');
    expect(html).toContain('data-check="contact_hours"');
    expect(html).toMatch(/id="why-ai">[^<]*fake-model/);
    expect(html).not.toContain('hello there'); // no message text on the detail
    expect(html).not.toContain(from.slice('whatsapp:'.length)); // nor the phone

    const other = await get(`/console/messages/${row!.id}`, stranger);
    expect(other.status).toBe(404);
    expect(await other.text()).toContain('id="not-found"');
  });
});
