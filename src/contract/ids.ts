// Workflow ids are business ids, readable in the Web UI, and never carry a phone number.

/** One inbound workflow per Twilio MessageSid: Temporal rejects a second start, so a duplicate webhook is a no-op. */
export const inboundWorkflowId = (messageSid: string) => `inbound:${messageSid}`;

/** One long-lived conversation workflow per tenant and contact (the contact's keyed hash, not the phone). */
export const conversationWorkflowId = (tenantSlug: string, contactHash: string) =>
  `conversation:${tenantSlug}:${contactHash}`;

/** One workflow per campaign (C2), started by `causeway campaign start`; the id is the campaign's uuid. */
export const campaignWorkflowId = (campaignId: string) => `campaign:${campaignId}`;

/**
 * One pacer per tenant sender: it hands out send slots, so every campaign using that number shares one rate
 * limit, across workers. The sender is hashed like contacts (no phone numbers in ids).
 */
export const pacerWorkflowId = (tenantSlug: string, senderHash: string) => `sender:${tenantSlug}:${senderHash}`;

/** One workflow per promise to pay (C4): its reminder and due-date check are durable timers. */
export const promiseWorkflowId = (promiseId: string) => `promise:${promiseId}`;

/**
 * Reconciliation against Twilio's message log (per tenant): the Temporal Schedule's id, and the prefix of the
 * workflows it starts (Temporal appends the scheduled time). On-demand runs (`causeway reconcile`) get a unique
 * suffix instead, so an operator's run never collides with a scheduled one; both are idempotent anyway.
 */
export const reconcileScheduleId = (tenantSlug: string) => `reconcile:${tenantSlug}`;
export const reconcileOnDemandWorkflowId = (tenantSlug: string, runId: string) =>
  `reconcile:${tenantSlug}:manual-${runId}`;

/**
 * A delivery status callback the API could not write (database unavailable) runs as `status:<MessageSid>:<Status>`:
 * Twilio's duplicate of the same callback is rejected as a duplicate start.
 */
export const statusCallbackWorkflowId = (messageSid: string, status: string) => `status:${messageSid}:${status}`;

/**
 * The inbox drain schedule: one per task queue, since each drain takes the rows parked for its own queue. The
 * default queue's schedule is plainly `inbox-drain`.
 */
export const inboxDrainScheduleId = (taskQueue: string) =>
  taskQueue === 'causeway' ? 'inbox-drain' : `inbox-drain:${taskQueue}`;

/**
 * One erasure per tenant and contact: the id carries the contact's keyed hash (never the phone), so a second
 * request while one runs joins it, and the erasure's own history names no one.
 */
export const erasureWorkflowId = (tenantSlug: string, contactHash: string) => `erasure:${tenantSlug}:${contactHash}`;

/** The daily retention run (F): one Schedule per task queue, like the inbox drain. */
export const retentionScheduleId = (taskQueue: string) =>
  taskQueue === 'causeway' ? 'retention' : `retention:${taskQueue}`;
