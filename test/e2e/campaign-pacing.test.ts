import { eq, inArray } from 'drizzle-orm';
import { tsToMs } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlCampaign } from '../../src/services/campaigns';
import { campaignWorkflowId } from '../../src/contract';
import { campaignTargets, messages } from '../../src/db/schema';
import { launchCampaign, sentToPhones, targetRows, targets, waitForStatus } from '../support/campaigns';
import { startHarness, type Harness } from '../support/harness';

const EventType = temporal.api.enums.v1.EventType;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ CAMPAIGN_DELIVERY_TIMEOUT: '20s' }, { statusCallbacks: true });
});
afterAll(async () => {
  await h?.close();
});

/** The most sends in any 1 s window (half-open, [t, t + 1000 ms)), by the fake Twilio's request times. */
function busiestWindow(times: number[]): number {
  const t = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= 1000) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

/**
 * When the workflow took in the control signal: the start of the workflow task that delivered it, as Temporal
 * recorded it (the cancellation of the running send batches is decided in that task).
 */
async function controlReachedWorkflowAt(campaignId: string, signalName: string): Promise<number> {
  const { events } = await h.client.workflow.getHandle(campaignWorkflowId(campaignId)).fetchHistory();
  const list = events ?? [];
  const signalled = list.findIndex(
    (e) =>
      e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED &&
      e.workflowExecutionSignaledEventAttributes?.signalName === signalName,
  );
  expect(signalled).toBeGreaterThanOrEqual(0);
  const task = list.slice(signalled + 1).find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
  expect(task).toBeDefined();
  return tsToMs(task!.eventTime);
}

describe('campaign pacing (issue 10, I)', () => {
  it('every sliding 1 s window holds at most ceil(1.05 × rate) sends (two campaigns at once)', async () => {
    const slow = { tenant: await h.createTestTenant(), rate: 5, rows: targets(40) };
    const fast = { tenant: await h.createTestTenant(), rate: 20, rows: targets(140) };
    const launched = await Promise.all(
      [slow, fast].map((c) => launchCampaign(h, c.tenant, c.rows, { ratePerSecond: c.rate })),
    );
    await Promise.all(launched.map((c) => waitForStatus(h, c.campaignId, 'completed', 60_000)));
    for (const c of [slow, fast]) {
      const sent = sentToPhones(
        h,
        c.rows.map((r) => r.phone),
      );
      expect(sent).toHaveLength(c.rows.length);
      expect(new Set(sent.map((m) => m.to)).size).toBe(c.rows.length);
      expect(busiestWindow(sent.map((m) => m.dateCreated.getTime()))).toBeLessThanOrEqual(Math.ceil(1.05 * c.rate));
    }
  });

  it('after a pause reaches the workflow, no send starts later than one slot; resume sends each remaining target once', async () => {
    const tenant = await h.createTestTenant();
    const rate = 10;
    const rows = targets(70);
    const phones = rows.map((r) => r.phone);
    const c = await launchCampaign(h, tenant, rows, { ratePerSecond: rate });
    await h.twilio.waitFor(() => sentToPhones(h, phones).length >= 15, 30_000);
    await controlCampaign(h.client, c.campaignId, 'pause', { actor: 'test' });
    await waitForStatus(h, c.campaignId, 'paused', 10_000);
    const reachedAt = await controlReachedWorkflowAt(c.campaignId, 'pause');
    const atPause = sentToPhones(h, phones);
    expect(atPause.length).toBeLessThan(rows.length);
    expect(Math.max(...atPause.map((m) => m.dateCreated.getTime()))).toBeLessThanOrEqual(reachedAt + 1000 / rate + 200);
    // Sends stopped at the gate left nothing behind: every unsent target is due again, not stuck in `sending`.
    const paused = await targetRows(h, c.campaignId);
    expect(paused.filter((t) => t.state === 'sending' && t.lastStatus === null)).toHaveLength(0);
    await controlCampaign(h.client, c.campaignId, 'resume', { actor: 'test' });
    await waitForStatus(h, c.campaignId, 'completed', 30_000);
    const sent = sentToPhones(h, phones);
    expect(sent).toHaveLength(rows.length);
    expect(new Set(sent.map((m) => m.to)).size).toBe(rows.length);
    expect(busiestWindow(sent.map((m) => m.dateCreated.getTime()))).toBeLessThanOrEqual(Math.ceil(1.05 * rate));
  });

  it('after a cancel reaches the workflow, no send starts later than one slot; stopped sends leave no message rows', async () => {
    const tenant = await h.createTestTenant();
    const rate = 10;
    const rows = targets(60);
    const phones = rows.map((r) => r.phone);
    const c = await launchCampaign(h, tenant, rows, { ratePerSecond: rate });
    await h.twilio.waitFor(() => sentToPhones(h, phones).length >= 12, 30_000);
    await controlCampaign(h.client, c.campaignId, 'cancel', { actor: 'test' });
    await waitForStatus(h, c.campaignId, 'cancelled', 10_000);
    const reachedAt = await controlReachedWorkflowAt(c.campaignId, 'cancel');
    const sent = sentToPhones(h, phones);
    expect(sent.length).toBeLessThan(rows.length);
    expect(Math.max(...sent.map((m) => m.dateCreated.getTime()))).toBeLessThanOrEqual(reachedAt + 1000 / rate + 200);
    const final = await targetRows(h, c.campaignId);
    expect(final.filter((t) => t.outcome === 'campaign_cancelled')).toHaveLength(rows.length - sent.length);
    const rowsOfCampaign = await h.db
      .select({ id: messages.id })
      .from(messages)
      .where(
        inArray(
          messages.campaignTargetId,
          final.map((t) => t.id),
        ),
      );
    expect(rowsOfCampaign).toHaveLength(sent.length);
    const stuck = await h.db
      .select({ id: campaignTargets.id })
      .from(campaignTargets)
      .where(eq(campaignTargets.state, 'sending'));
    expect(stuck.filter((t) => final.some((f) => f.id === t.id && f.lastStatus === null))).toHaveLength(0);
  });
});
