import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alerts, contacts, events, messages } from '../../src/db/schema';
import { createTwilioGateway, TwilioSendError } from '../../src/integrations/twilio-gateway';
import { newMessageSid } from '../../src/integrations/signed-webhook';
import {
  contentSidFor,
  launchCampaign,
  targetRows,
  startTestCampaign,
  targets,
  waitForStatus,
} from '../support/campaigns';
import { setContentTemplate } from '../../src/db/outbound/content-templates';
import { randomBytes } from 'node:crypto';
import { sentTo } from '../support/conversation';
import { eventually, randomPhone, startHarness, type Harness, type TestTenant } from '../support/harness';

// Issue 22 B, C, D: status callbacks move the message and the contact as the error table says; template variables
// are checked before the call; every status Twilio may send is taken.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ MESSAGE_DEBOUNCE: '100ms', CAMPAIGN_DELIVERY_TIMEOUT: '20s' }, { statusCallbacks: true });
});
afterAll(async () => {
  await h?.close();
});

const HOUR = 3_600_000;

async function contactRow(tenant: TestTenant, phone: string) {
  const [row] = await h.db
    .select()
    .from(contacts)
    .where(and(eq(contacts.tenantId, tenant.tenantId), eq(contacts.phone, phone)));
  return row!;
}

/** The tenant's `broadcast` Content template with its own SID and these declared variables (template set). */
async function declareTemplate(tenant: TestTenant, variables: Record<string, string>) {
  const contentSid = `HX${randomBytes(16).toString('hex')}`;
  await setContentTemplate(h.db, { tenantId: tenant.tenantId, purpose: 'broadcast', contentSid, variables });
  return contentSid;
}

async function alertsOf(tenant: TestTenant, type: string) {
  return h.db
    .select()
    .from(alerts)
    .where(and(eq(alerts.tenantId, tenant.tenantId), eq(alerts.type, type)));
}

describe('the error table in status callbacks (B)', () => {
  it('63049: no resend within the contact backoff; the target waits past it; another campaign defers the contact', async () => {
    const tenant = await h.createTestTenant();
    const rows = targets(1);
    const to = `whatsapp:${rows[0]!.phone}`;
    h.twilio.scriptDelivery(to, [{ status: 'failed', errorCode: '63049' }]);
    const c = await launchCampaign(h, tenant, rows, { maxAttempts: 3, attemptSpacingSeconds: 1 });
    const [target] = await eventually(
      async () => {
        const t = await targetRows(h, c.campaignId);
        return t[0]?.outcome === 'retry_after_failed' ? t : null;
      },
      20_000,
      'the target rescheduled after 63049',
    );
    // Meta's decline holds the contact for a day (progressive backoff), not the campaign's 1 s spacing.
    expect(target!.state).toBe('scheduled');
    expect(target!.nextAttemptAt.getTime()).toBeGreaterThan(Date.now() + 23 * HOUR);
    const contact = await contactRow(tenant, rows[0]!.phone);
    expect(contact.backoffCount).toBe(1);
    expect(contact.backoffUntil!.getTime()).toBeGreaterThan(Date.now() + 23 * HOUR);

    // A second campaign reaching the same contact inside the backoff defers it: no send.
    const second = await launchCampaign(h, tenant, rows, { maxAttempts: 1 });
    await eventually(
      async () => (await targetRows(h, second.campaignId))[0]?.outcome === 'contact_backoff',
      20_000,
      'the second campaign defers the contact',
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(sentTo(h, to)).toHaveLength(1);
    const [deferred] = await targetRows(h, second.campaignId);
    expect(deferred!.nextAttemptAt.getTime()).toBe(contact.backoffUntil!.getTime());
  });

  it('63024: the contact is marked invalid on WhatsApp and later campaigns skip it; a new inbound clears the mark', async () => {
    const tenant = await h.createTestTenant();
    const rows = targets(1);
    const to = `whatsapp:${rows[0]!.phone}`;
    h.twilio.scriptDelivery(to, [{ status: 'undelivered', errorCode: '63024' }]);
    const c = await launchCampaign(h, tenant, rows, { maxAttempts: 3, attemptSpacingSeconds: 1 });
    await waitForStatus(h, c.campaignId, 'completed', 30_000);
    expect((await targetRows(h, c.campaignId)).map((t) => [t.state, t.attemptCount, t.outcome])).toEqual([
      ['failed', 1, 'invalid_recipient'],
    ]);
    expect(await contactRow(tenant, rows[0]!.phone)).toMatchObject({
      invalidChannel: 'whatsapp',
      invalidCode: '63024',
      invalidAt: expect.any(Date),
    });

    const again = await launchCampaign(h, tenant, rows, { maxAttempts: 1 });
    await waitForStatus(h, again.campaignId, 'completed', 30_000);
    expect((await targetRows(h, again.campaignId)).map((t) => [t.state, t.outcome])).toEqual([
      ['skipped', 'contact_invalid'],
    ]);
    expect(sentTo(h, to)).toHaveLength(1);

    await h.postInbound(tenant, { body: 'voltei', from: to });
    await eventually(
      async () => (await contactRow(tenant, rows[0]!.phone)).invalidAt === null,
      10_000,
      'the mark cleared by the customer writing',
    );
  });

  it('63028 (from a template whose placeholders differ, as Meta reports it): the target fails and an admin is alerted once', async () => {
    const tenant = await h.createTestTenant();
    const rows = targets(2);
    // The tenant declared one variable; the template at Twilio has two placeholders.
    const c = await launchCampaign(h, tenant, rows, { maxAttempts: 3, attemptSpacingSeconds: 1 }, false);
    const sid = await declareTemplate(tenant, { 1: 'name' });
    h.twilio.addContent(sid, ['1', '2']);
    await startTestCampaign(h, tenant, c.campaignId, c.traceId);
    await waitForStatus(h, c.campaignId, 'completed', 30_000);
    expect((await targetRows(h, c.campaignId)).map((t) => [t.state, t.attemptCount, t.outcome])).toEqual([
      ['failed', 1, 'template_parameter_count'],
      ['failed', 1, 'template_parameter_count'],
    ]);
    const raised = await alertsOf(tenant, 'template_invalid');
    expect(raised).toHaveLength(1);
    expect(raised[0]!.payload).toMatchObject({ errorCode: '63028', contentSid: sid });
    expect(raised[0]!.message).toContain('causeway template set');
  });

  it('an unknown ErrorCode: resent with a bounded backoff and a twilio_unknown_error alert', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    h.twilio.scriptDelivery(from, [{ status: 'failed', errorCode: '63999' }], ['sent', 'delivered']);
    await h.postInbound(tenant, { body: 'olá', from });
    await h.twilio.waitFor(() => sentTo(h, from).length === 2, 20_000);
    expect(sentTo(h, from).map((m) => m.status)).toEqual(['failed', expect.stringMatching(/sent|delivered|queued/)]);
    const [alert] = await eventually(async () => {
      const a = await alertsOf(tenant, 'twilio_unknown_error');
      return a.length ? a : null;
    }, 10_000);
    expect(alert!.payload).toMatchObject({ errorCode: '63999' });
  });
});

describe('template variables checked before the call (C)', () => {
  it('a declared variable missing or blank: no Twilio call, targets fail as template_variables, one alert', async () => {
    const tenant = await h.createTestTenant();
    const rows = targets(2); // no due dates: `due_date` is blank for both
    const before = h.twilio.sent.length;
    const c = await launchCampaign(h, tenant, rows, { maxAttempts: 3, attemptSpacingSeconds: 1 }, false);
    await declareTemplate(tenant, { 1: 'name', 2: 'due_date' });
    await startTestCampaign(h, tenant, c.campaignId, c.traceId);
    await waitForStatus(h, c.campaignId, 'completed', 30_000);
    expect((await targetRows(h, c.campaignId)).map((t) => [t.state, t.outcome])).toEqual([
      ['failed', 'template_variables'],
      ['failed', 'template_variables'],
    ]);
    expect(h.twilio.sent.length).toBe(before);
    const raised = await alertsOf(tenant, 'template_variables');
    expect(raised).toHaveLength(1);
    expect(raised[0]!.message).toContain('{{2}} due_date empty');
    const stored = await h.db
      .select({ status: messages.status })
      .from(messages)
      .where(and(eq(messages.tenantId, tenant.tenantId), eq(messages.direction, 'outbound')));
    expect(stored.map((m) => m.status)).toEqual(['failed', 'failed']);
  });

  it('the fake refuses what Twilio refuses: an empty value (21656), Body with ContentVariables (35127)', async () => {
    const tenant = await h.createTestTenant();
    const gateway = createTwilioGateway({ apiBaseUrl: h.twilio.url, timeoutMs: 5000 });
    const credentials = { accountSid: tenant.accountSid, authToken: tenant.authToken };
    const base = { from: tenant.address, to: `whatsapp:${randomPhone()}`, contentSid: contentSidFor('x') };
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => null,
        (e: unknown) => (e instanceof TwilioSendError ? [e.code, e.classification.class] : e),
      );
    expect(await codeOf(gateway.send(credentials, { ...base, contentVariables: { 1: '' } }))).toEqual([
      21656,
      'template_invalid',
    ]);
    expect(await codeOf(gateway.send(credentials, { ...base, body: 'oi', contentVariables: { 1: 'a' } }))).toEqual([
      35127,
      'template_invalid',
    ]);
    expect(await codeOf(gateway.send(credentials, { ...base, contentVariables: { 1: 'Ana' } }))).toBeNull();
  });
});

describe('every status Twilio may send is taken (D)', () => {
  it('partially_delivered is recorded in order; an unknown status is stored as an event, not refused', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    h.twilio.scriptDelivery(from, [{ status: 'sent', dropCallback: true }]);
    const { messageSid } = await h.postInbound(tenant, { body: 'status', from });
    const outbound = await eventually(async () => {
      const [m] = await h.db
        .select()
        .from(messages)
        .where(and(eq(messages.correlationId, messageSid), eq(messages.direction, 'outbound')));
      return m?.providerSid ? m : null;
    }, 20_000);
    const sid = outbound.providerSid!;
    for (const status of ['sent', 'partially_delivered', 'sent', 'brand_new_status', 'delivered']) {
      expect((await h.postStatus(tenant, { MessageSid: sid, MessageStatus: status })).status).toBe(204);
    }
    const changes = await h.db
      .select({ type: events.type, payload: events.payload })
      .from(events)
      .where(eq(events.messageId, outbound.id))
      .orderBy(events.occurredAt);
    expect(
      changes
        .filter((e) => e.type.startsWith('message.status'))
        .map((e) => [e.type, e.payload.to ?? e.payload.reported]),
    ).toEqual([
      ['message.status', 'sent'],
      ['message.status', 'partially_delivered'],
      ['message.status_unknown', 'brand_new_status'],
      ['message.status', 'delivered'],
    ]);
    // Not a status at all: refused as malformed (a status for an unknown SID is parked, as before).
    expect((await h.postStatus(tenant, { MessageSid: sid, MessageStatus: 'DROP TABLE' })).status).toBe(400);
    expect((await h.postStatus(tenant, { MessageSid: newMessageSid(), MessageStatus: 'bogus' })).status).toBe(204);
  });
});
