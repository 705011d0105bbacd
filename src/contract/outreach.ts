import type { AgentRef, Channel, TraceContext } from './types';

/**
 * Issue 20 E: an agent starts a conversation with a contact from the console. The phone number never travels in
 * Temporal: the API stores the contact first and passes its id. `body` (SMS text, or the agent's note of a
 * WhatsApp template's text) is encrypted by the payload codec like an agent reply's.
 */
export interface OutreachInput {
  tenantId: string;
  contactId: string;
  channel: Channel;
  agent: AgentRef;
  /** WhatsApp: the purpose of the tenant's Content template (`causeway template set --purpose …`). */
  purpose: string | null;
  /** The template's named variables (position → name mapping is the template's). */
  variables: Record<string, string>;
  /** SMS: the message. WhatsApp: optional; the stored text of the message (else the template's own text). */
  body: string;
  /** From the client's idempotency key: the workflow id and the outbox key derive from it. */
  key: string;
  trace: TraceContext;
}

export interface OutreachResult {
  messageId: string;
  status: string;
}

/** The workflow id: tenant slug and the request's key (never the phone number). */
export const outreachWorkflowId = (tenantSlug: string, key: string) => `outreach:${tenantSlug}:${key}`;
