import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxDrainResult } from '../../src/contract';
import { alerts, messages } from '../../src/db/schema';
import { sentTo } from '../support/conversation';
import { echoHandler } from '../support/fake-openai';
import { eventually, randomPhone, startHarness, type Harness } from '../support/harness';

const HANG = 'this one the AI never answers';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ INBOUND_OUTCOME_SLA: '2s', MESSAGE_DEBOUNCE: '200ms' });
});
afterAll(async () => {
  await h?.close();
});

/** One run of the inbox-drain schedule's workflow (drain, then the watchdog), as the schedule starts it. */
const drainRun = (n: string) =>
  h.client.workflow.execute('inboxDrainWorkflow', {
    taskQueue: h.env.TEMPORAL_TASK_QUEUE,
    workflowId: `watchdog-test-${n}-${Date.now()}`,
    args: [],
  }) as Promise<InboxDrainResult>;

const stuckAlertsFor = (messageId: string) =>
  h.db
    .select()
    .from(alerts)
    .where(and(eq(alerts.type, 'inbound_stuck'), sql`${alerts.payload}->>'messageId' = ${messageId}`));

const messageIdOf = async (messageSid: string) =>
  eventually(async () => {
    const [row] = await h.db.select({ id: messages.id }).from(messages).where(eq(messages.providerSid, messageSid));
    return row?.id;
  });

describe('the inbound watchdog (issue 21 D)', () => {
  it('alerts once for a message with no outcome past INBOUND_OUTCOME_SLA, never for an answered one', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    h.openai.setHandler(async (request) => {
      // A stalled turn: the model call does not come back (until the test lets it).
      if (request.messages.some((m) => typeof m.content === 'string' && m.content.includes(HANG))) await released;
      return echoHandler(request);
    });
    try {
      const tenant = await h.createTestTenant();
      const answeredFrom = `whatsapp:${randomPhone()}`;
      const stuckFrom = `whatsapp:${randomPhone()}`;
      const answered = await h.postInbound(tenant, { body: 'qual o meu saldo?', from: answeredFrom });
      const stuck = await h.postInbound(tenant, { body: HANG, from: stuckFrom });
      const answeredId = await messageIdOf(answered.messageSid);
      const stuckId = await messageIdOf(stuck.messageSid);
      await h.twilio.waitFor(() => sentTo(h, answeredFrom).length === 1, 30_000);
      // Both are past the 2 s SLA: only the one without a reply is stuck.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(sentTo(h, stuckFrom)).toHaveLength(0);

      const first = await drainRun('first');
      expect(first.watchdog).not.toBeNull();
      expect(first.watchdog!.withoutOutcome).toBeGreaterThanOrEqual(1);
      const raised = await stuckAlertsFor(stuckId);
      expect(raised).toHaveLength(1);
      expect(raised[0]).toMatchObject({ tenantId: tenant.tenantId, severity: 'high', resolvedAt: null });
      expect(raised[0]!.payload).toMatchObject({ messageId: stuckId, messageSid: stuck.messageSid, slaMs: 2000 });
      // No phone number or text in what every supervisor sees.
      const shown = JSON.stringify(raised[0]);
      expect(shown).not.toContain(stuckFrom.replace('whatsapp:', ''));
      expect(shown).not.toContain(HANG);
      expect(raised[0]!.message).toContain('2s');
      expect(await stuckAlertsFor(answeredId)).toHaveLength(0);
      // The worker's gauge holds the run's count.
      const gauge = await h.workerMetrics.inboundWithoutOutcome.get();
      expect(gauge.values[0]?.value).toBeGreaterThanOrEqual(1);

      // A second check raises no second alert for the same message (resolved or not).
      const second = await drainRun('second');
      expect(second.watchdog!.raised).toBe(0);
      expect(await stuckAlertsFor(stuckId)).toHaveLength(1);
      expect((await h.workerMetrics.inboundWithoutOutcome.get()).values[0]?.value).toBe(
        second.watchdog!.withoutOutcome,
      );

      // Once the AI answers, the reply is the message's outcome: it leaves the count.
      release();
      await h.twilio.waitFor(() => sentTo(h, stuckFrom).length === 1, 30_000);
      const third = await drainRun('third');
      expect(third.watchdog!.withoutOutcome).toBe(second.watchdog!.withoutOutcome - 1);
      expect(await stuckAlertsFor(stuckId)).toHaveLength(1);
    } finally {
      release();
      h.openai.setHandler(echoHandler);
    }
  }, 90_000);
});
