import { raiseAlerts } from '../events/alerts';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { InboundInput } from '../../contract';
import type { Database } from '../core/client';
import { inboundInbox, redeliveryInbox } from '../schema';
import type { DbOrTx } from '../core/client';
import type { Redelivery } from '../../contract';
import { isTemporalUnavailable } from '../../domain/temporal-errors';

/**
 * Stores a verified message Temporal did not take (I4: an acknowledged message must get through). Idempotent by
 * MessageSid: Twilio's retry of the same webhook, or a copy from reconciliation, keeps the first row.
 */
export async function parkInbound(
  db: Database,
  taskQueue: string,
  input: InboundInput,
): Promise<'parked' | 'already_parked'> {
  const rows = await db
    .insert(inboundInbox)
    .values({ messageSid: input.messageSid, tenantId: input.tenantId, taskQueue, input })
    .onConflictDoNothing({ target: inboundInbox.messageSid })
    .returning({ id: inboundInbox.id });
  return rows.length > 0 ? 'parked' : 'already_parked';
}

export type HandOver = (input: InboundInput) => Promise<'started' | 'duplicate'>;

export interface DrainResult {
  /** Rows handed over to Temporal in this run (started now, or already started: a duplicate). */
  drained: number;
  started: number;
  duplicates: number;
  /** Rows Temporal refused this time: they stay pending, with attempts and last_error updated. */
  failed: number;
  /** The batch stopped because Temporal is unavailable: try again after a pause. */
  unavailable: boolean;
  /** The batch was full: more rows may be pending. */
  more: boolean;
}

const MAX_ERROR_CHARS = 500;

/**
 * Hands pending rows of `taskQueue`, oldest first, to Temporal (`handOver` is startInboundWorkflow). Each batch
 * runs in one transaction holding its rows with FOR UPDATE SKIP LOCKED: drains in several processes (the API's
 * retry loop, each worker's start, the schedule) never hand over the same row twice at once, and never wait on
 * each other. Temporal being unavailable ends the batch (the remaining rows would fail alike); a row refused for
 * another reason keeps its attempts and error and the batch moves on, so one bad row never blocks the rest.
 */
/** Refusals (with Temporal up) after which a supervisor is told about the row; it stays pending and is retried. */
export const REFUSED_ALERT_AFTER = 5;

export async function drainInbox(
  db: Database,
  taskQueue: string,
  handOver: HandOver,
  options: { batchSize?: number } = {},
): Promise<DrainResult> {
  const batchSize = options.batchSize ?? 100;
  return db.transaction(async (tx) => {
    const rows = await tx
      .select({ id: inboundInbox.id, input: inboundInbox.input })
      .from(inboundInbox)
      .where(and(eq(inboundInbox.state, 'pending'), eq(inboundInbox.taskQueue, taskQueue)))
      .orderBy(asc(inboundInbox.createdAt), asc(inboundInbox.id))
      .limit(batchSize)
      .for('update', { skipLocked: true });
    const result: DrainResult = {
      drained: 0,
      started: 0,
      duplicates: 0,
      failed: 0,
      unavailable: false,
      more: rows.length === batchSize,
    };
    for (const row of rows) {
      let outcome: 'started' | 'duplicate';
      try {
        outcome = await handOver(row.input as InboundInput);
      } catch (error) {
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        const [updated] = await tx
          .update(inboundInbox)
          .set({
            attempts: sql`${inboundInbox.attempts} + 1`,
            lastAttemptAt: sql`now()`,
            lastError: message.slice(0, MAX_ERROR_CHARS),
          })
          .where(eq(inboundInbox.id, row.id))
          .returning({
            attempts: inboundInbox.attempts,
            messageSid: inboundInbox.messageSid,
            tenantId: inboundInbox.tenantId,
          });
        result.failed++;
        if (isTemporalUnavailable(error)) {
          result.unavailable = true;
          return result;
        }
        // Temporal is up and keeps refusing this one message: an acknowledged message must not wait unseen.
        if (updated && updated.attempts === REFUSED_ALERT_AFTER) {
          await raiseAlerts(tx, [
            {
              tenantId: updated.tenantId,
              type: 'inbound_failed',
              severity: 'high',
              message: `An acknowledged message (${updated.messageSid}) waits in the inbox: Temporal refused it ${REFUSED_ALERT_AFTER} times (${error instanceof Error ? error.name : 'error'})`,
              payload: { messageSid: updated.messageSid, stage: 'inbox', attempts: updated.attempts },
            },
          ]);
        }
        continue;
      }
      await tx
        .update(inboundInbox)
        .set({
          state: 'drained',
          attempts: sql`${inboundInbox.attempts} + 1`,
          lastAttemptAt: sql`now()`,
          drainedAt: sql`now()`,
          lastError: null,
        })
        .where(eq(inboundInbox.id, row.id));
      result.drained++;
      if (outcome === 'started') result.started++;
      else result.duplicates++;
    }
    return result;
  });
}

export interface InboxDepth {
  pending: number;
  /** Age of the oldest pending row in ms, null when none is pending. For metrics and alerting. */
  oldestPendingAgeMs: number | null;
}

/** Inbox depth over all task queues (or one). */
export async function inboxDepth(db: Database, taskQueue?: string): Promise<InboxDepth> {
  const where =
    taskQueue === undefined
      ? eq(inboundInbox.state, 'pending')
      : and(eq(inboundInbox.state, 'pending'), eq(inboundInbox.taskQueue, taskQueue));
  const [row] = await db
    .select({
      pending: sql<number>`count(*)::int`,
      ageMs: sql<number | null>`(extract(epoch from (now() - min(${inboundInbox.createdAt}))) * 1000)::float8`,
    })
    .from(inboundInbox)
    .where(where);
  return {
    pending: row?.pending ?? 0,
    oldestPendingAgeMs: row?.ageMs == null ? null : Math.max(0, Math.round(row.ageMs)),
  };
}

/** The workflow id a redelivery runs under: `redeliver:<messageId>:<mode>` (a second start is a no-op). */
export const redeliveryKey = (r: Redelivery) => `redeliver:${r.messageId}:${r.mode}`;

/**
 * Records a follow-up send, in the transaction of the status that calls for it: from then on it is started even if
 * Temporal is down right now (C). Idempotent by its workflow id.
 */
export async function recordRedelivery(tx: DbOrTx, tenantId: string, redelivery: Redelivery): Promise<void> {
  await tx
    .insert(redeliveryInbox)
    .values({ key: redeliveryKey(redelivery), tenantId, input: redelivery })
    .onConflictDoNothing({ target: redeliveryInbox.key });
}

/** The redelivery was started (or already existed in Temporal): its row is done. */
export async function markRedeliveryStarted(db: DbOrTx, redelivery: Redelivery): Promise<void> {
  await db
    .update(redeliveryInbox)
    .set({ state: 'drained', drainedAt: sql`now()`, attempts: sql`${redeliveryInbox.attempts} + 1`, lastError: null })
    .where(and(eq(redeliveryInbox.key, redeliveryKey(redelivery)), eq(redeliveryInbox.state, 'pending')));
}

/**
 * Starts pending redeliveries, oldest first, under FOR UPDATE SKIP LOCKED as the inbound drain does. Temporal being
 * unavailable ends the batch; another refusal is counted on the row and the batch moves on.
 */
export async function drainRedeliveries(
  db: Database,
  start: (r: Redelivery) => Promise<void>,
  options: { batchSize?: number } = {},
): Promise<Pick<DrainResult, 'drained' | 'failed' | 'unavailable' | 'more'>> {
  const batchSize = options.batchSize ?? 100;
  return db.transaction(async (tx) => {
    const rows = await tx
      .select({ id: redeliveryInbox.id, input: redeliveryInbox.input })
      .from(redeliveryInbox)
      .where(eq(redeliveryInbox.state, 'pending'))
      .orderBy(asc(redeliveryInbox.createdAt), asc(redeliveryInbox.id))
      .limit(batchSize)
      .for('update', { skipLocked: true });
    const result = { drained: 0, failed: 0, unavailable: false, more: rows.length === batchSize };
    for (const row of rows) {
      try {
        await start(row.input as Redelivery);
      } catch (error) {
        const message = error instanceof Error ? error.name : 'error';
        await tx
          .update(redeliveryInbox)
          .set({ attempts: sql`${redeliveryInbox.attempts} + 1`, lastError: message.slice(0, MAX_ERROR_CHARS) })
          .where(eq(redeliveryInbox.id, row.id));
        result.failed++;
        if (isTemporalUnavailable(error)) {
          result.unavailable = true;
          return result;
        }
        continue;
      }
      await tx
        .update(redeliveryInbox)
        .set({
          state: 'drained',
          drainedAt: sql`now()`,
          attempts: sql`${redeliveryInbox.attempts} + 1`,
          lastError: null,
        })
        .where(eq(redeliveryInbox.id, row.id));
      result.drained++;
    }
    return result;
  });
}

/** Pending redeliveries (for the tests and the inbox depth a supervisor sees). */
export async function pendingRedeliveries(db: DbOrTx, tenantId?: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(redeliveryInbox)
    .where(
      tenantId === undefined
        ? eq(redeliveryInbox.state, 'pending')
        : and(eq(redeliveryInbox.state, 'pending'), eq(redeliveryInbox.tenantId, tenantId)),
    );
  return row?.n ?? 0;
}
