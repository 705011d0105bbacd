import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Redelivery } from '../db/delivery-status';
import { retryBackoffMs } from '../domain/twilio-errors';
import type { redeliveryWorkflow } from '../workflows/redelivery';

/**
 * Starts the follow-up send a failed status callback called for, as `redeliver:<messageId>:<mode>`: a repeated
 * callback starts nothing new, and the send itself is keyed in the outbox from the original message.
 */
export async function startRedelivery(
  client: Client,
  taskQueue: string,
  redelivery: Redelivery,
  /** DELIVERY_RETRY_BACKOFF: a `retry` resend starts after base × 4^resends (Temporal's startDelay, durable). */
  backoffBaseMs = 0,
): Promise<void> {
  const delayMs = redelivery.mode === 'retry' ? retryBackoffMs(backoffBaseMs, redelivery.resends ?? 0) : 0;
  try {
    await client.workflow.start<typeof redeliveryWorkflow>('redeliveryWorkflow', {
      workflowId: `redeliver:${redelivery.messageId}:${redelivery.mode}`,
      taskQueue,
      args: [redelivery],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      ...(delayMs > 0 ? { startDelay: delayMs } : {}),
      staticSummary:
        redelivery.mode === 'template'
          ? 'Resend as WhatsApp template after 63016'
          : 'Resend after a retryable delivery error',
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}
