// Issue 25 C: the statements a campaign send is made of, each run on its own against Postgres: the claim riding in
// the message + outbox insert (insertSendingOutbound with claimTarget), and the target's `accepted` step riding in
// the SID write (recordSendAccepted with target), including a status callback that beats that write.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDeliveryStatus } from '../../src/db/ingress/delivery-status';
import { applyTargetEvent } from '../../src/db/campaigns/targets';
import type { CampaignOptions } from '../../src/services/campaigns';
import { insertSendingOutbound, recordSendAccepted, type OutboundRow } from '../../src/db/outbound/outbox';
import { campaignCounterDeltas, campaigns, campaignTargets, contacts, messages, outbox } from '../../src/db/schema';
import { newMessageSid } from '../../src/integrations/signed-webhook';
import { newRootTrace } from '../../src/domain/trace';
import { claimedTarget as claimTarget } from '../support/campaigns';
import { startHarness, type Harness, type TestTenant } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const claimedTarget = (tenant: TestTenant, options: Partial<CampaignOptions> = {}) => claimTarget(h, tenant, options);

function rowFor(tenant: TestTenant, target: { id: string; contactId: string }, key: string): OutboundRow {
  const trace = newRootTrace();
  return {
    tenantId: tenant.tenantId,
    conversationId: null,
    contactId: target.contactId,
    channel: 'whatsapp',
    from: tenant.address,
    to: 'whatsapp:+15550000000',
    body: 'Aviso',
    sentBy: 'system',
    authorId: null,
    correlationId: 'campaign:test',
    traceId: trace.traceId,
    spanId: trace.spanId,
    parentSpanId: null,
    idempotencyKey: key,
    purpose: 'broadcast',
    variables: {},
    content: null,
    expectedVersion: null,
    claimTarget: { targetId: target.id, attempt: 1 },
  };
}

const targetOf = async (id: string) =>
  (await h.db.select().from(campaignTargets).where(eq(campaignTargets.id, id)))[0]!;
const contactedDeltas = async (campaignId: string) =>
  (await h.db.select().from(campaignCounterDeltas).where(eq(campaignCounterDeltas.campaignId, campaignId))).reduce(
    (n, d) => n + d.contacted,
    0,
  );

describe('campaign send statements (issue 25 C)', () => {
  it('the claim rides in the message + outbox insert; a second attempt of the key, or a target not claimable, writes nothing', async () => {
    const tenant = await h.createTestTenant();
    const { target } = await claimedTarget(tenant);
    const key = `campaign:${target.id}:1`;
    const written = await insertSendingOutbound(h.db, rowFor(tenant, target, key));
    expect(written).not.toBeNull();
    const t = await targetOf(target.id);
    expect(t).toMatchObject({ state: 'sending', attemptCount: 1, lastMessageId: written!.messageId, outcome: null });
    const [m] = await h.db.select().from(messages).where(eq(messages.id, written!.messageId));
    expect(m).toMatchObject({ campaignTargetId: target.id, status: 'pending' });
    const [box] = await h.db.select().from(outbox).where(eq(outbox.idempotencyKey, key));
    expect(box).toMatchObject({ status: 'sending', attempts: 1, messageId: written!.messageId });
    // A retried activity (the same key): the target is no longer `scheduled`, nothing more is written.
    expect(await insertSendingOutbound(h.db, rowFor(tenant, target, key))).toBeNull();
    expect(await h.db.select().from(messages).where(eq(messages.campaignTargetId, target.id))).toHaveLength(1);

    // Paused campaign, opted-out contact: no claim, no message, no outbox row (the general path then says why).
    const paused = await claimedTarget(tenant);
    await h.db.update(campaigns).set({ status: 'paused' }).where(eq(campaigns.id, paused.campaignId));
    const pausedKey = `campaign:${paused.target.id}:1`;
    expect(await insertSendingOutbound(h.db, rowFor(tenant, paused.target, pausedKey))).toBeNull();
    expect(await targetOf(paused.target.id)).toMatchObject({ state: 'scheduled', attemptCount: 0 });
    expect(await h.db.select().from(outbox).where(eq(outbox.idempotencyKey, pausedKey))).toHaveLength(0);
    const stopped = await claimedTarget(tenant);
    await h.db.update(contacts).set({ optedOutAt: new Date() }).where(eq(contacts.id, stopped.target.contactId));
    expect(await insertSendingOutbound(h.db, rowFor(tenant, stopped.target, `campaign:${stopped.target.id}:1`))).toBe(
      null,
    );
    expect(await h.db.select().from(messages).where(eq(messages.campaignTargetId, stopped.target.id))).toHaveLength(0);
    expect(await targetOf(stopped.target.id)).toMatchObject({ state: 'scheduled' });
  });

  it('the SID write takes the target accepted (contacted once); a callback that beat it took that step first and is not undone', async () => {
    const tenant = await h.createTestTenant();
    const event = (messageId: string, contactId: string) => ({
      trace: newRootTrace(),
      type: 'campaign.send' as const,
      tenantId: tenant.tenantId,
      contactId,
      conversationId: null,
      messageId,
      payload: {},
    });
    /** Twilio answered `queued` for this send: its SID write, with the target. */
    const accept = (
      w: { outboxId: string; messageId: string },
      target: { id: string; contactId: string },
      sid: string,
    ) =>
      recordSendAccepted(h.db, {
        tenantId: tenant.tenantId,
        outboxId: w.outboxId,
        messageId: w.messageId,
        sid,
        status: 'queued',
        event: event(w.messageId, target.contactId),
        callbackById: true,
        target: { targetId: target.id, outageNotice: false },
      });

    // Plain order: Twilio's answer first.
    const a = await claimedTarget(tenant);
    const wa = (await insertSendingOutbound(h.db, rowFor(tenant, a.target, `campaign:${a.target.id}:1`)))!;
    const sidA = newMessageSid();
    await accept(wa, a.target, sidA);
    expect(await targetOf(a.target.id)).toMatchObject({ state: 'sending', lastStatus: 'queued' });
    expect((await targetOf(a.target.id)).contactedAt).not.toBeNull();
    expect(await contactedDeltas(a.campaignId)).toBe(1);
    const [box] = await h.db.select().from(outbox).where(eq(outbox.id, wa.outboxId));
    expect(box).toMatchObject({ status: 'sent', providerSid: sidA });

    // `sent` and `delivered` beat the SID write, found by the message id of their URL.
    const b = await claimedTarget(tenant);
    const wb = (await insertSendingOutbound(h.db, rowFor(tenant, b.target, `campaign:${b.target.id}:1`)))!;
    const sidB = newMessageSid();
    for (const status of ['sent', 'delivered'])
      expect(
        (
          await applyDeliveryStatus(h.db, {
            tenantId: tenant.tenantId,
            messageSid: sidB,
            status,
            errorCode: null,
            messageId: wb.messageId,
          })
        ).outcome,
      ).toBe('updated');
    expect(await targetOf(b.target.id)).toMatchObject({ state: 'completed', outcome: 'delivered' });
    await accept(wb, b.target, sidB);
    const tb = await targetOf(b.target.id);
    expect(tb).toMatchObject({ state: 'completed', outcome: 'delivered', lastStatus: 'delivered' });
    expect(await contactedDeltas(b.campaignId)).toBe(1);
    const [mb] = await h.db.select().from(messages).where(eq(messages.id, wb.messageId));
    expect(mb).toMatchObject({ status: 'delivered', providerSid: sidB });

    // Only `sent` beat it: the SID write's `queued` does not move the target's last status back.
    const c = await claimedTarget(tenant);
    const wc = (await insertSendingOutbound(h.db, rowFor(tenant, c.target, `campaign:${c.target.id}:1`)))!;
    const sidC = newMessageSid();
    await applyDeliveryStatus(h.db, {
      tenantId: tenant.tenantId,
      messageSid: sidC,
      status: 'sent',
      errorCode: null,
      messageId: wc.messageId,
    });
    await accept(wc, c.target, sidC);
    expect(await targetOf(c.target.id)).toMatchObject({ state: 'sending', lastStatus: 'sent' });
    expect(await contactedDeltas(c.campaignId)).toBe(1);
  });

  it('a delivered status (a simulated send) takes the target step in the SID write exactly as applyTargetEvent does', async () => {
    const tenant = await h.createTestTenant('simulated');
    const counters = async (campaignId: string) =>
      (await h.db.select().from(campaignCounterDeltas).where(eq(campaignCounterDeltas.campaignId, campaignId))).reduce(
        (n, d) => ({
          contacted: n.contacted + d.contacted,
          successful: n.successful + d.successful,
          failed: n.failed + d.failed,
          optedOut: n.optedOut + d.optedOut,
          skipped: n.skipped + d.skipped,
        }),
        { contacted: 0, successful: 0, failed: 0, optedOut: 0, skipped: 0 },
      );
    /** One campaign's target, sending for attempt 1, with `before` applied to it. */
    const sendingTarget = async (
      options: Partial<CampaignOptions>,
      before: Partial<typeof campaignTargets.$inferInsert>,
    ) => {
      const t = await claimedTarget(tenant, options);
      const w = (await insertSendingOutbound(h.db, rowFor(tenant, t.target, `campaign:${t.target.id}:1`)))!;
      if (Object.keys(before).length > 0)
        await h.db.update(campaignTargets).set(before).where(eq(campaignTargets.id, t.target.id));
      return { ...t, w };
    };
    /** What the step left: the target's fields (times as set or not, the follow-up's spacing) and the counters. */
    const outcomeOf = async (t: { campaignId: string; target: { id: string } }) => {
      const r = await targetOf(t.target.id);
      return {
        state: r.state,
        outcome: r.outcome,
        lastStatus: r.lastStatus,
        attemptCount: r.attemptCount,
        contacted: r.contactedAt !== null,
        succeeded: r.succeededAt !== null,
        completed: r.completedAt !== null,
        lastStatusAt: r.lastStatusAt !== null,
        // A follow-up is due the spacing after the attempt (ms: the TypeScript step reads microseconds as ms).
        followUpAfterS:
          r.state === 'scheduled' ? Math.round((r.nextAttemptAt.getTime() - r.lastAttemptAt!.getTime()) / 1000) : null,
        counters: await counters(t.campaignId),
      };
    };
    const earlier = new Date(Date.now() - 3_600_000);
    const cases: [string, Partial<CampaignOptions>, Partial<typeof campaignTargets.$inferInsert>, object][] = [
      ['no retry on no reply: completed', { maxAttempts: 1 }, {}, { state: 'completed', outcome: 'simulated' }],
      [
        'retry on no reply, attempts left: follow-up scheduled',
        { maxAttempts: 3, retryOnNoReply: true, attemptSpacingSeconds: 600 },
        {},
        { state: 'scheduled', outcome: 'awaiting_reply', followUpAfterS: 600 },
      ],
      [
        'retry on no reply, last attempt: completed without reply',
        { maxAttempts: 1, retryOnNoReply: true },
        {},
        { state: 'completed', outcome: 'no_reply' },
      ],
      [
        'retry on no reply, already replied: completed',
        { maxAttempts: 3, retryOnNoReply: true },
        { repliedAt: earlier },
        { state: 'completed', outcome: 'simulated' },
      ],
      [
        'a follow-up attempt (contacted and succeeded before): nothing counted again',
        { maxAttempts: 3, retryOnNoReply: true },
        { contactedAt: earlier, succeededAt: earlier },
        { state: 'scheduled', outcome: 'awaiting_reply', counters: { contacted: 0, successful: 0 } },
      ],
    ];
    for (const [name, options, before, expected] of cases) {
      const viaSql = await sendingTarget(options, before);
      await recordSendAccepted(h.db, {
        tenantId: tenant.tenantId,
        outboxId: viaSql.w.outboxId,
        messageId: viaSql.w.messageId,
        sid: null,
        status: 'simulated',
        event: {
          trace: newRootTrace(),
          type: 'campaign.send',
          tenantId: tenant.tenantId,
          contactId: viaSql.target.contactId,
          conversationId: null,
          messageId: viaSql.w.messageId,
          payload: { status: 'simulated', sentBy: 'system' },
        },
        target: { targetId: viaSql.target.id, outageNotice: false },
      });
      const viaTs = await sendingTarget(options, before);
      await h.db.transaction((tx) => applyTargetEvent(tx, viaTs.target.id, { kind: 'accepted', status: 'simulated' }));
      const got = await outcomeOf(viaSql);
      expect(got, name).toEqual(await outcomeOf(viaTs));
      expect(got, name).toMatchObject(expected);
      const [box] = await h.db.select().from(outbox).where(eq(outbox.id, viaSql.w.outboxId));
      expect(box, name).toMatchObject({ status: 'simulated', providerSid: null });
      const [m] = await h.db.select().from(messages).where(eq(messages.id, viaSql.w.messageId));
      expect(m, name).toMatchObject({ status: 'simulated', providerSid: null });
    }
  });
});
