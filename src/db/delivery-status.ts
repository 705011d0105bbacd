import { and, eq, sql } from 'drizzle-orm';
import { recordEvents } from './events';
import { canAdvanceStatus } from '../domain/message-status';
import { newSpanId } from '../domain/trace';
import type { Database, DbOrTx } from './client';
import { messages, OPEN_TARGET_STATES, parkedStatusCallbacks } from './schema';
import { applyTargetEvent, hasOpenTargets } from './campaign-targets';

export interface StatusCallback {
  tenantId: string;
  messageSid: string;
  status: string;
  errorCode: string | null;
}

export type StatusOutcome = 'updated' | 'ignored' | 'parked';

export interface StatusResult {
  outcome: StatusOutcome;
  /** A campaign whose target this callback moved to a later attempt: its workflow should be told (I11). */
  campaignToNotify: string | null;
}

/**
 * Applies a delivery status callback monotonically (I11): compare-and-set on the status read, so duplicate and
 * out-of-order callbacks change nothing, and two concurrent callbacks cannot move the status backwards.
 */
export async function applyDeliveryStatus(db: Database, cb: StatusCallback): Promise<StatusResult> {
  return db.transaction((tx) => applyInTx(tx, cb, true));
}

/**
 * Called right after a send stored its SID: applies the callbacks that arrived for it before that, in order.
 */
export async function applyParkedStatuses(tx: DbOrTx, tenantId: string, messageSid: string): Promise<void> {
  await lockSid(tx, tenantId, messageSid);
  const parked = await tx.delete(parkedStatusCallbacks)
    .where(and(eq(parkedStatusCallbacks.tenantId, tenantId), eq(parkedStatusCallbacks.messageSid, messageSid)))
    .returning();
  for (const cb of parked.sort((a, b) => a.id - b.id)) await applyInTx(tx, { tenantId, messageSid, status: cb.status, errorCode: cb.errorCode }, false);
}

/**
 * Serializes "store the SID" and "callback for that SID" per message: otherwise a callback could park itself
 * just after the send looked for parked callbacks, and stay parked forever.
 */
async function lockSid(tx: DbOrTx, tenantId: string, messageSid: string) {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`${tenantId}:${messageSid}`}))`);
}

async function applyInTx(tx: DbOrTx, cb: StatusCallback, park: boolean): Promise<StatusResult> {
  {
    if (park) await lockSid(tx, cb.tenantId, cb.messageSid);
    const [message] = await tx.select({ id: messages.id, status: messages.status, traceId: messages.traceId, spanId: messages.spanId, contactId: messages.contactId, conversationId: messages.conversationId, campaignTargetId: messages.campaignTargetId })
      .from(messages).where(and(eq(messages.tenantId, cb.tenantId), eq(messages.providerSid, cb.messageSid))).for('update');
    // An unknown SID is most likely a send whose SID is not committed yet: park it, the send applies it.
    if (!message) {
      if (park) await tx.insert(parkedStatusCallbacks).values({ tenantId: cb.tenantId, messageSid: cb.messageSid, status: cb.status, errorCode: cb.errorCode });
      return { outcome: 'parked', campaignToNotify: null };
    }
    if (!canAdvanceStatus(message.status, cb.status)) return { outcome: 'ignored', campaignToNotify: null };
    await tx.update(messages)
      .set({ status: cb.status, statusUpdatedAt: sql`now()`, ...(cb.errorCode ? { errorCode: cb.errorCode } : {}) })
      .where(eq(messages.id, message.id));
    if (message.traceId) {
      await recordEvents(tx, [{
        trace: { traceId: message.traceId, spanId: newSpanId(), parentId: message.spanId },
        type: 'message.status', tenantId: cb.tenantId, contactId: message.contactId, conversationId: message.conversationId, messageId: message.id,
        payload: { from: message.status, to: cb.status, errorCode: cb.errorCode },
      }]);
    }
    // The per-target flow of a campaign send moves with its message, in the same transaction (C2).
    const target = message.campaignTargetId ? await applyTargetEvent(tx, message.campaignTargetId, { kind: 'status', status: cb.status }) : null;
    // The campaign is told when a retry was scheduled, or when this was its last open target: it can complete now
    // instead of at its next timer (the delivery timeout). Best effort: the timer stays the backstop.
    const wake = target && (target.rescheduled || (!(OPEN_TARGET_STATES as readonly string[]).includes(target.state) && !(await hasOpenTargets(tx, target.campaignId))));
    return { outcome: 'updated', campaignToNotify: wake ? target.campaignId : null };
  }
}
