import { and, eq, sql, type SQL } from 'drizzle-orm';
import { publishEvents, recordEvents, type EventInput } from '../events/events';
import { canAdvanceStatus, STATUS_RANKS, statusRank } from '../../domain/message-status';
import { newRootTrace, newSpanId } from '../../domain/trace';
import type { Database, DbOrTx } from '../core/client';
import { messages, OPEN_TARGET_STATES, outbox, parkedStatusCallbacks } from '../schema';
import { applyTargetEvent, hasOpenTargets } from '../campaigns/targets';
import { classifyDeliveryError } from '../../domain/twilio-errors';
import { DELIVERED_STATUSES, UNDELIVERED_STATUSES, type TargetEvent } from '../../domain/campaign-target';
import { raiseAlerts } from '../events/alerts';
import { hasContentTemplate } from '../outbound/content-templates';
import { markOptedOut } from '../contacts/opt-out';
import { recordRedelivery } from './inbox';
import type { Redelivery } from '../../contract';

// Redelivery is part of the contract: the redelivery workflow takes it as its input.
export type { Redelivery };
import { applyErrorEffects } from '../contacts/twilio-error-effects';

/** Resends of one message after retryable delivery errors (30008…), beyond which a human is told instead. */
export const MAX_DELIVERY_RETRIES = 2;

export interface StatusCallback {
  tenantId: string;
  messageSid: string;
  status: string;
  errorCode: string | null;
  /**
   * Issue 25 A: the message id the send put in the callback URL. The message is then found by id while its SID is
   * not stored yet (Twilio's `sent` often arrives before the send's own write): the row lock orders the callback and
   * the SID write, the status only moves forward either way, and nothing is parked.
   */
  messageId?: string | null;
}

/** The message a callback is about: by SID, or by the id in its URL while no (other) SID is stored. */
function callbackMessage(cb: StatusCallback): SQL {
  return cb.messageId
    ? sql`tenant_id = ${cb.tenantId} and id = ${cb.messageId}::uuid and coalesce(provider_sid, ${cb.messageSid}) = ${cb.messageSid}`
    : sql`tenant_id = ${cb.tenantId} and provider_sid = ${cb.messageSid}`;
}

/** `recorded`: a status outside our order (unknown, or inbound-only) kept as a `message.status_unknown` event. */
export type StatusOutcome = 'updated' | 'ignored' | 'parked' | 'recorded';

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
export async function applyDeliveryStatus(
  db: Database,
  cb: StatusCallback,
  now: Date = new Date(),
): Promise<StatusResult> {
  const fast = await applyPlainStatus(db, cb, now);
  if (fast === 'unknown_sid') return db.transaction((tx) => parkOrApply(tx, cb));
  if (fast) return fast;
  return applyGeneralStatus(db, cb, now);
}

/**
 * The general path on its own, in its own transaction (what applyDeliveryStatus falls back to). Exported so the
 * tests can compare the one-statement path with it on twin rows; `now` is the instant the target's step is taken at.
 */
export async function applyGeneralStatus(
  db: Database,
  cb: StatusCallback,
  now: Date = new Date(),
): Promise<StatusResult> {
  return db.transaction((tx) => applyInTx(tx, cb, true, now));
}

/**
 * No message had the SID when the one-statement path looked: under the SID's lock, park the callback in one
 * statement unless the send stored the SID meanwhile (then the general path applies it, the lock already held).
 */
async function parkOrApply(tx: DbOrTx, cb: StatusCallback): Promise<StatusResult> {
  await lockSid(tx, cb.tenantId, cb.messageSid);
  const parked = await tx.execute<{ id: number }>(sql`
    insert into parked_status_callbacks (tenant_id, message_sid, status, error_code)
    select ${cb.tenantId}::uuid, ${cb.messageSid}::text, ${cb.status}::text, ${cb.errorCode}::text
    where not exists (select 1 from messages where tenant_id = ${cb.tenantId} and provider_sid = ${cb.messageSid})
    returning id`);
  if (parked.length > 0) return { outcome: 'parked', campaignToNotify: null, redeliver: null };
  return applyInTx(tx, cb, false);
}

/** `case <status> when 'pending' then 0 … end`: the rank of canAdvanceStatus, in SQL (null when unknown). */
export function rankSql(status: SQL): SQL {
  const whens = STATUS_RANKS.map(([name, rank]) => sql`when ${name}::text then ${sql.raw(String(rank))}`);
  return sql`(case ${status} ${sql.join(whens, sql` `)} else null end)`;
}

/**
 * The common case in ONE statement: a callback for a stored message where no delivery failure is to be acted on.
 * Locks the message, compare-and-sets its status the way canAdvanceStatus does and writes the `message.status`
 * event; for a campaign send it also takes the target's step (`nextTargetState` in SQL, see campaignStep) with
 * its counter deltas and tells whether the campaign is to be woken. Returns null when the callback needs the
 * general path (unknown SID → parking, a failure with an ErrorCode to classify), which then runs from the start
 * in its own transaction: this statement changed nothing in that case.
 *
 * Why campaign sends are here too (issue 25 C): each send gets two callbacks (`sent`, `delivered`), and the
 * general path's transaction took about 8 statements per callback (BEGIN, message FOR UPDATE, update, event,
 * target FOR UPDATE, target + delta, sometimes the open-targets check, COMMIT): at 100–200 sends/s that was most
 * of Postgres's load. One statement keeps the same locks in the same order (message, then target). The wake-up's
 * open-targets check reads the statement's snapshot, where this target still has its old state (so it is left
 * out); like the general path's check it is best effort, the campaign's timer stays the backstop.
 */
async function applyPlainStatus(
  db: Database,
  cb: StatusCallback,
  now: Date,
): Promise<StatusResult | 'unknown_sid' | null> {
  const toRank = statusRank(cb.status);
  if (toRank === undefined) return null;
  // As in applyInTx: a failure with an ErrorCode is acted on unless the recipient already had the message. For a
  // campaign send such a failure always takes the general path (the classification table, the target's failure).
  const failure = (cb.status === 'failed' || cb.status === 'undelivered') && Boolean(cb.errorCode);
  const spanId = newSpanId();
  const occurredAt = new Date();
  const [row] = await db.execute<{
    status: string;
    campaign_target_id: string | null;
    updated: boolean;
    id: string | null;
    trace_id: string | null;
    span_id: string | null;
    contact_id: string | null;
    conversation_id: string | null;
    campaign_id: string | null;
    wake: boolean;
  }>(sql`
    with old as (
      select id, status, campaign_target_id, provider_sid from messages
      where ${callbackMessage(cb)}
      for update
    ),
    u as (
      update messages m
      set status = ${cb.status}, status_updated_at = now(), error_code = coalesce(${cb.errorCode || null}::text, m.error_code),
        provider_sid = ${cb.messageSid}
      from old
      where m.id = old.id
        and coalesce(${rankSql(sql`old.status`)} < ${sql.raw(String(toRank))}, true)
        and (not ${failure}::boolean or (old.campaign_target_id is null and old.status in ('delivered', 'read')))
      returning m.id, m.trace_id, m.span_id, m.contact_id, m.conversation_id, old.status as from_status,
        old.campaign_target_id, old.provider_sid is null as early
    ),
    ev as (
      insert into events (trace_id, span_id, parent_id, type, level, tenant_id, contact_id, conversation_id,
        message_id, payload, occurred_at)
      select u.trace_id, ${spanId}, u.span_id, 'message.status', 'info', ${cb.tenantId}, u.contact_id,
        u.conversation_id, u.id,
        jsonb_build_object('from', u.from_status, 'to', ${cb.status}::text, 'errorCode', ${cb.errorCode}::text),
        ${occurredAt.toISOString()}::timestamptz
      from u where u.trace_id is not null
    ),
    ${campaignStep(sql`${cb.status}::text`, now)}
    select old.status, old.campaign_target_id, u.id is not null as updated, u.id, u.trace_id, u.span_id,
      u.contact_id, u.conversation_id, tu.campaign_id,
      coalesce(tu.state = 'scheduled' or (tu.state not in (${OPEN_STATES_LITERAL}) and not exists (
        select 1 from campaign_targets o
        where o.campaign_id = tu.campaign_id and o.state in (${OPEN_STATES_LITERAL}) and o.id <> tu.id)), false) as wake
    from old left join u on true left join tu on true`);
  if (!row) return 'unknown_sid';
  if (row.updated) {
    if (row.trace_id && row.id && row.contact_id) {
      const event: EventInput = {
        trace: { traceId: row.trace_id, spanId, parentId: row.span_id },
        type: 'message.status',
        tenantId: cb.tenantId,
        contactId: row.contact_id,
        conversationId: row.conversation_id,
        messageId: row.id,
        payload: { from: row.status, to: cb.status, errorCode: cb.errorCode },
        occurredAt,
      };
      publishEvents([event]);
    }
    return { outcome: 'updated', campaignToNotify: row.wake ? row.campaign_id : null, redeliver: null };
  }
  // Read under the lock: a status that may not advance is ignored, as the general path would (campaign or not).
  if (!canAdvanceStatus(row.status, cb.status)) return { outcome: 'ignored', campaignToNotify: null, redeliver: null };
  return null;
}

/**
 * The open target states as literals, the partial index's own predicate (campaign_targets_next_attempt_idx): as
 * parameters the prepared statement's generic plan cannot prove the predicate and read every target of the campaign
 * through the unique index to find one open target (bench, 2026-12-07: 10,870 index rows, 0.55 of the callback's
 * 0.7 ms). Constants of the code, never input.
 */
const OPEN_STATES_LITERAL = sql.raw(OPEN_TARGET_STATES.map((s) => `'${s}'`).join(', '));

/**
 * The CTEs `tt`, `nx`, `tu`, `td` that take a campaign target's step inside a one-statement write: after a
 * callback moved its message (`source` = `u`), or the SID write (recordSendAccepted, its `accepted` step), exactly
 * as applyTargetEvent takes it with the pure `nextTargetState` and `counterDeltas`
 * (src/domain/campaign-target.ts), which the tests check on twin rows. `source` gives `campaign_target_id` and
 * `early`: the event is `accepted` when early (a callback that found its message by id before the SID was stored,
 * as in applyInTx, or the SID write itself), else `status`; no `notBefore`
 * (that comes only with 63049, an ErrorCode, which takes the general path). A failed or undelivered status
 * without an ErrorCode is handled here like nextTargetState does: rescheduled at max(now, last attempt + spacing)
 * while attempts are left, else failed. The target row is locked after the message, as the general path does.
 * Columns written: those of the patch, `last_status_at` (every patch here has a `lastStatus`) and `updated_at`,
 * all at `now` (the instant applyTargetEvent would use); `last_attempt_at` is read at millisecond precision, as
 * the general path reads it into a Date.
 */
export function campaignStep(status: SQL, now: Date, source: SQL = sql`u`): SQL {
  const at = sql`${now.toISOString()}::timestamptz`;
  const st = sql`(${status})`;
  const among = (set: ReadonlySet<string>) =>
    sql`(${st} in (${sql.join(
      [...set].map((d) => sql`${d}::text`),
      sql`, `,
    )}))`;
  const delivered = among(DELIVERED_STATUSES);
  const undelivered = among(UNDELIVERED_STATUSES);
  const counter = (state: string) =>
    sql`(case when nx.state <> ${state} and t.state = ${state} then 1 when nx.state = ${state} and t.state <> ${state} then -1 else 0 end)`;
  return sql`
    tt as (
      select t.id, t.campaign_id, t.state, t.contacted_at, t.succeeded_at, s.early,
        t.state = 'sending' as is_sending,
        t.attempt_count < c.max_attempts as attempts_left,
        c.retry_on_no_reply and t.replied_at is null as no_reply_yet,
        date_trunc('milliseconds', coalesce(t.last_attempt_at, ${at})) + make_interval(secs => c.attempt_spacing_seconds)
          as retry_at
      from ${source} s
      join campaign_targets t on t.id = s.campaign_target_id
      join campaigns c on c.id = t.campaign_id
      for update of t
    ),
    nx as (
      select tt.*,
        tt.is_sending and ${delivered} and tt.no_reply_yet and tt.attempts_left as awaits_reply,
        tt.is_sending and ${delivered} and not (tt.no_reply_yet and tt.attempts_left) as done,
        tt.is_sending and ${undelivered} and not tt.early and tt.attempts_left as retry,
        tt.is_sending and ${undelivered} and not tt.early and not tt.attempts_left as failed_now
      from tt
      where tt.is_sending or (not tt.early and ${delivered} and tt.state = 'completed')
    ),
    tu as (
      update campaign_targets t set
        state = case when nx.awaits_reply or nx.retry then 'scheduled' when nx.done then 'completed'
          when nx.failed_now then 'failed' else t.state end,
        outcome = case when nx.awaits_reply then 'awaiting_reply'
          when nx.done then (case when nx.no_reply_yet then 'no_reply' else ${st} end)
          when nx.retry then 'retry_after_' || ${st} when nx.failed_now then ${st} else t.outcome end,
        contacted_at = case when nx.is_sending and nx.early then coalesce(t.contacted_at, ${at}) else t.contacted_at end,
        succeeded_at = case when nx.is_sending and ${delivered} then coalesce(t.succeeded_at, ${at}) else t.succeeded_at end,
        next_attempt_at = case when nx.awaits_reply then nx.retry_at when nx.retry then greatest(${at}, nx.retry_at)
          else t.next_attempt_at end,
        completed_at = case when nx.done or nx.failed_now then ${at} else t.completed_at end,
        last_status = ${st}, last_status_at = ${at}, updated_at = ${at}
      from nx
      where t.id = nx.id
      returning t.id, t.campaign_id, t.state,
        (nx.contacted_at is null and t.contacted_at is not null)::int as contacted,
        (nx.succeeded_at is null and t.succeeded_at is not null)::int as successful,
        ${counter('failed')} as failed, ${counter('opted_out')} as opted_out, ${counter('skipped')} as skipped
    ),
    td as (
      insert into campaign_counter_deltas (campaign_id, contacted, successful, failed, opted_out, skipped)
      select campaign_id, contacted, successful, failed, opted_out, skipped from tu
      where contacted <> 0 or successful <> 0 or failed <> 0 or opted_out <> 0 or skipped <> 0
    )`;
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

async function applyInTx(tx: DbOrTx, cb: StatusCallback, park: boolean, now: Date = new Date()): Promise<StatusResult> {
  {
    // The SID lock orders a park against the SID write's look for parked rows. A callback that carries its message
    // id finds the message whether the SID is stored or not, so it parks only when that look-up misses (a foreign
    // id): the lock is taken then, and the message looked for again under it (issue 25 C: one statement less).
    if (park && !cb.messageId) await lockSid(tx, cb.tenantId, cb.messageSid);
    const find = () =>
      tx
        .select({
          id: messages.id,
          status: messages.status,
          channel: messages.channel,
          traceId: messages.traceId,
          spanId: messages.spanId,
          contactId: messages.contactId,
          conversationId: messages.conversationId,
          campaignTargetId: messages.campaignTargetId,
          providerSid: messages.providerSid,
        })
        .from(messages)
        .where(callbackMessage(cb))
        .for('update');
    let [message] = await find();
    if (!message && park && cb.messageId) {
      await lockSid(tx, cb.tenantId, cb.messageSid);
      [message] = await find();
    }
    // An unknown SID is most likely a send whose SID is not committed yet: park it, the send applies it.
    if (!message) {
      if (park)
        await tx
          .insert(parkedStatusCallbacks)
          .values({ tenantId: cb.tenantId, messageSid: cb.messageSid, status: cb.status, errorCode: cb.errorCode });
      return { outcome: 'parked', campaignToNotify: null, redeliver: null };
    }
    if (statusRank(cb.status) === undefined) {
      // Issue 22 D: a status Twilio added (or one of an inbound message): kept with the message, never refused.
      await recordEvents(tx, [
        {
          trace: message.traceId
            ? { traceId: message.traceId, spanId: newSpanId(), parentId: message.spanId }
            : newRootTrace(),
          type: 'message.status_unknown',
          level: 'warn',
          tenantId: cb.tenantId,
          contactId: message.contactId,
          conversationId: message.conversationId,
          messageId: message.id,
          payload: { current: message.status, reported: cb.status, errorCode: cb.errorCode },
        },
      ]);
      return { outcome: 'recorded', campaignToNotify: null, redeliver: null };
    }
    if (!canAdvanceStatus(message.status, cb.status))
      return { outcome: 'ignored', campaignToNotify: null, redeliver: null };
    await tx
      .update(messages)
      .set({
        status: cb.status,
        statusUpdatedAt: sql`now()`,
        providerSid: cb.messageSid,
        ...(cb.errorCode ? { errorCode: cb.errorCode } : {}),
      })
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
    // Issue 25 C: a callback found by the message id in its URL before the send stored the SID (Twilio's `sent`
    // usually is) takes the target's `accepted` step first, which the SID write would have taken before it: the
    // target is contacted once, in order, and the SID write then finds it done (recordSendAccepted).
    const early = message.campaignTargetId !== null && message.providerSid === null;
    if (early && failure)
      await applyTargetEvent(tx, message.campaignTargetId!, { kind: 'accepted', status: cb.status }, now);
    const event = failure
      ? failure.targetEvent
      : early
        ? { kind: 'accepted' as const, status: cb.status }
        : { kind: 'status' as const, status: cb.status };
    const target =
      message.campaignTargetId && event ? await applyTargetEvent(tx, message.campaignTargetId, event, now) : null;
    // The campaign is told when a retry was scheduled, or when this was its last open target: it can complete now
    // instead of at its next timer (the delivery timeout). Best effort: the timer stays the backstop.
    const wake =
      target &&
      (target.rescheduled ||
        (!(OPEN_TARGET_STATES as readonly string[]).includes(target.state) &&
          !(await hasOpenTargets(tx, target.campaignId))));
    // The follow-up send is durable with the status that calls for it (C): started by the caller right after,
    // or by the inbox drain if Temporal is not there at that instant.
    if (failure?.redeliver) await recordRedelivery(tx, cb.tenantId, failure.redeliver);
    return {
      outcome: 'updated',
      campaignToNotify: wake ? target.campaignId : null,
      redeliver: failure?.redeliver ?? null,
    };
  }
}

/**
 * A final failure with an ErrorCode, classified by the one table (src/domain/twilio-errors.ts, docs/channels.md):
 * 63016 is resent as the purpose's template when there is one (the campaign target stays `sending` for it);
 * 21610 opts the contact out; contact_invalid codes (63024, 63003, 21211, 30005…) mark the contact; template_invalid
 * codes (63028, 63027…) alert an admin; 63049 holds the contact for a progressive backoff, never a resend now (a
 * campaign target waits past it); retryable and unknown codes follow the retry policy (a campaign's attempts and
 * spacing, else at most MAX_DELIVERY_RETRIES resends with a growing delay), unknown ones with an alert. A human is
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
  const decision = classifyDeliveryError(cb.errorCode);
  const [box] = await tx
    .select({ key: outbox.idempotencyKey, purpose: outbox.purpose, content: outbox.content })
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
  const { backoffUntil } = await applyErrorEffects(tx, decision, {
    tenantId: cb.tenantId,
    contactId: message.contactId,
    conversationId: message.conversationId,
    messageId: message.id,
    channel: message.channel === 'whatsapp' ? 'whatsapp' : 'sms',
    code: cb.errorCode,
    purpose,
    contentSid: box?.content?.sid ?? null,
  });
  switch (decision.class) {
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
    case 'opted_out':
      // I12: Twilio says the recipient unsubscribed: opted out everywhere (this target included).
      await markOptedOut(tx, message.contactId, 'twilio_21610');
      return { targetEvent: { kind: 'permanent', reason: 'opted_out' }, redeliver: null };
    case 'contact_invalid':
      await lost('delivery_failed', `${decision.reason}; the contact is marked unreachable on ${message.channel}`);
      return { targetEvent: { kind: 'permanent', reason: decision.reason }, redeliver: null };
    case 'template_invalid':
      // The admin alert is raised above (one per code); the message itself is lost.
      await lost('delivery_failed', decision.reason);
      return { targetEvent: { kind: 'permanent', reason: decision.reason }, redeliver: null };
    case 'permanent':
      await lost('delivery_failed', decision.reason);
      return { targetEvent: { kind: 'permanent', reason: decision.reason }, redeliver: null };
    case 'retry_later_for_contact':
      // 63049: never resent now. A campaign target is retried (attempts permitting) once the backoff is over.
      if (isCampaign)
        return {
          targetEvent: { kind: 'status', status: cb.status, notBefore: backoffUntil ?? undefined },
          redeliver: null,
        };
      return { targetEvent: null, redeliver: null };
    case 'retryable':
    case 'unknown': {
      if (isCampaign) return { targetEvent: { kind: 'status', status: cb.status }, redeliver: null };
      const retries = box ? box.key.split(':retry').length - 1 : MAX_DELIVERY_RETRIES;
      if (retries < MAX_DELIVERY_RETRIES)
        return { targetEvent: null, redeliver: { messageId: message.id, mode: 'retry', resends: retries } };
      await lost('delivery_failed', `${decision.reason} after ${retries + 1} attempts`);
      return { targetEvent: null, redeliver: null };
    }
  }
}
