import { ApplicationFailure } from '@temporalio/activity';
import { campaignWorkflowId, FailureType, targetsChangedSignal, type StatusCallbackInput } from '../contract';
import { applyDeliveryStatus, type StatusOutcome } from '../db/delivery-status';
import { describeDatabaseError, isTransientDatabaseError } from '../db/errors';
import { createInboxDrainer } from '../temporal/inbox-drainer';
import { startRecordedRedelivery } from '../temporal/start-redelivery';
import type { ActivityDeps } from './deps';

/** Activities behind the webhook's fallbacks: the inbox drain (schedule) and status callbacks the API could not write. */
export function createIngressActivities(deps: ActivityDeps) {
  const drainer = createInboxDrainer({
    db: deps.db,
    client: deps.temporal.client,
    taskQueue: deps.temporal.taskQueue,
    log: deps.log.child({ component: 'inbox-drain' }),
  });
  return {
    /** One full drain of this task queue's inbox (the `inbox-drain` schedule runs it every minute). */
    async drainInboundInbox(): Promise<{ drained: number; failed: number; temporalUnavailable: boolean }> {
      const result = await drainer.drainNow();
      return { drained: result.drained, failed: result.failed, temporalUnavailable: result.unavailable };
    },

    /**
     * Applies a status callback monotonically, as the webhook would have. Retried while the database is
     * unavailable; a data error ends the workflow as failed at once instead of retrying for ever.
     */
    async applyStatusCallback(input: StatusCallbackInput): Promise<{ outcome: StatusOutcome }> {
      let result;
      try {
        result = await applyDeliveryStatus(deps.db, input);
      } catch (error) {
        if (isTransientDatabaseError(error)) throw new Error(describeDatabaseError(error));
        throw ApplicationFailure.nonRetryable(
          `status callback not applicable: ${describeDatabaseError(error)}`,
          FailureType.DatabaseRejected,
        );
      }
      // 63016 with a template, or a retryable code: the follow-up send, as the webhook would have started it.
      // Recorded with the status; a failed start here leaves it to the inbox drain instead of re-applying the status.
      if (result.redeliver) {
        await startRecordedRedelivery(deps.db, deps.temporal.client, deps.temporal.taskQueue, result.redeliver, {
          backoffBaseMs: deps.config.deliveryRetryBackoffMs,
        }).catch((error: unknown) => {
          deps.log.warn({ err: (error as Error).name }, 'redelivery not started yet: left to the inbox drain');
          drainer.kick();
        });
      }
      if (result.campaignToNotify) {
        // Best effort, as in the webhook: the campaign's own timer is the backstop.
        await deps.temporal.client.workflow
          .getHandle(campaignWorkflowId(result.campaignToNotify))
          .signal(targetsChangedSignal)
          .catch(() => undefined);
      }
      if (result.outcome === 'updated') deps.metrics?.messageStatus.inc({ status: input.status });
      return { outcome: result.outcome };
    },
  };
}
