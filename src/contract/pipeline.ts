// Inputs and results of the inbound → reply path's activities: the contract between the workflows (which may import
// only types and plain constants) and the activities. Lower layers (domain, db) may use these types; nothing here
// imports an activity, an integration or the database.
import type { AiAction, AiTurnOutput, AlertSpec } from './ai';
import type { ConversationRef } from './conversation';
import type { Channel, ConversationStatus, CustomerMessage, InboundInput, TraceContext } from './types';

export interface RecordedInbound {
  messageId: string;
  contactId: string;
  contactHash: string;
  /** The message was already taken by a conversation: a late duplicate, nothing more to do. */
  alreadyHandled: boolean;
  /** T3: the trace of the outbound message this one replies to (Twilio's OriginalRepliedMessageSid). */
  causalTraceId: string | null;
}

/** What the inbound workflow's one step did (receiveInbound). */
export interface ReceivedInbound extends RecordedInbound {
  /** A STOP/START keyword: not routed; the workflow applies it. */
  keyword: 'stop' | 'start' | null;
  /** The conversation the message was handed to; null for a keyword or an already handled message. */
  conversationWorkflowId: string | null;
}

export interface DeliverInput {
  tenantId: string;
  tenantSlug: string;
  contactId: string;
  contactHash: string;
  channel: Channel;
  message: CustomerMessage;
}

export interface KeywordInput {
  keyword: 'stop' | 'start';
  tenantId: string;
  contactId: string;
  messageId: string;
  messageSid: string;
  channel: Channel;
  /** The tenant address the customer wrote to, and the customer's address: the confirmation goes back this way. */
  tenantAddress: string;
  customerAddress: string;
  trace: InboundInput['trace'];
}

export interface InboundFailureInput {
  input: InboundInput;
  stage: 'record' | 'keyword' | 'deliver';
  failureType: string;
  /** The failure's message (a SQLSTATE or a fixed text: see db-failures.ts), never message content. */
  reason: string;
}

export interface OpenConversationInput {
  tenantId: string;
  contactId: string;
  channel: Channel;
  workflowId: string;
  trace: TraceContext;
}

export type { ConversationRef } from './conversation';

export interface TransitionInput {
  conversationId: string;
  to: ConversationStatus;
  reason: string;
  actor: string;
  /** When set, the transition applies only if the row is still at this version (the caller's view is fresh). */
  expectedVersion?: number;
  /** Set (or clear, with null) the assigned agent; a change of agent within HUMAN is a transition of its own. */
  assignedAgent?: string | null;
  department?: string | null;
  resolvedBy?: 'ai' | 'human';
  alert?: AlertSpec;
  trace: TraceContext;
}

export type TransitionResult = ConversationRef & { applied: boolean };

export interface NpsAnswerInput {
  tenantId: string;
  conversationId: string;
  contactId: string;
  messageId: string;
  resolvedBy: 'ai' | 'human';
  trace: TraceContext;
}

export interface GenerateReplyInput {
  tenantId: string;
  conversationId: string;
  /** The customer messages this turn answers (a coalesced burst), oldest first. */
  messageIds: string[];
  correlationId: string;
  trace: TraceContext;
}

export interface GeneratedReply {
  aiResultId: string;
  /** null when the model only called a tool; the workflow then sends a template message. */
  reply: string | null;
  action: AiAction;
  output: AiTurnOutput | null;
  /** Hybrid mode is on for this conversation: the reply is held as a draft for an agent (absent before it existed). */
  hybrid?: boolean;
}

export interface AiFailureAlertInput {
  tenantId: string;
  conversationId: string;
  correlationId: string;
  failureType: string;
  trace: TraceContext;
}

export interface SummarizeInput {
  tenantId: string;
  conversationId: string;
  trace: TraceContext;
}

export interface SendMessageInput {
  /** Deterministic, from business ids: the same logical send always maps to the same outbox row. */
  idempotencyKey: string;
  tenantId: string;
  conversationId: string | null;
  contactId: string;
  channel: Channel;
  /** Tenant's Twilio address (sender) and the customer's address. */
  from: string;
  to: string;
  /** The text, or a system template rendered in the tenant's locale. */
  body?: string;
  /** D: media sent with the message (Twilio's MediaUrl; https, and WhatsApp takes one); the text may then be empty. */
  mediaUrl?: string[];
  /** A system template (SystemTemplateKey) or a campaign's own template key, rendered in the tenant's locale. */
  template?: { key: string; variables?: Record<string, string> };
  /**
   * Issue 23 E: the conversation whose identity confirmation allows a debt-bearing template (a promise notice sent
   * outside its conversation); default `conversationId`.
   */
  debtDisclosureConversationId?: string | null;
  sentBy: 'ai' | 'agent' | 'system';
  /** Agent messages go out under the agent's name and keep the agent's id. */
  author?: { id: string; name: string };
  /** Send only if the conversation is still at this version (a takeover or close in between cancels it). */
  guard?: { expectedVersion: number };
  correlationId: string;
  trace: TraceContext;
  /** Campaign sends: the target the message belongs to (delivery callbacks and replies find it through this). */
  campaignTargetId?: string;
  /** Event type recorded when Twilio accepted the message. */
  sentEvent?: 'reply.sent' | 'campaign.send';
  /**
   * What the send is for: selects the tenant's WhatsApp Content template outside the window. Defaults to the
   * template key, else `agent_reply` / `ai_reply` / `broadcast` by author (src/domain/whatsapp-window.ts).
   */
  purpose?: string;
  /** Extra variables for the Content template of a body send (the body itself is always `text`). */
  variables?: Record<string, string>;
  /** A resend after 63016: the purpose's Content template whatever the window says; `body` is the stored text as is. */
  resend?: { requireTemplate: boolean };
  /**
   * Issue 21: the outbound policy's purpose category; defaults from `purpose` (src/services/outbound/policy-gate.ts). Campaigns
   * set it from their kind (collection, marketing, utility).
   */
  policy?: 'service' | 'collection' | 'marketing' | 'utility';
  /**
   * Issue 25 A: a reply that moves its conversation PENDING/IDLE → PROGRESS carries the move, and the first attempt
   * applies it in the statement that writes the message (guarded by `guard`'s version), one step fewer. Honoured
   * only there: a result without `advanced` means the caller still transitions.
   */
  advance?: { reason: string; actor: 'ai' | 'system' };
}

/** A conversation a reply moved to PROGRESS (SendMessageInput.advance). */
export interface AdvancedConversation {
  status: 'PROGRESS';
  version: number;
}

export type SendMessageResult =
  | {
      skipped: false;
      messageId: string;
      providerSid: string | null;
      status: string;
      /** The `advance` asked for was applied with the message: the conversation's status and version now. */
      advanced?: AdvancedConversation;
    }
  | { skipped: true; reason: 'stale_version'; currentVersion: number }
  | { skipped: true; reason: 'precondition'; detail: string }
  /** I12: a business-initiated message to a contact who sent STOP: refused before anything was written or sent. */
  | { skipped: true; reason: 'opted_out' }
  /** Only from the conversation's sendMessage activity, for system messages (see createMessagingActivities). */
  | { skipped: true; reason: 'window_closed' }
  /** Likewise, for a template send refused because a declared variable was missing or blank (issue 22 C). */
  | { skipped: true; reason: 'template_variables' }
  /** Issue 21: the policy gate holds the send until `until` (epoch ms); the caller waits durably and sends again. */
  | { skipped: true; reason: 'held'; until: number; detail: string }
  /** Issue 21: the policy gate refused the send (a do-not-contact list, a window that never opens…); recorded. */
  | { skipped: true; reason: 'refused'; detail: string };

/** Desk (issue 20): a waiting period starts: compute its SLA deadline (desk hours) and tell whether the desk is closed. */
export interface DeskWaitInput {
  tenantId: string;
  conversationId: string;
  kind: 'first' | 'next';
  /** Workflow time (ms) the wait started. */
  since: number;
  trace: TraceContext;
}

export interface DeskWaitResult {
  /** ms; null: no SLA (a desk that never opens). */
  slaDueAt: number | null;
  /** The desk is closed now: when it opens (ISO) and how the customer reads it, in the tenant's language. */
  closed: { opensAt: string | null; opensAtText: string } | null;
}

export interface SlaBreachInput {
  conversationId: string;
  kind: 'first' | 'next';
  since: number;
  dueAt: number;
  trace: TraceContext;
}

export interface DeskAssignInput {
  conversationId: string;
  actor: string;
  trace: TraceContext;
}

export interface DeskTransferInput {
  conversationId: string;
  expectedVersion: number;
  toDepartment: string | null;
  toAgent: { id: string; name: string } | null;
  note: string | null;
  actor: string;
  trace: TraceContext;
}
