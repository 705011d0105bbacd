import { and, eq, sql } from 'drizzle-orm';
import { recordEvents } from './events';
import { canAdvanceStatus } from '../domain/message-status';
import { newSpanId } from '../domain/trace';
import type { Database, DbOrTx } from './client';
import { messages, OPEN_TARGET_STATES, outbox, parkedStatusCallbacks } from './schema';
import { applyTargetEvent, hasOpenTargets } from './campaign-targets';
import { classifyDeliveryError } from '../domain/twilio-errors';
import type { TargetEvent } from '../domain/campaign-target';
import { raiseAlerts } from './alerts';
import { hasContentTemplate } from './content-templates';
import { markOptedOut } from './opt-out';

/** A follow-up send a failed callback calls for; started as `redeliver:<messageId>:<mode>` (src/temporal/start-redelivery.ts). */
export interface Redelivery {
  messageId: string;
  mode: 'template' | 'retry';
}

/** Resends of one message after retryable delivery errors (30008…), beyond which a human is told instead. */
export const MAX_DELIVERY_RETRIES = 2;

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
  redeliver: Redelivery | null;
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
export async function applyParkedStatuses(tx: DbOrTx, tenantId: string, messageSid: string): Promise<Redelivery[]> {
  await lockSid(tx, tenantId, messageSid);
  const parked = await tx
    .delete(parkedStatusCallbacks)
    .where(and(eq(parkedStatusCallbacks.tenantId, tenantId), eq(parkedStatusCallbacks.messageSid, messageSid)))
    .returning();
  const redeliveries: Redelivery[] = [];
  for (const cb of parked.sort((a, b) => a.id - b.id)) {
    const result = await applyInTx(tx, { tenantId, messageSid, status: cb.status, errorCode: cb.errorCode }, false);
    if (result.redeliver) redeliveries.push(result.redeliver);
  }
  return redeliveries;
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
    const [message] = await tx
      .select({
        id: messages.id,
        status: messages.status,
        channel: messages.channel,
        traceId: messages.traceId,
        spanId: messages.spanId,
        contactId: messages.contactId,
        conversationId: messages.conversationId,
        campaignTargetId: messages.campaignTargetId,
      })
      .from(messages)
      .where(and(eq(messages.tenantId, cb.tenantId), eq(messages.providerSid, cb.messageSid)))
      .for('update');
    // An unknown SID is most likely a send whose SID is not committed yet: park it, the send applies it.
    if (!message) {
      if (park)
        await tx
          .insert(parkedStatusCallbacks)
          .values({ tenantId: cb.tenantId, messageSid: cb.messageSid, status: cb.status, errorCode: cb.errorCode });
      return { outcome: 'parked', campaignToNotify: null, redeliver: null };
    }
    if (!canAdvanceStatus(message.status, cb.status))
      return { outcome: 'ignored', campaignToNotify: null, redeliver: null };
    await tx
      .update(messages)
      .set({ status: cb.status, statusUpdatedAt: sql`now()`, ...(cb.errorCode ? { errorCode: cb.errorCode } : {}) })
      .where(eq(messages.id, message.id));
    if (message.traceId) {
      await recordEvents(tx, [
        {
          trace: { traceId: message.traceId, spanId: newSpanId(), parentId: message.spanId },
          type: 'message.status',
          tenantId: cb.tenantId,
          contactId: message.contactId,
          conversationId: message.conversationId,
          messageId: message.id,
          payload: { from: message.status, to: cb.status, errorCode: cb.errorCode },
        },
      ]);
    }
    // A failure reported after the recipient already had the message (delivered or read) is recorded, never acted
    // on: resending would hand the customer a message they have already read.
    const reached = message.status === 'delivered' || message.status === 'read';
    const failure =
      (cb.status === 'failed' || cb.status === 'undelivered') && cb.errorCode && !reached
        ? await onDeliveryFailure(tx, cb, message)
        : null;
    // The per-target flow of a campaign send moves with its message, in the same transaction (C2).
    const event = failure ? failure.targetEvent : { kind: 'status' as const, status: cb.status };
    const target =
      message.campaignTargetId && event ? await applyTargetEvent(tx, message.campaignTargetId, event) : null;
    // The campaign is told when a retry was scheduled, or when this was its last open target: it can complete now
    // instead of at its next timer (the delivery timeout). Best effort: the timer stays the backstop.
    const wake =
      target &&
      (target.rescheduled ||
        (!(OPEN_TARGET_STATES as readonly string[]).includes(target.state) &&
          !(await hasOpenTargets(tx, target.campaignId))));
    return {
      outcome: 'updated',
      campaignToNotify: wake ? target.campaignId : null,
      redeliver: failure?.redeliver ?? null,
    };
  }
}

/**
 * A final failure with an ErrorCode, classified by the same table as REST errors (src/domain/twilio-errors.ts):
 * 63016 is resent as the purpose's template when there is one (the campaign target stays `sending` for it);
 * permanent codes and 30007 end the attempt (21610 also opts the contact out); 30008 and unknown codes follow
 * the retry policy (a campaign's attempts and spacing, else at most MAX_DELIVERY_RETRIES resends). A human is
 * told (delivery_failed / window_closed) when a conversation or promise message is lost for good.
 */
async function onDeliveryFailure(
  tx: DbOrTx,
  cb: StatusCallback,
  message: {
    id: string;
    channel: string;
    contactId: string;
    conversationId: string | null;
    campaignTargetId: string | null;
  },
): Promise<{ targetEvent: TargetEvent | null; redeliver: Redelivery | null }> {
  const cls = classifyDeliveryError(cb.errorCode);
  const [box] = await tx
    .select({ key: outbox.idempotencyKey, purpose: outbox.purpose })
    .from(outbox)
    .where(eq(outbox.messageId, message.id));
  const purpose = box?.purpose ?? 'message';
  const isCampaign = message.campaignTargetId !== null;
  const lost = async (type: 'delivery_failed' | 'window_closed', reason: string) => {
    // Campaign targets are reported by the campaign's counters and outcomes, not one alert per contact.
    if (isCampaign && type === 'delivery_failed') return;
    await raiseAlerts(tx, [
      {
        tenantId: cb.tenantId,
        conversationId: message.conversationId,
        type,
        severity: 'medium',
        message: `Message "${purpose}" was not delivered (Twilio error ${cb.errorCode}: ${reason})`,
        payload: { messageId: message.id, errorCode: cb.errorCode, reason, purpose },
      },
    ]);
  };
  switch (cls.kind) {
    case 'window_closed': {
      const resendable =
        box &&
        message.channel === 'whatsapp' &&
        !box.key.endsWith(':template') &&
        (await hasContentTemplate(tx, cb.tenantId, purpose));
      if (resendable) return { targetEvent: null, redeliver: { messageId: message.id, mode: 'template' } };
      await lost('window_closed', 'outside the WhatsApp 24-hour window, no Content template configured');
      return { targetEvent: { kind: 'permanent', reason: 'window_closed' }, redeliver: null };
    }
    case 'permanent':
      // I12: Twilio says the recipient unsubscribed: opted out everywhere (this target included).
      if (cls.reason === 'opted_out') await markOptedOut(tx, message.contactId, 'twilio_21610');
      else await lost('delivery_failed', cls.reason);
      return { targetEvent: { kind: 'permanent', reason: cls.reason }, redeliver: null };
    case 'filtered':
      await lost('delivery_failed', 'filtered by the carrier');
      return { targetEvent: { kind: 'permanent', reason: 'filtered' }, redeliver: null };
    case 'retryable': {
      if (isCampaign) return { targetEvent: { kind: 'status', status: cb.status }, redeliver: null };
      const retries = box ? box.key.split(':retry').length - 1 : MAX_DELIVERY_RETRIES;
      if (retries < MAX_DELIVERY_RETRIES)
        return { targetEvent: null, redeliver: { messageId: message.id, mode: 'retry' } };
      await lost('delivery_failed', `${cls.reason} after ${retries + 1} attempts`);
      return { targetEvent: null, redeliver: null };
    }
  }
}
