import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { workflowType, type Redelivery, type Workflows } from '../contract';

/**
 * Starts the follow-up send a failed status callback called for, as `redeliver:<messageId>:<mode>`: a repeated
 * callback starts nothing new, and the send itself is keyed in the outbox from the original message.
 */
export async function startRedelivery(client: Client, taskQueue: string, redelivery: Redelivery): Promise<void> {
  try {
    await client.workflow.start<Workflows['redeliveryWorkflow']>(workflowType.redeliveryWorkflow, {
      workflowId: `redeliver:${redelivery.messageId}:${redelivery.mode}`,
      taskQueue,
      args: [redelivery],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      staticSummary:
        redelivery.mode === 'template'
          ? 'Resend as WhatsApp template after 63016'
          : 'Resend after a retryable delivery error',
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}
