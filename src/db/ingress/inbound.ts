import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { ConversationRef, InboundFailureInput } from '../../contract/pipeline';
import type { Channel, ConversationStatus, MediaItem, TraceContext } from '../../contract/types';
import { childSpan } from '../../domain/trace';
import { openSecret } from '../../secrets/keyring';
import { raiseAlerts } from '../events/alerts';
import type { Database } from '../core/client';
import { applyTargetEvent } from '../campaigns/targets';
import { openConversationCtes } from '../conversations/conversation';
import {
  EVENT_RECORDSET_COLUMNS,
  eventRecordset,
  publishEvents,
  recordEvents,
  type EventInput,
} from '../events/events';
import { ACTIVE_CONVERSATION_STATUSES, inboundFailures, messages, tenants } from '../schema';

const activeStatusSql = sql.raw(ACTIVE_CONVERSATION_STATUSES.map((s) => `'${s}'`).join(', '));

/** How long after a business-initiated message a customer's message still counts as its consequence. */
export const CAUSAL_WINDOW_MS = 72 * 3_600_000;

/** Tenants' hash keys never change (workflow ids are derived from them), so a worker keeps the ones it has read. */
const hashKeys = new Map<string, string>();

/** The tenant's contact-hash key, read once per process; null when the tenant does not exist. */
export async function tenantHashKey(db: Database, tenantId: string): Promise<string | null> {
  const known = hashKeys.get(tenantId);
  if (known) return known;
  const [row] = await db.select({ hashKey: tenants.hashKey }).from(tenants).where(eq(tenants.id, tenantId));
  if (!row) return null;
  // Issue 18 H: sealed with the secrets keyring, like auth tokens (a plain row from before opens as is).
  const key = openSecret(row.hashKey);
  hashKeys.set(tenantId, key);
  return key;
}

export interface InboundRecord {
  tenantId: string;
  channel: Channel;
  messageSid: string;
  from: string;
  to: string;
  phone: string;
  phoneHash: string;
  profileName: string | null;
  body: string;
  media: MediaItem[];
  receivedAt: string;
  originalRepliedMessageSid: string | null;
  /** The webhook's trace (its causal trace, if any, is the fallback when no replied-to message is found). */
  trace: TraceContext;
  /** The span the stored message gets (a child of `trace`). */
  storedSpan: TraceContext;
  webhookPayload: Record<string, unknown>;
  /** When the message goes on to a conversation: the routed event (its trace, a child of the stored span). */
  routed: {
    workflowId: string;
    trace: TraceContext;
    /**
     * Issue 25 A: open the contact's conversation in this statement too (see recordInbound), unless one of its
     * conversations ended less than this long ago (a run may still be alive then, waiting for an NPS answer).
     */
    openUnlessClosedWithinMs?: number;
  } | null;
}

export interface RecordedInboundRow {
  messageId: string;
  contactId: string;
  inserted: boolean;
  /** The message was already taken by a conversation (a late duplicate). */
  alreadyHandled: boolean;
  causalTraceId: string | null;
  /** The contact's open conversation, found or opened by the statement (routed messages only; else null). */
  conversation: ConversationRef | null;
  /** This statement opened that conversation (it did not exist before this message). */
  conversationCreated: boolean;
}

/**
 * Stores an inbound message once (unique tenant + MessageSid) with its contact and its events, in ONE statement:
 * the contact upsert, the look-up of the business-initiated message it may answer (T3: the one Twilio names, else our
 * latest message outside a conversation within CAUSAL_WINDOW_MS), the message insert and the webhook.received,
 * message.stored (and message.routed) events. A duplicate finds the stored row and writes nothing. A reply to a
 * campaign message then completes its target (C2), in a transaction of its own (rare: replies to campaigns only).
 */
export async function recordInbound(db: Database, input: InboundRecord): Promise<RecordedInboundRow> {
  const messageId = randomUUID();
  const common = { tenantId: input.tenantId, messageId };
  const events: EventInput[] = [
    {
      ...common,
      trace: input.trace,
      type: 'webhook.received',
      occurredAt: new Date(input.receivedAt),
      payload: input.webhookPayload,
    },
    {
      ...common,
      trace: input.storedSpan,
      type: 'message.stored',
      payload: { direction: 'inbound', bodyLength: input.body.length },
    },
    ...(input.routed
      ? [
          {
            ...common,
            trace: input.routed.trace,
            type: 'message.routed',
            payload: { workflowId: input.routed.workflowId },
          },
        ]
      : []),
  ];
  const conversationId = randomUUID();
  const opens = input.routed?.openUnlessClosedWithinMs;
  // Issue 25 A: the conversation.opened event of a conversation this statement opens (written only if it does).
  if (opens !== undefined && input.routed)
    events.push({
      trace: childSpan(input.routed.trace),
      type: 'conversation.opened',
      tenantId: input.tenantId,
      conversationId,
      payload: { channel: input.channel },
    });
  const recordset = eventRecordset(events);
  const replied = input.originalRepliedMessageSid
    ? sql`select trace_id, campaign_target_id from messages
          where tenant_id = ${input.tenantId} and provider_sid = ${input.originalRepliedMessageSid}
            and direction = 'outbound'
          limit 1`
    : sql`select trace_id, campaign_target_id from messages
          where contact_id = (select id from c) and direction = 'outbound' and conversation_id is null
            and trace_id is not null and created_at > ${new Date(Date.parse(input.receivedAt) - CAUSAL_WINDOW_MS).toISOString()}::timestamptz
          order by created_at desc limit 1`;
  const rows = await db.execute<{
    contact_id: string;
    inserted_id: string | null;
    existing_id: string | null;
    existing_conversation_id: string | null;
    replied_trace_id: string | null;
    replied_target_id: string | null;
    conversation_id: string | null;
    conversation_status: ConversationStatus | null;
    conversation_version: number | null;
    conversation_created: boolean | null;
  }>(sql`
    with c as (
      insert into contacts (tenant_id, phone, phone_hash, name)
      values (${input.tenantId}, ${input.phone}, ${input.phoneHash}, ${input.profileName})
      on conflict (tenant_id, phone) do update set updated_at = now(), name = coalesce(excluded.name, contacts.name),
        -- Issue 22 B: a message from the customer on the channel Twilio called invalid proves it works again.
        invalid_at = case when contacts.invalid_channel = ${input.channel}::channel then null else contacts.invalid_at end,
        invalid_code = case when contacts.invalid_channel = ${input.channel}::channel then null else contacts.invalid_code end,
        invalid_channel = case when contacts.invalid_channel = ${input.channel}::channel then null else contacts.invalid_channel end
      returning id
    ),
    replied as (${replied}),
    m as (
      insert into messages (id, tenant_id, contact_id, direction, channel, provider_sid, from_address, to_address,
        body, media, sent_by, status, correlation_id, trace_id, span_id, parent_span_id, created_at)
      select ${messageId}, ${input.tenantId}, c.id, 'inbound', ${input.channel}, ${input.messageSid}, ${input.from},
        ${input.to}, ${input.body}, ${JSON.stringify(input.media)}::jsonb, 'customer', 'received', ${input.messageSid},
        ${input.trace.traceId}, ${input.storedSpan.spanId}, ${input.trace.spanId}, ${new Date(input.receivedAt).toISOString()}::timestamptz
      from c
      on conflict (tenant_id, provider_sid) do nothing
      returning id
    ),
    existing as (
      select id, conversation_id from messages where tenant_id = ${input.tenantId} and provider_sid = ${input.messageSid}
    ),
    -- Issue 25 A: the contact's open conversation, or a new one (as openConversation,
    -- src/db/conversations/conversation.ts, opens it: the partial unique index arbitrates races, a loser gets no row
    -- and the workflow opens or finds it itself).
    -- Only for a message stored now, and not while a conversation that ended lately may still have a live run
    -- (its NPS wait): that run, not a new row, answers the message.
    open_now as (
      select id, status, version from conversations
      where ${opens !== undefined}::boolean and tenant_id = ${input.tenantId} and contact_id = (select id from c)
        and status in (${activeStatusSql})
    ),
    ${openConversationCtes('conv', {
      id: conversationId,
      tenantId: input.tenantId,
      contact: sql`c.id`,
      channel: input.channel,
      workflowId: input.routed?.workflowId ?? '',
      from: sql`, c`,
      when: sql`${opens !== undefined}::boolean and exists (select 1 from m) and not exists (select 1 from open_now)
        and not exists (
          select 1 from conversations e where e.tenant_id = ${input.tenantId} and e.contact_id = c.id
            and e.closed_at > now() - make_interval(secs => ${(opens ?? 0) / 1000}::float8)
        )`,
    })},
    ev as (
      insert into events (trace_id, span_id, parent_id, causal_trace_id, type, level, tenant_id, contact_id,
        conversation_id, message_id, payload, occurred_at)
      select e.trace_id, e.span_id, e.parent_id, coalesce((select trace_id from replied), e.causal_trace_id), e.type,
        e.level, e.tenant_id, (select id from c), e.conversation_id, e.message_id, e.payload, e.occurred_at
      from jsonb_to_recordset(${recordset.json}::jsonb) as e(${sql.raw(EVENT_RECORDSET_COLUMNS)})
      where exists (select 1 from m) and (e.type <> 'conversation.opened' or exists (select 1 from conv))
    ),
    conv_ref as (
      select id, status, version, true as created from conv
      union all select id, status, version, false from open_now
    )
    select (select id from c) as contact_id, (select id from m) as inserted_id, (select id from existing) as existing_id,
      (select conversation_id from existing) as existing_conversation_id,
      (select trace_id from replied) as replied_trace_id, (select campaign_target_id from replied) as replied_target_id,
      r.id as conversation_id, r.status as conversation_status, r.version as conversation_version,
      r.created as conversation_created
    from (select 1) one left join (select * from conv_ref limit 1) r on true`);
  const row = rows[0]!;
  const causalTraceId = row.replied_trace_id ?? input.trace.causalTraceId ?? null;
  const inserted = row.inserted_id !== null;
  const created = row.conversation_created === true;
  if (inserted)
    publishEvents(
      recordset.stamped
        .filter((e) => created || e.type !== 'conversation.opened')
        .map((e) => ({
          ...e,
          contactId: row.contact_id,
          trace: { ...e.trace, causalTraceId },
        })),
    );
  const alreadyHandled = !inserted && row.existing_conversation_id !== null;
  // Repeated by a retry that found the message stored but not yet handled: the target's `reply` event is idempotent.
  if (row.replied_target_id && !alreadyHandled) {
    const targetId = row.replied_target_id;
    await db.transaction((tx) => applyTargetEvent(tx, targetId, { kind: 'reply' }));
  }
  return {
    messageId: row.inserted_id ?? row.existing_id!,
    contactId: row.contact_id,
    inserted,
    alreadyHandled,
    causalTraceId,
    conversationCreated: created,
    conversation:
      row.conversation_id && row.conversation_status && row.conversation_version !== null
        ? {
            conversationId: row.conversation_id,
            status: row.conversation_status,
            version: Number(row.conversation_version),
          }
        : null,
  };
}

/**
 * D: the recorded `failed` outcome of an acknowledged message, in one transaction: the message kept whole in
 * inbound_failures (as escaped JSON text), its messages row (if stored) marked failed, and for a tenant that still
 * exists the `inbound_failed` alert and the inbound.failed event. Idempotent per MessageSid.
 */
export async function recordInboundFailure(
  db: Database,
  { input, stage, failureType, reason }: InboundFailureInput,
): Promise<{ recorded: boolean }> {
  return db.transaction(async (tx) => {
    const [tenant] = await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, input.tenantId));
    const [message] = await tx
      .select({ id: messages.id, contactId: messages.contactId })
      .from(messages)
      .where(and(eq(messages.tenantId, input.tenantId), eq(messages.providerSid, input.messageSid)));
    const [row] = await tx
      .insert(inboundFailures)
      .values({
        tenantId: input.tenantId,
        messageSid: input.messageSid,
        stage,
        failureType,
        reason,
        messageId: message?.id ?? null,
        input: JSON.stringify(input),
      })
      .onConflictDoNothing({ target: inboundFailures.messageSid })
      .returning({ id: inboundFailures.id });
    if (!row) return { recorded: false };
    if (message) {
      await tx
        .update(messages)
        .set({ status: 'failed', errorCode: failureType, errorMessage: reason, statusUpdatedAt: sql`now()` })
        .where(eq(messages.id, message.id));
    }
    // Alerts and events belong to a tenant; a message for a tenant that no longer exists keeps only its row.
    if (tenant) {
      await raiseAlerts(tx, [
        {
          tenantId: input.tenantId,
          type: 'inbound_failed',
          severity: 'high',
          message: `An inbound ${input.channel} message could not be handled (${stage}: ${failureType}); it is kept in inbound_failures`,
          payload: { messageSid: input.messageSid, stage, failureType, inboundFailureId: row.id },
        },
      ]);
      await recordEvents(tx, [
        {
          trace: childSpan(input.trace),
          type: 'inbound.failed',
          level: 'error',
          tenantId: input.tenantId,
          contactId: message?.contactId,
          messageId: message?.id,
          payload: { messageSid: input.messageSid, stage, failureType },
        },
      ]);
    }
    return { recorded: true };
  });
}
