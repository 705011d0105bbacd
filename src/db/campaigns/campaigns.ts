import { openSecret } from '../../secrets/keyring';
import { randomUUID, randomInt } from 'node:crypto';
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { campaignWorkflowId, type Channel } from '../../contract';
import { contactHash } from '../../domain/contact-hash';
import type { TargetRow } from '../../domain/campaign-import';
import type { DbOrTx, Database } from '../core/client';
import { campaigns, campaignTargets, contacts, contactSuppressions, phoneNumbers, tenants } from '../schema';
import { withPendingCounters } from './targets';

export type CampaignKind = 'broadcast' | 'collection' | 'outage' | 'outage_resolution';
export type Strategy = 'sequential' | 'priority' | 'random';

export interface CampaignSettings {
  name: string;
  description?: string | null;
  kind: CampaignKind;
  channel: Channel;
  /** The tenant's sending address, `whatsapp:+…` or `+…`. */
  sender: string;
  templateKey: string | null;
  body: string | null;
  ratePerSecond: number;
  maxAttempts: number;
  attemptSpacingSeconds: number;
  retryOnNoReply: boolean;
  /** Canonical active-hours spec. */
  activeHours: string;
  defaultTimeZone: string;
  strategy: Strategy;
  startAt: Date | null;
  endAt: Date | null;
}

export interface NewTarget {
  contactId: string;
  line: number;
  name: string | null;
  timeZone: string | null;
  priority: number;
  debtAmountCents: number | null;
  dueDate: string | null;
  document: string | null;
  variables: Record<string, string>;
  optedOut: boolean;
}

const CHUNK = 1000;

/** Dispatch order: the page query walks targets by this key (an index), whatever the strategy. */
export function orderKey(strategy: Strategy, line: number, priority: number): number {
  if (strategy === 'random') return randomInt(0, 2 ** 47);
  if (strategy === 'priority') return (1000 - priority) * 10_000_000 + line;
  return line;
}

/** Contacts for the rows (created or updated with name, region and zone), keyed by phone. One statement per chunk. */
export async function upsertContacts(
  tx: DbOrTx,
  tenantId: string,
  rows: TargetRow[],
): Promise<Map<string, { id: string; optedOut: boolean }>> {
  const [sealed] = await tx.select({ hashKey: tenants.hashKey }).from(tenants).where(eq(tenants.id, tenantId));
  const tenant = sealed && { hashKey: openSecret(sealed.hashKey) };
  if (!tenant) throw new Error('tenant not found');
  const byPhone = new Map<string, { id: string; optedOut: boolean }>();
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    const out = await tx
      .insert(contacts)
      .values(
        chunk.map((r) => ({
          tenantId,
          phone: r.phone,
          phoneHash: contactHash(tenant.hashKey, r.phone),
          name: r.name,
          region: r.region,
          timeZone: r.timeZone,
        })),
      )
      .onConflictDoUpdate({
        target: [contacts.tenantId, contacts.phone],
        set: {
          name: sql`coalesce(excluded.name, ${contacts.name})`,
          region: sql`coalesce(excluded.region, ${contacts.region})`,
          timeZone: sql`coalesce(excluded.time_zone, ${contacts.timeZone})`,
          updatedAt: sql`now()`,
        },
      })
      .returning({ id: contacts.id, phone: contacts.phone, optedOutAt: contacts.optedOutAt });
    for (const c of out) byPhone.set(c.phone, { id: c.id, optedOut: c.optedOutAt !== null });
    // E: a number erased while opted out comes back opted out (imported as `opted_out`, skipped and counted in
    // the report), not as a fresh contact to message: skipping keeps the rest of the file importable.
    const hashes = chunk.map((r) => contactHash(tenant.hashKey, r.phone));
    const suppressed = await tx
      .select({ phoneHash: contactSuppressions.phoneHash })
      .from(contactSuppressions)
      .where(and(eq(contactSuppressions.tenantId, tenantId), inArray(contactSuppressions.phoneHash, hashes)));
    if (suppressed.length > 0) {
      const again = await tx
        .update(contacts)
        .set({
          optedOutAt: sql`coalesce(${contacts.optedOutAt}, now())`,
          optOutSource: sql`coalesce(${contacts.optOutSource}, 'suppression')`,
          updatedAt: sql`now()`,
        })
        .where(
          and(
            eq(contacts.tenantId, tenantId),
            inArray(
              contacts.phoneHash,
              suppressed.map((s) => s.phoneHash),
            ),
          ),
        )
        .returning({ id: contacts.id, phone: contacts.phone });
      for (const c of again) byPhone.set(c.phone, { id: c.id, optedOut: true });
    }
  }
  return byPhone;
}

/**
 * Creates the campaign and all its targets in one transaction (all or nothing, seed 003 risk 3). Contacts that
 * opted out are imported as `opted_out` so the report shows them, and are never sent to.
 */
export async function insertCampaign(
  tx: DbOrTx,
  input: {
    tenantId: string;
    settings: CampaignSettings;
    targets: NewTarget[];
    createdBy: string;
    traceId: string;
    massiveFailureId?: string | null;
  },
) {
  const id = randomUUID();
  const optedOut = input.targets.filter((t) => t.optedOut).length;
  const s = input.settings;
  await tx.insert(campaigns).values({
    id,
    tenantId: input.tenantId,
    name: s.name,
    description: s.description ?? null,
    kind: s.kind,
    status: 'draft',
    strategy: s.strategy,
    channel: s.channel,
    sender: s.sender,
    templateKey: s.templateKey,
    body: s.body,
    ratePerSecond: s.ratePerSecond,
    maxAttempts: s.maxAttempts,
    attemptSpacingSeconds: s.attemptSpacingSeconds,
    retryOnNoReply: s.retryOnNoReply,
    activeHours: s.activeHours,
    defaultTimeZone: s.defaultTimeZone,
    startAt: s.startAt,
    endAt: s.endAt,
    totalTargets: input.targets.length,
    optedOutTargets: optedOut,
    workflowId: campaignWorkflowId(id),
    traceId: input.traceId,
    createdBy: input.createdBy,
    massiveFailureId: input.massiveFailureId ?? null,
  });
  for (let i = 0; i < input.targets.length; i += CHUNK) {
    await tx.insert(campaignTargets).values(
      input.targets.slice(i, i + CHUNK).map((t) => ({
        campaignId: id,
        tenantId: input.tenantId,
        contactId: t.contactId,
        line: t.line,
        orderKey: orderKey(s.strategy, t.line, t.priority),
        name: t.name,
        timeZone: t.timeZone,
        priority: t.priority,
        debtAmountCents: t.debtAmountCents,
        dueDate: t.dueDate,
        document: t.document,
        variables: t.variables,
        ...(t.optedOut ? { state: 'opted_out' as const, outcome: 'opted_out_at_import', completedAt: new Date() } : {}),
      })),
    );
  }
  return { campaignId: id, workflowId: campaignWorkflowId(id), imported: input.targets.length, optedOut };
}

/** `campaign create` from validated file rows. */
export async function createCampaignFromRows(
  db: Database,
  input: { tenantId: string; settings: CampaignSettings; rows: TargetRow[]; createdBy: string; traceId: string },
) {
  return db.transaction(async (tx) => {
    const byPhone = await upsertContacts(tx, input.tenantId, input.rows);
    const targets: NewTarget[] = input.rows.map((r) => {
      const contact = byPhone.get(r.phone)!;
      return {
        contactId: contact.id,
        line: r.line,
        name: r.name,
        timeZone: r.timeZone,
        priority: r.priority,
        debtAmountCents: r.debtAmountCents,
        dueDate: r.dueDate,
        document: r.document,
        variables: r.variables,
        optedOut: contact.optedOut,
      };
    });
    return insertCampaign(tx, {
      tenantId: input.tenantId,
      settings: input.settings,
      targets,
      createdBy: input.createdBy,
      traceId: input.traceId,
    });
  });
}

export async function findCampaign(db: DbOrTx, tenantId: string, ref: string) {
  const byId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref);
  const [row] = await withPendingCounters(
    db,
    await db
      .select()
      .from(campaigns)
      .where(and(eq(campaigns.tenantId, tenantId), byId ? eq(campaigns.id, ref) : eq(campaigns.name, ref))),
  );
  return row ?? null;
}

export async function listCampaigns(db: DbOrTx, tenantId: string, limit = 50) {
  return withPendingCounters(
    db,
    await db
      .select()
      .from(campaigns)
      .where(eq(campaigns.tenantId, tenantId))
      .orderBy(desc(campaigns.createdAt))
      .limit(limit),
  );
}

/** Target counts by state (the status command's breakdown). */
export async function targetStateCounts(db: DbOrTx, campaignId: string): Promise<Record<string, number>> {
  const rows = await db
    .select({ state: campaignTargets.state, n: sql<number>`count(*)::int` })
    .from(campaignTargets)
    .where(eq(campaignTargets.campaignId, campaignId))
    .groupBy(campaignTargets.state);
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}

/** The tenant's numbers on a channel, in the order they were added (a campaign's default sender is the first). */
export async function tenantNumbersOn(db: DbOrTx, tenantId: string, channel: Channel) {
  return db
    .select({ channel: phoneNumbers.channel, phone: phoneNumbers.phone })
    .from(phoneNumbers)
    .where(and(eq(phoneNumbers.tenantId, tenantId), eq(phoneNumbers.channel, channel)));
}

export async function tenantLocale(db: DbOrTx, tenantId: string): Promise<string | null> {
  const [tenant] = await db.select({ locale: tenants.locale }).from(tenants).where(eq(tenants.id, tenantId));
  return tenant?.locale ?? null;
}

export async function campaignNameTaken(db: DbOrTx, tenantId: string, name: string): Promise<boolean> {
  const [taken] = await db
    .select({ id: campaigns.id })
    .from(campaigns)
    .where(and(eq(campaigns.tenantId, tenantId), eq(campaigns.name, name)));
  return taken !== undefined;
}

/** The tenant of that slug, or every tenant without one (the CLI picks the only one). */
export async function tenantsBySlug(db: DbOrTx, slug: string | undefined) {
  return db
    .select({ id: tenants.id, slug: tenants.slug })
    .from(tenants)
    .where(slug ? eq(tenants.slug, slug) : undefined);
}
