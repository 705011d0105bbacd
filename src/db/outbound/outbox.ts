import { randomUUID } from 'node:crypto';
import { and, eq, isNull, sql, type SQL } from 'drizzle-orm';
import type { AdvancedConversation } from '../../contract/pipeline';
import type { Channel, TraceContext } from '../../contract/types';
import { childSpan } from '../../domain/trace';
import { openSecret } from '../../secrets/keyring';
import { raiseAlerts, type RaiseAlert } from '../events/alerts';
import type { Database, DbOrTx } from '../core/client';
import { applyParkedStatuses, campaignStep, rankSql, type Redelivery } from '../ingress/delivery-status';
import { sendDecisionUpsert, type SendDecisionInsert } from './policy';
import { EVENT_RECORDSET_COLUMNS, eventRecordset, publishEvents, type EventInput } from '../events/events';
import { alerts, contacts, conversations, messages, outbox, tenants } from '../schema';

const eventColumns = sql.raw(EVENT_RECORDSET_COLUMNS);

/** Everything a first send attempt needs to decide what goes out, read in ONE statement. */
export interface SendContext {
  /** An outbox row already has this key: a retry, for the general path. */
  existing: boolean;
  /** The conversation's version now (null without a conversation). */
  version: number | null;
  optedOut: boolean;
  locale: string;
  template: { body: string; contentSid: string | null; contentVariables: Record<string, string> | null } | null;
  lastInboundAt: Date | null;
  contentTemplate: { contentSid: string; variables: Record<string, string> } | null;
  sender: {
    accountSid: string;
    authToken: string;
    mode: 'live' | 'simulated';
    messagingServiceSid: string | null;
  } | null;
}

export async function loadSendContext(
  db: Database,
  input: {
    idempotencyKey: string;
    tenantId: string;
    conversationId: string | null;
    contactId: string;
    channel: Channel;
    /** The tenant address the message goes out from (the WhatsApp window is per sender). */
    tenantAddress: string;
    senderChannel: Channel;
    senderPhone: string;
    templateKey: string | null;
    purpose: string;
    /**
     * Issue 25 A: the policy gate's decision row for this send (a customer-opened answer, decided without reading):
     * written by this statement, before the message and its outbox row exist, instead of by one of its own.
     */
    decision?: SendDecisionInsert | null;
  },
): Promise<SendContext> {
  const rows = await db.execute<{
    existing: boolean;
    version: number | null;
    opted_out: boolean;
    locale: string | null;
    template: SendContext['template'];
    last_inbound_at: string | null;
    content_template: SendContext['contentTemplate'];
    sender: {
      accountSid: string;
      authToken: string;
      mode: 'live' | 'simulated';
      messagingServiceSid: string | null;
    } | null;
  }>(sql`
    with t as (select locale from tenants where id = ${input.tenantId})${
      input.decision
        ? sql`,
    d as (${sendDecisionUpsert(db, input.decision).getSQL()})`
        : sql``
    }
    select
      exists (select 1 from outbox where idempotency_key = ${input.idempotencyKey}) as existing,
      (select version from conversations where id = ${input.conversationId}::uuid) as version,
      coalesce((select opted_out_at is not null from contacts where id = ${input.contactId}), false) as opted_out,
      (select locale from t) as locale,
      (select json_build_object('body', body, 'contentSid', content_sid, 'contentVariables', content_variables)
        from message_templates
        where ${input.templateKey}::text is not null and key = ${input.templateKey}::text
          and (tenant_id = ${input.tenantId} or tenant_id is null)
          and (locale = coalesce((select locale from t), 'en') or locale = 'en')
        order by tenant_id is null, locale <> coalesce((select locale from t), 'en'), created_at desc
        limit 1) as template,
      (select created_at from messages
        where ${input.channel}::text = 'whatsapp' and contact_id = ${input.contactId} and direction = 'inbound'
          and channel = ${input.channel} and to_address = ${input.tenantAddress}
        order by created_at desc limit 1) as last_inbound_at,
      (select json_build_object('contentSid', content_sid, 'variables', variables) from content_templates
        where ${input.channel}::text = 'whatsapp' and tenant_id = ${input.tenantId} and purpose = ${input.purpose}
        limit 1) as content_template,
      (select json_build_object('accountSid', a.account_sid, 'authToken', a.auth_token, 'mode', a.mode,
          'messagingServiceSid', (select t.messaging_service_sid from tenants t where t.id = p.tenant_id))
        from phone_numbers p join twilio_accounts a on a.id = p.twilio_account_id
        where p.tenant_id = ${input.tenantId} and p.channel = ${input.senderChannel} and p.phone = ${input.senderPhone}
        limit 1) as sender`);
  const row = rows[0]!;
  return {
    existing: row.existing,
    version: row.version,
    optedOut: row.opted_out,
    locale: row.locale ?? 'en',
    template: row.template,
    lastInboundAt: row.last_inbound_at ? new Date(row.last_inbound_at) : null,
    contentTemplate: row.content_template,
    sender: row.sender && { ...row.sender, authToken: openSecret(row.sender.authToken) },
  };
}

export interface OutboundRow {
  tenantId: string;
  conversationId: string | null;
  contactId: string;
  channel: Channel;
  from: string;
  to: string;
  body: string;
  sentBy: 'ai' | 'agent' | 'system';
  authorId: string | null;
  correlationId: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  idempotencyKey: string;
  purpose: string;
  variables: Record<string, string>;
  content: { sid: string; variables: Record<string, string> } | null;
  /** Only while the conversation is still at this version (the row is locked against a concurrent transition). */
  expectedVersion: number | null;
  /**
   * Issue 25 A: the reply's PENDING/IDLE → PROGRESS move, applied with the message (needs `expectedVersion`): the
   * conversation row, its state-history row and the conversation.transition event, as transitionConversation
   * writes them for that move.
   */
  advance?: { reason: string; actor: string; trace: TraceContext } | null;
  /**
   * Issue 25 C: a campaign send's claim, in the same statement (markTargetSending's conditions): the target becomes
   * `sending` for this attempt only if it is still `scheduled` for it, its contact not opted out (under FOR SHARE,
   * ordered against a STOP as the general path's read is) and its campaign active; without the claim nothing is
   * written. The message carries the target's id.
   */
  claimTarget?: { targetId: string; attempt: number } | null;
}

/**
 * The outbound message and its outbox row, written in ONE statement and already `sending` (attempt 1): this attempt
 * goes on to call Twilio at once. Null when nothing was written: the guard failed (the conversation moved on) or
 * another attempt wrote the key first; the caller then takes the general path, which reads what happened.
 */
export async function insertSendingOutbound(
  db: Database,
  row: OutboundRow,
): Promise<{ outboxId: string; messageId: string; updatedAt: Date; advanced: AdvancedConversation | null } | null> {
  const messageId = randomUUID();
  const outboxId = randomUUID();
  const advance = row.advance && row.expectedVersion !== null && row.conversationId ? row.advance : null;
  const claim = row.claimTarget ?? null;
  const transition = advance
    ? eventRecordset([
        {
          trace: childSpan(advance.trace),
          type: 'conversation.transition',
          tenantId: row.tenantId,
          contactId: row.contactId,
          conversationId: row.conversationId,
          payload: { to: 'PROGRESS', reason: advance.reason, actor: advance.actor },
        },
      ])
    : null;
  const rows = await db.execute<{
    updated_at: string;
    advanced_version: number | null;
    from_status: string | null;
  }>(sql`
    with guard as (
      select status from conversations
      where ${row.expectedVersion}::int is not null and id = ${row.conversationId}::uuid
        and version = ${row.expectedVersion}::int
      for update
    ),
    reachable as (
      select 1 from contacts where ${claim !== null}::boolean and id = ${row.contactId} and opted_out_at is null
      for share
    ),
    ct as (
      update campaign_targets t set state = 'sending', attempt_count = ${claim?.attempt ?? 0}::int,
        last_attempt_at = now(), last_message_id = ${messageId}::uuid, outcome = null, updated_at = now()
      where t.id = ${claim?.targetId ?? null}::uuid and t.state = 'scheduled'
        and t.attempt_count = ${(claim?.attempt ?? 0) - 1}::int
        and exists (select 1 from reachable)
        and exists (select 1 from campaigns c where c.id = t.campaign_id and c.status = 'active')
        and not exists (select 1 from outbox where idempotency_key = ${row.idempotencyKey})
      returning t.id
    ),
    m as (
      insert into messages (id, tenant_id, conversation_id, contact_id, direction, channel, from_address, to_address,
        body, sent_by, author_id, status, correlation_id, trace_id, span_id, parent_span_id, campaign_target_id)
      select ${messageId}, ${row.tenantId}, ${row.conversationId}::uuid, ${row.contactId}, 'outbound', ${row.channel},
        ${row.from}, ${row.to}, ${row.body}, ${row.sentBy}, ${row.authorId}::uuid, 'pending', ${row.correlationId},
        ${row.traceId}, ${row.spanId}, ${row.parentSpanId}, ${claim?.targetId ?? null}::uuid
      where (${row.expectedVersion}::int is null or exists (select 1 from guard))
        and (${claim === null}::boolean or exists (select 1 from ct))
      returning id
    ),
    o as (
      insert into outbox (id, tenant_id, idempotency_key, message_id, purpose, variables, content, status, attempts)
      select ${outboxId}, ${row.tenantId}, ${row.idempotencyKey}, m.id, ${row.purpose},
        ${JSON.stringify(row.variables)}::jsonb, ${row.content ? JSON.stringify(row.content) : null}::jsonb, 'sending', 1
      from m
      on conflict (idempotency_key) do nothing
      returning updated_at
    ),
    -- The move to PROGRESS, only with the outbox row written (a lost race for the key moves nothing) and only from
    -- the states that reach it by a reply (the guard's version already fixed which one).
    adv as (
      update conversations c set status = 'PROGRESS', version = c.version + 1, updated_at = now(),
        waiting_since = null, sla_due_at = null
      from guard
      where ${advance !== null}::boolean and c.id = ${row.conversationId}::uuid and guard.status in ('PENDING', 'IDLE')
        and exists (select 1 from o)
      returning c.version, guard.status as from_status
    ),
    h as (
      insert into conversation_state_history (conversation_id, from_status, to_status, version, reason, actor)
      select ${row.conversationId}::uuid, from_status, 'PROGRESS', version, ${advance?.reason ?? null}::text,
        ${advance?.actor ?? null}::text
      from adv
    ),
    ev as (
      insert into events (trace_id, span_id, parent_id, causal_trace_id, type, level, tenant_id, contact_id,
        conversation_id, message_id, payload, occurred_at)
      select e.trace_id, e.span_id, e.parent_id, e.causal_trace_id, e.type, e.level, e.tenant_id, e.contact_id,
        e.conversation_id, e.message_id, e.payload || jsonb_build_object('from', adv.from_status, 'version', adv.version),
        e.occurred_at
      from adv, jsonb_to_recordset(${transition?.json ?? '[]'}::jsonb) as e(${eventColumns})
    )
    select o.updated_at, adv.version as advanced_version, adv.from_status from o left join adv on true`);
  const written = rows[0];
  if (written) {
    const advanced: AdvancedConversation | null =
      written.advanced_version !== null ? { status: 'PROGRESS', version: Number(written.advanced_version) } : null;
    if (advanced && transition && advance)
      publishEvents(
        transition.stamped.map((e) => ({
          ...e,
          payload: {
            from: written.from_status,
            to: 'PROGRESS',
            version: advanced.version,
            reason: advance.reason,
            actor: advance.actor,
          },
        })),
      );
    return { outboxId, messageId, updatedAt: new Date(written.updated_at), advanced };
  }
  // Lost a race for the key (rare): the message row written for it goes, as in a refused send.
  await db.execute(sql`delete from messages where id = ${messageId}
    and not exists (select 1 from outbox where message_id = ${messageId})`);
  return null;
}

/**
 * Twilio accepted the message: the SID and status on the outbox row and the message, and the sent event, in one
 * transaction that holds the SID's lock (so a status callback that came first, and was parked, is applied here).
 * Statements: BEGIN, the lock, one CTE, COMMIT (plus the parked callbacks' own, when there are any).
 *
 * Issue 25 A, `callbackById`: the call gave Twilio a callback URL with the message id, so a callback that comes
 * first finds the message by id and applies itself instead of parking. Then ONE statement, no lock: the message's
 * row lock orders it against such a callback, and the status moves only forward (a `sent` or `delivered` already
 * applied stays; Twilio's answer is usually `queued`). Parked callbacks are still looked for in the statement and
 * applied under the lock if any (a callback of an older attempt's URL); none are, in the common case.
 *
 * Issue 25 C, `target`: a campaign send's target takes the `accepted` step of its flow (nextTargetState) in the same
 * statement: `sending` → last status (the message's, after the forward-only update), contacted once with its counter
 * increment, and with `outageNotice` its failure_notifications row marked sent; a delivered status (a simulated send's)
 * also takes nextTargetState's delivered step (completed, or its retry-on-no-reply follow-up scheduled; counted
 * successful), as applyTargetEvent would, without a transaction of its own. A status callback that beat this
 * write applied `accepted` itself (src/db/ingress/delivery-status.ts), so the target is then past `sending` or already
 * contacted, and this changes nothing but the last status. The target row is locked after the message row, as the
 * callback locks them, so the two cannot deadlock.
 *
 * `sid` null: a simulated send (nothing went out): outbox and message `simulated`, no SID. Also ONE statement, with
 * no lock and no parked-callback look-up: without a SID no status callback can ever come for it.
 */
export async function recordSendAccepted(
  db: Database,
  input: {
    tenantId: string;
    outboxId: string;
    messageId: string;
    sid: string | null;
    status: string;
    event: EventInput;
    callbackById?: boolean;
    target?: { targetId: string; outageNotice: boolean } | null;
  },
): Promise<Redelivery[]> {
  const recordset = eventRecordset([input.event]);
  const targetId = input.target?.targetId ?? null;
  const sid = input.sid;
  const parked =
    sid === null
      ? sql`false`
      : sql`exists (select 1 from parked_status_callbacks where tenant_id = ${input.tenantId}
        and message_sid = ${sid})`;
  const statement = (status: SQL) => sql`
      with o as (
        update outbox set status = ${sid === null ? 'simulated' : 'sent'}, provider_sid = ${sid}, sent_at = now(),
          updated_at = now()
        where id = ${input.outboxId}
      ),
      m as (
        update messages set provider_sid = ${input.sid}, status = ${status}, status_updated_at = now()
        where id = ${input.messageId}
        returning status
      ),
      ev as (
        insert into events (trace_id, span_id, parent_id, causal_trace_id, type, level, tenant_id, contact_id,
          conversation_id, message_id, payload, occurred_at)
        select e.* from jsonb_to_recordset(${recordset.json}::jsonb) as e(${eventColumns})
      ),
      -- The target's \`accepted\` step (nextTargetState, delivered() included) with the message's status after the
      -- forward-only update: the same SQL as a callback's (campaignStep).
      src as (select ${targetId}::uuid as campaign_target_id, true as early from m where ${targetId}::uuid is not null),
      ${campaignStep(sql`(select status from m)`, new Date(), sql`src`)},
      fn as (
        update failure_notifications set sent_at = now()
        where ${input.target?.outageNotice === true}::boolean and target_id = ${targetId}::uuid
      )
      select ${parked} as parked`;
  if (input.callbackById || sid === null) {
    // canAdvanceStatus in SQL: the new status only if it ranks above the current one (unknown current: replaced).
    // A simulated send's message is this attempt's alone (no callback moves it): its status is set as is.
    const forward =
      sid === null
        ? sql`${input.status}::text`
        : sql`case when coalesce(${rankSql(sql`messages.status`)} < ${rankSql(sql`${input.status}::text`)}, true)
      then ${input.status}::text else messages.status end`;
    const [row] = await db.execute<{ parked: boolean }>(statement(forward));
    const redeliveries =
      row?.parked && sid !== null ? await db.transaction((tx) => applyParkedStatuses(tx, input.tenantId, sid)) : [];
    publishEvents(recordset.stamped);
    return redeliveries;
  }
  const redeliveries = await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`${input.tenantId}:${sid}`}))`);
    const [row] = await tx.execute<{ parked: boolean }>(statement(sql`${input.status}`));
    return row?.parked ? applyParkedStatuses(tx, input.tenantId, sid) : [];
  });
  publishEvents(recordset.stamped);
  return redeliveries;
}

// The general path of the sender (src/services/outbound/sender.ts): its statements, each run in the caller's transaction
// where it passes one (`tx`).

export type OutboxRow = typeof outbox.$inferSelect;
export type OutboundMessageRow = typeof messages.$inferSelect;

/** The outbox row of this idempotency key, if an earlier attempt wrote it. */
export async function findOutboxByKey(tx: DbOrTx, idempotencyKey: string): Promise<OutboxRow | undefined> {
  const [existing] = await tx.select().from(outbox).where(eq(outbox.idempotencyKey, idempotencyKey));
  return existing;
}

/** Whether the contact has opted out, read FOR SHARE: ordered against a STOP's update of the contact. */
export async function contactOptedOutForShare(tx: DbOrTx, contactId: string): Promise<boolean> {
  const [contact] = await tx
    .select({ optedOutAt: contacts.optedOutAt })
    .from(contacts)
    .where(eq(contacts.id, contactId))
    .for('share');
  return Boolean(contact?.optedOutAt);
}

/** A send refused before it reached Twilio: its outbox row and its message are marked failed with the reason. */
export async function markSendRefused(
  tx: DbOrTx,
  input: { outboxId: string; messageId: string; reason: string },
): Promise<void> {
  await tx
    .update(outbox)
    .set({ status: 'failed', lastError: input.reason, updatedAt: sql`now()` })
    .where(eq(outbox.id, input.outboxId));
  await markOutboundMessageFailed(tx, input.messageId, input.reason);
}

/** The outbound message is failed with this reason (no Twilio error code). */
export async function markOutboundMessageFailed(tx: DbOrTx, messageId: string, reason: string): Promise<void> {
  await tx
    .update(messages)
    .set({ status: 'failed', errorMessage: reason, statusUpdatedAt: sql`now()` })
    .where(eq(messages.id, messageId));
}

/** The conversation's version, its row locked FOR UPDATE (a concurrent transition waits); undefined if none. */
export async function lockConversationVersion(tx: DbOrTx, conversationId: string): Promise<number | undefined> {
  const [conversation] = await tx
    .select({ version: conversations.version })
    .from(conversations)
    .where(eq(conversations.id, conversationId))
    .for('update');
  return conversation?.version;
}

/** The tenant's locale (undefined when the tenant does not exist). */
export async function tenantLocale(tx: DbOrTx, tenantId: string): Promise<string | undefined> {
  const [tenant] = await tx.select({ locale: tenants.locale }).from(tenants).where(eq(tenants.id, tenantId));
  return tenant?.locale;
}

/** The outbound message of a new send, `pending`; returns its id. */
export async function insertPendingOutboundMessage(
  tx: DbOrTx,
  values: Omit<typeof messages.$inferInsert, 'direction' | 'status'>,
): Promise<string> {
  const [message] = await tx
    .insert(messages)
    .values({ ...values, direction: 'outbound', status: 'pending' })
    .returning({ id: messages.id });
  return message!.id;
}

/** A refused send leaves nothing behind: its message row goes (its outbox row was never written). */
export async function deleteRefusedMessage(tx: DbOrTx, messageId: string): Promise<void> {
  await tx.delete(messages).where(eq(messages.id, messageId));
}

/** The outbox row of a new send (already failed when the send was decided as such before calling Twilio). */
export async function insertOutboxRow(tx: DbOrTx, values: typeof outbox.$inferInsert): Promise<OutboxRow> {
  const [created] = await tx.insert(outbox).values(values).returning();
  return created!;
}

/**
 * One open window_closed alert per tenant, purpose and conversation (an advisory lock orders concurrent sends): a
 * campaign of 10 000 does not raise 10 000.
 */
export async function raiseWindowClosedAlert(
  tx: DbOrTx,
  input: {
    tenantId: string;
    conversationId: string | null;
    purpose: string;
    severity: RaiseAlert['severity'];
    campaignTargetId: string | null;
  },
): Promise<void> {
  const { purpose } = input;
  const key = `${input.tenantId}:${purpose}:${input.conversationId ?? ''}`;
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`window_closed:${key}`}))`);
  const [open] = await tx
    .select({ id: alerts.id })
    .from(alerts)
    .where(
      and(
        eq(alerts.tenantId, input.tenantId),
        eq(alerts.type, 'window_closed'),
        isNull(alerts.resolvedAt),
        sql`${alerts.payload}->>'purpose' = ${purpose}`,
        input.conversationId ? eq(alerts.conversationId, input.conversationId) : isNull(alerts.conversationId),
      ),
    )
    .limit(1);
  if (open) return;
  await raiseAlerts(tx, [
    {
      tenantId: input.tenantId,
      conversationId: input.conversationId,
      type: 'window_closed',
      severity: input.severity,
      message: `WhatsApp message "${purpose}" not sent: the contact's 24-hour window is closed and no Content template is configured for it`,
      payload: { purpose, campaignTargetId: input.campaignTargetId },
    },
  ]);
}

/** The send went out (or was simulated): the SID and status on the outbox row and on the message. */
export async function recordSendFinished(
  tx: DbOrTx,
  input: { outboxId: string; messageId: string; sid: string | null; status: string },
): Promise<void> {
  await tx
    .update(outbox)
    .set({
      status: input.status === 'simulated' ? 'simulated' : 'sent',
      providerSid: input.sid,
      sentAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(eq(outbox.id, input.outboxId));
  await tx
    .update(messages)
    .set({ providerSid: input.sid, status: input.status, statusUpdatedAt: sql`now()` })
    .where(eq(messages.id, input.messageId));
}

/** A permanent Twilio error: the outbox row and the message are failed with its code and reason. */
export async function recordSendFailed(
  tx: DbOrTx,
  input: { outboxId: string; messageId: string; code: string | null; reason: string },
): Promise<void> {
  await tx
    .update(outbox)
    .set({ status: 'failed', lastErrorCode: input.code, lastError: input.reason, updatedAt: sql`now()` })
    .where(eq(outbox.id, input.outboxId));
  await tx
    .update(messages)
    .set({ status: 'failed', errorCode: input.code, errorMessage: input.reason, statusUpdatedAt: sql`now()` })
    .where(eq(messages.id, input.messageId));
}

/** Twilio answered with a retryable error, so nothing was sent: the row is back to `pending` for the next attempt. */
export async function markSendRetryPending(
  db: DbOrTx,
  outboxId: string,
  error: { code: string | null; reason: string },
): Promise<void> {
  await db
    .update(outbox)
    .set({ status: 'pending', lastErrorCode: error.code, lastError: error.reason, updatedAt: sql`now()` })
    .where(eq(outbox.id, outboxId));
}

/** No answer from Twilio (it may have the message): the row stays `sending`, marked so the next attempt looks it up. */
export async function markSendInDoubt(db: DbOrTx, outboxId: string, marker: string): Promise<void> {
  await db
    .update(outbox)
    .set({ lastError: marker, updatedAt: sql`now()` })
    .where(eq(outbox.id, outboxId));
}

/**
 * Compare-and-set: the row goes `sending` (one more attempt) only if it is still as this attempt read it, so of two
 * attempts that read the same row only one calls Twilio. False when the other one won.
 */
export async function claimSendAttempt(
  db: DbOrTx,
  row: Pick<OutboxRow, 'id' | 'status' | 'attempts'>,
): Promise<boolean> {
  const [mine] = await db
    .update(outbox)
    .set({ status: 'sending', attempts: sql`${outbox.attempts} + 1`, lastError: null, updatedAt: sql`now()` })
    .where(and(eq(outbox.id, row.id), eq(outbox.status, row.status), eq(outbox.attempts, row.attempts)))
    .returning({ id: outbox.id });
  return mine !== undefined;
}

/** What a redelivery resends: the original outbox row and its message (undefined when there is no outbox row). */
export async function findRedeliverySource(
  db: DbOrTx,
  messageId: string,
): Promise<{ box: OutboxRow; m: OutboundMessageRow } | undefined> {
  const [row] = await db
    .select({ box: outbox, m: messages })
    .from(outbox)
    .innerJoin(messages, eq(messages.id, outbox.messageId))
    .where(eq(outbox.messageId, messageId));
  return row;
}
