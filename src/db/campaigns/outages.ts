import { and, eq, inArray, isNull, notInArray, sql } from 'drizzle-orm';
import { insertCampaign, type CampaignSettings, type NewTarget } from './campaigns';
import type { Database, DbOrTx } from '../core/client';
import { contacts, failureNotifications, massiveFailures, messages } from '../schema';

/** C5: outages (massive failures) and the notice and resolution campaigns they run. src/services/campaigns.ts adapts them. */

const asTargets = (people: { id: string; name: string | null; optedOutAt: Date | null }[]): NewTarget[] =>
  people.map((p, i) => ({
    contactId: p.id,
    line: i + 1,
    name: p.name,
    timeZone: null,
    priority: 0,
    debtAmountCents: null,
    dueDate: null,
    document: null,
    variables: {},
    optedOut: p.optedOutAt !== null,
  }));

/**
 * The outage and its notice campaign (kind `outage`) to every contact of the regions, in one transaction.
 * Null, with nothing written, when the regions have no contacts.
 */
export async function createOutageWithCampaign(
  db: Database,
  input: {
    tenantId: string;
    name: string;
    regions: string[];
    message: string;
    settings: CampaignSettings;
    createdBy: string;
    traceId: string;
  },
) {
  return db.transaction(async (tx) => {
    const people = await tx
      .select({ id: contacts.id, name: contacts.name, optedOutAt: contacts.optedOutAt })
      .from(contacts)
      .where(and(eq(contacts.tenantId, input.tenantId), inArray(contacts.region, input.regions)))
      .orderBy(contacts.createdAt);
    if (people.length === 0) return null;
    const [failure] = await tx
      .insert(massiveFailures)
      .values({
        tenantId: input.tenantId,
        name: input.name,
        affectedRegions: input.regions,
        message: input.message,
        createdBy: input.createdBy,
      })
      .returning();
    const created = await insertCampaign(tx, {
      tenantId: input.tenantId,
      settings: { ...input.settings, kind: 'outage' },
      targets: asTargets(people),
      createdBy: input.createdBy,
      traceId: input.traceId,
      massiveFailureId: failure!.id,
    });
    await tx
      .update(massiveFailures)
      .set({ notifyCampaignId: created.campaignId })
      .where(eq(massiveFailures.id, failure!.id));
    return { failureId: failure!.id, ...created };
  });
}

/** The tenant's outage by id or by name. */
export async function findOutage(db: DbOrTx, tenantId: string, ref: string) {
  const [failure] = await db
    .select()
    .from(massiveFailures)
    .where(
      and(
        eq(massiveFailures.tenantId, tenantId),
        /^[0-9a-f-]{36}$/i.test(ref) ? eq(massiveFailures.id, ref) : eq(massiveFailures.name, ref),
      ),
    );
  return failure ?? null;
}

/**
 * Marks the outage resolved and creates its resolution campaign (kind `outage_resolution`) to exactly the contacts
 * that were told about it, in one transaction. The UPDATE comes first: it waits for notice sends holding the
 * outage row (FOR SHARE in their claim, src/db/campaign-dispatch.ts), and later notice sends see it resolved and
 * stop, so no contact gets the notice after the list is drawn. A notice in flight (accepted, no final status yet)
 * counts as told; a failed one does not. Null, with nothing written, when it was resolved already.
 */
export async function resolveOutageWithCampaign(
  db: Database,
  input: {
    tenantId: string;
    failureId: string;
    message: string;
    settings: CampaignSettings;
    createdBy: string;
    traceId: string;
  },
) {
  return db.transaction(async (tx) => {
    const [marked] = await tx
      .update(massiveFailures)
      .set({
        status: 'resolved',
        resolvedAt: sql`now()`,
        resolvedBy: input.createdBy,
        resolutionMessage: input.message,
      })
      .where(and(eq(massiveFailures.id, input.failureId), isNull(massiveFailures.resolvedAt)))
      .returning({ id: massiveFailures.id });
    if (!marked) return null;
    const notified = await tx
      .select({ id: contacts.id, name: contacts.name, optedOutAt: contacts.optedOutAt })
      .from(failureNotifications)
      .innerJoin(contacts, eq(contacts.id, failureNotifications.contactId))
      .innerJoin(messages, eq(messages.id, failureNotifications.messageId))
      .where(
        and(
          eq(failureNotifications.failureId, input.failureId),
          eq(failureNotifications.notificationType, 'failure'),
          notInArray(messages.status, ['failed', 'undelivered']),
        ),
      )
      .orderBy(failureNotifications.createdAt);
    const created = await insertCampaign(tx, {
      tenantId: input.tenantId,
      settings: { ...input.settings, kind: 'outage_resolution' },
      targets: asTargets(notified),
      createdBy: input.createdBy,
      traceId: input.traceId,
      massiveFailureId: input.failureId,
    });
    await tx
      .update(massiveFailures)
      .set({ resolveCampaignId: created.campaignId })
      .where(eq(massiveFailures.id, input.failureId));
    return { notified: notified.length, ...created };
  });
}
