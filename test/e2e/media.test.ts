import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversations, messages } from '../../src/db/schema';
import { MEDIA_NOTE } from '../../src/domain/media';
import { newMessageSid } from '../../src/integrations/signed-webhook';
import { conversationOf, sentTo } from '../support/conversation';
import { eventually, randomPhone, startHarness, type Harness, type TestTenant } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ MESSAGE_DEBOUNCE: '200ms', CONVERSATION_IDLE_AFTER: '5m', CONVERSATION_CLOSE_AFTER: '10m' });
});
afterAll(async () => {
  await h?.close();
});

/** An inbound webhook as Twilio posts a media message: NumMedia, MediaUrlN, MediaContentTypeN, Body possibly empty. */
async function postMediaInbound(
  tenant: TestTenant,
  from: string,
  body: string,
  media: { url: string; contentType: string }[],
) {
  const extra: Record<string, string> = { NumMedia: String(media.length) };
  media.forEach((m, i) => {
    extra[`MediaUrl${i}`] = m.url;
    extra[`MediaContentType${i}`] = m.contentType;
  });
  const { response, messageSid } = await h.postInbound(tenant, { body, from, extra });
  expect(response.status).toBe(200);
  return messageSid;
}

const mediaUrl = (tenant: TestTenant, sid: string) =>
  `https://api.twilio.com/2010-04-01/Accounts/${tenant.accountSid}/Messages/${sid}/Media/ME${'0'.repeat(32)}`;

describe('D: media for the AI and from agents', () => {
  it('a media-only message reaches the AI turn as a description, and the AI answers it', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    const before = h.openai.requests.length;
    const sid = newMessageSid();
    const posted = await postMediaInbound(tenant, from, '', [
      { url: mediaUrl(tenant, sid), contentType: 'image/jpeg' },
    ]);
    await h.twilio.waitFor(() => sentTo(h, from).length >= 1);
    const turnRequest = h.openai.requests.slice(before).find((r) => r.response_format);
    expect(turnRequest?.messages.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['[image]']);
    // The URL (it needs the account's credentials, and is personal data) never reaches the model.
    expect(JSON.stringify(turnRequest)).not.toContain('api.twilio.com');
    expect(sentTo(h, from)[0]!.body).toBe('Echo: [image]');
    expect(turnRequest?.messages.find((m) => m.role === 'system')?.content).toContain(MEDIA_NOTE);

    // A later message with text and a document: both reach the AI, the history keeps the image.
    await postMediaInbound(tenant, from, 'segue o comprovante', [
      { url: mediaUrl(tenant, newMessageSid()), contentType: 'application/pdf' },
    ]);
    await h.twilio.waitFor(() => sentTo(h, from).length >= 2);
    const second = h.openai.requests.filter((r) => r.response_format).at(-1)!;
    expect(second.messages.filter((m) => m.role === 'user').map((m) => m.content)).toEqual([
      '[image]',
      '[document] segue o comprovante',
    ]);
    const [stored] = await h.db.select().from(messages).where(eq(messages.providerSid, posted));
    expect(stored!.body).toBe('');
    expect(stored!.media).toEqual([{ url: mediaUrl(tenant, sid), contentType: 'image/jpeg' }]);
  });

  it("an agent's reply with a mediaUrl reaches Twilio as MediaUrl (text optional); bad URLs are refused", async () => {
    const tenant = await h.createTestTenant();
    const agent = await h.createOperator(tenant, 'AGENT', 'Bia');
    const from = `whatsapp:${randomPhone()}`;
    const { messageSid } = await h.postInbound(tenant, { body: 'quero a segunda via', from });
    await h.twilio.waitFor(() => sentTo(h, from).length >= 1);
    const workflowId = await conversationOf(h, messageSid);
    const row = await eventually(
      async () => (await h.db.select().from(conversations).where(eq(conversations.workflowId, workflowId)))[0],
      5000,
      'conversation row',
    );
    expect((await h.api(`/api/conversations/${row.id}/takeover`, { key: agent.apiKey, body: {} })).status).toBe(200);
    await h.twilio.waitFor(() => sentTo(h, from).length >= 2); // agent_joined

    for (const bad of [
      { mediaUrl: 'http://cdn.example.com/boleto.pdf' },
      { mediaUrl: 'not a url' },
      { body: '   ' },
      {},
    ]) {
      const refused = await h.api(`/api/conversations/${row.id}/messages`, { key: agent.apiKey, body: bad });
      expect(refused.status, JSON.stringify(bad)).toBe(400);
    }

    const url = 'https://cdn.example.com/boletos/2a-via.pdf';
    const mediaOnly = await h.api(`/api/conversations/${row.id}/messages`, {
      key: agent.apiKey,
      body: { mediaUrl: url },
    });
    expect(mediaOnly.status, JSON.stringify(mediaOnly.json)).toBe(201);
    const withText = await h.api(`/api/conversations/${row.id}/messages`, {
      key: agent.apiKey,
      body: { body: 'Aqui está', mediaUrl: 'https://cdn.example.com/foto.jpg' },
    });
    expect(withText.status).toBe(201);
    await h.twilio.waitFor(() => sentTo(h, from).length >= 4);
    const [media, text] = sentTo(h, from).slice(2);
    expect(media).toMatchObject({ body: '', mediaUrl: [url] });
    expect(text).toMatchObject({ body: 'Bia: Aqui está', mediaUrl: ['https://cdn.example.com/foto.jpg'] });
    const [stored] = await h.db
      .select()
      .from(messages)
      .where(eq(messages.id, mediaOnly.json.message.messageId as string));
    expect(stored).toMatchObject({ sentBy: 'agent', body: '', media: [{ url, contentType: null }] });
  });
});
