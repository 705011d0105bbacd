// A contact: its identity, suppression, erasure and do-not-contact entries.
import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { id, createdAt, updatedAt, instant } from './columns';
import { channelEnum, tenants, tenantRef } from './tenants';

export const contacts = pgTable(
  'contacts',
  {
    id: id(),
    tenantId: tenantRef(),
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
    optedOutAt: instant('opted_out_at'),
    // 'suppression': re-imported after an erasure while opted out (contact_suppressions).
    optOutSource: text('opt_out_source', { enum: ['keyword', 'twilio_21610', 'operator', 'suppression'] }),
    // Issue 22 B: Twilio said this address cannot receive on that channel (63024, 63003, 21211, 30005…):
    // business-initiated sends on that channel stop (campaign targets fail as contact_invalid) until a new inbound.
    invalidAt: instant('invalid_at'),
    invalidChannel: channelEnum('invalid_channel'),
    invalidCode: text('invalid_code'),
    // 63049 (Meta declined a marketing message): business-initiated sends wait until then (progressive backoff).
    backoffUntil: instant('backoff_until'),
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

/** The contact a row belongs to (not null, referencing contacts). */
export const contactRef = () =>
  uuid('contact_id')
    .notNull()
    .references(() => contacts.id);

/**
 * Erased contacts who had opted out: a campaign import that brings their number back imports them as opted out
 * (skipped, counted in the report) instead of silently contacting them again. Keyed hash only, per tenant.
 */
export const contactSuppressions = pgTable(
  'contact_suppressions',
  {
    id: id(),
    tenantId: tenantRef(),
    phoneHash: text('phone_hash').notNull(),
    reason: text('reason', { enum: ['erased_opted_out'] }).notNull(),
    optedOutAt: instant('opted_out_at').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('contact_suppressions_tenant_hash_uq').on(t.tenantId, t.phoneHash)],
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
    tenantId: tenantRef(),
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
    requestedAt: instant('requested_at').notNull().defaultNow(),
    completedAt: instant('completed_at'),
  },
  (t) => [index('erasures_tenant_hash_idx').on(t.tenantId, t.contactHash)],
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
    registeredAt: instant('registered_at'),
    importedAt: createdAt(),
  },
  (t) => [
    unique('dnc_entries_tenant_list_phone_uq').on(t.tenantId, t.list, t.phone).nullsNotDistinct(),
    index('dnc_entries_phone_idx').on(t.phone),
  ],
);
