import type { PendingDraft } from './drafts';

export type Channel = 'sms' | 'whatsapp';

import type { ConversationStatus } from './statuses';
export type { ConversationStatus };

/** Trace context carried with each unit of work (seed 001): one trace per entry point, a span per step. */
export interface TraceContext {
  traceId: string;
  spanId: string;
  parentId?: string | null;
  causalTraceId?: string | null;
}

export interface MediaItem {
  url: string;
  contentType: string | null;
  /**
   * Issue 23 C: what the model heard or saw (a voice note's transcript, an image's description), stored with the
   * message, so retention and erasure blank it with the media link.
   */
  text?: string;
  /** A voice note's length when its data told it. */
  durationSec?: number;
  /** Why there is no text: the attachment was too large or too long, or reading it failed (the turn went on). */
  unread?: 'too_large' | 'too_long' | 'failed';
}

/** What the webhook hands to `inbound:<MessageSid>`. Kept in Temporal until Postgres has it (durability, I4). */
export interface InboundInput {
  tenantId: string;
  tenantSlug: string;
  messageSid: string;
  channel: Channel;
  /** Twilio addresses as received, e.g. `whatsapp:+5511…` or `+1555…`. */
  from: string;
  to: string;
  body: string;
  media: MediaItem[];
  profileName: string | null;
  originalRepliedMessageSid: string | null;
  receivedAt: string;
  trace: TraceContext;
  /** Webhook parameters whose text was made storable (control characters, lone surrogates); names only. */
  normalizedFields?: string[];
}

/** A Twilio delivery status callback, verified by the webhook, for `statusCallbackWorkflow`. */
export interface StatusCallbackInput {
  tenantId: string;
  messageSid: string;
  status: string;
  errorCode: string | null;
}

export interface InboundResult {
  /** null only when the message could not be stored (`failed`). */
  messageId: string | null;
  conversationWorkflowId: string | null;
  /** true when the message had already been taken by a conversation (a replayed or late duplicate). */
  alreadyHandled: boolean;
  /** D: handling failed for good; the message is kept in inbound_failures and an `inbound_failed` alert is open. */
  failed?: { stage: 'record' | 'keyword' | 'deliver'; failureType: string };
}

export interface ConversationTiming {
  debounceMs: number;
  idleAfterMs: number;
  closeAfterMs: number;
  npsWaitMs: number;
  /** Turns per run before continue-as-new (with a summary) keeps the event history small. */
  maxTurnsPerRun: number;
}

/** Signal payload: ids only; bodies stay in Postgres and are read by the AI activity. */
export interface CustomerMessage {
  messageId: string;
  correlationId: string;
  receivedAt: string;
  /** The tenant's address the customer wrote to (the reply goes out from it) and the customer's address. */
  tenantAddress: string;
  customerAddress: string;
  trace: TraceContext;
}

export interface ConversationInput {
  tenantId: string;
  tenantSlug: string;
  contactId: string;
  channel: Channel;
  timing: ConversationTiming;
  /** State carried across continue-as-new. */
  carried?: ConversationCarry;
}

export interface AgentRef {
  id: string;
  name: string;
}

/** Where replies go: the tenant address the customer last wrote to, and the customer's address. */
export interface ReplyRoute {
  tenantAddress: string;
  customerAddress: string;
}

/** State carried across continue-as-new. `conversationId: null` starts a new conversation row. */
export interface ConversationCarry {
  conversationId: string | null;
  status: ConversationStatus;
  version: number;
  pending: CustomerMessage[];
  recentMessageIds: string[];
  turns: number;
  /** Workflow time (ms) of the last customer or agent message: the idle and close timers count from it. */
  lastActivityAt: number;
  nudged: boolean;
  everHuman: boolean;
  assignedAgent: AgentRef | null;
  route: ReplyRoute | null;
  /** Hybrid mode: the AI draft waiting for an agent (src/workflows/conversation-drafts.ts); absent in older runs. */
  draft?: PendingDraft | null;
}

export interface ConversationSnapshot {
  conversationId: string | null;
  status: ConversationStatus;
  version: number;
  assignedAgent: AgentRef | null;
  pendingMessages: number;
  turns: number;
}

export interface OperatorAction {
  /** Who did it, for the state history: `user:<id>`. */
  actor: string;
  reason?: string;
}

export interface TakeOverArgs extends OperatorAction {
  agent: AgentRef;
  /** Supervisors may take a conversation that another agent holds. */
  force?: boolean;
}

export interface AgentMessageArgs {
  agent: AgentRef;
  /** May be empty when `mediaUrl` is given. */
  body: string;
  /** D: a public https URL of an image, audio, video or document sent with the message (Twilio's MediaUrl). */
  mediaUrl?: string;
  /** From the operator request (Idempotency-Key header or request id): a retried request sends once. */
  idempotencyKey: string;
}

/** The part of a transition's result that workflow code reads. */
export interface TransitionResultLike {
  applied: boolean;
  status: ConversationStatus;
  version: number;
}

/** One reconciliation run of a tenant: its Twilio accounts' messages sent within `lookbackMs` before the run. */
export interface ReconcileInput {
  tenantSlug: string;
  lookbackMs: number;
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
  /** The page limit stopped the listing: older messages of the window were not looked at. */
  truncated: boolean;
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
}
