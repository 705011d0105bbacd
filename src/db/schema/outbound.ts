// Outbound sending: the outbox, policy decisions, message and content templates.
import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core';
import { id, createdAt, updatedAt, instant } from './columns';
import { messages } from './conversations';
import { tenants, tenantRef } from './tenants';

export const outbox = pgTable('outbox', {
  id: id(),
  tenantId: tenantRef(),
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
  sentAt: instant('sent_at'),
  /** What the send is for (a template key, `agent_reply`, `outage_notice`…) and its variables: a resend after a 63016 renders the purpose's Content template from them. */
  purpose: text('purpose'),
  variables: jsonb('variables').$type<Record<string, string>>(),
  /** The WhatsApp Content template decided at the first attempt (null: free text); retries send the same. */
  content: jsonb('content').$type<{ sid: string; variables: Record<string, string> }>(),
});

/**
 * Issue 21 C: the outbound policy's decision for each outbound message (keyed like its outbox row), with every check
 * and its inputs, the rule table's version and who or what wrote the text. A hold then a send update the same row
 * (`holds` counts the holds before). No phone in clear: the contact by id; erasure deletes the contact's rows.
 */
export const sendDecisions = pgTable(
  'send_decisions',
  {
    id: id(),
    tenantId: tenantRef(),
    idempotencyKey: text('idempotency_key').notNull().unique(),
    contactId: uuid('contact_id').notNull(),
    conversationId: uuid('conversation_id'),
    /** service | collection | marketing | utility */
    purpose: text('purpose').notNull(),
    /** The send's own purpose (template key, ai_reply, agent_reply…): picks its WhatsApp template. */
    sendPurpose: text('send_purpose').notNull(),
    businessInitiated: boolean('business_initiated').notNull(),
    decision: text('decision', { enum: ['send', 'hold', 'refuse'] }).notNull(),
    holdUntil: instant('hold_until'),
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
    decidedAt: instant('decided_at').notNull(),
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
    tenantId: tenantRef(),
    /** A message template key (idle_nudge, promise_reminder, a campaign's key…) or agent_reply, outage_notice, outage_resolution, broadcast. */
    purpose: text('purpose').notNull(),
    contentSid: text('content_sid').notNull(),
    variables: jsonb('variables').$type<Record<string, string>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [unique('content_templates_tenant_purpose_uq').on(t.tenantId, t.purpose)],
);
