import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { statusCallbackWorkflowId, workflowType, type StatusCallbackInput, type Workflows } from '../contract';

/**
 * Hands a verified status callback the database could not take to Temporal: `status:<MessageSid>:<Status>`,
 * whose activity applies it once the database is back. A second start for the same callback (Twilio's duplicate)
 * is rejected by the id and counts as accepted. Throws when Temporal does not accept the start.
 */
export async function startStatusCallbackWorkflow(
  client: Client,
  taskQueue: string,
  input: StatusCallbackInput,
  options: { deadlineMs: number },
): Promise<'started' | 'duplicate'> {
  try {
    await client.withDeadline(Date.now() + options.deadlineMs, () =>
      client.workflow.start<Workflows['statusCallbackWorkflow']>(workflowType.statusCallbackWorkflow, {
        workflowId: statusCallbackWorkflowId(input.messageSid, input.status),
        taskQueue,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
        staticSummary: `Delivery status ${input.status} (database was unavailable)`,
      }),
    );
    return 'started';
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'duplicate';
    throw error;
  }
}
