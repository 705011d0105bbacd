// The status lists, defined once: the database enums (src/db/schema/), the types of the contract, the API's
// validation and the workflows all take them from here. Plain data, so workflow code may import it.

/** A conversation's lifecycle (I6). */
export const CONVERSATION_STATUSES = ['PENDING', 'PROGRESS', 'IDLE', 'HUMAN', 'RESOLVED', 'CLOSED', 'EXPIRED'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];
/** Open conversations: a new message joins one of these; the others are over. */
export const ACTIVE_CONVERSATION_STATUSES = [
  'PENDING',
  'PROGRESS',
  'IDLE',
  'HUMAN',
] as const satisfies readonly ConversationStatus[];
export const TERMINAL_CONVERSATION_STATUSES = [
  'RESOLVED',
  'CLOSED',
  'EXPIRED',
] as const satisfies readonly ConversationStatus[];

/** A campaign (C1, C2). */
export const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'active', 'paused', 'completed', 'cancelled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** One target of a campaign (C2). */
export const TARGET_STATES = [
  'pending',
  'scheduled',
  'sending',
  'completed',
  'failed',
  'skipped',
  'opted_out',
  'paid',
] as const;
export type TargetState = (typeof TARGET_STATES)[number];
/** Targets still to be worked on; the campaign completes when none is left in these states. */
export const OPEN_TARGET_STATES = ['pending', 'scheduled', 'sending'] as const satisfies readonly TargetState[];

/** Issue 23 E: the identity check a tenant asks of a contact before any debt detail is disclosed. */
export const IDENTITY_CHECKS = ['cpf-last-digits', 'birth-date', 'off'] as const;
export type IdentityCheck = (typeof IDENTITY_CHECKS)[number];
