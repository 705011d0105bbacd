import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ErasureInput, ErasureSummary } from '../contract';

// Every step is idempotent and retried until it succeeds: an erasure that was asked for must finish. A worker that
// dies mid-step leaves the step to be redone by another; steps already completed are not repeated.
const steps = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/**
 * `erasure:<tenant>:<contact hash>` (LGPD/GDPR erasure on request): finds the contact's rows and workflows, ends
 * the running ones, anonymizes or removes the rows, deletes the Temporal histories, and completes the audit row.
 * Its input and history hold only the keyed hash, the requester and the reason; the ids found live in the
 * erasure row while it runs. Collect must come first (it reads what the later steps erase).
 */
export async function erasureWorkflow(input: ErasureInput): Promise<ErasureSummary> {
  const { erasureId } = await steps.beginErasure({ ...input, runId: workflowInfo().runId });
  const { suppressed } = await steps.collectErasureTargets({ erasureId });
  await steps.endContactWorkflows({ erasureId });
  await steps.anonymizeContactRows({ erasureId });
  await steps.deleteContactHistories({ erasureId });
  return steps.completeErasure({ erasureId, suppressed });
}
