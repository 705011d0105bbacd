import { randomInt } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErasureSummary } from '../../src/contract';
import { contacts, messages } from '../../src/db/schema';
import { requestErasure } from '../../src/temporal/start-erasure';
import { conversationOf, sentTo } from '../support/conversation';
import { eventually, randomPhone, startHarness, type Harness, type TestTenant } from '../support/harness';

// Issue 22 A: WhatsApp customers with a username reach us by BSUID (From `whatsapp:BR.…`, Twilio's
// ExternalUserIdentifier beside a phone From once the number is shared); one contact, one history.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ MESSAGE_DEBOUNCE: '100ms' });
});
afterAll(async () => {
  await h?.close();
});

const newBsuid = () => `BR.${randomInt(1e9, 9e9)}${randomInt(1e6, 9e6)}`;

async function contactsOf(tenant: TestTenant) {
  return h.db.select().from(contacts).where(eq(contacts.tenantId, tenant.tenantId));
}

describe('contacts by WhatsApp BSUID', () => {
  it('a webhook whose From is a BSUID is answered exactly once, to that address; the phone shared later is the same contact and history', async () => {
    const tenant = await h.createTestTenant();
    const bsuid = newBsuid();
    const byId = `whatsapp:${bsuid}`;
    const first = await h.postInbound(tenant, { body: 'oi, sou eu', from: byId });
    expect(first.response.status).toBe(200);
    // Twilio's retry of the same webhook changes nothing.
    await h.postInbound(tenant, { body: 'oi, sou eu', from: byId, messageSid: first.messageSid });
    await h.twilio.waitFor(() => sentTo(h, byId).length >= 1);
    const conversation = await conversationOf(h, first.messageSid);
    await new Promise((r) => setTimeout(r, 800));
    expect(sentTo(h, byId).map((m) => m.body)).toEqual(['Echo: oi, sou eu']);
    expect((await contactsOf(tenant)).map((c) => [c.phone, c.bsuid])).toEqual([[bsuid, bsuid]]);

    // The customer shares the number: Twilio's From is the phone, ExternalUserIdentifier the BSUID.
    const phone = randomPhone();
    const second = await h.postInbound(tenant, {
      body: 'agora com número',
      from: `whatsapp:${phone}`,
      extra: { ExternalUserIdentifier: bsuid },
    });
    await h.twilio.waitFor(() => sentTo(h, `whatsapp:${phone}`).length >= 1);
    expect(await conversationOf(h, second.messageSid)).toBe(conversation);
    const all = await contactsOf(tenant);
    expect(all.map((c) => [c.phone, c.bsuid])).toEqual([[phone, bsuid]]);
    const inbound = await h.db
      .select({ contactId: messages.contactId })
      .from(messages)
      .where(and(eq(messages.tenantId, tenant.tenantId), eq(messages.direction, 'inbound')));
    expect(new Set(inbound.map((m) => m.contactId))).toEqual(new Set([all[0]!.id]));

    // Writing by BSUID again (number withheld): still that contact, still that conversation.
    const third = await h.postInbound(tenant, { body: 'de novo', from: byId });
    expect(await conversationOf(h, third.messageSid)).toBe(conversation);
    expect(await contactsOf(tenant)).toHaveLength(1);
  });

  it('a BSUID is not a phone: SMS or a tenant number in BSUID form is refused', async () => {
    const tenant = await h.createTestTenant();
    const sms = await h.postInbound(tenant, {
      body: 'x',
      from: newBsuid(),
      to: tenant.address.replace('whatsapp:', ''),
    });
    expect(sms.response.status).toBe(400);
  });

  it('erasure by the BSUID removes the contact known by both identities', async () => {
    const tenant = await h.createTestTenant();
    const bsuid = newBsuid();
    const phone = randomPhone();
    await h.postInbound(tenant, { body: 'primeira', from: `whatsapp:${bsuid}` });
    await h.twilio.waitFor(() => sentTo(h, `whatsapp:${bsuid}`).length >= 1);
    await h.postInbound(tenant, {
      body: 'segunda',
      from: `whatsapp:${phone}`,
      extra: { ExternalUserIdentifier: bsuid },
    });
    await h.twilio.waitFor(() => sentTo(h, `whatsapp:${phone}`).length >= 1);
    expect(await contactsOf(tenant)).toHaveLength(1);

    const started = await requestErasure(h.db, h.client, h.env.TEMPORAL_TASK_QUEUE, {
      tenant: { slug: tenant.slug },
      phone: `whatsapp:${bsuid}`,
      reason: 'customer asked',
      requestedBy: 'test',
    });
    const summary = (await h.client.workflow.getHandle(started.workflowId, started.runId).result()) as ErasureSummary;
    expect(summary.counts).toMatchObject({ messages: expect.any(Number) });
    const [erased] = await contactsOf(tenant);
    expect(erased!.phone).toMatch(/^erased:/);
    expect(erased!.bsuid).toBeNull();
    const left = await eventually(async () => {
      const rows = await h.db
        .select({ body: messages.body, from: messages.fromAddress })
        .from(messages)
        .where(eq(messages.tenantId, tenant.tenantId));
      return rows.every((r) => !r.from.includes(bsuid) && !r.from.includes(phone)) ? rows : null;
    }, 10_000);
    expect(left.map((r) => r.body)).not.toContain('primeira');
  });
});
