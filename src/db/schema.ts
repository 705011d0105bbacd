import { sql } from 'drizzle-orm';
import {
  customType,
  bigint,
  bigserial,
  boolean,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { CAMPAIGN_STATUSES, CONVERSATION_STATUSES, IDENTITY_CHECKS, TARGET_STATES } from '../contract/statuses';

const id = () => uuid('id').primaryKey().defaultRandom();
const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

export const channelEnum = pgEnum('channel', ['sms', 'whatsapp']);
export const conversationStatusEnum = pgEnum('conversation_status', CONVERSATION_STATUSES);
export const directionEnum = pgEnum('message_direction', ['inbound', 'outbound']);

export const tenants = pgTable('tenants', {
  id: id(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  // Per-tenant secret for keyed contact hashes: workflow ids and logs carry the hash, never the phone number,
  // and without this key the hash cannot be reversed by enumerating phone numbers.
  hashKey: text('hash_key').notNull(),
  /** Language of system messages (message_templates.locale) and the default assistant. */
  locale: text('locale').notNull().default('pt-BR'),
  assistantType: text('assistant_type').notNull().default('support'),
  /** The department a handoff goes to when the AI did not name one (wants_human without the transfer tool). */
  defaultDepartment: text('default_department').notNull().default('support'),
  /** AI budget (issue 18 E): null = the deployment's AI_MAX_TURNS_PER_CONVERSATION_HOUR / AI_MAX_TOKENS_PER_TENANT_DAY. */
  aiMaxTurnsPerHour: integer('ai_max_turns_per_hour'),
  aiMaxTokensPerDay: bigint('ai_max_tokens_per_day', { mode: 'number' }),
  /** How far ahead a promise to pay may fall (days); null = PROMISE_MAX_DAYS_AHEAD. */
  promiseMaxDaysAhead: integer('promise_max_days_ahead'),
  /** Retention of message bodies and AI texts (days); null = the deployment default. Never shorter than it. */
  retentionDays: integer('retention_days'),
  /** Issue 22 E: show WhatsApp's "typing…" when a turn starts for a customer message (`--typing-indicator`). */
  typingIndicator: boolean('typing_indicator').notNull().default(true),
  /** Issue 22 F: send through this Twilio Messaging Service (MG…, `MessagingServiceSid`) instead of a From number. */
  messagingServiceSid: text('messaging_service_sid'),
  /**
   * Issue 23 E: how a contact proves who they are before the AI or a template discloses a debt (amount, creditor,
   * due date): the last 4 digits of the target's CPF, the birth date in the target's data, or off.
   */
  identityCheck: text('identity_check', { enum: IDENTITY_CHECKS }).notNull().default('cpf-last-digits'),
  createdAt: createdAt(),
});

/** A tenant's departments (handoff queues): users and conversations name them in their `department` text. */
export const departments = pgTable(
  'departments',
  {
    id: id(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    name: text('name').notNull(),
    createdAt: createdAt(),
  },
  (t) => [unique('departments_tenant_name_uq').on(t.tenantId, t.name)],
);

export const roleEnum = pgEnum('user_role', ['ADMIN', 'SUPERVISOR', 'AGENT']);

export const users = pgTable('users', {
  id: id(),
  tenantId: uuid('tenant_id')
    .notNull()
    .references(() => tenants.id),
  name: text('name').notNull(),
  email: text('email'),
  role: roleEnum('role').notNull(),
  department: text('department'),
  disabledAt: timestamp('disabled_at', { withTimezone: true }),
  /** Desk presence (issue 20 D): only `online` agents get conversations assigned automatically. */
  presence: text('presence', { enum: ['online', 'away', 'offline'] })
    .notNull()
    .default('offline'),
  presenceAt: timestamp('presence_at', { withTimezone: true }),
  /** Open conversations automatic assignment gives this agent at most (they may still take more by hand). */
  capacity: integer('capacity').notNull().default(5),
  /** Round robin among equally loaded agents: the one assigned longest ago goes first. */
  lastAssignedAt: timestamp('last_assigned_at', { withTimezone: true }),
  createdAt: createdAt(),
});

export const apiKeys = pgTable('api_keys', {
  id: id(),
  userId: uuid('user_id')
    .notNull()
    .references(() => users.id),
  // The key is `cw_<prefix>_<secret>`; only the prefix (to find the row) and a SHA-256 of the whole key are kept.
  prefix: text('prefix').notNull().unique(),
  keyHash: text('key_hash').notNull(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  createdAt: createdAt(),
});

export const twilioAccounts = pgTable('twilio_accounts', {
  id: id(),
  tenantId: uuid('tenant_id')
    .notNull()
    .references(() => tenants.id),
  accountSid: text('account_sid').notNull().unique(),
  authToken: text('auth_token').notNull(),
  // 'simulated' accounts never call Twilio: outbound messages are recorded with status 'simulated'.
  mode: text('mode', { enum: ['live', 'simulated'] })
    .notNull()
    .default('live'),
  createdAt: createdAt(),
});

export const phoneNumbers = pgTable(
  'phone_numbers',
  {
    id: id(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    twilioAccountId: uuid('twilio_account_id')
      .notNull()
      .references(() => twilioAccounts.id),
    channel: channelEnum('channel').notNull(),
    phone: text('phone').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('phone_numbers_channel_phone_uq').on(t.channel, t.phone)],
);

export const contacts = pgTable(
  'contacts',
  {
    id: id(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    /** The contact's key on its channels: E.164, or a WhatsApp BSUID for a customer known only by it (issue 22 A). */
    phone: text('phone').notNull(),
    phoneHash: text('phone_hash').notNull(),
    /** WhatsApp business-scoped user id, when Twilio gave one (ExternalUserIdentifier, or a BSUID From). */
    bsuid: text('bsuid'),
    name: text('name'),
    /** Region (city / service area) for outage broadcasts (C5); lowercased. */
    region: text('region'),
    /** IANA zone: campaign active hours are evaluated in it. */
    timeZone: text('time_zone'),
    // I12: set by a STOP-family keyword or Twilio error 21610, cleared by a START keyword. Campaigns skip it.
    optedOutAt: timestamp('opted_out_at', { withTimezone: true }),
    // 'suppression': re-imported after an erasure while opted out (contact_suppressions).
    optOutSource: text('opt_out_source', { enum: ['keyword', 'twilio_21610', 'operator', 'suppression'] }),
    // Issue 22 B: Twilio said this address cannot receive on that channel (63024, 63003, 21211, 30005…):
    // business-initiated sends on that channel stop (campaign targets fail as contact_invalid) until a new inbound.
    invalidAt: timestamp('invalid_at', { withTimezone: true }),
    invalidChannel: channelEnum('invalid_channel'),
    invalidCode: text('invalid_code'),
    // 63049 (Meta declined a marketing message): business-initiated sends wait until then (progressive backoff).
    backoffUntil: timestamp('backoff_until', { withTimezone: true }),
    backoffCount: integer('backoff_count').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('contacts_tenant_phone_uq').on(t.tenantId, t.phone),
    uniqueIndex('contacts_tenant_bsuid_uq')
      .on(t.tenantId, t.bsuid)
      .where(sql`bsuid is not null`),
    index('contacts_tenant_hash_idx').on(t.tenantId, t.phoneHash),
    index('contacts_tenant_region_idx').on(t.tenantId, t.region),
  ],
);

export { ACTIVE_CONVERSATION_STATUSES } from '../contract/statuses';

export const conversations = pgTable(
  'conversations',
  {
    id: id(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    contactId: uuid('contact_id')
      .notNull()
      .references(() => contacts.id),
    channel: channelEnum('channel').notNull(),
    status: conversationStatusEnum('status').notNull().default('PENDING'),
    // Optimistic lock (seed 002): every transition is `UPDATE … WHERE version = $expected`, then version + 1.
    version: integer('version').notNull().default(1),
    // Generated by the database (seed 002): never written by the application.
    sessionKey: text('session_key').generatedAlwaysAs(sql`tenant_id::text || ':' || contact_id::text`),
    workflowId: text('workflow_id').notNull(),
    source: text('source', { enum: ['inbound', 'campaign'] })
      .notNull()
      .default('inbound'),
    assignedAgent: uuid('assigned_agent').references(() => users.id),
    department: text('department'),
    assistantType: text('assistant_type').notNull().default('support'),
    transferredAt: timestamp('transferred_at', { withTimezone: true }),
    resolvedBy: text('resolved_by', { enum: ['ai', 'human'] }),
    // Thread rotation (seed 004): an AI summary of the messages before `summarized_until` replaces them in prompts.
    summary: text('summary'),
    summarizedUntil: timestamp('summarized_until', { withTimezone: true }),
    /** Issue 23 E: when the contact passed the tenant's identity check in this conversation (null: not yet). */
    identityConfirmedAt: timestamp('identity_confirmed_at', { withTimezone: true }),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    lastMessageAt: timestamp('last_message_at', { withTimezone: true }),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    closeReason: text('close_reason'),
    /** Desk (issue 20): since when the customer waits for a human answer (null: not waiting), and its SLA deadline. */
    waitingSince: timestamp('waiting_since', { withTimezone: true }),
    slaDueAt: timestamp('sla_due_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // At most one open conversation per contact and tenant: concurrent creators converge on one row.
    uniqueIndex('conversations_one_active_uq')
      .on(t.tenantId, t.contactId)
      .where(sql`status in ('PENDING', 'PROGRESS', 'IDLE', 'HUMAN')`),
    index('conversations_status_last_message_idx').on(t.status, t.lastMessageAt),
    // Issue 20: search pages (newest first, keyset on started_at, id) and the desk report's period scans.
    index('conversations_tenant_started_idx').on(t.tenantId, t.startedAt, t.id),
    index('conversations_tenant_department_started_idx').on(t.tenantId, t.department, t.startedAt),
    // Automatic assignment counts each agent's open conversations.
    index('conversations_human_agent_idx')
      .on(t.assignedAgent)
      .where(sql`status = 'HUMAN'`),
  ],
);

export const conversationStateHistory = pgTable(
  'conversation_state_history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id),
    fromStatus: conversationStatusEnum('from_status'),
    toStatus: conversationStatusEnum('to_status').notNull(),
    version: integer('version').notNull(),
    reason: text('reason').notNull(),
    actor: text('actor').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('conversation_state_history_conversation_idx').on(t.conversationId, t.createdAt)],
);

export const messages = pgTable(
  'messages',
  {
    id: id(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    conversationId: uuid('conversation_id').references(() => conversations.id),
    contactId: uuid('contact_id')
      .notNull()
      .references(() => contacts.id),
    direction: directionEnum('direction').notNull(),
    channel: channelEnum('channel').notNull(),
    providerSid: text('provider_sid'),
    fromAddress: text('from_address').notNull(),
    toAddress: text('to_address').notNull(),
    body: text('body').notNull().default(''),
    media: jsonb('media').$type<{ url: string; contentType: string | null }[]>().notNull().default([]),
    sentBy: text('sent_by', { enum: ['customer', 'ai', 'agent', 'system'] }).notNull(),
    authorId: uuid('author_id').references(() => users.id),
    status: text('status').notNull(),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    // Seed 000: the inbound message, its ai_results and the outbound reply share one correlation id.
    correlationId: text('correlation_id').notNull(),
    traceId: text('trace_id'),
    spanId: text('span_id'),
    parentSpanId: text('parent_span_id'),
    /** Set on campaign sends: delivery callbacks and replies find their target through it. */
    campaignTargetId: uuid('campaign_target_id'),
    createdAt: createdAt(),
    statusUpdatedAt: timestamp('status_updated_at', { withTimezone: true }),
  },
  (t) => [
    index('messages_campaign_target_idx').on(t.campaignTargetId),
    // Idempotency, second line of defence after the workflow id: one row per Twilio MessageSid per tenant.
    uniqueIndex('messages_tenant_provider_sid_uq').on(t.tenantId, t.providerSid),
    index('messages_correlation_idx').on(t.correlationId),
    index('messages_conversation_created_idx').on(t.conversationId, t.createdAt),
    index('messages_provider_sid_idx').on(t.providerSid),
    index('messages_contact_created_idx').on(t.contactId, t.createdAt),
    // Issue 20 E: full-text search over bodies (Portuguese stemming, the tenants' language).
    index('messages_body_fts_idx').using('gin', sql`to_tsvector('portuguese', ${t.body})`),
    // F: the retention run's batches find old rows that still have content; blanked rows leave the index.
    index('messages_retention_idx')
      .on(t.createdAt)
      .where(sql`body <> '' or media <> '[]'::jsonb`),
    // Issue 21 D: the inbound watchdog's one query reads the last day's inbound messages by time (src/db/watchdog.ts).
    index('messages_inbound_created_idx')
      .on(t.createdAt)
      .where(sql`direction = 'inbound'`),
    // Issue 22 D: reconciliation's by-send-time query for our sends Twilio has not settled (findUnsettledOutbound).
    index('messages_unsettled_outbound_idx')
      .on(t.tenantId, t.createdAt)
      .where(
        sql`direction = 'outbound' and provider_sid is not null and status not in ('delivered', 'read', 'undelivered', 'failed', 'canceled')`,
      ),
  ],
);

export const orphanInbound = pgTable('orphan_inbound', {
  id: id(),
  messageSid: text('message_sid').notNull().unique(),
  accountSid: text('account_sid').notNull(),
  toAddress: text('to_address').notNull(),
  reason: text('reason').notNull(),
  payload: jsonb('payload').$type<Record<string, string>>().notNull(),
  receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
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
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    taskQueue: text('task_queue').notNull(),
    /** The full InboundInput the webhook built (trace and receivedAt included), replayed as is. */
    input: jsonb('input').notNull(),
    state: text('state', { enum: INBOX_STATES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: createdAt(),
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
    drainedAt: timestamp('drained_at', { withTimezone: true }),
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

export const aiResults = pgTable(
  'ai_results',
  {
    id: id(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id),
    correlationId: text('correlation_id').notNull(),
    traceId: text('trace_id'),
    provider: text('provider', { enum: ['openai', 'scripted'] }).notNull(),
    model: text('model').notNull(),
    status: text('status', { enum: ['ok', 'failed'] }).notNull(),
    attempt: integer('attempt').notNull().default(1),
    promptVersionId: uuid('prompt_version_id'),
    /** The inbound messages this turn answered (a coalesced burst). */
    inputMessageIds: jsonb('input_message_ids').$type<string[]>().notNull().default([]),
    promptTokens: integer('prompt_tokens'),
    completionTokens: integer('completion_tokens'),
    latencyMs: integer('latency_ms').notNull(),
    output: jsonb('output').$type<Record<string, unknown>>(),
    error: text('error'),
    createdAt: createdAt(),
  },
  (t) => [
    index('ai_results_correlation_idx').on(t.correlationId),
    index('ai_results_conversation_idx').on(t.conversationId, t.createdAt),
    // E: the tenant's AI tokens of the last day are summed before each turn.
    index('ai_results_tenant_created_idx').on(t.tenantId, t.createdAt),
    index('ai_results_retention_idx')
      .on(t.createdAt)
      .where(sql`output is not null or error is not null`),
  ],
);

export const events = pgTable(
  'events',
  {
    id: id(),
    tenantId: uuid('tenant_id').references(() => tenants.id),
    traceId: text('trace_id').notNull(),
    spanId: text('span_id').notNull(),
    parentId: text('parent_id'),
    causalTraceId: text('causal_trace_id'),
    type: text('type').notNull(),
    level: text('level', { enum: ['info', 'warn', 'error'] })
      .notNull()
      .default('info'),
    contactId: uuid('contact_id'),
    conversationId: uuid('conversation_id'),
    messageId: uuid('message_id'),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('events_trace_idx').on(t.traceId, t.occurredAt),
    index('events_contact_idx').on(t.contactId, t.occurredAt),
  ],
);

export const outbox = pgTable('outbox', {
  id: id(),
  tenantId: uuid('tenant_id')
    .notNull()
    .references(() => tenants.id),
  // Derived from business ids (e.g. `reply:<conversation>:<last inbound id>`), so a retried activity or a
  // replayed workflow finds the row it wrote before instead of sending again.
  idempotencyKey: text('idempotency_key').notNull().unique(),
  messageId: uuid('message_id')
    .notNull()
    .references(() => messages.id),
  status: text('status', { enum: ['pending', 'sending', 'sent', 'simulated', 'failed'] })
    .notNull()
    .default('pending'),
  providerSid: text('provider_sid'),
  attempts: integer('attempts').notNull().default(0),
  lastErrorCode: text('last_error_code'),
  lastError: text('last_error'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
  sentAt: timestamp('sent_at', { withTimezone: true }),
  /** What the send is for (a template key, `agent_reply`, `outage_notice`…) and its variables: a resend after a 63016 renders the purpose's Content template from them. */
  purpose: text('purpose'),
  variables: jsonb('variables').$type<Record<string, string>>(),
  /** The WhatsApp Content template decided at the first attempt (null: free text); retries send the same. */
  content: jsonb('content').$type<{ sid: string; variables: Record<string, string> }>(),
});

export const alerts = pgTable(
  'alerts',
  {
    id: id(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    conversationId: uuid('conversation_id').references(() => conversations.id),
    type: text('type').notNull(),
    severity: text('severity', { enum: ['low', 'medium', 'high', 'critical'] }).notNull(),
    message: text('message').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    /** The operator who acknowledged the alert in the console (null: resolved by the system, or still open). */
    resolvedBy: uuid('resolved_by').references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [
    index('alerts_open_idx').on(t.tenantId, t.resolvedAt, t.createdAt),
    // Issue 20 F: the desk report counts alerts by kind (sla_breached) per period.
    index('alerts_tenant_type_created_idx').on(t.tenantId, t.type, t.createdAt),
  ],
);

export const satisfactionFeedback = pgTable(
  'satisfaction_feedback',
  {
    id: id(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    conversationId: uuid('conversation_id')
      .notNull()
      .unique()
      .references(() => conversations.id),
    contactId: uuid('contact_id')
      .notNull()
      .references(() => contacts.id),
    messageId: uuid('message_id').references(() => messages.id),
    score: integer('score').notNull(),
    category: text('category', { enum: ['detractor', 'neutral', 'promoter'] }).notNull(),
    resolvedBy: text('resolved_by', { enum: ['ai', 'human'] }).notNull(),
    createdAt: createdAt(),
  },
  // Issue 20 F: NPS per period in the desk report.
  (t) => [index('satisfaction_feedback_tenant_created_idx').on(t.tenantId, t.createdAt)],
);

export const promptTemplates = pgTable(
  'prompt_templates',
  {
    id: id(),
    // null = the built-in default every tenant falls back to.
    tenantId: uuid('tenant_id').references(() => tenants.id),
    assistantType: text('assistant_type').notNull(),
    name: text('name').notNull(),
    createdAt: createdAt(),
  },
  (t) => [unique('prompt_templates_tenant_type_uq').on(t.tenantId, t.assistantType).nullsNotDistinct()],
);

export const promptVersions = pgTable(
  'prompt_versions',
  {
    id: id(),
    templateId: uuid('template_id')
      .notNull()
      .references(() => promptTemplates.id),
    version: text('version').notNull(),
    content: text('content').notNull(),
    active: boolean('active').notNull().default(false),
    createdBy: text('created_by').notNull().default('system'),
    createdAt: createdAt(),
    /** When the version last became active: a rollback returns to the most recently active other version. */
    activatedAt: timestamp('activated_at', { withTimezone: true }),
    activatedBy: text('activated_by'),
  },
  (t) => [
    uniqueIndex('prompt_versions_template_version_uq').on(t.templateId, t.version),
    uniqueIndex('prompt_versions_one_active_uq')
      .on(t.templateId)
      .where(sql`active`),
  ],
);

export const messageTemplates = pgTable(
  'message_templates',
  {
    id: id(),
    tenantId: uuid('tenant_id').references(() => tenants.id),
    key: text('key').notNull(),
    locale: text('locale').notNull(),
    body: text('body').notNull(),
    /** WhatsApp approved template (Content API) for business-initiated messages outside the 24 h window. */
    contentSid: text('content_sid'),
    /** Content API variables by position: `{"1": "name", "2": "amount"}` maps `{{1}}` to the target's `name`. */
    contentVariables: jsonb('content_variables').$type<Record<string, string>>(),
    createdAt: createdAt(),
  },
  (t) => [unique('message_templates_tenant_key_locale_uq').on(t.tenantId, t.key, t.locale).nullsNotDistinct()],
);

/**
 * WhatsApp Content templates (approved by Meta) per tenant and purpose: what a business-initiated WhatsApp message
 * of that purpose becomes outside the 24 h customer-service window. `variables` maps each position to a variable.
 */
export const contentTemplates = pgTable(
  'content_templates',
  {
    id: id(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    /** A message template key (idle_nudge, promise_reminder, a campaign's key…) or agent_reply, outage_notice, outage_resolution, broadcast. */
    purpose: text('purpose').notNull(),
    contentSid: text('content_sid').notNull(),
    variables: jsonb('variables').$type<Record<string, string>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [unique('content_templates_tenant_purpose_uq').on(t.tenantId, t.purpose)],
);

/** Status callbacks that arrived before the send recorded its SID (Twilio can be faster than our commit). */
export const parkedStatusCallbacks = pgTable(
  'parked_status_callbacks',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    messageSid: text('message_sid').notNull(),
    status: text('status').notNull(),
    errorCode: text('error_code'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('parked_status_callbacks_sid_idx').on(t.tenantId, t.messageSid)],
);

// ---------------------------------------------------------------------------------------------------------------
// Campaigns (C1–C6; seed 004 collections module: voice_campaigns, voice_campaign_targets, voice_promises, …).

export { CAMPAIGN_STATUSES, TARGET_STATES, OPEN_TARGET_STATES } from '../contract/statuses';

export const campaigns = pgTable(
  'campaigns',
  {
    id: id(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
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
    startAt: timestamp('start_at', { withTimezone: true }),
    endAt: timestamp('end_at', { withTimezone: true }),
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
    startedAt: timestamp('started_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
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
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    contactId: uuid('contact_id')
      .notNull()
      .references(() => contacts.id),
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
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lastMessageId: uuid('last_message_id'),
    lastStatus: text('last_status'),
    lastStatusAt: timestamp('last_status_at', { withTimezone: true }),
    contactedAt: timestamp('contacted_at', { withTimezone: true }),
    succeededAt: timestamp('succeeded_at', { withTimezone: true }),
    repliedAt: timestamp('replied_at', { withTimezone: true }),
    conversationId: uuid('conversation_id'),
    paymentStatus: text('payment_status', { enum: ['pending', 'paid', 'overdue', 'unknown'] }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
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
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    campaignId: uuid('campaign_id').references(() => campaigns.id),
    targetId: uuid('target_id').references(() => campaignTargets.id),
    contactId: uuid('contact_id')
      .notNull()
      .references(() => contacts.id),
    conversationId: uuid('conversation_id').references(() => conversations.id),
    aiResultId: uuid('ai_result_id'),
    /** Reminders and follow-ups go out on the conversation's channel, from the address the customer wrote to. */
    channel: channelEnum('channel').notNull(),
    sender: text('sender').notNull(),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    /** The instant the payment is due (a date promise is due at the end of that day in the contact's zone). */
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    method: text('method', { enum: ['boleto', 'pix', 'card', 'transfer', 'other'] }).notNull(),
    status: text('status', { enum: ['pending', 'fulfilled', 'broken', 'renegotiated'] })
      .notNull()
      .default('pending'),
    reminderSentAt: timestamp('reminder_sent_at', { withTimezone: true }),
    checkedAt: timestamp('checked_at', { withTimezone: true }),
    fulfilledAt: timestamp('fulfilled_at', { withTimezone: true }),
    brokenAt: timestamp('broken_at', { withTimezone: true }),
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
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    contactId: uuid('contact_id')
      .notNull()
      .references(() => contacts.id),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    externalId: text('external_id').notNull(),
    paidAt: timestamp('paid_at', { withTimezone: true }).notNull(),
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
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
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
    estimatedResolution: timestamp('estimated_resolution', { withTimezone: true }),
    notifyCampaignId: uuid('notify_campaign_id'),
    resolveCampaignId: uuid('resolve_campaign_id'),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
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
    contactId: uuid('contact_id')
      .notNull()
      .references(() => contacts.id),
    notificationType: text('notification_type', { enum: ['failure', 'resolution'] }).notNull(),
    targetId: uuid('target_id').references(() => campaignTargets.id),
    messageId: uuid('message_id'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('failure_notifications_once_uq').on(t.failureId, t.contactId, t.notificationType)],
);

/**
 * Browser sessions of operators for the codec endpoint (the Temporal Web UI sends cookies, not API keys): made by
 * the sign-in page after an API key check; only a SHA-256 of the random token is stored.
 */
export const operatorSessions = pgTable('operator_sessions', {
  id: id(),
  userId: uuid('user_id')
    .notNull()
    .references(() => users.id),
  tokenHash: text('token_hash').notNull().unique(),
  /** The API key the session was opened with: revoking that key ends the session (null: opened before this column). */
  apiKeyId: uuid('api_key_id').references(() => apiKeys.id),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  createdAt: createdAt(),
});

/**
 * Every request to the codec endpoint by an identified operator, allowed or refused: who, when, what. The Web UI
 * does not say which workflow it shows (its requests carry only the namespace, and a cross-origin Referer is
 * cut to the origin), so workflow_id is filled only when a client sends X-Causeway-Workflow-Id.
 */
export const codecAudit = pgTable(
  'codec_audit',
  {
    id: id(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    action: text('action', { enum: ['decode', 'encode'] }).notNull(),
    outcome: text('outcome', { enum: ['allowed', 'forbidden'] }).notNull(),
    via: text('via', { enum: ['session', 'api_key'] }).notNull(),
    namespace: text('namespace'),
    workflowId: text('workflow_id'),
    origin: text('origin'),
    payloads: integer('payloads').notNull(),
    /** How many of them were encrypted, and with which key ids (no payload content is ever stored here). */
    encrypted: integer('encrypted').notNull(),
    /** Decoded payloads of another tenant, returned still encrypted. */
    withheld: integer('withheld').notNull().default(0),
    keyIds: text('key_ids')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('codec_audit_user_idx').on(t.userId, t.occurredAt)],
);

/**
 * Erasure requests (LGPD/GDPR): the audit of what was removed, without personal data. One row per erasure run
 * (`erasure:<tenant>:<contact hash>` run id); `counts` is rows touched per table, histories the Temporal executions
 * deleted. The contact is named only by its keyed hash (like workflow ids), so the row cannot be read back into
 * a phone number without the tenant's hash key — and it links to the suppression entry.
 */
export interface ErasureTargets {
  contactIds: string[];
  conversationIds: string[];
  messageIds: string[];
  inboundSids: string[];
  outboundSids: string[];
  promiseWorkflowIds: string[];
  /** Traces of the contact's inbound webhooks (each its own root trace: never shared with other contacts). */
  traceIds: string[];
}

export const erasures = pgTable(
  'erasures',
  {
    id: id(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    contactHash: text('contact_hash').notNull(),
    workflowId: text('workflow_id').notNull(),
    runId: text('run_id').notNull().unique(),
    requestedBy: text('requested_by').notNull(),
    reason: text('reason').notNull(),
    status: text('status', { enum: ['running', 'completed'] })
      .notNull()
      .default('running'),
    counts: jsonb('counts').$type<Record<string, number>>().notNull().default({}),
    workflowsTerminated: integer('workflows_terminated').notNull().default(0),
    historiesDeleted: integer('histories_deleted').notNull().default(0),
    /** While running: the ids found at the start (message SIDs, workflow ids; no personal data), cleared at the end. */
    targets: jsonb('targets').$type<ErasureTargets>(),
    requestedAt: timestamp('requested_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (t) => [index('erasures_tenant_hash_idx').on(t.tenantId, t.contactHash)],
);

/**
 * Erased contacts who had opted out: a campaign import that brings their number back imports them as opted out
 * (skipped, counted in the report) instead of silently contacting them again. Keyed hash only, per tenant.
 */
export const contactSuppressions = pgTable(
  'contact_suppressions',
  {
    id: id(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    phoneHash: text('phone_hash').notNull(),
    reason: text('reason', { enum: ['erased_opted_out'] }).notNull(),
    optedOutAt: timestamp('opted_out_at', { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('contact_suppressions_tenant_hash_uq').on(t.tenantId, t.phoneHash)],
);

/**
 * Hybrid mode (issue 13 B): the AI drafts, an agent sends. One row per tenant (department null: the tenant-wide
 * setting) and per department (overrides the tenant's for conversations of that department).
 */
export const hybridSettings = pgTable(
  'hybrid_settings',
  {
    id: id(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    department: text('department'),
    enabled: boolean('enabled').notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [unique('hybrid_settings_tenant_department_uq').on(t.tenantId, t.department).nullsNotDistinct()],
);

export const DRAFT_OUTCOMES = ['approved', 'edited', 'rejected', 'superseded', 'abandoned'] as const;

/**
 * Seed 004's `suggested_responses`: every AI draft of hybrid mode and what an agent did with it, for prompt
 * improvement. `outcome` null: still waiting (held by the conversation workflow). superseded: a newer draft of the
 * same conversation replaced it; abandoned: the conversation ended first.
 */
export const suggestedResponses = pgTable(
  'suggested_responses',
  {
    id: id(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id),
    aiResultId: uuid('ai_result_id')
      .notNull()
      .references(() => aiResults.id),
    promptVersionId: uuid('prompt_version_id'),
    department: text('department'),
    /** The customer messages the draft answers (their text stays in messages). */
    inputMessageIds: jsonb('input_message_ids').$type<string[]>().notNull().default([]),
    draftText: text('draft_text').notNull(),
    /** What was sent: the draft as is (approved) or the agent's edit. */
    finalText: text('final_text'),
    outcome: text('outcome', { enum: DRAFT_OUTCOMES }),
    reason: text('reason'),
    decidedBy: uuid('decided_by').references(() => users.id),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    /** The outbound message of an approved or edited draft. */
    messageId: uuid('message_id').references(() => messages.id),
    escalatedAt: timestamp('escalated_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('suggested_responses_ai_result_uq').on(t.aiResultId),
    index('suggested_responses_conversation_idx').on(t.conversationId, t.createdAt),
    index('suggested_responses_pending_idx')
      .on(t.tenantId, t.createdAt)
      .where(sql`outcome is null`),
  ],
);

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
  listedUntil: timestamp('listed_until', { withTimezone: true }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
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
    drainedAt: timestamp('drained_at', { withTimezone: true }),
  },
  (t) => [
    index('redelivery_inbox_pending_idx')
      .on(t.createdAt)
      .where(sql`state = 'pending'`),
  ],
);

export const AUDIT_OUTCOMES = ['ok', 'denied', 'not_found', 'rejected', 'error'] as const;

/**
 * Issue 18 G: what operators and admins did, append-only (a trigger refuses UPDATE, TRUNCATE and any DELETE but the
 * retention purge's; see the migration and docs/audit.md). Never a phone number or a message text: targets are ids,
 * a contact is named by its keyed hash (`contact:<hash>`), query strings and bodies are not recorded.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: uuid('tenant_id').notNull(),
    /** user: an operator through the API, console or codec; cli: someone at the server's shell. */
    actorType: text('actor_type', { enum: ['user', 'cli'] }).notNull(),
    actorUserId: uuid('actor_user_id'),
    /** The API key that authenticated the request (for a console session: the key it was opened with). */
    actorKeyId: uuid('actor_key_id'),
    /** CLI: `cli:<OS user>`; operators: null (their user id says who). */
    actorLabel: text('actor_label'),
    role: text('role'),
    via: text('via', { enum: ['api', 'console', 'codec', 'cli'] }).notNull(),
    /** `METHOD /route/:pattern` for a request, a dotted verb (`user.disable`) for an explicit record. */
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    requestId: text('request_id'),
    outcome: text('outcome', { enum: AUDIT_OUTCOMES }).notNull(),
    status: integer('status'),
    /** Ids and enums only (other route params, counts); never text an operator or a customer typed. */
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('audit_log_tenant_time_idx').on(t.tenantId, t.occurredAt),
    index('audit_log_actor_time_idx').on(t.actorUserId, t.occurredAt),
  ],
);

/**
 * Desk hours and SLA targets (issue 20 B, C): one row per tenant (department null: the tenant's defaults) and per
 * department. A null field falls back to the tenant's row, then to the built-in default (always open, the env SLAs).
 */
export const deskSettings = pgTable(
  'desk_settings',
  {
    id: id(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    department: text('department'),
    timeZone: text('time_zone'),
    /** Weekly schedule in the active-hours syntax (`mon-fri 08:00-18:00; sat 08:00-12:00`), canonical form. */
    hours: text('hours'),
    /** Holiday calendar ids (`BR`, `BR-SP`…). */
    holidays: jsonb('holidays').$type<string[]>(),
    /** Dates the tenant closes besides holidays (`YYYY-MM-DD`). */
    closedDates: jsonb('closed_dates').$type<string[]>(),
    firstResponseSlaMs: integer('first_response_sla_ms'),
    nextResponseSlaMs: integer('next_response_sla_ms'),
    updatedAt: updatedAt(),
  },
  (t) => [unique('desk_settings_tenant_department_uq').on(t.tenantId, t.department).nullsNotDistinct()],
);

/** Transfers of a conversation to another department or agent, with the note the agent left (issue 20 D). */
export const conversationTransfers = pgTable(
  'conversation_transfers',
  {
    id: id(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id),
    fromDepartment: text('from_department'),
    toDepartment: text('to_department'),
    fromAgent: uuid('from_agent').references(() => users.id),
    toAgent: uuid('to_agent').references(() => users.id),
    note: text('note'),
    actor: text('actor').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('conversation_transfers_conversation_idx').on(t.conversationId, t.createdAt)],
);

/**
 * Issue 21 C: the outbound policy's decision for each outbound message (keyed like its outbox row), with every check
 * and its inputs, the rule table's version and who or what wrote the text. A hold then a send update the same row
 * (`holds` counts the holds before). No phone in clear: the contact by id; erasure deletes the contact's rows.
 */
export const sendDecisions = pgTable(
  'send_decisions',
  {
    id: id(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    idempotencyKey: text('idempotency_key').notNull().unique(),
    contactId: uuid('contact_id').notNull(),
    conversationId: uuid('conversation_id'),
    /** service | collection | marketing | utility */
    purpose: text('purpose').notNull(),
    /** The send's own purpose (template key, ai_reply, agent_reply…): picks its WhatsApp template. */
    sendPurpose: text('send_purpose').notNull(),
    businessInitiated: boolean('business_initiated').notNull(),
    decision: text('decision', { enum: ['send', 'hold', 'refuse'] }).notNull(),
    holdUntil: timestamp('hold_until', { withTimezone: true }),
    reason: text('reason'),
    checks: jsonb('checks').$type<Array<Record<string, unknown>>>().notNull(),
    rulesVersion: text('rules_version').notNull(),
    holds: integer('holds').notNull().default(0),
    sentBy: text('sent_by', { enum: ['ai', 'agent', 'system'] }).notNull(),
    agentId: uuid('agent_id'),
    campaignId: uuid('campaign_id'),
    campaignTargetId: uuid('campaign_target_id'),
    promiseId: uuid('promise_id'),
    correlationId: text('correlation_id').notNull(),
    /** Twilio's price for the message, when a callback or reconciliation reports it. */
    price: text('price'),
    priceUnit: text('price_unit'),
    decidedAt: timestamp('decided_at', { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    // The frequency cap counts a contact's business-initiated sends in a day and a week.
    index('send_decisions_cap_idx')
      .on(t.contactId, t.decidedAt)
      .where(sql`decision = 'send' and business_initiated and purpose in ('collection', 'marketing')`),
    index('send_decisions_tenant_decided_idx').on(t.tenantId, t.decidedAt),
  ],
);

/**
 * Issue 21: do-not-contact lists. Stored as E.164: a list imported for all tenants must match every tenant's
 * contacts, which a per-tenant keyed hash cannot, and an unkeyed hash of a phone number is reversible by enumeration
 * (Brazil has ~10^10 numbers), so hashing would protect nothing. tenant_id null: the list applies to every tenant.
 */
export const dncEntries = pgTable(
  'dnc_entries',
  {
    id: id(),
    tenantId: uuid('tenant_id').references(() => tenants.id),
    list: text('list').notNull(),
    scope: text('scope', { enum: ['procon-sp', 'nao-me-perturbe', 'tenant'] }).notNull(),
    phone: text('phone').notNull(),
    registeredAt: timestamp('registered_at', { withTimezone: true }),
    importedAt: createdAt(),
  },
  (t) => [
    unique('dnc_entries_tenant_list_phone_uq').on(t.tenantId, t.list, t.phone).nullsNotDistinct(),
    index('dnc_entries_phone_idx').on(t.phone),
  ],
);

/** Issue 21: a tenant's narrowing of the outbound policy (hours per purpose, frequency caps); null = the default. */
export const tenantPolicies = pgTable('tenant_policies', {
  tenantId: uuid('tenant_id')
    .primaryKey()
    .references(() => tenants.id),
  collectionHours: text('collection_hours'),
  marketingHours: text('marketing_hours'),
  utilityHours: text('utility_hours'),
  maxPerDay: integer('max_per_day'),
  maxPerWeek: integer('max_per_week'),
  updatedAt: updatedAt(),
});

/**
 * Issue 20 E: canned responses agents insert into a reply. Per tenant, optionally per department (null: every
 * department). `body` may use {{first_name}}, {{name}}, {{agent_name}}, {{department}} (src/domain/canned.ts).
 */
export const cannedResponses = pgTable(
  'canned_responses',
  {
    id: id(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    department: text('department'),
    /** Short name shown in the picker and used by `causeway canned remove`. */
    title: text('title').notNull(),
    body: text('body').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [unique('canned_responses_tenant_dept_title_uq').on(t.tenantId, t.department, t.title).nullsNotDistinct()],
);

/**
 * Issue 20 E: internal notes on a conversation, for agents only. A table of their own (not `messages`): nothing that
 * reads messages (the AI's context, sends, reconciliation) can ever see them. Erasure and retention blank `body`.
 */
export const conversationNotes = pgTable(
  'conversation_notes',
  {
    id: id(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id),
    authorId: uuid('author_id').references(() => users.id),
    body: text('body').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('conversation_notes_conversation_idx').on(t.conversationId, t.createdAt),
    index('conversation_notes_retention_idx')
      .on(t.createdAt)
      .where(sql`body <> ''`),
  ],
);

/** Postgres full-text vector (drizzle has no built-in type for it). */
const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/** Issue 23 D: a tenant's knowledge base article (Markdown), cut into passages for retrieval. */
export const kbArticles = pgTable(
  'kb_articles',
  {
    id: id(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    /** Stable name (from the file name): what a reply cites and `kb remove` takes. */
    slug: text('slug').notNull(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('kb_articles_tenant_slug_uq').on(t.tenantId, t.slug)],
);

/**
 * One retrievable passage: Portuguese full-text (generated tsvector, GIN) and, when pg_trgm exists, trigram
 * similarity (GIN, created in the migration); `embedding` when an embeddings model is configured (cosine in SQL).
 */
export const kbPassages = pgTable(
  'kb_passages',
  {
    id: id(),
    articleId: uuid('article_id')
      .notNull()
      .references(() => kbArticles.id, { onDelete: 'cascade' }),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    position: integer('position').notNull(),
    content: text('content').notNull(),
    tsv: tsvector('tsv')
      .notNull()
      .generatedAlwaysAs(sql`to_tsvector('portuguese', content)`),
    embedding: doublePrecision('embedding').array(),
  },
  (t) => [index('kb_passages_tenant_idx').on(t.tenantId), index('kb_passages_tsv_idx').using('gin', t.tsv)],
);
