import type { Client } from '@temporalio/client';
import type { ConversationTiming } from '../contract/types';
import type { Database } from '../db/client';
import type { AiResponder } from '../integrations/ai';
import type { MediaUnderstanding } from '../integrations/media-understanding';
import type { TwilioGateway } from '../integrations/twilio-gateway';
import type { PaymentChecker } from '../integrations/payments';
import type { Logger } from '../logger';
import type { Metrics } from '../observability/metrics';

/** Everything activities may touch, built once in worker.ts; tests pass their own, checked by the compiler. */
export interface ActivityDeps {
  db: Database;
  twilio: TwilioGateway;
  ai: AiResponder;
  payments: PaymentChecker;
  temporal: { client: Client; taskQueue: string };
  config: {
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
  };
  log: Logger;
  clock: () => Date;
  /**
   * Issue 23 C: voice notes and images read by the model (null/absent: off, they stay `[audio 0:12]`, `[image]`).
   * `twilioOrigins`: the only origins media is fetched from with a tenant's credentials.
   */
  media?: { understanding: MediaUnderstanding; maxBytes: number; maxSeconds: number; twilioOrigins: string[] } | null;
  /** The worker's series (sends, delivery statuses); tests may leave it out. */
  metrics?: Metrics;
}
