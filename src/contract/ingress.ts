import type { Channel, MediaItem, TraceContext } from './common';

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
  /**
   * Issue 22 A: the customer's WhatsApp BSUID from Twilio's ExternalUserIdentifier, when it came with a phone `from`
   * (the customer shared the number): links the two identities to one contact.
   */
  bsuid?: string;
  /** Set by the starter (src/temporal/start-inbound.ts): BUILT_IN_PATCHES.inboundWorkflow of its build. */
  builtInPatches?: readonly string[];
}

/** A Twilio delivery status callback, verified by the webhook, for `statusCallbackWorkflow`. */
export interface StatusCallbackInput {
  tenantId: string;
  messageSid: string;
  status: string;
  errorCode: string | null;
  /**
   * Issue 25 A: our message id from the callback URL (`?m=`, signed by Twilio with the URL): the callback finds its
   * message by id even before the send stored the SID, so it never parks. Absent on older sends' callbacks.
   */
  messageId?: string | null;
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

/** A follow-up send a failed callback calls for; started as `redeliver:<messageId>:<mode>` (src/temporal/start-redelivery.ts). */
export interface Redelivery {
  messageId: string;
  mode: 'template' | 'retry';
  /** `retry`: resends of this message so far; the redelivery starts after retryBackoffMs(base, resends). */
  resends?: number;
}
