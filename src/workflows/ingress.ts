import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { InboxDrainResult, StatusCallbackInput } from '../contract';
import { db } from './activity-options';

// The schedule runs every minute: a failed drain is simply tried again by the next run, so few attempts here.
const drain = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3 },
});

/** Started by the `inbox-drain` schedule: hands parked inbound messages to `inbound:<MessageSid>`. */
export async function inboxDrainWorkflow(): Promise<InboxDrainResult> {
  return await drain.drainInboundInbox();
}

/**
 * `status:<MessageSid>:<Status>`: a delivery status callback that arrived while the API could not write to the
 * database. The activity retries until the database is back (the `db` options: no attempt cap).
 */
export async function statusCallbackWorkflow(input: StatusCallbackInput): Promise<{ outcome: string }> {
  return await db.applyStatusCallback(input);
}
