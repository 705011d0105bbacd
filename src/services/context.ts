import type { Client } from '@temporalio/client';
import type { ConversationTiming } from '../contract/types';
import type { Database } from '../db/core/client';
import type { AiResponder } from '../integrations/ai';
import type { TwilioGateway } from '../integrations/twilio-gateway';
import type { Logger } from '../logger';
import type { Metrics } from '../observability/metrics';

/** The deployment's settings the use cases read (built from the environment once, in the boot code). */
export interface ServiceConfig {
  publicBaseUrl: string;
  /** Twilio connection overrides (`ct=…&rp=…`, without the `#`) appended to our status callback URLs. */
  twilioConnectionOverrides?: string;
  timing: ConversationTiming;
  /** A campaign send with no final delivery status after this long counts as sent (unconfirmed). */
  campaign: { deliveryTimeoutMs: number };
  promises: { reminderBeforeMs: number; checkAfterMs: number };
  /** Reconciliation with Twilio's log; defaults: settle after 15 min, 25 pages of 200. */
  reconcile?: { settleAfterMs: number; maxPages: number; maxLookbackMs?: number };
  /** WhatsApp customer-service window: free text this long after the contact's last inbound message, a template after. */
  whatsappWindowMs: number;
  /** DELIVERY_RETRY_BACKOFF: the first resend after a retryable delivery error waits this long (then ×4). */
  deliveryRetryBackoffMs?: number;
  /** Hybrid mode: a draft no agent acted on this long raises a `draft_unattended` alert (HYBRID_DRAFT_TIMEOUT). */
  hybrid?: { draftTimeoutMs: number };
  /**
   * Issue 18 E: the deployment's AI budget and promise bounds (a tenant's own columns override them); absent
   * (tests that build deps by hand): the env defaults.
   */
  aiBudget?: { maxTurnsPerHour: number; maxTokensPerDay: number; promiseMaxDaysAhead: number };
  /** INBOUND_OUTCOME_SLA: an inbound message with no outcome this long after it arrived is `inbound_stuck`. */
  inboundOutcomeSlaMs?: number;
  /** Desk SLAs when a department sets none (DESK_FIRST_RESPONSE_SLA, DESK_NEXT_RESPONSE_SLA). */
  desk?: { firstResponseSlaMs: number; nextResponseSlaMs: number };
}

/**
 * What a use case (src/services) may touch: one context, built once per process (issue 19 A). Each verb takes
 * the part it needs (`Pick<ServiceContext, 'db' | 'temporal'>`), so an entry point that holds no Twilio gateway
 * or model (the API, the CLI) calls the verbs that need none, and the compiler says when one does.
 */
export interface ServiceContext {
  db: Database;
  /**
   * `eager`: a client over the worker's own NativeConnection (worker processes only). A new conversation's run is
   * started through it with eager start: the server hands its first task back in the start's response, to this
   * worker, instead of through matching (src/services/inbound.ts, signalConversation).
   */
  temporal: { client: Client; taskQueue: string; eager?: Client };
  twilio: TwilioGateway;
  ai: AiResponder;
  clock: () => Date;
  log: Logger;
  config: ServiceConfig;
  /** The process's series (sends, delivery statuses); tests may leave it out. */
  metrics?: Metrics;
}

/** The part of the context the operator-facing verbs use (conversation, draft and desk actions, campaigns, inbox). */
export type OperatorContext = Pick<ServiceContext, 'db' | 'temporal' | 'log' | 'clock'>;

/**
 * The operator context from what the API (src/api/context.ts `AppDeps`) and the CLI (src/cli/context.ts, once it
 * opened the database and Temporal) hold. The worker's `ActivityDeps` is a whole ServiceContext already.
 */
export function operatorContext(deps: {
  db: Database;
  temporal: Client;
  taskQueue: string;
  log: Logger;
  clock?: (() => Date) | undefined;
}): OperatorContext {
  return {
    db: deps.db,
    temporal: { client: deps.temporal, taskQueue: deps.taskQueue },
    log: deps.log,
    clock: deps.clock ?? (() => new Date()),
  };
}
