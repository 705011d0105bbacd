import type { PendingDraft } from './drafts';
import type { AgentRef, Channel, TraceContext } from './common';
import type { ConversationStatus } from './statuses';

export interface ConversationTiming {
  debounceMs: number;
  idleAfterMs: number;
  closeAfterMs: number;
  npsWaitMs: number;
  /** Desk (issue 20 A): silence after an agent's answer that resolves the conversation; absent in older runs (24 h). */
  humanCloseAfterMs?: number;
  /** Turns per run before continue-as-new (with a summary) keeps the event history small. */
  maxTurnsPerRun: number;
}

/** A conversation row as a step found or moved it. */
export interface ConversationRef {
  conversationId: string;
  status: ConversationStatus;
  version: number;
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
  /**
   * Issue 25 A: the contact's open conversation as the inbound statement found or opened it; a run that has none
   * yet adopts it instead of opening one (built-in patch `inbound-opens-conversation`). Absent: the run opens it.
   */
  conversation?: ConversationRef;
}

export interface ConversationInput {
  tenantId: string;
  tenantSlug: string;
  contactId: string;
  channel: Channel;
  timing: ConversationTiming;
  /** State carried across continue-as-new. */
  carried?: ConversationCarry;
  /** Set by the starter (signal-with-start in src/services/inbound.ts): BUILT_IN_PATCHES.conversationWorkflow. */
  builtInPatches?: readonly string[];
  /**
   * Issue 25 A: the customer message that opened the conversation, when the run is started with it (eager start,
   * src/services/inbound.ts) instead of by signal-with-start. The run takes it as it takes the signal.
   */
  first?: CustomerMessage;
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
  /** The desk's clock (issue 20) while a human holds or is to hold the conversation; absent in older runs. */
  desk?: DeskWait | null;
}

/**
 * A waiting period of the desk: from a handoff (first response) or a customer message after an agent's answer (next
 * response) until an agent answers. `slaDueAt` is workflow time (ms), counted in desk hours by the activity.
 */
export interface DeskWait {
  /** true while the customer waits for a human answer: the conversation then never closes by itself. */
  awaiting: boolean;
  kind: 'first' | 'next';
  since: number;
  slaDueAt: number | null;
  /** The breach of this waiting period was alerted (once per period). */
  breached: boolean;
}

export interface ConversationSnapshot {
  conversationId: string | null;
  status: ConversationStatus;
  version: number;
  assignedAgent: AgentRef | null;
  pendingMessages: number;
  turns: number;
  /** Desk (issue 20): the waiting period in progress, when the customer waits for a human answer. */
  desk?: DeskWait | null;
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

export interface TransferArgs extends OperatorAction {
  /** The department it moves to (a tenant's department); absent: stays in its department. */
  toDepartment?: string;
  /** The agent it moves to; absent: the department's queue (automatic assignment tries at once). */
  toAgent?: AgentRef;
  /** For the receiving agents; kept with the transfer, never sent to the customer. */
  note?: string;
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
