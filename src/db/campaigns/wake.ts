import { and, asc, eq, inArray, min, sql } from 'drizzle-orm';
import { wakeReason } from '../../domain/wake-reason';
import type { DbOrTx } from '../core/client';
import { campaignTargets, sendDecisions } from '../schema';

/**
 * Issue 21 F: why the campaign's next wake-up is when it is (src/domain/wake-reason.ts). Two indexed reads, made
 * only when a claim found nothing due (the campaign is about to sleep), never on the sending path. The hold is
 * the policy's decision on the target's next attempt: its send_decisions row is keyed like the send,
 * `campaign:<target>:<attempt>`.
 */
export async function campaignWakeReason(
  db: DbOrTx,
  campaignId: string,
  deliveryTimeoutMs: number,
): Promise<string | null> {
  const [earliest] = await db
    .select({
      outcome: campaignTargets.outcome,
      nextAttemptAt: campaignTargets.nextAttemptAt,
      decision: sendDecisions.decision,
      holdUntil: sendDecisions.holdUntil,
      reason: sendDecisions.reason,
    })
    .from(campaignTargets)
    .leftJoin(
      sendDecisions,
      eq(
        sendDecisions.idempotencyKey,
        sql`'campaign:' || ${campaignTargets.id} || ':' || (${campaignTargets.attemptCount} + 1)`,
      ),
    )
    .where(and(eq(campaignTargets.campaignId, campaignId), inArray(campaignTargets.state, ['pending', 'scheduled'])))
    .orderBy(asc(campaignTargets.nextAttemptAt))
    .limit(1);
  const [sending] = await db
    .select({ since: min(campaignTargets.lastAttemptAt) })
    .from(campaignTargets)
    .where(and(eq(campaignTargets.campaignId, campaignId), eq(campaignTargets.state, 'sending')));
  return wakeReason(
    earliest
      ? {
          outcome: earliest.outcome,
          nextAttemptAt: earliest.nextAttemptAt.getTime(),
          hold:
            earliest.decision === 'hold' && earliest.holdUntil
              ? { until: earliest.holdUntil.getTime(), reason: earliest.reason }
              : null,
        }
      : null,
    sending?.since ? sending.since.getTime() + deliveryTimeoutMs : null,
  );
}
