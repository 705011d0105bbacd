// A tenant: its Twilio accounts and numbers, departments and settings (hybrid, desk, policy).
import { bigint, boolean, integer, jsonb, pgEnum, pgTable, text, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { IDENTITY_CHECKS } from '../../contract/statuses';
import { id, createdAt, updatedAt } from './columns';

export const channelEnum = pgEnum('channel', ['sms', 'whatsapp']);

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

/** The owning tenant: every tenant's row names it (not null, referencing tenants). */
export const tenantRef = () =>
  uuid('tenant_id')
    .notNull()
    .references(() => tenants.id);

/** A tenant's departments (handoff queues): users and conversations name them in their `department` text. */
export const departments = pgTable(
  'departments',
  {
    id: id(),
    tenantId: tenantRef(),
    name: text('name').notNull(),
    createdAt: createdAt(),
  },
  (t) => [unique('departments_tenant_name_uq').on(t.tenantId, t.name)],
);

export const twilioAccounts = pgTable('twilio_accounts', {
  id: id(),
  tenantId: tenantRef(),
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
    tenantId: tenantRef(),
    twilioAccountId: uuid('twilio_account_id')
      .notNull()
      .references(() => twilioAccounts.id),
    channel: channelEnum('channel').notNull(),
    phone: text('phone').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('phone_numbers_channel_phone_uq').on(t.channel, t.phone)],
);

/**
 * Hybrid mode (issue 13 B): the AI drafts, an agent sends. One row per tenant (department null: the tenant-wide
 * setting) and per department (overrides the tenant's for conversations of that department).
 */
export const hybridSettings = pgTable(
  'hybrid_settings',
  {
    id: id(),
    tenantId: tenantRef(),
    department: text('department'),
    enabled: boolean('enabled').notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [unique('hybrid_settings_tenant_department_uq').on(t.tenantId, t.department).nullsNotDistinct()],
);

/**
 * Desk hours and SLA targets (issue 20 B, C): one row per tenant (department null: the tenant's defaults) and per
 * department. A null field falls back to the tenant's row, then to the built-in default (always open, the env SLAs).
 */
export const deskSettings = pgTable(
  'desk_settings',
  {
    id: id(),
    tenantId: tenantRef(),
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
