import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import {
  BUILT_IN_PATCHES,
  inboundWorkflowId,
  searchAttributes,
  workflowType,
  type InboundInput,
  type Workflows,
} from '../contract';
import { runWithTrace } from '../tracing/context';

export type StartInboundOutcome = 'started' | 'duplicate';

/**
 * The one way a verified inbound message enters Temporal: `inbound:<MessageSid>` with REJECT_DUPLICATE, so the
 * webhook, the Postgres inbox drain and reconciliation against Twilio's log can all hand over the same message and
 * only the first start counts (I3). Throws when Temporal does not accept the start.
 */
export async function startInboundWorkflow(
  client: Client,
  taskQueue: string,
  input: InboundInput,
  options: { deadlineMs?: number } = {},
): Promise<StartInboundOutcome> {
  const start = () =>
    client.workflow.start<Workflows['inboundWorkflow']>(workflowType.inboundWorkflow, {
      workflowId: inboundWorkflowId(input.messageSid),
      taskQueue,
      // Issue 25 A: the patches this build's inbound workflow takes without recording their markers.
      args: [{ ...input, builtInPatches: BUILT_IN_PATCHES.inboundWorkflow }],
      // I3: a second start with the same MessageSid, even after the first run finished, is rejected.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: [
        { key: searchAttributes.TENANT, value: input.tenantSlug },
        { key: searchAttributes.TRACE_ID, value: input.trace.traceId },
      ],
      staticSummary: `Inbound ${input.channel} message for ${input.tenantSlug}`,
    });
  try {
    await runWithTrace(input.trace, () =>
      options.deadlineMs === undefined ? start() : client.withDeadline(Date.now() + options.deadlineMs, start),
    );
    return 'started';
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'duplicate';
    throw error;
  }
}
