import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
import { retentionScheduleId, workflowType, type RetentionInput } from '../contract';
import type { Env } from '../config/env';

export const retentionInput = (env: Pick<Env, 'RETENTION_MESSAGE_BODIES' | 'RETENTION_AI_TEXTS'>): RetentionInput => ({
  messageBodiesMs: env.RETENTION_MESSAGE_BODIES,
  aiTextsMs: env.RETENTION_AI_TEXTS,
});

/**
 * F: the daily `retention` Schedule (03:00 UTC, a quiet hour for Brazilian and European tenants), created or
 * brought to the current limits at every worker start; removed when both limits are off, so turning retention
 * off stops it. Overlapping runs are skipped and a missed day is not caught up in bulk (the next run covers it).
 */
export async function ensureRetentionSchedule(
  client: Client,
  taskQueue: string,
  input: RetentionInput,
): Promise<'created' | 'updated' | 'removed' | 'off'> {
  const scheduleId = retentionScheduleId(taskQueue);
  if (input.messageBodiesMs === null && input.aiTextsMs === null) {
    try {
      await client.schedule.getHandle(scheduleId).delete();
      return 'removed';
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) return 'off';
      throw error;
    }
  }
  const definition = {
    spec: { calendars: [{ hour: 3, minute: 0 }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: workflowType.retentionWorkflow,
      taskQueue,
      args: [input] as [RetentionInput],
      staticSummary: 'Blank message bodies and AI texts past their retention',
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1h' },
  };
  try {
    await client.schedule.create({ scheduleId, ...definition } satisfies ScheduleOptions);
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule
      .getHandle(scheduleId)
      .update((previous) => ({ ...previous, ...definition, state: previous.state }));
    return 'updated';
  }
}
