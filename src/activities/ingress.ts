import { ApplicationFailure } from '@temporalio/activity';
import { campaignWorkflowId, FailureType, targetsChangedSignal, type StatusCallbackInput } from '../contract';
import { applyDeliveryStatus, type StatusOutcome } from '../db/ingress/delivery-status';
import { describeDatabaseError, isTransientDatabaseError } from '../db/core/errors';
import { checkInboundOutcomes, type WatchdogResult } from '../db/ingress/watchdog';
import { createInboxDrainer } from '../services/inbox';
import { startRecordedRedelivery } from '../temporal/start-redelivery';
import type { ActivityDeps } from './deps';

/** INBOUND_OUTCOME_SLA's default, for deps built without it (tests). */
const DEFAULT_INBOUND_OUTCOME_SLA_MS = 120_000;

/** Activities behind the webhook's fallbacks: the inbox drain (schedule) and status callbacks the API could not write. */
export function createIngressActivities(deps: ActivityDeps) {
  const drainer = createInboxDrainer({ ...deps, log: deps.log.child({ component: 'inbox-drain' }) });
  /** Issue 21 D: `inbound_stuck` alerts and the causeway_inbound_without_outcome gauge (src/db/watchdog.ts). */
  async function watch(): Promise<WatchdogResult> {
    const slaMs = deps.config.inboundOutcomeSlaMs ?? DEFAULT_INBOUND_OUTCOME_SLA_MS;
    const result = await checkInboundOutcomes(deps.db, slaMs);
    deps.metrics?.inboundWithoutOutcome.set(result.withoutOutcome);
    if (result.raised > 0)
      deps.log.warn({ raised: result.raised }, 'inbound messages without an outcome: inbound_stuck');
    return result;
  }
  return {
    /**
     * One full drain of this task queue's inbox (the `inbox-drain` schedule runs it every minute), then the inbound
     * watchdog. The watchdog rides on this schedule rather than one of its own: it is already durable, once a
     * minute, overlap-skipped, and needs no workflow change. Its failure is logged and leaves the drain's result.
     */
    async drainInboundInbox(): Promise<{
      drained: number;
      failed: number;
      temporalUnavailable: boolean;
      watchdog: WatchdogResult | null;
    }> {
      const result = await drainer.drainNow();
      let watchdog: WatchdogResult | null = null;
      try {
        watchdog = await watch();
      } catch (error) {
        deps.log.warn(
          { err: describeDatabaseError(error) },
          'inbound watchdog did not run; the next drain tries again',
        );
      }
      return { drained: result.drained, failed: result.failed, temporalUnavailable: result.unavailable, watchdog };
    },

    /** Issue 21 D: one watchdog run on its own (the drain runs it too); for operators' tools and tests. */
    checkInboundOutcomes: watch,

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
