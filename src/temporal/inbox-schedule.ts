import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { inboxDrainScheduleId, workflowType } from '../contract';

export const INBOX_DRAIN_INTERVAL = '1m';

/**
 * Creates the inbox drain schedule, or brings an existing one to today's definition (a worker start after a
 * deploy that changed it). Idempotent: every worker calls it at start. Overlapping runs are skipped, and a run
 * missed while Temporal was down is not caught up in bulk (the next one drains everything anyway).
 */
export async function ensureInboxDrainSchedule(client: Client, taskQueue: string): Promise<string> {
  const scheduleId = inboxDrainScheduleId(taskQueue);
  const definition = {
    spec: { intervals: [{ every: INBOX_DRAIN_INTERVAL }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: workflowType.inboxDrainWorkflow,
      taskQueue,
      args: [] as [],
      workflowExecutionTimeout: '5m',
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: INBOX_DRAIN_INTERVAL },
  };
  try {
    await client.schedule.create({ scheduleId, ...definition } satisfies ScheduleOptions);
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule
      .getHandle(scheduleId)
      .update((previous) => ({ ...previous, ...definition, state: previous.state }));
  }
  return scheduleId;
}
