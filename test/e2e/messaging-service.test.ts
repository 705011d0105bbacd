import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messages } from '../../src/db/schema';
import { updateTenant } from '../../src/db/tenants/tenants';
import { sentTo } from '../support/conversation';
import { eventually, randomPhone, startHarness, type Harness } from '../support/harness';

// Issue 22 F: a tenant on a Twilio Messaging Service sends with MessagingServiceSid, not From.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ MESSAGE_DEBOUNCE: '100ms' }, { statusCallbacks: true });
});
afterAll(async () => {
  await h?.close();
});

describe('Messaging Services', () => {
  it('replies go out with MessagingServiceSid (Twilio picks the sender), and their status callbacks are applied', async () => {
    const tenant = await h.createTestTenant();
    const service = `MG${randomBytes(16).toString('hex')}`;
    h.twilio.addMessagingService(service, [tenant.phone, tenant.address]);
    await updateTenant(h.db, tenant.slug, { messagingServiceSid: service });

    for (const from of [`whatsapp:${randomPhone()}`, randomPhone()]) {
      const to = from.startsWith('whatsapp:') ? tenant.address : tenant.phone;
      const { messageSid } = await h.postInbound(tenant, {
        body: 'olá',
        from,
        to,
        extra: { MessagingServiceSid: service },
      });
      await h.twilio.waitFor(() => sentTo(h, from).length === 1);
      expect(sentTo(h, from)[0]).toMatchObject({ messagingServiceSid: service, from: to, body: 'Echo: olá' });
      await eventually(async () => {
        const [row] = await h.db
          .select({ status: messages.status })
          .from(messages)
          .where(and(eq(messages.correlationId, messageSid), eq(messages.direction, 'outbound')));
        return row?.status === 'delivered' || null;
      }, 15_000);
    }

    // Back to From numbers.
    await updateTenant(h.db, tenant.slug, { messagingServiceSid: null });
    const from = `whatsapp:${randomPhone()}`;
    await h.postInbound(tenant, { body: 'de novo', from });
    await h.twilio.waitFor(() => sentTo(h, from).length === 1);
    expect(sentTo(h, from)[0]!.messagingServiceSid).toBeNull();
  });
});
