import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  proxyLocalActivities,
  TimeoutFailure,
} from '@temporalio/workflow';
import { RetryState } from '@temporalio/common';
import type { Activities } from '../activities';
import { FailureType } from '../contract';

// Database steps retry without a cap: once the webhook answered 200 the message must get through, even if
// Postgres is down for a while (I4). Backoff tops out at 30 s so recovery is noticed quickly.
export const db = proxyActivities<Activities>({
  startToCloseTimeout: '15s',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    nonRetryableErrorTypes: [FailureType.NotFound],
  },
});

// The AI gets three tries; then the workflow sends a fallback message instead of leaving the customer in
// silence (I9). The OpenAI client's own timeout (20 s) is below the 30 s start-to-close.
export const ai = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '10s',
    maximumAttempts: 3,
    nonRetryableErrorTypes: [FailureType.AiPermanent],
  },
});

// Sends are idempotent through the outbox, so retrying is safe; permanent Twilio errors stop at once.
export const messaging = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '60s',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [FailureType.TwilioPermanent, FailureType.NotFound],
  },
});

// Local activities of the inbound → reply path (issue 14): they run in the worker inside the workflow task and leave
// one marker event each, instead of a schedule/start/complete triple and a workflow task round trip through the
// server. The price: a worker lost mid-task re-runs every local step of that task, so each one used here must be
// safe to run twice (said at each call site). The retry policies are those of the regular proxies above; backoffs
// past `localRetryThreshold` become durable timers, so a long database outage still waits without a cap.
/**
 * A local activity that failed for good reaches the workflow as its bare cause (the ApplicationFailure or
 * TimeoutFailure), where a regular one arrives wrapped in an ActivityFailure. The workflow code, and the operator API
 * that reads an update's failure, expect the wrapper: the local proxies add it, so both kinds fail alike.
 */
function wrapped<T extends object>(proxy: T): T {
  const guarded = async (name: string | symbol, run: () => Promise<unknown>) => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof ApplicationFailure || error instanceof TimeoutFailure)
        throw new ActivityFailure(
          `local activity ${String(name)} failed`,
          String(name),
          undefined,
          RetryState.MAXIMUM_ATTEMPTS_REACHED,
          'local',
          error,
        );
      throw error;
    }
  };
  return new Proxy(proxy, {
    get(target, name) {
      const call = Reflect.get(target, name) as ((...args: unknown[]) => Promise<unknown>) & {
        executeWithOptions(options: object, args: unknown[]): Promise<unknown>;
      };
      const fn = (...args: unknown[]) => guarded(name, () => call(...args));
      // Issue 21 F: per-call options (a `summary` for the Web UI) keep the same wrapping.
      fn.executeWithOptions = (options: object, args: unknown[]) =>
        guarded(name, () => call.executeWithOptions(options, args));
      return fn;
    },
  });
}

export const localDb = wrapped(
  proxyLocalActivities<Activities>({
    startToCloseTimeout: '15s',
    localRetryThreshold: '10s',
    retry: {
      initialInterval: '500ms',
      backoffCoefficient: 2,
      maximumInterval: '30s',
      nonRetryableErrorTypes: [FailureType.NotFound],
    },
  }),
);

export const localAi = wrapped(
  proxyLocalActivities<Activities>({
    startToCloseTimeout: '30s',
    localRetryThreshold: '10s',
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '10s',
      maximumAttempts: 3,
      nonRetryableErrorTypes: [FailureType.AiPermanent],
    },
  }),
);

export const localMessaging = wrapped(
  proxyLocalActivities<Activities>({
    startToCloseTimeout: '30s',
    localRetryThreshold: '10s',
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '60s',
      maximumAttempts: 10,
      nonRetryableErrorTypes: [FailureType.TwilioPermanent, FailureType.NotFound],
    },
  }),
);

// Campaign bookkeeping (claims, status): like `db`, retried until Postgres answers.
export const campaignDb = db;

// A send batch waits for its slots (at most a couple of seconds ahead) and heartbeats every 100 ms, so a pause
// reaches it quickly (the worker's heartbeat throttle is capped to match). The workflow waits for the
// cancellation to complete: the batch releases its unsent targets first, and a resume can claim them at once.
export const campaignSend = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '10s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    nonRetryableErrorTypes: [FailureType.NotFound],
  },
});

// One target after a retryable Twilio error (429, 5xx, timeout): Temporal's backoff, a bounded number of tries,
// then the attempt counts as failed (and is retried after the campaign's spacing if attempts remain).
export const campaignRetrySend = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 6,
    nonRetryableErrorTypes: [FailureType.TwilioPermanent, FailureType.NotFound],
  },
});
