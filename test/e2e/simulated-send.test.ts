// A simulated tenant's sends (the demo tenant, the 100k bench campaign) take the sender's first-attempt path: one
// context read, one write of message + outbox row (+ the target's claim), one statement for the outcome. They leave
// the rows and events the general path left: message and outbox `simulated` without a SID, the sent event
// { status: 'simulated', sentBy }, the campaign target's `accepted` step (delivered: completed, counted).
import { and, asc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createOutboundSender } from '../../src/activities/messaging';
import { SendAborted } from '../../src/activities/send-gate';
import type { SendMessageInput } from '../../src/contract/pipeline';
import { createDb, type DbHandle } from '../../src/db/core/client';
import { applyTargetEvent } from '../../src/db/campaigns/targets';
import { markTargetSending } from '../../src/db/campaigns/dispatch';
import {
  campaignCounterDeltas,
  campaignTargets,
  contacts,
  conversations,
  events,
  messages,
  outbox,
} from '../../src/db/schema';
import { newRootTrace } from '../../src/domain/trace';
import type { SendHooks } from '../../src/services/outbound/sender';
import { testActivityDeps } from '../support/activity-deps';
import { claimedTarget as claimTarget } from '../support/campaigns';
import { eventually, randomPhone, startHarness, type Harness, type TestTenant } from '../support/harness';

let h: Harness;
/** A second pool on the test database whose statements are counted (postgres.js's debug hook). */
let counting: DbHandle;
let statements = 0;
beforeAll(async () => {
  h = await startHarness();
  counting = createDb(inject('databaseUrl'), {
    max: 4,
    embedded: inject('databaseEmbedded'),
    onQuery: () => {
      statements += 1;
    },
  });
  // The pool's first query also reads Postgres's array types: done here, so the counts below are the sends' own.
  await counting.db.execute(sql`select 1`);
});
afterAll(async () => {
  await counting?.close();
  await h?.close();
});

const results: string[] = [];
const sender = () =>
  createOutboundSender(
    testActivityDeps(
      { ...h, db: counting.db },
      {
        db: counting.db,
        metrics: { sends: { inc: (l: { result: string }) => results.push(l.result) } } as never,
        config: { whatsappWindowMs: 24 * 3_600_000 },
      },
    ),
  );

/** Statements the call ran on the counted pool. */
async function counted<T>(run: () => Promise<T>): Promise<{ value: T; statements: number }> {
  const before = statements;
  const value = await run();
  return { value, statements: statements - before };
}

/** A claimed campaign target (test/support/campaigns.ts) and its contact's phone. */
async function claimedTarget(tenant: TestTenant) {
  const claimed = await claimTarget(h, tenant);
  const [contact] = await h.db.select().from(contacts).where(eq(contacts.id, claimed.target.contactId));
  return { ...claimed, phone: contact!.phone };
}

/** The send and hooks a campaign batch makes for this target (src/activities/campaign.ts, sendTarget). */
function campaignSend(
  tenant: TestTenant,
  t: { campaignId: string; target: { id: string; contactId: string }; phone: string },
  beforeCall: () => Promise<void>,
): { input: SendMessageInput; hooks: SendHooks } {
  const claimed = { targetId: t.target.id, attempt: 1, slotAt: Date.now() };
  return {
    input: {
      idempotencyKey: `campaign:${t.target.id}:1`,
      tenantId: tenant.tenantId,
      conversationId: null,
      contactId: t.target.contactId,
      channel: 'whatsapp',
      from: tenant.address,
      to: `whatsapp:${t.phone}`,
      body: 'Aviso',
      variables: {},
      purpose: 'broadcast',
      sentBy: 'system',
      correlationId: `campaign:${t.campaignId}`,
      trace: newRootTrace(),
      campaignTargetId: t.target.id,
      sentEvent: 'campaign.send',
      policy: 'marketing',
    },
    hooks: {
      beforeCall,
      async claim(tx, messageId) {
        return (await markTargetSending(tx, claimed, messageId)) ? null : 'target no longer sendable';
      },
      acceptedTarget: { targetId: t.target.id, outageNotice: false },
      claimTarget: { targetId: t.target.id, attempt: 1 },
      async onPermanentFailure(tx, failure) {
        await applyTargetEvent(tx, t.target.id, { kind: 'permanent', reason: failure.reason });
      },
    },
  };
}

const eventsOf = (messageId: string) =>
  h.db
    .select({ type: events.type, payload: events.payload })
    .from(events)
    .where(eq(events.messageId, messageId))
    .orderBy(asc(events.id));
const rowsOf = async (messageId: string) => {
  const [m] = await h.db.select().from(messages).where(eq(messages.id, messageId));
  const [box] = await h.db.select().from(outbox).where(eq(outbox.messageId, messageId));
  return { m: m!, box: box! };
};
const targetOf = async (id: string) =>
  (await h.db.select().from(campaignTargets).where(eq(campaignTargets.id, id)))[0]!;
const deltas = async (campaignId: string) => {
  const rows = await h.db.select().from(campaignCounterDeltas).where(eq(campaignCounterDeltas.campaignId, campaignId));
  const sum = (k: 'contacted' | 'successful' | 'failed' | 'optedOut' | 'skipped') => rows.reduce((n, d) => n + d[k], 0);
  return {
    contacted: sum('contacted'),
    successful: sum('successful'),
    failed: sum('failed'),
    optedOut: sum('optedOut'),
    skipped: sum('skipped'),
  };
};

/** What a simulated campaign target's send leaves, whichever path recorded it. */
async function expectSimulatedCampaignSend(
  t: { campaignId: string; target: { id: string } },
  messageId: string,
): Promise<void> {
  const { m, box } = await rowsOf(messageId);
  expect(m).toMatchObject({ status: 'simulated', providerSid: null, campaignTargetId: t.target.id });
  expect(box).toMatchObject({ status: 'simulated', providerSid: null, lastError: null });
  expect(box.sentAt).not.toBeNull();
  expect(await eventsOf(messageId)).toEqual([
    { type: 'campaign.send', payload: { status: 'simulated', sentBy: 'system' } },
  ]);
  const target = await targetOf(t.target.id);
  expect(target).toMatchObject({
    state: 'completed',
    outcome: 'simulated',
    lastStatus: 'simulated',
    attemptCount: 1,
    lastMessageId: messageId,
  });
  for (const at of [target.contactedAt, target.succeededAt, target.completedAt, target.lastStatusAt])
    expect(at).not.toBeNull();
  expect(await deltas(t.campaignId)).toEqual({ contacted: 1, successful: 1, failed: 0, optedOut: 0, skipped: 0 });
  expect(await h.db.select().from(messages).where(eq(messages.campaignTargetId, t.target.id))).toHaveLength(1);
}

describe('simulated sends take the first-attempt path', () => {
  it('a campaign target: message and outbox simulated, campaign.send event, target completed and counted, in four statements; a retry of the key returns it', async () => {
    const tenant = await h.createTestTenant('simulated');
    const t = await claimedTarget(tenant);
    let waits = 0;
    const { input, hooks } = campaignSend(tenant, t, () => {
      waits += 1;
      return Promise.resolve();
    });
    results.length = 0;
    const first = await counted(() => sender().send(input, hooks));
    expect(first.value).toEqual({
      skipped: false,
      messageId: expect.any(String) as string,
      providerSid: null,
      status: 'simulated',
    });
    const messageId = (first.value as { messageId: string }).messageId;
    expect(waits).toBe(1);
    expect(results).toEqual(['simulated']);
    await expectSimulatedCampaignSend(t, messageId);
    // The policy read, the context read (with the decision), the message + outbox + claim write, and the outcome's
    // one statement (sent event, target completed and counted). The general path took 19.
    expect(first.statements).toBe(4);
    expect(h.twilio.sent.filter((s) => s.to === input.to)).toHaveLength(0);

    // A retried activity (the same key): the recorded result, no second message, no second wait or count.
    const again = await sender().send(input, hooks);
    expect(again).toEqual(first.value);
    expect(waits).toBe(1);
    expect(results).toEqual(['simulated']);
    await expectSimulatedCampaignSend(t, messageId);
  });

  it('a campaign send stopped at its slot wait (SendAborted) leaves the row sending; the retry finishes it once', async () => {
    const tenant = await h.createTestTenant('simulated');
    const t = await claimedTarget(tenant);
    const aborted = campaignSend(tenant, t, () => Promise.reject(new SendAborted()));
    await expect(sender().send(aborted.input, aborted.hooks)).rejects.toBeInstanceOf(SendAborted);
    const [m] = await h.db.select().from(messages).where(eq(messages.campaignTargetId, t.target.id));
    expect(m).toMatchObject({ status: 'pending', providerSid: null });
    const { box } = await rowsOf(m!.id);
    expect(box).toMatchObject({ status: 'sending', providerSid: null, attempts: 1 });
    expect(await targetOf(t.target.id)).toMatchObject({ state: 'sending', lastMessageId: m!.id });
    expect(await eventsOf(m!.id)).toEqual([]);

    // The retry (same key) finds the row on the general path and records it simulated, as the first attempt would.
    let waits = 0;
    const retry = campaignSend(tenant, t, () => {
      waits += 1;
      return Promise.resolve();
    });
    const result = await sender().send(retry.input, retry.hooks);
    expect(result).toMatchObject({ skipped: false, messageId: m!.id, providerSid: null, status: 'simulated' });
    expect(waits).toBe(1);
    await expectSimulatedCampaignSend(t, m!.id);
  });

  it('a conversation reply: simulated with its reply.sent event and the move to PROGRESS, in three statements; a retry returns it', async () => {
    const tenant = await h.createTestTenant('simulated');
    const phone = randomPhone();
    const to = `whatsapp:${phone}`;
    const [contact] = await h.db
      .insert(contacts)
      .values({ tenantId: tenant.tenantId, phone, phoneHash: `test-${randomPhone()}` })
      .returning();
    const [conversation] = await h.db
      .insert(conversations)
      .values({
        tenantId: tenant.tenantId,
        contactId: contact!.id,
        channel: 'whatsapp',
        status: 'PENDING',
        workflowId: `test-${randomPhone()}`,
      })
      .returning();
    await h.db.insert(messages).values({
      tenantId: tenant.tenantId,
      conversationId: conversation!.id,
      contactId: contact!.id,
      direction: 'inbound',
      channel: 'whatsapp',
      fromAddress: to,
      toAddress: tenant.address,
      body: 'oi',
      sentBy: 'customer',
      status: 'received',
      correlationId: `test:${to}`,
      createdAt: new Date(Date.now() - 60_000),
    });
    const input: SendMessageInput = {
      idempotencyKey: `reply:${conversation!.id}:1`,
      tenantId: tenant.tenantId,
      conversationId: conversation!.id,
      contactId: contact!.id,
      channel: 'whatsapp',
      from: tenant.address,
      to,
      body: 'Olá! Como posso ajudar?',
      sentBy: 'ai',
      guard: { expectedVersion: conversation!.version },
      correlationId: `test:${to}`,
      trace: newRootTrace(),
      advance: { reason: 'ai_reply', actor: 'ai' },
    };
    results.length = 0;
    const first = await counted(() => sender().send(input));
    expect(first.value).toEqual({
      skipped: false,
      messageId: expect.any(String) as string,
      providerSid: null,
      status: 'simulated',
      advanced: { status: 'PROGRESS', version: conversation!.version + 1 },
    });
    const messageId = (first.value as { messageId: string }).messageId;
    expect(results).toEqual(['simulated']);
    // The policy decision rides in the context read: read, write (with the move), outcome. The general path took 14
    // (and the workflow's own transition after it).
    expect(first.statements).toBe(3);
    const { m, box } = await rowsOf(messageId);
    expect(m).toMatchObject({ status: 'simulated', providerSid: null, direction: 'outbound', sentBy: 'ai' });
    expect(box).toMatchObject({ status: 'simulated', providerSid: null });
    expect(await eventsOf(messageId)).toEqual([{ type: 'reply.sent', payload: { status: 'simulated', sentBy: 'ai' } }]);
    const [after] = await h.db.select().from(conversations).where(eq(conversations.id, conversation!.id));
    expect(after).toMatchObject({ status: 'PROGRESS', version: conversation!.version + 1 });
    const transitions = await h.db
      .select({ payload: events.payload })
      .from(events)
      .where(and(eq(events.conversationId, conversation!.id), eq(events.type, 'conversation.transition')));
    expect(transitions).toEqual([
      {
        payload: {
          from: 'PENDING',
          to: 'PROGRESS',
          version: conversation!.version + 1,
          reason: 'ai_reply',
          actor: 'ai',
        },
      },
    ]);
    expect(h.twilio.sent.filter((s) => s.to === to)).toHaveLength(0);

    // A retried activity: the recorded result (the conversation has moved on: its guard is not re-checked for it).
    const again = await sender().send(input);
    expect(again).toMatchObject({ skipped: false, messageId, providerSid: null, status: 'simulated' });
    expect(await h.db.select().from(messages).where(eq(messages.conversationId, conversation!.id))).toHaveLength(2);
    expect(results).toEqual(['simulated']);
  });

  it('the demo flow on a simulated tenant: an inbound message is answered, recorded simulated, moved to PROGRESS once', async () => {
    const tenant = await h.createTestTenant('simulated');
    const from = `whatsapp:${randomPhone()}`;
    await h.postInbound(tenant, { body: 'Olá', from });
    const reply = await eventually(
      async () => {
        const [row] = await h.db
          .select()
          .from(messages)
          .where(and(eq(messages.tenantId, tenant.tenantId), eq(messages.direction, 'outbound')));
        return row && row.status !== 'pending' ? row : null;
      },
      30_000,
      'the simulated reply',
    );
    expect(reply).toMatchObject({ status: 'simulated', providerSid: null, toAddress: from });
    expect(await eventsOf(reply.id)).toEqual([
      { type: 'reply.sent', payload: { status: 'simulated', sentBy: reply.sentBy } },
    ]);
    const [box] = await h.db.select().from(outbox).where(eq(outbox.messageId, reply.id));
    expect(box).toMatchObject({ status: 'simulated', providerSid: null });
    // Once (the reply's write carries the move, and the workflow then does not transition again).
    const toProgress = async () =>
      (
        await h.db
          .select({ payload: events.payload })
          .from(events)
          .where(and(eq(events.conversationId, reply.conversationId!), eq(events.type, 'conversation.transition')))
      ).filter((e) => (e.payload as { to?: string }).to === 'PROGRESS');
    await eventually(async () => ((await toProgress()).length > 0 ? true : null), 10_000, 'the move to PROGRESS');
    expect(await toProgress()).toHaveLength(1);
    expect(h.twilio.sent.filter((s) => s.to === from)).toHaveLength(0);
  });
});
