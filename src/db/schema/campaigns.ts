// Campaigns (C1–C6; seed 004 collections module: voice_campaigns, voice_campaign_targets, voice_promises, …): targets, promises, payments, outages.
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { CAMPAIGN_STATUSES, TARGET_STATES } from '../../contract/statuses';
import { id, createdAt, updatedAt, instant } from './columns';
import { contactRef } from './contacts';
import { conversations } from './conversations';
import { channelEnum, tenantRef } from './tenants';

export const campaigns = pgTable(
  'campaigns',
  {
    id: id(),
    tenantId: tenantRef(),
    name: text('name').notNull(),
    description: text('description'),
    kind: text('kind', { enum: ['broadcast', 'collection', 'outage', 'outage_resolution'] })
      .notNull()
      .default('broadcast'),
    status: text('status', { enum: CAMPAIGN_STATUSES }).notNull().default('draft'),
    strategy: text('strategy', { enum: ['sequential', 'priority', 'random'] })
      .notNull()
      .default('sequential'),
    channel: channelEnum('channel').notNull(),
    /** The tenant's sending address (`whatsapp:+…` or `+…`): the rate limit is per sender. */
    sender: text('sender').notNull(),
    templateKey: text('template_key'),
    /** Literal text instead of a template (outage notices). */
    body: text('body'),
    ratePerSecond: doublePrecision('rate_per_second').notNull(),
    maxAttempts: integer('max_attempts').notNull().default(1),
    attemptSpacingSeconds: integer('attempt_spacing_seconds').notNull().default(3600),
    /** Send another attempt when the contact did not reply within the spacing (collections); else only on failure. */
    retryOnNoReply: boolean('retry_on_no_reply').notNull().default(false),
    /** Canonical active-hours spec (src/domain/active-hours.ts), evaluated in each target's time zone. */
    activeHours: text('active_hours').notNull(),
    defaultTimeZone: text('default_time_zone').notNull(),
    startAt: instant('start_at'),
    endAt: instant('end_at'),
    totalTargets: integer('total_targets').notNull().default(0),
    contactedTargets: integer('contacted_targets').notNull().default(0),
    successfulContacts: integer('successful_contacts').notNull().default(0),
    failedTargets: integer('failed_targets').notNull().default(0),
    optedOutTargets: integer('opted_out_targets').notNull().default(0),
    skippedTargets: integer('skipped_targets').notNull().default(0),
    promisesMade: integer('promises_made').notNull().default(0),
    promisesFulfilled: integer('promises_fulfilled').notNull().default(0),
    promisesBroken: integer('promises_broken').notNull().default(0),
    massiveFailureId: uuid('massive_failure_id'),
    workflowId: text('workflow_id').notNull(),
    /** The trace of `campaign create`: every send is a span in it, and replies point back at it (T3). */
    traceId: text('trace_id').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    startedAt: instant('started_at'),
    completedAt: instant('completed_at'),
  },
  (t) => [
    index('campaigns_tenant_status_idx').on(t.tenantId, t.status),
    unique('campaigns_tenant_name_uq').on(t.tenantId, t.name),
  ],
);

/**
 * Increments of the per-target counters, appended by whoever moves a target (sends, status callbacks, replies,
 * opt-outs) and folded into `campaigns` by the campaign's own activities. Bumping the campaigns row directly
 * made every transition of every target queue on that one row's lock (bench: waits up to 5 s at 50 sends/s with
 * two callbacks each), which starved the dispatcher and left the sender idle.
 */
export const campaignCounterDeltas = pgTable(
  'campaign_counter_deltas',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    campaignId: uuid('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    contacted: integer('contacted').notNull().default(0),
    successful: integer('successful').notNull().default(0),
    failed: integer('failed').notNull().default(0),
    optedOut: integer('opted_out').notNull().default(0),
    skipped: integer('skipped').notNull().default(0),
  },
  (t) => [index('campaign_counter_deltas_campaign_idx').on(t.campaignId)],
);

export const campaignTargets = pgTable(
  'campaign_targets',
  {
    id: id(),
    campaignId: uuid('campaign_id')
      .notNull()
      .references(() => campaigns.id),
    tenantId: tenantRef(),
    contactId: contactRef(),
    /** Line of the imported file: reports point at it. */
    line: integer('line').notNull(),
    /** Dispatch order for the campaign's strategy (sequential: line; priority: by priority then line; random). */
    orderKey: bigint('order_key', { mode: 'number' }).notNull(),
    name: text('name'),
    timeZone: text('time_zone'),
    priority: integer('priority').notNull().default(0),
    debtAmountCents: bigint('debt_amount_cents', { mode: 'number' }),
    dueDate: date('due_date'),
    document: text('document'),
    variables: jsonb('variables').$type<Record<string, string>>().notNull().default({}),
    state: text('state', { enum: TARGET_STATES }).notNull().default('pending'),
    outcome: text('outcome'),
    outcomeDetails: text('outcome_details'),
    attemptCount: integer('attempt_count').notNull().default(0),
    lastAttemptAt: instant('last_attempt_at'),
    nextAttemptAt: instant('next_attempt_at').notNull().defaultNow(),
    lastMessageId: uuid('last_message_id'),
    lastStatus: text('last_status'),
    lastStatusAt: instant('last_status_at'),
    contactedAt: instant('contacted_at'),
    succeededAt: instant('succeeded_at'),
    repliedAt: instant('replied_at'),
    conversationId: uuid('conversation_id'),
    paymentStatus: text('payment_status', { enum: ['pending', 'paid', 'overdue', 'unknown'] }),
    completedAt: instant('completed_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // One target per contact per campaign: "exactly one message per valid target" starts here.
    uniqueIndex('campaign_targets_campaign_contact_uq').on(t.campaignId, t.contactId),
    // The dispatcher's page query: open targets of a campaign in strategy order.
    index('campaign_targets_dispatch_idx')
      .on(t.campaignId, t.orderKey)
      .where(sql`state in ('pending', 'scheduled')`),
    index('campaign_targets_next_attempt_idx')
      .on(t.campaignId, t.nextAttemptAt)
      .where(sql`state in ('pending', 'scheduled', 'sending')`),
    index('campaign_targets_contact_idx').on(t.contactId, t.state),
  ],
);

export const promises = pgTable(
  'promises',
  {
    id: id(),
    tenantId: tenantRef(),
    campaignId: uuid('campaign_id').references(() => campaigns.id),
    targetId: uuid('target_id').references(() => campaignTargets.id),
    contactId: contactRef(),
    conversationId: uuid('conversation_id').references(() => conversations.id),
    aiResultId: uuid('ai_result_id'),
    /** Reminders and follow-ups go out on the conversation's channel, from the address the customer wrote to. */
    channel: channelEnum('channel').notNull(),
    sender: text('sender').notNull(),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    /** The instant the payment is due (a date promise is due at the end of that day in the contact's zone). */
    dueAt: instant('due_at').notNull(),
    method: text('method', { enum: ['boleto', 'pix', 'card', 'transfer', 'other'] }).notNull(),
    status: text('status', { enum: ['pending', 'fulfilled', 'broken', 'renegotiated'] })
      .notNull()
      .default('pending'),
    reminderSentAt: instant('reminder_sent_at'),
    checkedAt: instant('checked_at'),
    fulfilledAt: instant('fulfilled_at'),
    brokenAt: instant('broken_at'),
    traceId: text('trace_id'),
    workflowId: text('workflow_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('promises_status_due_idx').on(t.status, t.dueAt),
    index('promises_campaign_idx').on(t.campaignId),
    // One promise per AI turn: a retried activity finds the promise it made.
    uniqueIndex('promises_ai_result_uq').on(t.aiResultId),
  ],
);

/** Payments as reported by the tenant's billing system (POST /api/payments); the default payment checker reads them. */
export const payments = pgTable(
  'payments',
  {
    id: id(),
    tenantId: tenantRef(),
    contactId: contactRef(),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    externalId: text('external_id').notNull(),
    paidAt: instant('paid_at').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    unique('payments_tenant_external_uq').on(t.tenantId, t.externalId),
    index('payments_contact_paid_idx').on(t.contactId, t.paidAt),
  ],
);

/** Seed 004 `massive_failures`: a service outage in some regions (C5). */
export const massiveFailures = pgTable(
  'massive_failures',
  {
    id: id(),
    tenantId: tenantRef(),
    name: text('name').notNull(),
    description: text('description'),
    severity: text('severity', { enum: ['low', 'medium', 'high', 'critical'] })
      .notNull()
      .default('high'),
    status: text('status', { enum: ['active', 'resolved'] })
      .notNull()
      .default('active'),
    affectedRegions: jsonb('affected_regions').$type<string[]>().notNull(),
    message: text('message').notNull(),
    resolutionMessage: text('resolution_message'),
    estimatedResolution: instant('estimated_resolution'),
    notifyCampaignId: uuid('notify_campaign_id'),
    resolveCampaignId: uuid('resolve_campaign_id'),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    resolvedAt: instant('resolved_at'),
    resolvedBy: text('resolved_by'),
  },
  (t) => [index('massive_failures_tenant_status_idx').on(t.tenantId, t.status)],
);

/** Seed 004 `failure_notifications`: one notification of each type per contact per outage. */
export const failureNotifications = pgTable(
  'failure_notifications',
  {
    id: id(),
    failureId: uuid('failure_id')
      .notNull()
      .references(() => massiveFailures.id),
    contactId: contactRef(),
    notificationType: text('notification_type', { enum: ['failure', 'resolution'] }).notNull(),
    targetId: uuid('target_id').references(() => campaignTargets.id),
    messageId: uuid('message_id'),
    sentAt: instant('sent_at'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('failure_notifications_once_uq').on(t.failureId, t.contactId, t.notificationType)],
);
