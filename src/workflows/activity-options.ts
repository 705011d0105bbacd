import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FailureType } from '../contract';

// Database steps retry without a cap: once the webhook answered 200 the message must get through, even if
// Postgres is down for a while (I4). Backoff tops out at 30 s so recovery is noticed quickly.
export const db = proxyActivities<Activities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: [FailureType.NotFound] },
});

// The AI gets three tries; then the workflow sends a fallback message instead of leaving the customer in
// silence (I9). The OpenAI client's own timeout (20 s) is below the 30 s start-to-close.
export const ai = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3, nonRetryableErrorTypes: [FailureType.AiPermanent] },
});

// Sends are idempotent through the outbox, so retrying is safe; permanent Twilio errors stop at once.
export const messaging = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '60s', maximumAttempts: 10, nonRetryableErrorTypes: [FailureType.TwilioPermanent, FailureType.NotFound] },
});
