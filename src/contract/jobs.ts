// The operations jobs' inputs and results: reconciliation with Twilio, erasure of a contact, retention.

/** One reconciliation run of a tenant: its Twilio accounts' messages sent within `lookbackMs` before the run. */
export interface ReconcileInput {
  tenantSlug: string;
  lookbackMs: number;
  /**
   * Scheduled runs: also list back to the last run that completed (its `until` minus `lookbackMs` as overlap), so
   * an outage longer than the lookback is caught up without an operator; bounded by RECONCILE_MAX_LOOKBACK.
   */
  catchUp?: boolean;
}

export interface ReconcileResult {
  tenantSlug: string;
  /** The window listed (ISO): Twilio's DateSent on or after `since`, up to the run's start. */
  since: string;
  until: string;
  /** Live Twilio accounts listed (simulated ones have no Twilio log). */
  accounts: number;
  pages: number;
  /** Messages Twilio listed in the window, any direction and number. */
  listed: number;
  /** Inbound messages to the tenant's numbers that we had never received: handed to `inbound:<MessageSid>` now. */
  inboundMissingFed: number;
  /** Inbound messages already stored or already started (the webhook got there first). */
  inboundAlreadyKnown: number;
  /** Inbound messages Twilio has that could not be turned into a message (malformed addresses); SIDs logged. */
  inboundInvalid: number;
  /** Our outbound messages that had no final status and now have Twilio's final one. */
  outboundSettled: number;
  /** Our outbound messages older than the settle time for which Twilio has no final status either. */
  outboundStillOpen: number;
  /** Our outbound messages with no final status, younger than the settle time (their callbacks may still come). */
  outboundNotDue: number;
  /** Our own unsettled sends fetched one by one (not in the DateSent listing: Twilio never sent them). */
  outboundFetched: number;
  /** Our outbound messages whose price Twilio now reports, recorded with their send decision (issue 21 C). */
  outboundPriced?: number;
  /** The page limit stopped the listing: older messages of the window were not looked at. */
  truncated: boolean;
  /** A catch-up run: the window reached back past `lookbackMs` to the last completed run (ISO of its end). */
  caughtUpFrom?: string | null;
}

/** `erasure:<tenant>:<contact hash>`: what the workflow is given. No phone number, ever (the history keeps it). */
export interface ErasureInput {
  tenantId: string;
  tenantSlug: string;
  contactHash: string;
  /** Who asked (an operator id, or `cli:<os user>`), and why: kept in the audit row. */
  requestedBy: string;
  reason: string;
}

export interface ErasureSummary {
  erasureId: string;
  /** Rows removed or anonymized, per table. */
  counts: Record<string, number>;
  workflowsTerminated: number;
  historiesDeleted: number;
  /** The contact had opted out: a suppression entry keeps later campaign imports from contacting them. */
  suppressed: boolean;
}

/** F: the retention run's limits (ms; null: keep) and what it blanked. */
export interface RetentionInput {
  messageBodiesMs: number | null;
  aiTextsMs: number | null;
}

export interface RetentionResult {
  messagesBlanked: number;
  aiResultsBlanked: number;
  /** Copies of customers' words changed: outbox variables, finished target lines, failures, orphans, drained inbox rows. */
  copiesBlanked?: number;
}
