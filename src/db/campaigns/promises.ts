import { and, desc, eq, gt, sql } from 'drizzle-orm';
import { promiseWorkflowId, type Channel, type TraceContext } from '../../contract';
import { childSpan } from '../../domain/trace';
import { bumpCounters } from './targets';
import type { Database } from '../core/client';
import { recordEvents } from '../events/events';
import { campaigns, campaignTargets, contacts, promises, tenants } from '../schema';

/** The promises of C4: registration, settlement and the reminder's bookkeeping. src/activities/promises.ts adapts them. */

export type PromiseRow = typeof promises.$inferSelect;

export interface PromiseForNotice {
  p: PromiseRow;
  locale: string;
  phone: string;
}

/** The promise with its tenant's locale and its contact's number, or undefined. */
export async function loadPromise(db: Database, promiseId: string): Promise<PromiseForNotice | undefined> {
  const [row] = await db
    .select({ p: promises, locale: tenants.locale, phone: contacts.phone })
    .from(promises)
    .innerJoin(tenants, eq(tenants.id, promises.tenantId))
    .innerJoin(contacts, eq(contacts.id, promises.contactId))
    .where(eq(promises.id, promiseId));
  return row;
}

/**
 * Fulfilled or broken, with the campaign's counters and the target's payment status, in one transaction. False
 * when the promise was settled already (a retried activity).
 */
export async function settlePromise(
  db: Database,
  p: PromiseRow,
  outcome: 'fulfilled' | 'broken',
  paidCents: number,
  trace: TraceContext,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [changed] = await tx
      .update(promises)
      .set({
        status: outcome,
        checkedAt: sql`now()`,
        ...(outcome === 'fulfilled' ? { fulfilledAt: sql`now()` } : { brokenAt: sql`now()` }),
      })
      .where(and(eq(promises.id, p.id), eq(promises.status, 'pending')))
      .returning({ id: promises.id });
    if (!changed) return false;
    if (p.targetId) {
      // Issue 18 E: a kept promise pays the target only when the payments cover its debt, not merely the promised
      // amount (a R$0,01 promise kept is not a debt paid); short of it, the target stays where it was, pending.
      const coversDebt = sql`(${campaignTargets.debtAmountCents} is null or ${paidCents} >= ${campaignTargets.debtAmountCents})`;
      await tx
        .update(campaignTargets)
        .set(
          outcome === 'fulfilled'
            ? {
                state: sql`case when ${coversDebt} then 'paid' else ${campaignTargets.state} end`,
                paymentStatus: sql`case when ${coversDebt} then 'paid' else 'pending' end`,
                outcome: sql`case when ${coversDebt} then 'paid' else 'promise_kept_partial' end`,
                updatedAt: sql`now()`,
              }
            : { paymentStatus: 'overdue', outcome: 'promise_broken', updatedAt: sql`now()` },
        )
        .where(eq(campaignTargets.id, p.targetId));
    }
    if (p.campaignId)
      await bumpCounters(tx, p.campaignId, outcome === 'fulfilled' ? { promisesFulfilled: 1 } : { promisesBroken: 1 });
    await recordEvents(tx, [
      {
        trace: childSpan(trace),
        type: `promise.${outcome}`,
        tenantId: p.tenantId,
        contactId: p.contactId,
        conversationId: p.conversationId,
        payload: { promiseId: p.id, amountCents: p.amountCents, paidCents },
      },
    ]);
    return true;
  });
}

export interface NewPromise {
  tenantId: string;
  conversationId: string;
  contactId: string;
  aiResultId: string;
  amountCents: number;
  dueDate: string;
  method: PromiseRow['method'];
  channel: Channel;
  sender: string;
  trace: TraceContext;
}

/**
 * Stores the promise of an AI turn once (keyed by the turn's result), linked to the contact's campaign target
 * reached most recently since `targetSince`, with the target's outcome and the campaign's counter in the same
 * transaction. `dueAtIn` turns the due date into an instant in the target's time zone. A retry finds the promise.
 */
export async function registerPromiseOnce(
  db: Database,
  input: NewPromise,
  targetSince: Date,
  dueAtIn: (timeZone: string) => Date,
): Promise<{ promise: PromiseRow; created: boolean; timeZone: string; locale: string }> {
  return db.transaction(async (tx) => {
    const [tenant] = await tx.select({ locale: tenants.locale }).from(tenants).where(eq(tenants.id, input.tenantId));
    const locale = tenant?.locale ?? 'en';
    const [existing] = await tx.select().from(promises).where(eq(promises.aiResultId, input.aiResultId));
    const [target] = await tx
      .select({
        id: campaignTargets.id,
        campaignId: campaignTargets.campaignId,
        timeZone: sql<string>`coalesce(${campaignTargets.timeZone}, ${contacts.timeZone}, ${campaigns.defaultTimeZone})`,
      })
      .from(campaignTargets)
      .innerJoin(campaigns, eq(campaigns.id, campaignTargets.campaignId))
      .innerJoin(contacts, eq(contacts.id, campaignTargets.contactId))
      .where(and(eq(campaignTargets.contactId, input.contactId), gt(campaignTargets.lastAttemptAt, targetSince)))
      .orderBy(desc(campaignTargets.lastAttemptAt))
      .limit(1);
    const zone = target?.timeZone ?? 'UTC';
    if (existing) return { promise: existing, created: false, timeZone: zone, locale };
    const dueAt = dueAtIn(zone);
    const id = crypto.randomUUID();
    const [row] = await tx
      .insert(promises)
      .values({
        id,
        tenantId: input.tenantId,
        campaignId: target?.campaignId ?? null,
        targetId: target?.id ?? null,
        contactId: input.contactId,
        conversationId: input.conversationId,
        aiResultId: input.aiResultId,
        channel: input.channel,
        sender: input.sender,
        amountCents: input.amountCents,
        dueAt,
        method: input.method,
        traceId: input.trace.traceId,
        workflowId: promiseWorkflowId(id),
      })
      .returning();
    if (target) {
      await tx
        .update(campaignTargets)
        .set({
          outcome: 'promise_made',
          paymentStatus: 'pending',
          conversationId: input.conversationId,
          updatedAt: sql`now()`,
        })
        .where(eq(campaignTargets.id, target.id));
      await bumpCounters(tx, target.campaignId, { promisesMade: 1 });
    }
    await recordEvents(tx, [
      {
        trace: childSpan(input.trace),
        type: 'promise.registered',
        tenantId: input.tenantId,
        contactId: input.contactId,
        conversationId: input.conversationId,
        payload: {
          promiseId: id,
          amountCents: input.amountCents,
          dueAt: dueAt.toISOString(),
          method: input.method,
          campaignId: target?.campaignId ?? null,
        },
      },
    ]);
    return { promise: row!, created: true, timeZone: zone, locale };
  });
}

/** The reminder went out: stamped once, with its event. */
export async function recordPromiseReminded(db: Database, p: PromiseRow, trace: TraceContext): Promise<void> {
  await db
    .update(promises)
    .set({ reminderSentAt: sql`coalesce(${promises.reminderSentAt}, now())` })
    .where(eq(promises.id, p.id));
  await recordEvents(db, [
    {
      trace: childSpan(trace),
      type: 'promise.reminded',
      tenantId: p.tenantId,
      contactId: p.contactId,
      payload: { promiseId: p.id },
    },
  ]);
}
