// Workflow ids are business ids, readable in the Web UI, and never carry a phone number.

/** One inbound workflow per Twilio MessageSid: Temporal rejects a second start, so a duplicate webhook is a no-op. */
export const inboundWorkflowId = (messageSid: string) => `inbound:${messageSid}`;

/** One long-lived conversation workflow per tenant and contact (the contact's keyed hash, not the phone). */
export const conversationWorkflowId = (tenantSlug: string, contactHash: string) => `conversation:${tenantSlug}:${contactHash}`;
