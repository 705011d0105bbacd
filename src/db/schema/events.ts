// Trace events and alerts.
import { index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { id, createdAt, instant } from './columns';
import { conversations } from './conversations';
import { users } from './operators';
import { tenants, tenantRef } from './tenants';

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
    occurredAt: instant('occurred_at').notNull().defaultNow(),
  },
  (t) => [
    index('events_trace_idx').on(t.traceId, t.occurredAt),
    index('events_contact_idx').on(t.contactId, t.occurredAt),
  ],
);

export const alerts = pgTable(
  'alerts',
  {
    id: id(),
    tenantId: tenantRef(),
    conversationId: uuid('conversation_id').references(() => conversations.id),
    type: text('type').notNull(),
    severity: text('severity', { enum: ['low', 'medium', 'high', 'critical'] }).notNull(),
    message: text('message').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    resolvedAt: instant('resolved_at'),
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
