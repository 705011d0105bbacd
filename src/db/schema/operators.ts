// Operators: users, API keys, console sessions, and what they did (codec and audit logs).
import { sql } from 'drizzle-orm';
import { bigserial, index, integer, jsonb, pgEnum, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { id, createdAt, instant } from './columns';
import { tenantRef } from './tenants';

export const roleEnum = pgEnum('user_role', ['ADMIN', 'SUPERVISOR', 'AGENT']);

export const users = pgTable('users', {
  id: id(),
  tenantId: tenantRef(),
  name: text('name').notNull(),
  email: text('email'),
  role: roleEnum('role').notNull(),
  department: text('department'),
  disabledAt: instant('disabled_at'),
  /** Desk presence (issue 20 D): only `online` agents get conversations assigned automatically. */
  presence: text('presence', { enum: ['online', 'away', 'offline'] })
    .notNull()
    .default('offline'),
  presenceAt: instant('presence_at'),
  /** Open conversations automatic assignment gives this agent at most (they may still take more by hand). */
  capacity: integer('capacity').notNull().default(5),
  /** Round robin among equally loaded agents: the one assigned longest ago goes first. */
  lastAssignedAt: instant('last_assigned_at'),
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
  lastUsedAt: instant('last_used_at'),
  revokedAt: instant('revoked_at'),
  createdAt: createdAt(),
});

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
  expiresAt: instant('expires_at').notNull(),
  revokedAt: instant('revoked_at'),
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
    tenantId: tenantRef(),
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
    occurredAt: instant('occurred_at').notNull().defaultNow(),
  },
  (t) => [index('codec_audit_user_idx').on(t.userId, t.occurredAt)],
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
    occurredAt: instant('occurred_at').notNull().defaultNow(),
  },
  (t) => [
    index('audit_log_tenant_time_idx').on(t.tenantId, t.occurredAt),
    index('audit_log_actor_time_idx').on(t.actorUserId, t.occurredAt),
  ],
);
