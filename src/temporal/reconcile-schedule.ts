import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import { reconcileScheduleId, searchAttributes, workflowType, type ReconcileInput, type Workflows } from '../contract';
import type { Env } from '../config/env';
import type { Database } from '../db/core/client';
import { listLiveTenantSlugs } from '../db/tenants/lookup';
import type { Logger } from '../logger';

export interface ReconcileScheduleSettings {
  taskQueue: string;
  intervalMs: number;
  settleAfterMs: number;
}

export const reconcileScheduleSettings = (env: Env): ReconcileScheduleSettings => ({
  taskQueue: env.TEMPORAL_TASK_QUEUE,
  intervalMs: env.RECONCILE_INTERVAL,
  settleAfterMs: env.RECONCILE_SETTLE_AFTER,
});

/**
 * How far back a scheduled run lists. An outbound message becomes due `settleAfter` after it was sent and has to be
 * inside some run's window then: with runs `interval` apart that needs `settleAfter + interval`; one more interval
 * keeps a skipped run (SKIP overlap, a worker restart) from leaving a gap. Inbound gaps are covered many times over.
 */
export const scheduledLookbackMs = (s: Pick<ReconcileScheduleSettings, 'intervalMs' | 'settleAfterMs'>) =>
  s.settleAfterMs + 2 * s.intervalMs;

function scheduleOptions(tenantSlug: string, s: ReconcileScheduleSettings) {
  // catchUp: after an outage (no run fired, or runs failed) the first run reaches back to the last completed one.
  const input: ReconcileInput = { tenantSlug, lookbackMs: scheduledLookbackMs(s), catchUp: true };
  const action: ScheduleOptionsStartWorkflowAction<Workflows['reconcileWorkflow']> = {
    type: 'startWorkflow',
    workflowType: workflowType.reconcileWorkflow,
    workflowId: reconcileScheduleId(tenantSlug),
    taskQueue: s.taskQueue,
    args: [input],
    typedSearchAttributes: [{ key: searchAttributes.TENANT, value: tenantSlug }],
    staticSummary: `Reconcile ${tenantSlug} with Twilio's message log`,
  };
  return {
    spec: { intervals: [{ every: s.intervalMs }] },
    action,
    // A run still going when the next is due (a slow Twilio) makes the next one redundant: its window overlaps.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: s.intervalMs },
  };
}

/**
 * Creates the tenant's `reconcile:<slug>` Schedule, or brings an existing one in line with the current settings
 * (interval, task queue, lookback). Safe to call from every worker at every start, concurrently.
 */
export async function ensureReconcileSchedule(
  client: Client,
  tenantSlug: string,
  s: ReconcileScheduleSettings,
): Promise<'created' | 'updated'> {
  const scheduleId = reconcileScheduleId(tenantSlug);
  const options = scheduleOptions(tenantSlug, s);
  try {
    await client.schedule.create({ scheduleId, ...options });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await client.schedule.getHandle(scheduleId).update((previous) => ({
    ...previous,
    spec: options.spec,
    action: options.action,
    policies: { ...previous.policies, ...options.policies },
  }));
  return 'updated';
}

/** At worker start: a Schedule for every tenant with a live Twilio account (simulated ones have no log to read). */
export async function ensureReconcileSchedules(
  client: Client,
  db: Database,
  s: ReconcileScheduleSettings,
  log: Logger,
): Promise<number> {
  let done = 0;
  for (const slug of await listLiveTenantSlugs(db)) {
    try {
      await ensureReconcileSchedule(client, slug, s);
      done += 1;
    } catch (error) {
      log.error({ err: error, tenant: slug }, 'could not create or update the reconciliation schedule');
    }
  }
  log.info({ tenants: done }, 'reconciliation schedules in place');
  return done;
}
