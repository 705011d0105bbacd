export type Channel = 'sms' | 'whatsapp';

export type ConversationStatus = 'PENDING' | 'PROGRESS' | 'IDLE' | 'HUMAN' | 'RESOLVED' | 'CLOSED' | 'EXPIRED';

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
}

export interface InboundResult {
  messageId: string;
  conversationWorkflowId: string | null;
  /** true when the message had already been taken by a conversation (a replayed or late duplicate). */
  alreadyHandled: boolean;
}

export interface ConversationTiming {
  debounceMs: number;
  idleAfterMs: number;
  closeAfterMs: number;
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

export interface ConversationCarry {
  conversationId: string;
  status: ConversationStatus;
  pending: CustomerMessage[];
  recentMessageIds: string[];
  turns: number;
}

export interface ConversationSnapshot {
  conversationId: string | null;
  status: ConversationStatus;
  pendingMessages: number;
  turns: number;
}
