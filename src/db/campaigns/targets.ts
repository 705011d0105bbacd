import { and, eq, inArray, sql } from 'drizzle-orm';
import { counterDeltas, nextTargetState, type TargetEvent, type TargetSnapshot } from '../../domain/campaign-target';
import type { DbOrTx } from '../core/client';
import { campaignCounterDeltas, campaigns, campaignTargets, OPEN_TARGET_STATES } from '../schema';

export type CounterKey =
  | 'contacted'
  | 'successful'
  | 'failed'
  | 'optedOut'
  | 'skipped'
  | 'promisesMade'
  | 'promisesFulfilled'
  | 'promisesBroken';

const COUNTER_COLUMNS = {
  contacted: campaigns.contactedTargets,
  successful: campaigns.successfulContacts,
  failed: campaigns.failedTargets,
  optedOut: campaigns.optedOutTargets,
  skipped: campaigns.skippedTargets,
  promisesMade: campaigns.promisesMade,
  promisesFulfilled: campaigns.promisesFulfilled,
  promisesBroken: campaigns.promisesBroken,
} as const;

const COUNTER_NAMES = {
  contacted: 'contactedTargets',
  successful: 'successfulContacts',
  failed: 'failedTargets',
  optedOut: 'optedOutTargets',
  skipped: 'skippedTargets',
  promisesMade: 'promisesMade',
  promisesFulfilled: 'promisesFulfilled',
  promisesBroken: 'promisesBroken',
} as const;

const TARGET_COUNTERS = ['contacted', 'successful', 'failed', 'optedOut', 'skipped'] as const;

/**
 * Counters move in the transaction that moves the target, so they always agree with the target rows. The per-target
 * ones are appended to `campaign_counter_deltas` (no shared row to wait on) and folded by `foldCounters`; promise
 * counters are rare and go straight to the campaign row.
 */
export async function bumpCounters(
  tx: DbOrTx,
  campaignId: string,
  deltas: Partial<Record<CounterKey, number>>,
): Promise<void> {
  const set: Record<string, unknown> = {};
  const row: Partial<Record<(typeof TARGET_COUNTERS)[number], number>> = {};
  for (const [key, delta] of Object.entries(deltas) as [CounterKey, number][]) {
    if (!delta) continue;
    if ((TARGET_COUNTERS as readonly string[]).includes(key)) row[key as (typeof TARGET_COUNTERS)[number]] = delta;
    else set[COUNTER_NAMES[key]] = sql`${COUNTER_COLUMNS[key]} + ${delta}`;
  }
  if (Object.keys(row).length > 0) await tx.insert(campaignCounterDeltas).values({ campaignId, ...row });
  if (Object.keys(set).length > 0)
    await tx
      .update(campaigns)
      .set({ ...set, updatedAt: sql`now()` })
      .where(eq(campaigns.id, campaignId));
}

/**
 * Moves the campaign's pending counter increments onto its row, in one statement. Concurrent folds cannot count a
 * delta twice: DELETE … RETURNING hands each row to exactly one of them.
 */
export async function foldCounters(tx: DbOrTx, campaignId: string): Promise<void> {
  await tx.execute(sql`
    with d as (delete from ${campaignCounterDeltas} where ${campaignCounterDeltas.campaignId} = ${campaignId}
               returning contacted, successful, failed, opted_out, skipped),
         s as (select count(*) as n, coalesce(sum(contacted), 0) as contacted, coalesce(sum(successful), 0) as successful,
                      coalesce(sum(failed), 0) as failed, coalesce(sum(opted_out), 0) as opted_out, coalesce(sum(skipped), 0) as skipped from d)
    update ${campaigns} set contacted_targets = contacted_targets + s.contacted, successful_contacts = successful_contacts + s.successful,
      failed_targets = failed_targets + s.failed, opted_out_targets = opted_out_targets + s.opted_out, skipped_targets = skipped_targets + s.skipped,
      updated_at = now()
    from s where ${campaigns.id} = ${campaignId} and s.n > 0`);
}

type CampaignRow = typeof campaigns.$inferSelect;

/** Campaign rows with the increments not folded yet added in, for readers (CLI, API) that want current counters. */
export async function withPendingCounters<T extends CampaignRow>(db: DbOrTx, rows: T[]): Promise<T[]> {
  if (rows.length === 0) return rows;
  const pending = await db
    .select({
      campaignId: campaignCounterDeltas.campaignId,
      contacted: sql<number>`sum(${campaignCounterDeltas.contacted})::int`,
      successful: sql<number>`sum(${campaignCounterDeltas.successful})::int`,
      failed: sql<number>`sum(${campaignCounterDeltas.failed})::int`,
      optedOut: sql<number>`sum(${campaignCounterDeltas.optedOut})::int`,
      skipped: sql<number>`sum(${campaignCounterDeltas.skipped})::int`,
    })
    .from(campaignCounterDeltas)
    .where(
      inArray(
        campaignCounterDeltas.campaignId,
        rows.map((r) => r.id),
      ),
    )
    .groupBy(campaignCounterDeltas.campaignId);
  const byCampaign = new Map(pending.map((p) => [p.campaignId, p]));
  return rows.map((r) => {
    const p = byCampaign.get(r.id);
    return p
      ? {
          ...r,
          contactedTargets: r.contactedTargets + p.contacted,
          successfulContacts: r.successfulContacts + p.successful,
          failedTargets: r.failedTargets + p.failed,
          optedOutTargets: r.optedOutTargets + p.optedOut,
          skippedTargets: r.skippedTargets + p.skipped,
        }
      : r;
  });
}

export interface TargetEventResult {
  campaignId: string;
  state: string;
  /** The target was given a later attempt: the campaign workflow should recompute its next wake-up. */
  rescheduled: boolean;
}

/** Applies one event of the per-target flow (domain/campaign-target.ts) under a row lock, with its counters. */
export async function applyTargetEvent(
  tx: DbOrTx,
  targetId: string,
  event: TargetEvent,
  now = new Date(),
): Promise<TargetEventResult | null> {
  const [row] = await tx
    .select({
      campaignId: campaignTargets.campaignId,
      state: campaignTargets.state,
      attemptCount: campaignTargets.attemptCount,
      lastAttemptAt: campaignTargets.lastAttemptAt,
      contactedAt: campaignTargets.contactedAt,
      succeededAt: campaignTargets.succeededAt,
      repliedAt: campaignTargets.repliedAt,
      outcome: campaignTargets.outcome,
      maxAttempts: campaigns.maxAttempts,
      spacing: campaigns.attemptSpacingSeconds,
      retryOnNoReply: campaigns.retryOnNoReply,
    })
    .from(campaignTargets)
    .innerJoin(campaigns, eq(campaigns.id, campaignTargets.campaignId))
    .where(eq(campaignTargets.id, targetId))
    .for('update', { of: campaignTargets });
  if (!row) return null;
  const before: TargetSnapshot = row;
  const patch = nextTargetState(
    before,
    { maxAttempts: row.maxAttempts, attemptSpacingMs: row.spacing * 1000, retryOnNoReply: row.retryOnNoReply },
    event,
    now,
  );
  if (!patch) return null;
  const update = tx
    .update(campaignTargets)
    .set({ ...patch, ...(patch.lastStatus ? { lastStatusAt: now } : {}), updatedAt: now })
    .where(eq(campaignTargets.id, targetId));
  const d = counterDeltas(before, { ...before, ...patch });
  if (Object.values(d).some(Boolean))
    // The target's move and its counter increments in one statement (a round trip less per callback).
    await tx.execute(sql`
      with u as (${update.returning({ campaignId: campaignTargets.campaignId }).getSQL()})
      insert into ${campaignCounterDeltas} (campaign_id, contacted, successful, failed, opted_out, skipped)
      select campaign_id, ${d.contacted ?? 0}::int, ${d.successful ?? 0}::int, ${d.failed ?? 0}::int,
             ${d.optedOut ?? 0}::int, ${d.skipped ?? 0}::int from u`);
  else await update;
  return { campaignId: row.campaignId, state: patch.state ?? row.state, rescheduled: patch.state === 'scheduled' };
}

/** Whether any target of the campaign is still to be sent or waiting for its delivery status. */
export async function hasOpenTargets(tx: DbOrTx, campaignId: string): Promise<boolean> {
  const [row] = await tx
    .select({ id: campaignTargets.id })
    .from(campaignTargets)
    .where(and(eq(campaignTargets.campaignId, campaignId), inArray(campaignTargets.state, [...OPEN_TARGET_STATES])))
    .limit(1);
  return row !== undefined;
}

/**
 * I12: every open target of the contact, in every campaign, stops: nothing more is sent to it. Returns the
 * campaigns touched so their workflows can be told.
 */
export async function optOutOpenTargets(tx: DbOrTx, contactId: string): Promise<string[]> {
  const rows = await tx
    .update(campaignTargets)
    .set({ state: 'opted_out', outcome: 'opted_out', completedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(campaignTargets.contactId, contactId), inArray(campaignTargets.state, [...OPEN_TARGET_STATES])))
    .returning({ campaignId: campaignTargets.campaignId });
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.campaignId, (counts.get(r.campaignId) ?? 0) + 1);
  for (const [campaignId, n] of counts) await bumpCounters(tx, campaignId, { optedOut: n });
  return [...counts.keys()];
}

/** The target's latest message is this one (a resend's, accepted). */
export async function setTargetLastMessage(tx: DbOrTx, targetId: string, messageId: string): Promise<void> {
  await tx
    .update(campaignTargets)
    .set({ lastMessageId: messageId, updatedAt: sql`now()` })
    .where(eq(campaignTargets.id, targetId));
}
