import { findSendDecision, whyView } from '../../src/db/outbound/policy';
import { updateTenant } from '../../src/db/tenants/tenants';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alerts, contacts, conversations, events, messages, outbox, promises } from '../../src/db/schema';
import { echoHandler, turn } from '../support/fake-openai';
import { loadMessageTemplate } from '../../src/db/knowledge/templates';
import {
  contentSidFor,
  launchCampaign,
  sentToPhones,
  targetRows,
  targets,
  useContentTemplates,
  waitForStatus,
} from '../support/campaigns';
import { conversationOf, recordHistory, sentTo } from '../support/conversation';
import { eventually, randomPhone, startHarness, type Harness, type TestTenant } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness(
    {
      MESSAGE_DEBOUNCE: '100ms',
      NPS_WAIT: '0s',
      PROMISE_REMINDER_BEFORE: '4s',
      PROMISE_CHECK_AFTER: '1s',
      CAMPAIGN_DELIVERY_TIMEOUT: '20s',
    },
    { statusCallbacks: true },
  );
});
afterAll(async () => {
  await h?.close();
});

const DAY = 24 * 3_600_000;

/**
 * Moves the contact's last messages to us back in time, in our database and in the fake Twilio's log alike: the
 * customer last wrote `ms` ago (a real 24 h window, no waiting).
 */
async function lastWrote(tenant: TestTenant, customer: string, ms: number) {
  const at = new Date(Date.now() - ms);
  await h.db
    .update(messages)
    .set({ createdAt: at })
    .where(
      and(
        eq(messages.tenantId, tenant.tenantId),
        eq(messages.direction, 'inbound'),
        eq(messages.fromAddress, customer),
      ),
    );
  for (const m of h.twilio.received) if (m.from === customer && m.to === tenant.address) m.dateCreated = at;
}

async function windowAlerts(tenant: TestTenant) {
  return h.db
    .select()
    .from(alerts)
    .where(and(eq(alerts.tenantId, tenant.tenantId), eq(alerts.type, 'window_closed')));
}

async function startConversation(tenant: TestTenant, from: string) {
  const { messageSid } = await h.postInbound(tenant, { body: 'olá', from });
  await h.twilio.waitFor(() => sentTo(h, from).length >= 1);
  const workflowId = await conversationOf(h, messageSid);
  return eventually(
    async () => (await h.db.select().from(conversations).where(eq(conversations.workflowId, workflowId)))[0],
    5000,
    'conversation row',
  );
}

describe('the WhatsApp window, decided before calling Twilio (E)', () => {
  it('campaign sends outside the window without a template: window_closed, no Twilio call, one alert; targets fail', async () => {
    const tenant = await h.createTestTenant();
    // Issue 23 E (identity before disclosure) has its own tests: this one is about the debt-bearing template.
    await updateTenant(h.db, tenant.slug, { identityCheck: 'off' });
    const rows = targets(3);
    const c = await launchCampaign(h, tenant, rows, {
      templateKey: 'collection_notice',
      body: undefined,
      kind: 'collection',
      maxAttempts: 3,
    });
    await waitForStatus(h, c.campaignId, 'completed', 30_000);
    expect(
      sentToPhones(
        h,
        rows.map((r) => r.phone),
      ),
    ).toHaveLength(0);
    const t = await targetRows(h, c.campaignId);
    expect(t.map((x) => [x.state, x.attemptCount, x.outcome])).toEqual(Array(3).fill(['failed', 1, 'window_closed']));
    const sentMessages = await h.db
      .select({
        status: messages.status,
        errorMessage: messages.errorMessage,
        box: outbox.status,
        lastError: outbox.lastError,
        attempts: outbox.attempts,
      })
      .from(messages)
      .innerJoin(outbox, eq(outbox.messageId, messages.id))
      .where(
        inArray(
          messages.campaignTargetId,
          t.map((x) => x.id),
        ),
      );
    expect(sentMessages).toEqual(
      Array(3).fill({
        status: 'failed',
        errorMessage: 'window_closed',
        box: 'failed',
        lastError: 'window_closed',
        attempts: 0,
      }),
    );
    const raised = await windowAlerts(tenant);
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ payload: expect.objectContaining({ purpose: 'collection_notice' }) });
    for (const r of rows) expect(raised[0]!.message).not.toContain(r.phone);
    // The proof says what happened: refused for the window, not the gate's provisional `send` (issue 21 C).
    const [first] = await h.db
      .select({ id: messages.id })
      .from(messages)
      .where(eq(messages.campaignTargetId, t[0]!.id));
    const why = whyView((await findSendDecision(h.db, first!.id, tenant.tenantId))!);
    expect(why.decision).toMatchObject({ decision: 'refuse', purpose: 'collection' });
    const window = (why.decision!.checks as { name: string; result: string; detail?: string }[]).filter(
      (c) => c.name === 'whatsapp_window',
    );
    expect(window).toEqual([
      expect.objectContaining({
        result: 'refuse',
        detail: 'outside the WhatsApp 24 h window and no Content template for "collection_notice"',
      }),
    ]);
    expect(why.delivery).toMatchObject({ status: 'failed' });
  });

  it('campaign sends: the template outside the window, free text inside it (outage notices: promises-outages.test.ts)', async () => {
    const tenant = await h.createTestTenant();
    const rows = targets(2);
    const [wrote, silent] = rows.map((r) => `whatsapp:${r.phone}`) as [string, string];
    await h.postInbound(tenant, { body: 'olá', from: wrote });
    await h.twilio.waitFor(() => sentTo(h, wrote).length === 1);
    const c = await launchCampaign(h, tenant, rows);
    await waitForStatus(h, c.campaignId, 'completed', 30_000);
    const toWrote = sentTo(h, wrote).at(-1)!;
    const toSilent = sentTo(h, silent).at(-1)!;
    expect(toWrote).toMatchObject({ contentSid: null, body: 'Olá Cliente 1, temos um aviso para você.' });
    expect(toSilent).toMatchObject({
      contentSid: contentSidFor('broadcast'),
      body: '',
      contentVariables: { 1: 'Olá Cliente 2, temos um aviso para você.' },
    });
    await eventually(
      async () =>
        (await targetRows(h, c.campaignId)).every((x) => x.state === 'completed' && x.lastStatus === 'delivered'),
      15_000,
      'both delivered',
    );
  });

  it('a promise reminder outside the window goes out as the template; an agent reply outside it gets 409, then the agent_reply template', async () => {
    const tenant = await h.createTestTenant();
    await useContentTemplates(h, tenant, ['promise_reminder'], { 1: 'amount', 2: 'due_date' });
    const agent = await h.createOperator(tenant, 'AGENT', 'Bia');
    const from = `whatsapp:${randomPhone()}`;
    const dueAt = new Date(Date.now() + 9_000).toISOString();
    h.openai.setHandler((request) =>
      request.response_format
        ? {
            content: null,
            toolCalls: [{ name: 'register_promise', arguments: { amount: 80, due_date: dueAt, method: 'pix' } }],
          }
        : turn('resumo'),
    );
    const conversation = await startConversation(tenant, from).finally(() => h.openai.setHandler(echoHandler));
    await eventually(
      async () => (await h.db.select().from(promises).where(eq(promises.conversationId, conversation.id))).length > 0,
      10_000,
      'promise',
    );
    // The customer's last message is now 25 h old (the due date is still ahead): the reminder must be a template.
    await lastWrote(tenant, from, DAY + 3_600_000);
    const reminder = (
      await h.twilio.waitFor(
        (sent) => sent.some((m) => m.to === from && m.contentSid === contentSidFor('promise_reminder')),
        20_000,
      )
    ).find((m) => m.to === from && m.contentSid)!;
    expect(reminder.contentVariables).toEqual({ 1: expect.stringMatching(/80,00/), 2: expect.any(String) });
    expect(reminder.body).toBe('');

    // The agent takes over; the customer's window is closed; no agent_reply template yet: 409, nothing sent.
    await h.api(`/api/conversations/${conversation.id}/takeover`, { key: agent.apiKey, body: {} });
    await lastWrote(tenant, from, DAY + 3_600_000);
    const before = sentTo(h, from).length;
    const refused = await h.api(`/api/conversations/${conversation.id}/messages`, {
      key: agent.apiKey,
      body: { body: 'Oi, ainda precisa de ajuda?' },
    });
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatchObject({
      code: 'window_closed',
      message: expect.stringMatching(/24 hours.*template.*agent_reply/),
    });
    expect(sentTo(h, from)).toHaveLength(before);
    const [failed] = await h.db
      .select()
      .from(messages)
      .where(and(eq(messages.conversationId, conversation.id), eq(messages.sentBy, 'agent')));
    expect(failed).toMatchObject({ status: 'failed', errorMessage: 'window_closed' });
    // (agent_joined, a system message, was refused the same way: alerted, and the takeover went on.)
    expect(await windowAlerts(tenant)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          conversationId: conversation.id,
          payload: expect.objectContaining({ purpose: 'agent_reply' }),
        }),
      ]),
    );

    await useContentTemplates(h, tenant, ['agent_reply'], { 1: 'agent_name', 2: 'text' });
    const sent = await h.api(`/api/conversations/${conversation.id}/messages`, {
      key: agent.apiKey,
      body: { body: 'Oi, ainda precisa de ajuda?' },
    });
    expect(sent.status).toBe(201);
    const out = (await h.twilio.waitFor((s) => s.filter((m) => m.to === from).length === before + 1))
      .filter((m) => m.to === from)
      .at(-1)!;
    expect(out).toMatchObject({
      contentSid: contentSidFor('agent_reply'),
      contentVariables: { 1: 'Bia', 2: 'Oi, ainda precisa de ajuda?' },
    });
  });

  it('SMS has no window: a broadcast goes out as text to contacts who never wrote', async () => {
    const tenant = await h.createTestTenant();
    const rows = targets(1);
    const c = await launchCampaign(h, tenant, rows, { channel: 'sms', sender: tenant.phone });
    await waitForStatus(h, c.campaignId, 'completed', 30_000);
    expect(sentToPhones(h, [rows[0]!.phone])).toEqual([
      expect.objectContaining({
        to: rows[0]!.phone,
        contentSid: null,
        body: 'Olá Cliente 1, temos um aviso para você.',
      }),
    ]);
  });
});

describe('status-callback ErrorCodes (E)', () => {
  it('63016 in the callback: resent as the template when there is one, else the target fails with an alert', async () => {
    const tenant = await h.createTestTenant();
    // Issue 23 E (identity before disclosure) has its own tests: this one is about the debt-bearing template.
    await updateTenant(h.db, tenant.slug, { identityCheck: 'off' });
    const rows = targets(2);
    const [resent, lost] = rows.map((r) => `whatsapp:${r.phone}`) as [string, string];
    // Both wrote an hour ago by our records, but Twilio's log says 25 h ago (our copy came late): Meta answers 63016.
    for (const to of [resent, lost]) {
      await h.postInbound(tenant, { body: 'olá', from: to });
      await h.twilio.waitFor(() => sentTo(h, to).length === 1);
      await lastWrote(tenant, to, 3_600_000);
      for (const m of h.twilio.received) if (m.from === to) m.dateCreated = new Date(Date.now() - DAY - 3_600_000);
    }
    const withTemplate = await launchCampaign(h, tenant, [rows[0]!]); // a broadcast: launchCampaign configures its template
    const without = await launchCampaign(h, tenant, [rows[1]!], {
      templateKey: 'collection_notice',
      body: undefined,
      kind: 'collection',
    });
    await waitForStatus(h, withTemplate.campaignId, 'completed', 30_000);
    await waitForStatus(h, without.campaignId, 'completed', 30_000);

    const [first, second] = sentTo(h, resent).slice(1);
    expect(first).toMatchObject({ contentSid: null, status: 'failed', errorCode: 63016 });
    expect(second).toMatchObject({
      contentSid: contentSidFor('broadcast'),
      status: 'delivered',
      contentVariables: { 1: first!.body },
    });
    expect((await targetRows(h, withTemplate.campaignId)).map((t) => [t.state, t.attemptCount, t.lastStatus])).toEqual([
      ['completed', 1, 'delivered'],
    ]);
    const boxes = await h.db
      .select({ key: outbox.idempotencyKey, status: outbox.status })
      .from(outbox)
      .innerJoin(messages, eq(messages.id, outbox.messageId))
      .where(eq(messages.toAddress, resent));
    expect(
      boxes
        .map((b) => b.key)
        .filter((k) => k.startsWith('campaign:'))
        .sort(),
    ).toEqual([
      expect.stringMatching(/^campaign:[0-9a-f-]+:1$/),
      expect.stringMatching(/^campaign:[0-9a-f-]+:1:template$/),
    ]);

    expect(sentTo(h, lost).slice(1)).toEqual([
      expect.objectContaining({ contentSid: null, status: 'failed', errorCode: 63016 }),
    ]);
    expect((await targetRows(h, without.campaignId)).map((t) => [t.state, t.outcome])).toEqual([
      ['failed', 'window_closed'],
    ]);
    expect(await windowAlerts(tenant)).toEqual([
      expect.objectContaining({
        payload: expect.objectContaining({ purpose: 'collection_notice', errorCode: '63016' }),
      }),
    ]);
  });

  it('campaign targets: 30003 fails at once, 30008 is retried under the policy, 21610 opts the contact out', async () => {
    const tenant = await h.createTestTenant();
    const rows = targets(3);
    const [unreachable, unknown, unsubscribed] = rows.map((r) => `whatsapp:${r.phone}`) as [string, string, string];
    h.twilio.scriptDelivery(unreachable, [{ status: 'undelivered', errorCode: '30003' }]);
    h.twilio.scriptDelivery(unknown, [{ status: 'failed', errorCode: '30008' }], ['sent', 'delivered']);
    h.twilio.scriptDelivery(unsubscribed, [{ status: 'failed', errorCode: '21610' }]);
    const c = await launchCampaign(h, tenant, rows, { maxAttempts: 3, attemptSpacingSeconds: 1 });
    await waitForStatus(h, c.campaignId, 'completed', 30_000);
    expect((await targetRows(h, c.campaignId)).map((t) => [t.state, t.attemptCount, t.outcome])).toEqual([
      ['failed', 1, 'unreachable'],
      ['completed', 2, 'delivered'],
      ['opted_out', 1, 'opted_out'],
    ]);
    expect(sentTo(h, unreachable)).toHaveLength(1);
    const [contact] = await h.db
      .select()
      .from(contacts)
      .where(and(eq(contacts.tenantId, tenant.tenantId), eq(contacts.phone, rows[2]!.phone)));
    expect(contact).toMatchObject({ optOutSource: 'twilio_21610', optedOutAt: expect.any(Date) });
  });

  it('a conversation reply failing with 30008 is resent at most twice, then a delivery_failed alert', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    const failing = { status: 'failed', errorCode: '30008' };
    h.twilio.scriptDelivery(from, [failing], [failing], [failing]);
    await h.postInbound(tenant, { body: 'olá', from });
    const [alert] = await eventually(
      async () => {
        const a = await h.db
          .select()
          .from(alerts)
          .where(and(eq(alerts.tenantId, tenant.tenantId), eq(alerts.type, 'delivery_failed')));
        return a.length ? a : null;
      },
      20_000,
      'delivery_failed alert',
    );
    expect(sentTo(h, from).map((m) => [m.body, m.status])).toEqual(Array(3).fill(['Echo: olá', 'failed']));
    expect(alert).toMatchObject({
      conversationId: expect.any(String),
      payload: expect.objectContaining({ errorCode: '30008', purpose: 'ai_reply' }),
    });
    expect(alert!.message).not.toContain(from.replace('whatsapp:', ''));
    const [original] = await h.db
      .select({ id: messages.id })
      .from(messages)
      .where(and(eq(messages.toAddress, from), eq(messages.direction, 'outbound')))
      .orderBy(messages.createdAt)
      .limit(1);
    await h.client.workflow.getHandle(`redeliver:${original!.id}:retry`).result();
    await recordHistory(h, `redeliver:${original!.id}:retry`, 'redelivery-retry');
  });
});

describe('opt-out everywhere (F)', () => {
  it('STOP: no promise reminder and no broken-promise follow-up, the confirmation still goes out; START re-enables', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    const dueAt = new Date(Date.now() + 7_000).toISOString();
    h.openai.setHandler((request) =>
      request.response_format
        ? {
            content: null,
            toolCalls: [{ name: 'register_promise', arguments: { amount: 50, due_date: dueAt, method: 'pix' } }],
          }
        : turn('resumo'),
    );
    const conversation = await startConversation(tenant, from).finally(() => h.openai.setHandler(echoHandler));
    const [promise] = await eventually(
      async () => {
        const p = await h.db.select().from(promises).where(eq(promises.conversationId, conversation.id));
        return p.length ? p : null;
      },
      10_000,
      'promise',
    );
    await h.postInbound(tenant, { body: 'STOP', from });
    const confirmation = (await loadMessageTemplate(h.db, tenant.tenantId, 'opt_out_confirmation', 'pt-BR'))!.body;
    await h.twilio.waitFor((sent) => sent.some((m) => m.to === from && m.body === confirmation));
    const settled = (await h.client.workflow.getHandle(promise!.workflowId).result()) as { status: string };
    expect(settled.status).toBe('broken');
    const bodies = sentTo(h, from).map((m) => m.body);
    expect(bodies.some((b) => b.startsWith('Lembrete') || b.startsWith('Não identificamos'))).toBe(false);
    const skipped = await h.db
      .select({ payload: events.payload })
      .from(events)
      .where(and(eq(events.contactId, promise!.contactId), eq(events.type, 'promise.message_skipped')));
    expect(skipped.map((e) => `${String(e.payload.key)}:${String(e.payload.reason)}`).sort()).toEqual([
      'promise_broken:opted_out',
      'promise_reminder:opted_out',
    ]);
    expect((await h.db.select().from(promises).where(eq(promises.id, promise!.id)))[0]!.reminderSentAt).toBeNull();

    await h.postInbound(tenant, { body: 'START', from });
    const optIn = (await loadMessageTemplate(h.db, tenant.tenantId, 'opt_in_confirmation', 'pt-BR'))!.body;
    await h.twilio.waitFor((sent) => sent.some((m) => m.to === from && m.body === optIn));
    const c = await launchCampaign(h, tenant, [{ phone: from.replace('whatsapp:', ''), name: 'Volta' }]);
    await waitForStatus(h, c.campaignId, 'completed', 30_000);
    expect(sentTo(h, from).at(-1)!.body).toBe('Olá Volta, temos um aviso para você.');
  });
});
