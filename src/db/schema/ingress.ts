// What arrives before it can be handled: orphans, the inbound and redelivery inboxes, parked callbacks, reconciliation.
import { sql } from 'drizzle-orm';
import { bigserial, index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { id, createdAt, updatedAt, instant } from './columns';
import { tenants, tenantRef } from './tenants';

export const orphanInbound = pgTable('orphan_inbound', {
  id: id(),
  messageSid: text('message_sid').notNull().unique(),
  accountSid: text('account_sid').notNull(),
  toAddress: text('to_address').notNull(),
  reason: text('reason').notNull(),
  payload: jsonb('payload').$type<Record<string, string>>().notNull(),
  receivedAt: instant('received_at').notNull().defaultNow(),
});

/**
 * Verified inbound messages Temporal did not accept at the time of the webhook (down, or past the start deadline).
 * The webhook answers 200 once the row is here; a drain hands each row to `inbound:<MessageSid>` (duplicates are
 * harmless) and marks it drained. Rows are drained by the task queue the API meant them for.
 */
export const INBOX_STATES = ['pending', 'drained'] as const;

export const inboundInbox = pgTable(
  'inbound_inbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    messageSid: text('message_sid').notNull().unique(),
    tenantId: tenantRef(),
    taskQueue: text('task_queue').notNull(),
    /** The full InboundInput the webhook built (trace and receivedAt included), replayed as is. */
    input: jsonb('input').notNull(),
    state: text('state', { enum: INBOX_STATES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: createdAt(),
    lastAttemptAt: instant('last_attempt_at'),
    drainedAt: instant('drained_at'),
  },
  (t) => [
    index('inbound_inbox_pending_idx')
      .on(t.taskQueue, t.createdAt)
      .where(sql`state = 'pending'`),
  ],
);

/**
 * D: an acknowledged inbound message whose handling failed for good (the database rejected it, the tenant is
 * gone, …). One row per MessageSid for an operator; `input` is the workflow input as JSON text, escaped, so it
 * holds even what Postgres refused to store as text or jsonb. No foreign key: the tenant may be what is missing.
 */
export const inboundFailures = pgTable('inbound_failures', {
  id: id(),
  tenantId: uuid('tenant_id').notNull(),
  messageSid: text('message_sid').notNull().unique(),
  /** The inbound step that failed: record, keyword or deliver. */
  stage: text('stage', { enum: ['record', 'keyword', 'deliver'] }).notNull(),
  failureType: text('failure_type').notNull(),
  /** The failure's own message: SQLSTATE or a fixed text, never message content (see db-failures.ts). */
  reason: text('reason').notNull(),
  /** The messages row, when the message had been stored before the failure (it is then marked failed). */
  messageId: uuid('message_id'),
  input: text('input').notNull(),
  createdAt: createdAt(),
});

/** Status callbacks that arrived before the send recorded its SID (Twilio can be faster than our commit). */
export const parkedStatusCallbacks = pgTable(
  'parked_status_callbacks',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: tenantRef(),
    messageSid: text('message_sid').notNull(),
    status: text('status').notNull(),
    errorCode: text('error_code'),
    receivedAt: instant('received_at').notNull().defaultNow(),
  },
  (t) => [index('parked_status_callbacks_sid_idx').on(t.tenantId, t.messageSid)],
);

// ---------------------------------------------------------------------------------------------------------------
// Campaigns (C1–C6; seed 004 collections module: voice_campaigns, voice_campaign_targets, voice_promises, …).

/**
 * Issue 24 B: how far each tenant's reconciliation has looked without a gap. A scheduled run lists back to the end
 * of the last run that completed untruncated (minus its usual window, as overlap), so an outage of any length —
 * no Schedule fired, the API was down — is caught up by the first run after it, bounded by RECONCILE_MAX_LOOKBACK.
 */
export const reconcileWatermarks = pgTable('reconcile_watermarks', {
  tenantId: uuid('tenant_id')
    .primaryKey()
    .references(() => tenants.id, { onDelete: 'cascade' }),
  /** The `until` of the last run that listed its whole window (every account, not truncated). */
  listedUntil: instant('listed_until').notNull(),
  updatedAt: updatedAt(),
});

/**
 * Issue 24 C: a follow-up send (63016 → template, a retryable delivery error) recorded in the same transaction as
 * the status that calls for it, then started as `redeliver:<messageId>:<mode>`. Temporal being down at that instant
 * leaves the row pending for the inbox drain (the API's retry loop, each worker's start, the `inbox-drain`
 * Schedule); the workflow id makes a second start a no-op. `key` is that workflow id.
 */
export const redeliveryInbox = pgTable(
  'redelivery_inbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    key: text('key').notNull().unique(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    /** The Redelivery ({ messageId, mode }): ids only, no phone or text. */
    input: jsonb('input').notNull(),
    state: text('state', { enum: INBOX_STATES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: createdAt(),
    drainedAt: instant('drained_at'),
  },
  (t) => [
    index('redelivery_inbox_pending_idx')
      .on(t.createdAt)
      .where(sql`state = 'pending'`),
  ],
);
