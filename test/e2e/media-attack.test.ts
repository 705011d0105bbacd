import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversations, messages } from '../../src/db/schema';
import { csrfTokenFor } from '../../src/api/console/session';
import { conversationOf, sentTo } from '../support/conversation';
import { eventually, randomPhone, startHarness, type Harness, type TestTenant } from '../support/harness';

// Issue 18 A, written as the attack: an AGENT plants Twilio's Account resource as a media URL and asks the console's
// media proxy to fetch it with the tenant's credentials (the auth token is in that resource).
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ MESSAGE_DEBOUNCE: '100ms' });
});
afterAll(async () => {
  await h?.close();
});

async function consoleSession(apiKey: string) {
  const response = await h.app.request(`${h.apiUrl}/console/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ key: apiKey }).toString(),
  });
  expect(response.status).toBe(303);
  const token = /causeway_console=([\w-]+);/.exec(response.headers.get('set-cookie')!)![1]!;
  return {
    get: (path: string) => fetch(`${h.apiUrl}${path}`, { headers: { cookie: `causeway_console=${token}` } }),
    post: (path: string, form: Record<string, string>) =>
      fetch(`${h.apiUrl}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: `causeway_console=${token}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...form, _csrf: csrfTokenFor(token) }).toString(),
      }),
  };
}

/** A customer writes with a photo; the agent takes the conversation over. */
async function heldConversation(tenant: TestTenant, apiKey: string) {
  const from = `whatsapp:${randomPhone()}`;
  const { messageSid } = await h.postInbound(tenant, {
    body: 'segue a foto',
    from,
    media: [{ contentType: 'image/png' }],
  });
  await h.twilio.waitFor(() => sentTo(h, from).length >= 1);
  const workflowId = await conversationOf(h, messageSid);
  const row = await eventually(
    async () => (await h.db.select().from(conversations).where(eq(conversations.workflowId, workflowId)))[0],
    10_000,
    'conversation row',
  );
  expect((await h.api(`/api/conversations/${row.id}/takeover`, { key: apiKey, body: {} })).status).toBe(200);
  const [inbound] = await h.db.select().from(messages).where(eq(messages.providerSid, messageSid));
  return { row, from, inbound: inbound! };
}

const authenticatedTo = (pathPrefix: string) =>
  h.twilio.requests.filter((r) => r.authorization && r.path.startsWith(pathPrefix));

describe('issue 18 A: credentials never leave through a media URL', () => {
  it('the planted Account-resource URL is refused by the API and the console, and the proxy never fetches it', async () => {
    const tenant = await h.createTestTenant();
    const agent = await h.createOperator(tenant, 'AGENT');
    const { row, from, inbound } = await heldConversation(tenant, agent.apiKey);
    const planted = `https://api.twilio.com/2010-04-01/Accounts/${tenant.accountSid}.json?x=/Accounts/${tenant.accountSid}/`;
    const plantedOnFake = `${h.twilio.url}/2010-04-01/Accounts/${tenant.accountSid}.json?x=/Accounts/${tenant.accountSid}/`;
    const sentBefore = sentTo(h, from).length;

    // Through the JSON API.
    for (const mediaUrl of [planted, plantedOnFake, planted.replace('api.twilio.com', 'messaging.twilio.com')]) {
      const refused = await h.api(`/api/conversations/${row.id}/messages`, { key: agent.apiKey, body: { mediaUrl } });
      expect(refused.status, mediaUrl).toBe(400);
    }
    // Through the console's reply form.
    const console = await consoleSession(agent.apiKey);
    const reply = await console.post(`/console/conversations/${row.id}/reply`, { body: 'veja', mediaUrl: planted });
    expect(reply.status).toBe(303);
    const flash = decodeURIComponent(
      decodeURIComponent(/causeway_console_flash=([^;]+)/.exec(reply.headers.get('set-cookie')!)![1]!),
    );
    expect(flash).toMatch(/^error:The media URL must be a public https address/);
    // Nothing reached Twilio and nothing was stored with that URL.
    expect(sentTo(h, from).length).toBe(sentBefore);
    const stored = await h.db.select().from(messages).where(eq(messages.conversationId, row.id));
    expect(JSON.stringify(stored.map((m) => m.media))).not.toContain('.json');

    // A row that already holds the URL (stored before this fix, on an agent's message or on the customer's own):
    // the proxy answers 404 and never sends the account's credentials for it.
    const [outbound] = await h.db
      .insert(messages)
      .values({
        tenantId: tenant.tenantId,
        conversationId: row.id,
        contactId: inbound.contactId,
        direction: 'outbound',
        channel: 'whatsapp',
        fromAddress: tenant.address,
        toAddress: from,
        media: [{ url: plantedOnFake, contentType: 'application/json' }],
        sentBy: 'agent',
        status: 'failed',
        correlationId: 'planted',
      })
      .returning();
    expect((await console.get(`/console/media/${outbound!.id}/0`)).status).toBe(404);
    await h.db
      .update(messages)
      .set({ media: [...inbound.media, { url: plantedOnFake, contentType: 'image/png' }] })
      .where(eq(messages.id, inbound.id));
    expect((await console.get(`/console/media/${inbound.id}/1`)).status).toBe(404);
    // Another message's genuine media URL pasted on this one: not this message's, 404.
    const other = await heldConversation(tenant, agent.apiKey);
    await h.db
      .update(messages)
      .set({ media: [...inbound.media, ...other.inbound.media] })
      .where(eq(messages.id, inbound.id));
    expect((await console.get(`/console/media/${inbound.id}/1`)).status).toBe(404);
    expect(authenticatedTo(`/2010-04-01/Accounts/${tenant.accountSid}.json`)).toEqual([]);

    // The genuine inbound photo is still served: credentials to Twilio's media URL only, the CDN hop without them.
    const served = await console.get(`/console/media/${inbound.id}/0`);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect((await served.arrayBuffer()).byteLength).toBeGreaterThan(0);
    const mediaSid = /\/Media\/(ME[0-9a-f]{32})$/.exec(inbound.media[0]!.url)![1]!;
    expect(h.twilio.cdnRequests.filter((r) => r.mediaSid === mediaSid)).toEqual([{ mediaSid, authorization: false }]);
    // Credentials go only to Twilio's REST API (and its WhatsApp typing indicator endpoint, issue 22 E), never to the CDN.
    expect(
      h.twilio.requests
        .filter((r) => r.authorization)
        .every((r) => r.path.startsWith('/2010-04-01/') || r.path === '/v2/Indicators/Typing.json'),
    ).toBe(true);
  });

  it('a media URL whose host resolves to a private address is refused; a public one is sent', async () => {
    const tenant = await h.createTestTenant();
    const agent = await h.createOperator(tenant, 'AGENT');
    const { row, from } = await heldConversation(tenant, agent.apiKey);
    await h.twilio.waitFor(() => sentTo(h, from).length >= 2); // agent_joined
    h.dns.set('files.attacker.example.net', ['127.0.0.1']);
    h.dns.set('v6.attacker.example.net', ['93.184.215.14', '::ffff:169.254.169.254']);
    h.dns.set('ula.attacker.example.net', ['fd12:3456::1']);
    const sentBefore = sentTo(h, from).length;
    for (const mediaUrl of [
      'https://files.attacker.example.net/a.png',
      'https://v6.attacker.example.net/a.png',
      'https://ula.attacker.example.net/a.png',
      'https://unresolvable.example.net/a.png',
      'https://user:secret@cdn.example.com/a.png',
    ]) {
      const refused = await h.api(`/api/conversations/${row.id}/messages`, { key: agent.apiKey, body: { mediaUrl } });
      expect(refused.status, mediaUrl).toBe(400);
      expect(refused.json.error.message).toMatch(/public https address/);
    }
    expect(sentTo(h, from).length).toBe(sentBefore);
    const ok = await h.api(`/api/conversations/${row.id}/messages`, {
      key: agent.apiKey,
      body: { mediaUrl: 'https://cdn.example.com/boleto.pdf' },
    });
    expect(ok.status, JSON.stringify(ok.json)).toBe(201);
    await h.twilio.waitFor(() => sentTo(h, from).length > sentBefore);
    expect(sentTo(h, from).at(-1)).toMatchObject({ mediaUrl: ['https://cdn.example.com/boleto.pdf'] });
  });
});
