import { openSecret } from '../../secrets/keyring';
import type { IdentityCheck } from '../../contract/statuses';
import { and, eq, inArray, lte, sql } from 'drizzle-orm';
import type { CampaignCounters, CampaignStatus, ClaimedTarget, TraceContext } from '../../contract';
import { isOpen, nextOpening, parseActiveHours, type ActiveHours } from '../../domain/active-hours';
import { childSpan } from '../../domain/trace';
import { applyTargetEvent, bumpCounters, foldCounters } from './targets';
import type { Database, DbOrTx } from '../core/client';
import { recordEvents } from '../events/events';
import {
  campaigns,
  campaignTargets,
  contacts,
  failureNotifications,
  massiveFailures,
  messages,
  outbox,
  tenants,
} from '../schema';

/**
 * The campaign dispatcher's queries (C2, C6): claiming due targets, the per-send bookkeeping that commits with the
 * outbox row, releasing claims, and the campaign's status. src/activities/campaign.ts is a thin adapter over these.
 */

export type CampaignRow = typeof campaigns.$inferSelect;

export interface DispatchCampaign {
  campaign: CampaignRow;
  tenantSlug: string;
  hashKey: string;
  locale: string;
  /** Issue 23 E: the tenant's identity check; a collection campaign's first message carries no debt unless off. */
  identityCheck: IdentityCheck;
}

/** What a send needs of a target: its contact's address and the template's variables. */
export interface TargetForSend {
  id: string;
  contactId: string;
  phone: string;
  timeZone: string;
  name: string | null;
  debtAmountCents: number | null;
  dueDate: string | null;
  document: string | null;
  variables: Record<string, string>;
}

const OPEN = ['pending', 'scheduled', 'sending'] as const;

/** The campaign with what its sends need of the tenant, or undefined. */
export async function loadCampaignForDispatch(tx: DbOrTx, campaignId: string): Promise<DispatchCampaign | undefined> {
  const [row] = await tx
    .select({
      campaign: campaigns,
      tenantSlug: tenants.slug,
      hashKey: tenants.hashKey,
      locale: tenants.locale,
      identityCheck: tenants.identityCheck,
    })
    .from(campaigns)
    .innerJoin(tenants, eq(tenants.id, campaigns.tenantId))
    .where(eq(campaigns.id, campaignId));
  return row && { ...row, hashKey: openSecret(row.hashKey) };
}

export function countersOf(c: CampaignRow, open: number): CampaignCounters {
  return {
    total: c.totalTargets,
    contacted: c.contactedTargets,
    successful: c.successfulContacts,
    failed: c.failedTargets,
    optedOut: c.optedOutTargets,
    skipped: c.skippedTargets,
    promisesMade: c.promisesMade,
    promisesFulfilled: c.promisesFulfilled,
    promisesBroken: c.promisesBroken,
    open,
  };
}

/** Targets still to be sent or waiting for their delivery status. */
export async function countOpenTargets(tx: DbOrTx, campaignId: string): Promise<number> {
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(campaignTargets)
    .where(and(eq(campaignTargets.campaignId, campaignId), inArray(campaignTargets.state, [...OPEN])));
  return row?.n ?? 0;
}

/** Sends whose final status never came (a carrier that reports nothing) count as sent after a while. */
export async function closeUnconfirmedSends(
  tx: DbOrTx,
  campaignId: string,
  sentBefore: Date,
  limit: number,
  now: Date,
): Promise<void> {
  const stale = await tx
    .select({ id: campaignTargets.id })
    .from(campaignTargets)
    .where(
      and(
        eq(campaignTargets.campaignId, campaignId),
        eq(campaignTargets.state, 'sending'),
        lte(campaignTargets.lastAttemptAt, sentBefore),
      ),
    )
    .limit(limit);
  for (const t of stale) await applyTargetEvent(tx, t.id, { kind: 'unconfirmed' }, now);
}

/** A target that will not be sent: skipped with its reason, counted. */
export async function skipTarget(tx: DbOrTx, targetId: string, campaignId: string, outcome: string): Promise<void> {
  await tx
    .update(campaignTargets)
    .set({ state: 'skipped', outcome, completedAt: sql`now()`, updatedAt: sql`now()` })
    .where(eq(campaignTargets.id, targetId));
  await bumpCounters(tx, campaignId, { skipped: 1 });
}

/** Reschedules a target to its next active-hours window (or skips it when the hours never open). */
export async function deferTargetToWindow(
  tx: DbOrTx,
  campaignId: string,
  targetId: string,
  opening: Date | null,
): Promise<void> {
  if (!opening) return skipTarget(tx, targetId, campaignId, 'no_active_hours');
  await tx
    .update(campaignTargets)
    .set({ state: 'scheduled', nextAttemptAt: opening, outcome: 'waiting_active_hours', updatedAt: sql`now()` })
    .where(eq(campaignTargets.id, targetId));
}

/** Reschedules a target to `at` for a reason of the contact's (63049 backoff). */
async function deferTargetTo(tx: DbOrTx, targetId: string, at: Date, outcome: string): Promise<void> {
  await tx
    .update(campaignTargets)
    .set({ state: 'scheduled', nextAttemptAt: at, outcome, updatedAt: sql`now()` })
    .where(eq(campaignTargets.id, targetId));
}

/** deferTargetToWindow in a transaction of its own (a send batch's target whose window closed before its slot). */
export async function deferSendToWindow(
  db: Database,
  campaignId: string,
  targetId: string,
  opening: Date | null,
): Promise<void> {
  await db.transaction((tx) => deferTargetToWindow(tx, campaignId, targetId, opening));
}

/**
 * The next due targets in strategy order, locked (SKIP LOCKED: two claims never take the same target), at most
 * `size` of them, scanning at most `maxPages` pages: opted-out contacts are stopped and targets outside their
 * active hours are moved to their next window on the way. Returns the sendable ones with their attempt number.
 */
export async function selectDueTargets(
  tx: DbOrTx,
  campaign: CampaignRow,
  hours: ActiveHours,
  now: Date,
  size: number,
  maxPages: number,
): Promise<{ id: string; attempt: number }[]> {
  const claimed: { id: string; attempt: number }[] = [];
  for (let page = 0; page < maxPages && claimed.length < size; page++) {
    const due = await tx
      .select({
        id: campaignTargets.id,
        attemptCount: campaignTargets.attemptCount,
        optedOutAt: contacts.optedOutAt,
        invalidChannel: contacts.invalidChannel,
        backoffUntil: contacts.backoffUntil,
        timeZone: sql<string>`coalesce(${campaignTargets.timeZone}, ${contacts.timeZone}, ${campaign.defaultTimeZone})`,
      })
      .from(campaignTargets)
      .innerJoin(contacts, eq(contacts.id, campaignTargets.contactId))
      .where(
        and(
          eq(campaignTargets.campaignId, campaign.id),
          inArray(campaignTargets.state, ['pending', 'scheduled']),
          lte(campaignTargets.nextAttemptAt, now),
        ),
      )
      .orderBy(campaignTargets.orderKey)
      .limit(size - claimed.length)
      .for('update', { of: campaignTargets, skipLocked: true });
    const optedOut: string[] = [];
    for (const t of due) {
      if (t.optedOutAt) optedOut.push(t.id);
      // Issue 22 B: Twilio said the address cannot receive on this channel (63024…): not sent again.
      else if (t.invalidChannel === campaign.channel) await skipTarget(tx, t.id, campaign.id, 'contact_invalid');
      // 63049: Meta declined a marketing message to this contact; nothing goes before its backoff ends.
      else if (t.backoffUntil && t.backoffUntil > now) await deferTargetTo(tx, t.id, t.backoffUntil, 'contact_backoff');
      else if (!isOpen(hours, t.timeZone, now))
        await deferTargetToWindow(tx, campaign.id, t.id, nextOpening(hours, t.timeZone, now));
      else claimed.push({ id: t.id, attempt: t.attemptCount + 1 });
    }
    if (optedOut.length > 0) {
      await tx
        .update(campaignTargets)
        .set({ state: 'opted_out', outcome: 'opted_out', completedAt: now, updatedAt: now })
        .where(inArray(campaignTargets.id, optedOut));
      await bumpCounters(tx, campaign.id, { optedOut: optedOut.length });
    }
    if (due.length < size - claimed.length) break;
  }
  return claimed;
}

export type ClaimedPage =
  | { phase: 'waiting_start'; row: DispatchCampaign; wakeAt: number }
  | { phase: 'ended'; row: DispatchCampaign }
  | { phase: 'run'; row: DispatchCampaign; claimed: { id: string; attempt: number }[]; leaseUntil: number };

/**
 * The dispatcher's page in one short transaction: overdue sends are closed as unconfirmed, then (unless the
 * campaign has not started or has ended) the next due targets are selected and leased until `leaseUntil(count,
 * rate)`. Their send slots are asked of the pacer after the commit, by the caller. Undefined: no such campaign.
 */
export async function claimDueTargets(
  db: Database,
  input: {
    campaignId: string;
    now: Date;
    deliveryTimeoutMs: number;
    maxUnconfirmed: number;
    batchSize: (ratePerSecond: number) => number;
    maxPages: number;
    leaseUntil: (count: number, ratePerSecond: number) => number;
  },
): Promise<ClaimedPage | undefined> {
  const { now } = input;
  return db.transaction(async (tx) => {
    const row = await loadCampaignForDispatch(tx, input.campaignId);
    if (!row) return undefined;
    const c = row.campaign;
    await closeUnconfirmedSends(tx, c.id, new Date(now.getTime() - input.deliveryTimeoutMs), input.maxUnconfirmed, now);
    if (c.startAt && c.startAt > now) return { row, phase: 'waiting_start' as const, wakeAt: c.startAt.getTime() };
    if (c.endAt && c.endAt <= now) return { row, phase: 'ended' as const };
    const claimed = await selectDueTargets(
      tx,
      c,
      parseActiveHours(c.activeHours),
      now,
      input.batchSize(c.ratePerSecond),
      input.maxPages,
    );
    const leaseUntil = input.leaseUntil(claimed.length, c.ratePerSecond);
    await leaseClaimedTargets(
      tx,
      claimed.map((t) => t.id),
      new Date(leaseUntil),
      now,
    );
    return { row, phase: 'run' as const, claimed, leaseUntil };
  });
}

/** Claimed targets are leased until `leaseUntil` (a later page does not take them again), queued for their slot. */
export async function leaseClaimedTargets(tx: DbOrTx, targetIds: string[], leaseUntil: Date, now: Date) {
  if (targetIds.length === 0) return;
  await tx
    .update(campaignTargets)
    .set({ state: 'scheduled', nextAttemptAt: leaseUntil, outcome: 'queued', updatedAt: now })
    .where(inArray(campaignTargets.id, targetIds));
}

/** The pacer's slots for claimed targets end later than their lease: the lease runs from the last slot. */
export async function extendClaimLease(db: DbOrTx, targetIds: string[], leaseUntil: Date): Promise<void> {
  if (targetIds.length === 0) return;
  await db
    .update(campaignTargets)
    .set({ nextAttemptAt: leaseUntil })
    .where(
      and(
        inArray(campaignTargets.id, targetIds),
        eq(campaignTargets.state, 'scheduled'),
        eq(campaignTargets.outcome, 'queued'),
      ),
    );
}

/**
 * The campaign's counters (pending increments folded first), its open targets, and when it should wake up next
 * with nothing due: the earliest due target, or the earliest send whose delivery status is overdue.
 */
export async function campaignOutlook(
  tx: DbOrTx,
  campaignId: string,
  deliveryTimeoutMs: number,
): Promise<{ counters: CampaignCounters; nextWakeAt: number | null } | undefined> {
  await foldCounters(tx, campaignId);
  // Raw subqueries on a parameter: in a single-table select drizzle leaves the select list's columns unqualified.
  const open = sql`t.campaign_id = ${campaignId} and t.state in ('pending', 'scheduled', 'sending')`;
  const [row] = await tx
    .select({
      campaign: campaigns,
      open: sql<number>`(select count(*)::int from campaign_targets t where ${open})`,
      due: sql<string | null>`(select min(t.next_attempt_at) from campaign_targets t where ${open})`,
      sending: sql<
        string | null
      >`(select min(t.last_attempt_at) from campaign_targets t where t.campaign_id = ${campaignId} and t.state = 'sending')`,
    })
    .from(campaigns)
    .where(eq(campaigns.id, campaignId));
  if (!row) return undefined;
  const dueAt = row.due ? new Date(row.due).getTime() : null;
  const sendingAt = row.sending ? new Date(row.sending).getTime() + deliveryTimeoutMs : null;
  const candidates = [dueAt, sendingAt].filter((v): v is number => v !== null);
  return {
    counters: countersOf(row.campaign, row.open),
    nextWakeAt: candidates.length ? Math.min(...candidates) : null,
  };
}

/** Claimed-and-queued targets that no batch will send (a pause or cancel): due again at once. */
export async function releaseCampaignClaims(db: DbOrTx, targetIds: string[]): Promise<void> {
  if (targetIds.length === 0) return;
  await db
    .update(campaignTargets)
    .set({ nextAttemptAt: sql`now()`, outcome: null, updatedAt: sql`now()` })
    .where(
      and(
        inArray(campaignTargets.id, targetIds),
        eq(campaignTargets.state, 'scheduled'),
        eq(campaignTargets.outcome, 'queued'),
      ),
    );
}

/** The targets of a send batch with their contact, keyed by target id (one query for the batch). */
export async function loadTargetsForSend(
  db: DbOrTx,
  campaign: CampaignRow,
  targetIds: string[],
): Promise<Map<string, TargetForSend>> {
  if (targetIds.length === 0) return new Map();
  const rows = await db
    .select({
      id: campaignTargets.id,
      contactId: campaignTargets.contactId,
      phone: contacts.phone,
      timeZone: sql<string>`coalesce(${campaignTargets.timeZone}, ${contacts.timeZone}, ${campaign.defaultTimeZone})`,
      name: sql<string | null>`coalesce(${campaignTargets.name}, ${contacts.name})`,
      debtAmountCents: campaignTargets.debtAmountCents,
      dueDate: campaignTargets.dueDate,
      document: campaignTargets.document,
      variables: campaignTargets.variables,
    })
    .from(campaignTargets)
    .innerJoin(contacts, eq(contacts.id, campaignTargets.contactId))
    .where(inArray(campaignTargets.id, targetIds));
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * In the transaction that writes the send's outbox row: the target becomes `sending` for this attempt, if it is
 * still this attempt's, its contact not opted out and its campaign active (I12, pause). False when it is not.
 */
export async function markTargetSending(tx: DbOrTx, claimed: ClaimedTarget, messageId: string): Promise<boolean> {
  const [ok] = await tx
    .update(campaignTargets)
    .set({
      state: 'sending',
      attemptCount: claimed.attempt,
      lastAttemptAt: sql`now()`,
      lastMessageId: messageId,
      outcome: null,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(campaignTargets.id, claimed.targetId),
        eq(campaignTargets.state, 'scheduled'),
        eq(campaignTargets.attemptCount, claimed.attempt - 1),
        sql`not exists (select 1 from ${contacts} where ${contacts.id} = ${campaignTargets.contactId} and ${contacts.optedOutAt} is not null)`,
        sql`exists (select 1 from ${campaigns} where ${campaigns.id} = ${campaignTargets.campaignId} and ${campaigns.status} = 'active')`,
      ),
    )
    .returning({ id: campaignTargets.id });
  return ok !== undefined;
}

/**
 * Whether the outage is still active, under FOR SHARE: orders a notice's claim against `resolveOutage`, which
 * draws the resolution's contacts after marking the outage resolved (src/db/outages.ts).
 */
export async function outageStillActive(tx: DbOrTx, failureId: string): Promise<boolean> {
  const [failure] = await tx
    .select({ status: massiveFailures.status })
    .from(massiveFailures)
    .where(eq(massiveFailures.id, failureId))
    .for('share');
  return failure?.status === 'active';
}

/** C5: the first notification of its kind for this contact and outage; false when one exists already. */
export async function recordOutageNotification(
  tx: DbOrTx,
  input: {
    failureId: string;
    contactId: string;
    type: 'failure' | 'resolution';
    targetId: string;
    messageId: string;
  },
): Promise<boolean> {
  const [first] = await tx
    .insert(failureNotifications)
    .values({
      failureId: input.failureId,
      contactId: input.contactId,
      notificationType: input.type,
      targetId: input.targetId,
      messageId: input.messageId,
    })
    .onConflictDoNothing()
    .returning({ id: failureNotifications.id });
  return first !== undefined;
}

/** The target's notification went out (Twilio accepted it). */
export async function markOutageNotificationSent(tx: DbOrTx, targetId: string): Promise<void> {
  await tx
    .update(failureNotifications)
    .set({ sentAt: sql`now()` })
    .where(eq(failureNotifications.targetId, targetId));
}

/**
 * A send stopped before its Twilio call: its claim and outbox row were written but Twilio was never called.
 * Nothing of the attempt may remain, or its idempotency key would be spent and the target left in `sending`:
 * the outbox and message rows go and the target is back to claimed-and-queued for the same attempt (or due at
 * once with `release`). A row that got a Twilio answer, or never existed, is left alone.
 */
export async function abandonSendAttempt(db: Database, claimed: ClaimedTarget, release: boolean): Promise<void> {
  await db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(outbox)
      .where(eq(outbox.idempotencyKey, `campaign:${claimed.targetId}:${claimed.attempt}`))
      .for('update');
    if (!row || row.providerSid || (row.status !== 'pending' && row.status !== 'sending')) return;
    const [previous] = await tx
      .select({ id: messages.id, createdAt: messages.createdAt })
      .from(messages)
      .where(and(eq(messages.campaignTargetId, claimed.targetId), sql`${messages.id} <> ${row.messageId}`))
      .orderBy(sql`${messages.createdAt} desc`)
      .limit(1);
    await tx
      .delete(failureNotifications)
      .where(
        and(eq(failureNotifications.targetId, claimed.targetId), eq(failureNotifications.messageId, row.messageId)),
      );
    await tx.delete(outbox).where(eq(outbox.id, row.id));
    await tx.delete(messages).where(eq(messages.id, row.messageId));
    await tx
      .update(campaignTargets)
      .set({
        state: 'scheduled',
        attemptCount: claimed.attempt - 1,
        outcome: release ? null : 'queued',
        ...(release ? { nextAttemptAt: sql`now()` } : {}),
        lastMessageId: previous?.id ?? null,
        lastAttemptAt: previous?.createdAt ?? null,
        updatedAt: sql`now()`,
      })
      .where(
        and(
          eq(campaignTargets.id, claimed.targetId),
          eq(campaignTargets.state, 'sending'),
          eq(campaignTargets.lastMessageId, row.messageId),
        ),
      );
  });
}

/** The retries of a send ran out: the attempt counts as failed (retried after the spacing, or the target fails). */
export async function recordSendGivenUp(db: Database, target: ClaimedTarget): Promise<void> {
  await db.transaction(async (tx) => {
    const [t] = await tx
      .select({ state: campaignTargets.state })
      .from(campaignTargets)
      .where(eq(campaignTargets.id, target.targetId));
    if (t?.state === 'scheduled') {
      // Never reached Twilio's acceptance: treat as an attempt that failed.
      await tx
        .update(campaignTargets)
        .set({ state: 'sending', attemptCount: target.attempt, lastAttemptAt: sql`now()` })
        .where(eq(campaignTargets.id, target.targetId));
    }
    await applyTargetEvent(tx, target.targetId, { kind: 'status', status: 'failed' });
  });
}

/**
 * The campaign's status as its workflow decided it, with the event in its trace. Cancelled or ended by its end
 * date: every target not sent yet is skipped. False when the campaign does not exist.
 */
export async function recordCampaignStatus(
  db: Database,
  input: {
    campaignId: string;
    trace: TraceContext;
    status: CampaignStatus;
    event: string;
    actor: string;
    reason?: string;
  },
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [c] = await tx
      .select({ tenantId: campaigns.tenantId, startedAt: campaigns.startedAt })
      .from(campaigns)
      .where(eq(campaigns.id, input.campaignId));
    if (!c) return false;
    const terminal = input.status === 'completed' || input.status === 'cancelled';
    const skipReason =
      input.status === 'cancelled' ? 'campaign_cancelled' : input.reason === 'end_date' ? 'campaign_ended' : null;
    if (skipReason) {
      const skipped = await tx
        .update(campaignTargets)
        .set({ state: 'skipped', outcome: skipReason, completedAt: sql`now()`, updatedAt: sql`now()` })
        .where(
          and(
            eq(campaignTargets.campaignId, input.campaignId),
            inArray(campaignTargets.state, ['pending', 'scheduled']),
          ),
        )
        .returning({ id: campaignTargets.id });
      await bumpCounters(tx, input.campaignId, { skipped: skipped.length });
    }
    await foldCounters(tx, input.campaignId);
    await tx
      .update(campaigns)
      .set({
        status: input.status,
        updatedAt: sql`now()`,
        ...(input.status === 'active' && !c.startedAt ? { startedAt: sql`now()` } : {}),
        ...(terminal ? { completedAt: sql`now()` } : {}),
      })
      .where(eq(campaigns.id, input.campaignId));
    await recordEvents(tx, [
      {
        trace: childSpan(input.trace),
        type: `campaign.${input.event}`,
        tenantId: c.tenantId,
        payload: {
          campaignId: input.campaignId,
          actor: input.actor,
          ...(input.reason ? { reason: input.reason } : {}),
        },
      },
    ]);
    return true;
  });
}
