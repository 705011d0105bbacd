import { and, eq, inArray, sql } from 'drizzle-orm';
import { counterDeltas, nextTargetState, type TargetEvent, type TargetSnapshot } from '../domain/campaign-target';
import type { DbOrTx } from './client';
import { campaigns, campaignTargets, OPEN_TARGET_STATES } from './schema';

export type CounterKey = 'contacted' | 'successful' | 'failed' | 'optedOut' | 'skipped' | 'promisesMade' | 'promisesFulfilled' | 'promisesBroken';

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
  contacted: 'contactedTargets', successful: 'successfulContacts', failed: 'failedTargets', optedOut: 'optedOutTargets',
  skipped: 'skippedTargets', promisesMade: 'promisesMade', promisesFulfilled: 'promisesFulfilled', promisesBroken: 'promisesBroken',
} as const;

/** Counters move in the transaction that moves the target, so they always agree with the target rows. */
export async function bumpCounters(tx: DbOrTx, campaignId: string, deltas: Partial<Record<CounterKey, number>>): Promise<void> {
  const set: Record<string, unknown> = {};
  for (const [key, delta] of Object.entries(deltas) as [CounterKey, number][]) {
    if (delta) set[COUNTER_NAMES[key]] = sql`${COUNTER_COLUMNS[key]} + ${delta}`;
  }
  if (Object.keys(set).length === 0) return;
  await tx.update(campaigns).set({ ...set, updatedAt: sql`now()` }).where(eq(campaigns.id, campaignId));
}

export interface TargetEventResult {
  campaignId: string;
  state: string;
  /** The target was given a later attempt: the campaign workflow should recompute its next wake-up. */
  rescheduled: boolean;
}

/** Applies one event of the per-target flow (domain/campaign-target.ts) under a row lock, with its counters. */
export async function applyTargetEvent(tx: DbOrTx, targetId: string, event: TargetEvent, now = new Date()): Promise<TargetEventResult | null> {
  const [row] = await tx.select({
    campaignId: campaignTargets.campaignId, state: campaignTargets.state, attemptCount: campaignTargets.attemptCount,
    lastAttemptAt: campaignTargets.lastAttemptAt, contactedAt: campaignTargets.contactedAt, succeededAt: campaignTargets.succeededAt,
    repliedAt: campaignTargets.repliedAt, outcome: campaignTargets.outcome,
    maxAttempts: campaigns.maxAttempts, spacing: campaigns.attemptSpacingSeconds, retryOnNoReply: campaigns.retryOnNoReply,
  }).from(campaignTargets).innerJoin(campaigns, eq(campaigns.id, campaignTargets.campaignId))
    .where(eq(campaignTargets.id, targetId)).for('update', { of: campaignTargets });
  if (!row) return null;
  const before: TargetSnapshot = row;
  const patch = nextTargetState(before, { maxAttempts: row.maxAttempts, attemptSpacingMs: row.spacing * 1000, retryOnNoReply: row.retryOnNoReply }, event, now);
  if (!patch) return null;
  await tx.update(campaignTargets).set({ ...patch, ...(patch.lastStatus ? { lastStatusAt: now } : {}), updatedAt: now }).where(eq(campaignTargets.id, targetId));
  await bumpCounters(tx, row.campaignId, counterDeltas(before, { ...before, ...patch }));
  return { campaignId: row.campaignId, state: patch.state ?? row.state, rescheduled: patch.state === 'scheduled' };
}

/** Whether any target of the campaign is still to be sent or waiting for its delivery status. */
export async function hasOpenTargets(tx: DbOrTx, campaignId: string): Promise<boolean> {
  const [row] = await tx.select({ id: campaignTargets.id }).from(campaignTargets)
    .where(and(eq(campaignTargets.campaignId, campaignId), inArray(campaignTargets.state, [...OPEN_TARGET_STATES]))).limit(1);
  return row !== undefined;
}

/**
 * I12: every open target of the contact, in every campaign, stops: nothing more is sent to it. Returns the
 * campaigns touched so their workflows can be told.
 */
export async function optOutOpenTargets(tx: DbOrTx, contactId: string): Promise<string[]> {
  const rows = await tx.update(campaignTargets)
    .set({ state: 'opted_out', outcome: 'opted_out', completedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(campaignTargets.contactId, contactId), inArray(campaignTargets.state, [...OPEN_TARGET_STATES])))
    .returning({ campaignId: campaignTargets.campaignId });
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.campaignId, (counts.get(r.campaignId) ?? 0) + 1);
  for (const [campaignId, n] of counts) await bumpCounters(tx, campaignId, { optedOut: n });
  return [...counts.keys()];
}
