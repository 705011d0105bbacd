import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Database } from '../db/client';
import { markRedeliveryStarted, redeliveryKey } from '../db/inbox';
import { workflowType, type Redelivery, type Workflows } from '../contract';

/**
 * Starts the follow-up send a failed status callback called for, as `redeliver:<messageId>:<mode>`: a repeated
 * callback starts nothing new, and the send itself is keyed in the outbox from the original message.
 */
export async function startRedelivery(
  client: Client,
  taskQueue: string,
  redelivery: Redelivery,
  options: { deadlineMs?: number } = {},
): Promise<void> {
  const start = () =>
    client.workflow.start<Workflows['redeliveryWorkflow']>(workflowType.redeliveryWorkflow, {
      workflowId: redeliveryKey(redelivery),
      taskQueue,
      args: [redelivery],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
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
  options: { deadlineMs?: number } = {},
): Promise<void> {
  await startRedelivery(client, taskQueue, redelivery, options);
  await markRedeliveryStarted(db, redelivery);
}
