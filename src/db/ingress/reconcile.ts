import { and, asc, eq, gte, inArray, lte, sql } from 'drizzle-orm';
import type { DbOrTx } from '../core/client';
import { messages, phoneNumbers, reconcileWatermarks, tenants, twilioAccounts } from '../schema';

/** What reconciling one tenant reads first: the tenant, its live Twilio accounts (sealed tokens) and its numbers. */
export async function loadReconcileTenant(db: DbOrTx, slug: string) {
  const [tenant] = await db.select({ id: tenants.id, slug: tenants.slug }).from(tenants).where(eq(tenants.slug, slug));
  if (!tenant) return null;
  const accounts = await db
    .select({ id: twilioAccounts.id, accountSid: twilioAccounts.accountSid, authToken: twilioAccounts.authToken })
    .from(twilioAccounts)
    .where(and(eq(twilioAccounts.tenantId, tenant.id), eq(twilioAccounts.mode, 'live')));
  const numbers = await db
    .select({ accountId: phoneNumbers.twilioAccountId, channel: phoneNumbers.channel, phone: phoneNumbers.phone })
    .from(phoneNumbers)
    .where(eq(phoneNumbers.tenantId, tenant.id));
  return { tenant, accounts, numbers };
}

/** Which of these Twilio SIDs the tenant already has a message for (any direction). */
export async function findStoredSids(db: DbOrTx, tenantId: string, sids: string[]): Promise<Set<string>> {
  if (sids.length === 0) return new Set();
  const rows = await db
    .select({ sid: messages.providerSid })
    .from(messages)
    .where(and(eq(messages.tenantId, tenantId), inArray(messages.providerSid, sids)));
  return new Set(rows.map((r) => r.sid!));
}

/** The tenant's outbound messages with these SIDs: their status and when they were created. */
export async function findOutboundBySids(db: DbOrTx, tenantId: string, sids: string[]) {
  const rows = await db
    .select({ sid: messages.providerSid, status: messages.status, createdAt: messages.createdAt })
    .from(messages)
    .where(
      and(eq(messages.tenantId, tenantId), eq(messages.direction, 'outbound'), inArray(messages.providerSid, sids)),
    );
  return rows.map((r) => ({ ...r, sid: r.sid! }));
}

/** The end of the tenant's last reconciliation run that listed its whole window, or null before the first. */
export async function reconcileWatermark(db: DbOrTx, tenantId: string): Promise<Date | null> {
  const [row] = await db
    .select({ listedUntil: reconcileWatermarks.listedUntil })
    .from(reconcileWatermarks)
    .where(eq(reconcileWatermarks.tenantId, tenantId));
  return row?.listedUntil ?? null;
}

/** Records a complete run's `until`; never moves back (a slow run finishing after a newer one changes nothing). */
export async function advanceReconcileWatermark(db: DbOrTx, tenantId: string, listedUntil: Date): Promise<void> {
  await db
    .insert(reconcileWatermarks)
    .values({ tenantId, listedUntil })
    .onConflictDoUpdate({
      target: reconcileWatermarks.tenantId,
      set: {
        listedUntil: sql`greatest(${reconcileWatermarks.listedUntil}, excluded.listed_until)`,
        updatedAt: sql`now()`,
      },
    });
}

/**
 * Our outbound messages of the window that Twilio accepted (they have a SID) and that have no final status yet,
 * by OUR send time (created_at), oldest first, at most `limit`: what reconciliation fetches one by one when the
 * DateSent listing did not show them (a message Twilio never sent has no date_sent, issue 22 D / issue 24).
 */
export async function findUnsettledOutbound(
  db: DbOrTx,
  tenantId: string,
  window: { from: Date; to: Date; limit: number },
) {
  const rows = await db
    .select({ sid: messages.providerSid, fromAddress: messages.fromAddress })
    .from(messages)
    .where(
      and(
        eq(messages.tenantId, tenantId),
        eq(messages.direction, 'outbound'),
        // The partial index's own predicate, literally, so the planner uses messages_outbound_sent_idx; the status
        // is read from the rows (not in the index: status callbacks stay HOT updates, see the schema).
        sql`provider_sid is not null`,
        sql`status not in ('delivered', 'read', 'undelivered', 'failed', 'canceled')`,
        gte(messages.createdAt, window.from),
        lte(messages.createdAt, window.to),
      ),
    )
    .orderBy(asc(messages.createdAt))
    .limit(window.limit);
  return rows.map((r) => ({ sid: r.sid!, fromAddress: r.fromAddress }));
}
