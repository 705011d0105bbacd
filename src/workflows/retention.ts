import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RetentionInput, RetentionResult } from '../contract';

// Batches heartbeat; a run that fails is retried a few times, and tomorrow's run picks up whatever is left.
const { applyRetention } = proxyActivities<Activities>({
  startToCloseTimeout: '2h',
  heartbeatTimeout: '2m',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '5m', maximumAttempts: 5 },
});

/** `retention…`: started daily by the `retention` Schedule; blanks bodies and AI texts past their limits (F). */
export async function retentionWorkflow(input: RetentionInput): Promise<RetentionResult> {
  return applyRetention(input);
}
