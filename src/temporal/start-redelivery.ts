import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Database } from '../db/core/client';
import { markRedeliveryStarted, redeliveryKey } from '../db/ingress/inbox';
import { workflowType, type Redelivery, type Workflows } from '../contract';
import { retryBackoffMs } from '../domain/twilio-errors';

export interface RedeliveryStartOptions {
  /** How long to wait for Temporal to take the start (the webhook's budget). */
  deadlineMs?: number;
  /** DELIVERY_RETRY_BACKOFF: a `retry` resend starts after base × 4^resends (Temporal's startDelay, durable). */
  backoffBaseMs?: number;
}

/**
 * Starts the follow-up send a failed status callback called for, as `redeliver:<messageId>:<mode>`: a repeated
 * callback starts nothing new, and the send itself is keyed in the outbox from the original message.
 */
export async function startRedelivery(
  client: Client,
  taskQueue: string,
  redelivery: Redelivery,
  options: RedeliveryStartOptions = {},
): Promise<void> {
  const delayMs = redelivery.mode === 'retry' ? retryBackoffMs(options.backoffBaseMs ?? 0, redelivery.resends ?? 0) : 0;
  const start = () =>
    client.workflow.start<Workflows['redeliveryWorkflow']>(workflowType.redeliveryWorkflow, {
      workflowId: redeliveryKey(redelivery),
      taskQueue,
      args: [redelivery],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      ...(delayMs > 0 ? { startDelay: delayMs } : {}),
      staticSummary:
        redelivery.mode === 'template'
          ? 'Resend as WhatsApp template after 63016'
          : 'Resend after a retryable delivery error',
    });
  try {
    await (options.deadlineMs === undefined ? start() : client.withDeadline(Date.now() + options.deadlineMs, start));
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

/**
 * Starts a redelivery recorded in `redelivery_inbox` (the status that called for it wrote the row) and marks the row
 * done. Throws when Temporal does not take it: the row stays pending and the inbox drain starts it later.
 */
export async function startRecordedRedelivery(
  db: Database,
  client: Client,
  taskQueue: string,
  redelivery: Redelivery,
  options: RedeliveryStartOptions = {},
): Promise<void> {
  await startRedelivery(client, taskQueue, redelivery, options);
  await markRedeliveryStarted(db, redelivery);
}
