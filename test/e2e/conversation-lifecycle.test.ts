import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversations, conversationStateHistory, messages, satisfactionFeedback } from '../../src/db/schema';
import { loadMessageTemplate } from '../../src/db/knowledge/templates';
import { BUILT_IN_PATCHES, inboundWorkflowId } from '../../src/contract';
import { conversationOf, conversationResult, patchMarkers, recordHistory, sentTo } from '../support/conversation';
import { eventually, randomPhone, startHarness, type Harness } from '../support/harness';

let h: Harness;
// Short durations through the env, so the durable timers fire within the test.
beforeAll(async () => {
  h = await startHarness({
    MESSAGE_DEBOUNCE: '300ms',
    CONVERSATION_IDLE_AFTER: '2s',
    CONVERSATION_CLOSE_AFTER: '4s',
    NPS_WAIT: '5s',
  });
});
afterAll(async () => {
  await h?.close();
});

const template = async (h: Harness, tenantId: string, key: string) =>
  (await loadMessageTemplate(h.db, tenantId, key, 'pt-BR'))!.body;

describe('conversation lifecycle: durable timers and NPS', () => {
  it('nudges at IDLE_AFTER, closes at CLOSE_AFTER, asks NPS and stores "9" as a promoter, across a worker restart', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    const first = await h.postInbound(tenant, { body: 'oi', from });
    await h.twilio.waitFor(() => sentTo(h, from).length === 1);
    // The idle timer is now running on the server: a worker restart in the middle must not lose or repeat it.
    await h.restartWorker();

    const nps = await template(h, tenant.tenantId, 'nps_question');
    await h.twilio.waitFor(() => sentTo(h, from).some((m) => m.body === nps), 20_000);
    await h.postInbound(tenant, { body: '9', from });
    const workflowId = await conversationOf(h, first.messageSid);
    const result = await conversationResult(h, workflowId);
    expect(result).toMatchObject({ status: 'EXPIRED', npsScore: 9 });
    await recordHistory(h, workflowId, 'conversation-idle-close-nps-local-steps');
    await recordHistory(h, inboundWorkflowId(first.messageSid), 'inbound-one-local-step');
    // Issue 25 A: runs started by this build take their built-in patches without markers (two events each), and
    // the worker restart above replayed the conversation's history with them.
    await recordHistory(h, workflowId, 'conversation-idle-close-nps-built-in-patches');
    await recordHistory(h, inboundWorkflowId(first.messageSid), 'inbound-built-in-patches');
    // The first reply's move to PROGRESS written with the message (built-in patch `send-advances-conversation`).
    await recordHistory(h, workflowId, 'conversation-idle-close-nps-send-advances');
    // The conversation opened by the inbound statement (built-in patch `inbound-opens-conversation`).
    await recordHistory(h, workflowId, 'conversation-idle-close-nps-inbound-opens');
    // The deadline wait without a timer per message (built-in patch `lazy-deadline-timer`).
    await recordHistory(h, workflowId, 'conversation-idle-close-nps-lazy-deadline');
    // Started with its first message in the input, by eager start (no signal for it).
    await recordHistory(h, workflowId, 'conversation-idle-close-nps-eager-start');
    expect(await patchMarkers(h, inboundWorkflowId(first.messageSid))).toEqual({ ids: [], versionUpserts: 0 });
    const conversationPatches = await patchMarkers(h, workflowId);
    for (const id of BUILT_IN_PATCHES.conversationWorkflow) expect(conversationPatches.ids).not.toContain(id);

    const bodies = sentTo(h, from).map((m) => m.body);
    expect(bodies).toEqual([
      'Echo: oi',
      await template(h, tenant.tenantId, 'idle_nudge'),
      await template(h, tenant.tenantId, 'closing'),
      nps,
      await template(h, tenant.tenantId, 'nps_thanks'),
    ]);
    const history = await h.db
      .select()
      .from(conversationStateHistory)
      .where(eq(conversationStateHistory.conversationId, result.conversationId))
      .orderBy(asc(conversationStateHistory.id));
    expect(history.map((r) => `${r.fromStatus}→${r.toStatus}`)).toEqual([
      'null→PENDING',
      'PENDING→PROGRESS',
      'PROGRESS→IDLE',
      'IDLE→EXPIRED',
    ]);
    expect(history.map((r) => r.version)).toEqual([1, 2, 3, 4]);
    const [feedback] = await h.db
      .select()
      .from(satisfactionFeedback)
      .where(eq(satisfactionFeedback.conversationId, result.conversationId));
    expect(feedback).toMatchObject({ score: 9, category: 'promoter', resolvedBy: 'ai' });
  });

  it('a new customer message resets the timers: no nudge while the customer keeps writing', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    await h.postInbound(tenant, { body: 'um', from });
    await h.twilio.waitFor(() => sentTo(h, from).length === 1);
    // Each reply arrives well inside IDLE_AFTER (2 s); answering it at once keeps the conversation active.
    for (const body of ['dois', 'três']) {
      const count = sentTo(h, from).length;
      await h.postInbound(tenant, { body, from });
      await h.twilio.waitFor(() => sentTo(h, from).length === count + 1);
    }
    expect(sentTo(h, from).map((m) => m.body)).toEqual(['Echo: um', 'Echo: dois', 'Echo: três']);
  });

  it('a message moves the nudge without cancelling the running timer: nudged IDLE_AFTER after the last message', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    const first = await h.postInbound(tenant, { body: 'um', from });
    await h.twilio.waitFor(() => sentTo(h, from).length === 1);
    // The idle timer of the first turn is running; this message moves the deadline 2 s past itself.
    const secondPostedAt = Date.now();
    await h.postInbound(tenant, { body: 'dois', from });
    const nudge = await template(h, tenant.tenantId, 'idle_nudge');
    await h.twilio.waitFor(() => sentTo(h, from).some((m) => m.body === nudge), 20_000);
    const nudgedAt = sentTo(h, from)
      .find((m) => m.body === nudge)!
      .dateCreated.getTime();
    // The first timer fired early for the moved deadline: the loop checked, found nothing due and waited again.
    expect(nudgedAt - secondPostedAt).toBeGreaterThanOrEqual(2000);
    expect(sentTo(h, from).map((m) => m.body)).toEqual(['Echo: um', 'Echo: dois', nudge]);
    const workflowId = await conversationOf(h, first.messageSid);
    const events = (await h.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    // Built-in patch `lazy-deadline-timer`: no timer is cancelled (the debounce timers fire too, 300 ms each).
    expect(events.filter((e) => e.timerCanceledEventAttributes)).toHaveLength(0);
    expect(events.filter((e) => e.timerStartedEventAttributes).length).toBeGreaterThanOrEqual(4);
    // A history with a timer that fired for a moved deadline, for the replay test.
    await recordHistory(h, workflowId, 'conversation-nudge-moved-lazy-deadline');
  });

  it('treats an answer that is not 0–10 as a new message, in a new conversation', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    const first = await h.postInbound(tenant, { body: 'primeira', from });
    const nps = await template(h, tenant.tenantId, 'nps_question');
    await h.twilio.waitFor(() => sentTo(h, from).some((m) => m.body === nps), 20_000);
    const workflowId = await conversationOf(h, first.messageSid);
    const closed = await h.client.workflow.getHandle(workflowId).describe();

    const next = await h.postInbound(tenant, { body: 'ainda tenho uma dúvida', from });
    await h.twilio.waitFor(() => sentTo(h, from).some((m) => m.body === 'Echo: ainda tenho uma dúvida'));
    const [message] = await h.db.select().from(messages).where(eq(messages.providerSid, next.messageSid));
    const conversation = await eventually(
      async () => {
        const [row] = await h.db.select().from(conversations).where(eq(conversations.id, message!.conversationId!));
        return row?.status === 'PROGRESS' ? row : null;
      },
      10_000,
      'the new conversation to be in PROGRESS',
    );
    const [previous] = await h.db
      .select()
      .from(conversations)
      .where(eq(conversations.workflowId, workflowId))
      .orderBy(asc(conversations.createdAt))
      .limit(1);
    expect(previous!.id).not.toBe(conversation.id);
    expect(previous!.status).toBe('EXPIRED');
    expect(
      await h.db.select().from(satisfactionFeedback).where(eq(satisfactionFeedback.conversationId, previous!.id)),
    ).toHaveLength(0);
    // The same workflow id continued as new for the new conversation.
    expect((await h.client.workflow.getHandle(workflowId).describe()).runId).not.toBe(closed.runId);
  });
});
