import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FailureType, type ReconcileInput, type ReconcileResult } from '../contract';

// One listing of Twilio's log per attempt, heartbeating per page. A few attempts only: the next scheduled run
// covers the same window again (it overlaps the previous one), so a run that keeps failing is not retried forever.
const { reconcileTenant } = proxyActivities<Activities>({
  startToCloseTimeout: '15m',
  heartbeatTimeout: '2m',
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 3,
    nonRetryableErrorTypes: [FailureType.NotFound],
  },
});

/**
 * `reconcile:<tenantSlug>…`: compares one tenant's messages with Twilio's own record and recovers what the
 * webhooks missed (see src/activities/reconcile.ts). Started by the tenant's Temporal Schedule and by
 * `causeway reconcile`; all the work is one idempotent activity, so the workflow is only its durable shell.
 */
export async function reconcileWorkflow(input: ReconcileInput): Promise<ReconcileResult> {
  return reconcileTenant(input);
}
