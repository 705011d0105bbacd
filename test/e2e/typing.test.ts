import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateTenant } from '../../src/db/tenants/tenants';
import { sentTo } from '../support/conversation';
import { randomPhone, startHarness, type Harness } from '../support/harness';

// Issue 22 E: WhatsApp's typing indicator, shown when a turn starts for a customer message; best effort.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ MESSAGE_DEBOUNCE: '300ms' });
});
afterAll(async () => {
  await h?.close();
});

describe('the WhatsApp typing indicator', () => {
  it('reaches Twilio with the inbound message id before the reply, on WhatsApp only', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    const { messageSid } = await h.postInbound(tenant, { body: 'olá', from });
    await h.twilio.waitFor(() => sentTo(h, from).length === 1);
    const shown = h.twilio.typing.filter((t) => t.messageId === messageSid);
    expect(shown).toHaveLength(1);
    expect(shown[0]!.accountSid).toBe(tenant.accountSid);
    expect(shown[0]!.at.getTime()).toBeLessThan(sentTo(h, from)[0]!.dateCreated.getTime());

    const sms = randomPhone();
    const bySms = await h.postInbound(tenant, { body: 'oi por sms', from: sms, to: tenant.phone });
    await h.twilio.waitFor(() => sentTo(h, sms).length === 1);
    expect(h.twilio.typing.filter((t) => t.messageId === bySms.messageSid)).toEqual([]);
  });

  it('is off per tenant, and a failing indicator never delays or fails the reply', async () => {
    const tenant = await h.createTestTenant();
    await updateTenant(h.db, tenant.slug, { typingIndicator: false });
    const from = `whatsapp:${randomPhone()}`;
    const off = await h.postInbound(tenant, { body: 'sem digitando', from });
    await h.twilio.waitFor(() => sentTo(h, from).length === 1);
    expect(h.twilio.typing.filter((t) => t.messageId === off.messageSid)).toEqual([]);

    // Twilio's typing endpoint failing: the reply goes out all the same, once.
    const other = await h.createTestTenant();
    const customer = `whatsapp:${randomPhone()}`;
    h.twilio.typingOutage = true;
    try {
      const failing = await h.postInbound(other, { body: 'endpoint fora', from: customer });
      await h.twilio.waitFor(() => sentTo(h, customer).length === 1);
      expect(h.twilio.typing.filter((t) => t.messageId === failing.messageSid)).toEqual([]);
      await new Promise((r) => setTimeout(r, 500));
      expect(sentTo(h, customer)).toHaveLength(1);
    } finally {
      h.twilio.typingOutage = false;
    }
  });
});
