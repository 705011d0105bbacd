import { randomUUID } from 'node:crypto';
import { and, eq, isNull, sql, type SQL } from 'drizzle-orm';
import type {
  ConversationRef,
  NpsAnswerInput,
  OpenConversationInput,
  TransitionInput,
  TransitionResult,
} from '../../contract/pipeline';
import type { ConversationStatus } from '../../contract/types';
import { canTransition, isTerminal } from '../../domain/conversation-state';
import { childSpan } from '../../domain/trace';
import type { Database, DbOrTx } from '../core/client';
import { npsCategory } from '../../domain/nps';
import { EVENT_RECORDSET_COLUMNS, eventRecordset, publishEvents, recordEvents, type EventInput } from '../events/events';
import { ACTIVE_CONVERSATION_STATUSES, messages, satisfactionFeedback } from '../schema';

const STATUSES: ConversationStatus[] = ['PENDING', 'PROGRESS', 'IDLE', 'HUMAN', 'RESOLVED', 'CLOSED', 'EXPIRED'];
const activeStatusSql = sql.raw(ACTIVE_CONVERSATION_STATUSES.map((s) => `'${s}'`).join(', '));
const eventColumns = sql.raw(EVENT_RECORDSET_COLUMNS);
const pgTextArray = (values: readonly string[]) => `{${values.join(',')}}`;

/** Thrown when the conversation row is not there (deleted tenant, erased contact): the caller maps it. */
export class ConversationNotFound extends Error {
  constructor(message = 'conversation not found') {
    super(message);
    this.name = 'ConversationNotFound';
  }
}

/**
 * The CTEs that open a conversation row, shared by openConversation and the inbound statement (src/db/inbound.ts):
 * `<name>` inserts it (id, status and version when inserted; nothing when the contact has one open: the partial
 * unique index arbitrates races) and `<name>_h` its first state-history row. `contact` is the contact's id, a value
 * or a column of `from` (joined to `tenants t`); `when` adds conditions to the insert.
 */
export function openConversationCtes(
  name: string,
  o: {
    id: string;
    tenantId: string;
    contact: string | SQL;
    channel: string;
    workflowId: string;
    from?: SQL;
    when?: SQL;
  },
): SQL {
  const cte = sql.identifier(name);
  return sql`${cte} as (
      insert into conversations (id, tenant_id, contact_id, channel, workflow_id, assistant_type)
      select ${o.id}, t.id, ${o.contact}, ${o.channel}, ${o.workflowId}, t.assistant_type
      from tenants t${o.from ?? sql``} where t.id = ${o.tenantId}${o.when ? sql` and ${o.when}` : sql``}
      on conflict (tenant_id, contact_id) where status in (${activeStatusSql}) do nothing
      returning id, status, version
    ),
    ${sql.identifier(`${name}_h`)} as (
      insert into conversation_state_history (conversation_id, from_status, to_status, version, reason, actor)
      select id, null, 'PENDING', 1, 'first message', 'system' from ${cte}
    )`;
}

/**
 * Finds or creates the one open conversation of this contact in ONE statement: the insert (the partial unique index
 * arbitrates races), its first state-history row and the conversation.opened event, or the row already open.
 */
export async function openConversation(db: DbOrTx, input: OpenConversationInput): Promise<ConversationRef> {
  const id = randomUUID();
  const recordset = eventRecordset([
    {
      trace: childSpan(input.trace),
      type: 'conversation.opened',
      tenantId: input.tenantId,
      contactId: input.contactId,
      conversationId: id,
      payload: { channel: input.channel },
    },
  ]);
  const rows = await db.execute<{ id: string; status: ConversationStatus; version: number; created: boolean }>(sql`
    with ${openConversationCtes('ins', { ...input, id, contact: input.contactId })},
    ev as (
      insert into events (trace_id, span_id, parent_id, causal_trace_id, type, level, tenant_id, contact_id,
        conversation_id, message_id, payload, occurred_at)
      select e.* from jsonb_to_recordset(${recordset.json}::jsonb) as e(${eventColumns})
      where exists (select 1 from ins)
    )
    select id, status, version, true as created from ins
    union all
    select id, status, version, false from conversations
    where tenant_id = ${input.tenantId} and contact_id = ${input.contactId} and status in (${activeStatusSql})
      and not exists (select 1 from ins)`);
  const row = rows[0];
  if (!row) throw new ConversationNotFound('open conversation vanished');
  if (row.created) publishEvents(recordset.stamped);
  return { conversationId: row.id, status: row.status, version: row.version };
}

/**
 * One state transition (seed 002) in ONE statement: the row is locked (FOR UPDATE), the update applies only from a
 * status that may lead to `to` (and at `expectedVersion` when given), and the state-history row, the
 * conversation.transition event and the optional alert (with its alert.raised event) are written with it. Of two
 * concurrent transitions exactly one applies; the other gets `applied: false` and the state it lost to.
 */
export async function transitionConversation(db: DbOrTx, input: TransitionInput): Promise<TransitionResult> {
  const allowedFrom = STATUSES.filter((from) => from !== input.to && canTransition(from, input.to));
  const setAgent = input.assignedAgent !== undefined;
  const setDepartment = input.department !== undefined;
  const terminal = isTerminal(input.to);
  const span = childSpan(input.trace);
  const alertSpan = childSpan(span);
  const events: EventInput[] = [
    {
      trace: span,
      type: 'conversation.transition',
      conversationId: input.conversationId,
      payload: { to: input.to, reason: input.reason, actor: input.actor },
    },
    ...(input.alert
      ? [
          {
            trace: alertSpan,
            type: 'alert.raised',
            level: 'warn' as const,
            conversationId: input.conversationId,
            payload: { alertType: input.alert.type, severity: input.alert.severity },
          },
        ]
      : []),
  ];
  const recordset = eventRecordset(events);
  const alert = input.alert ?? null;
  const rows = await db.execute<{
    status: ConversationStatus;
    version: number;
    assigned_agent: string | null;
    tenant_id: string;
    contact_id: string;
    new_version: number | null;
  }>(sql`
    with cur as (
      select id, status, version, tenant_id, contact_id, assigned_agent from conversations
      where id = ${input.conversationId} for update
    ),
    ok as (
      select * from cur
      where (${input.expectedVersion ?? null}::int is null or cur.version = ${input.expectedVersion ?? null}::int)
        and ((cur.status::text = any(${pgTextArray(allowedFrom)}::text[]))
          or (cur.status::text = ${input.to} and ${setAgent}::boolean
            and cur.assigned_agent is distinct from ${input.assignedAgent ?? null}::uuid))
    ),
    upd as (
      update conversations c set
        status = ${input.to}::conversation_status,
        version = ok.version + 1,
        updated_at = now(),
        assigned_agent = case when ${setAgent}::boolean then ${input.assignedAgent ?? null}::uuid else c.assigned_agent end,
        department = case when ${setDepartment}::boolean then ${input.department ?? null}::text else c.department end,
        transferred_at = case when ${input.to}::text = 'HUMAN' and ok.status <> 'HUMAN' then now() else c.transferred_at end,
        resolved_by = coalesce(${input.resolvedBy ?? null}::text, c.resolved_by),
        closed_at = case when ${terminal}::boolean then now() else c.closed_at end,
        -- Desk (issue 20): a conversation that leaves HUMAN no longer waits for an agent.
        waiting_since = case when ${input.to}::text = 'HUMAN' then c.waiting_since else null end,
        sla_due_at = case when ${input.to}::text = 'HUMAN' then c.sla_due_at else null end,
        close_reason = case when ${terminal}::boolean then ${input.reason}::text else c.close_reason end
      from ok where c.id = ok.id
      returning c.version, ok.status as from_status, ok.tenant_id, ok.contact_id
    ),
    h as (
      insert into conversation_state_history (conversation_id, from_status, to_status, version, reason, actor)
      select ${input.conversationId}, from_status, ${input.to}::conversation_status, version, ${input.reason}, ${input.actor}
      from upd
    ),
    al as (
      insert into alerts (tenant_id, conversation_id, type, severity, message, payload)
      select upd.tenant_id, ${input.conversationId}, ${alert?.type ?? null}::text, ${alert?.severity ?? null}::text,
        ${alert?.message ?? null}::text,
        jsonb_build_object('reason', ${input.reason}::text, 'department', ${input.department ?? null}::text)
      from upd where ${alert !== null}::boolean
    ),
    -- Hybrid mode: a conversation that ends leaves its pending draft abandoned (and any unattended-draft alert
    -- resolved), in the same statement, so no pending draft outlives its conversation.
    dr as (
      update suggested_responses s set outcome = 'abandoned', decided_at = now()
      from upd where ${terminal}::boolean and s.conversation_id = ${input.conversationId} and s.outcome is null
    ),
    da as (
      update alerts a set resolved_at = now()
      from upd where ${terminal}::boolean and a.conversation_id = ${input.conversationId}
        and a.type in ('draft_unattended', 'sla_breached') and a.resolved_at is null
    ),
    ev as (
      insert into events (trace_id, span_id, parent_id, causal_trace_id, type, level, tenant_id, contact_id,
        conversation_id, message_id, payload, occurred_at)
      select e.trace_id, e.span_id, e.parent_id, e.causal_trace_id, e.type, e.level, upd.tenant_id, upd.contact_id,
        e.conversation_id, e.message_id,
        case when e.type = 'conversation.transition'
          then e.payload || jsonb_build_object('from', upd.from_status, 'version', upd.version)
          else e.payload end,
        e.occurred_at
      from upd, jsonb_to_recordset(${recordset.json}::jsonb) as e(${eventColumns})
    )
    select cur.status, cur.version, cur.assigned_agent, cur.tenant_id, cur.contact_id, upd.version as new_version
    from cur left join upd on true`);
  const row = rows[0];
  if (!row) throw new ConversationNotFound();
  if (row.new_version !== null) {
    publishEvents(
      recordset.stamped.map((e) => ({
        ...e,
        tenantId: row.tenant_id,
        contactId: row.contact_id,
        payload:
          e.type === 'conversation.transition'
            ? { from: row.status, to: input.to, version: row.new_version, reason: input.reason, actor: input.actor }
            : e.payload,
      })),
    );
    return { conversationId: input.conversationId, status: input.to, version: row.new_version, applied: true };
  }
  const unchanged = { conversationId: input.conversationId, status: row.status, version: row.version };
  if (input.expectedVersion !== undefined && input.expectedVersion !== row.version)
    return { ...unchanged, applied: false };
  // Already there (and no change of agent asked): nothing to do, and nothing refused.
  const reassigned = setAgent && input.assignedAgent !== row.assigned_agent;
  return { ...unchanged, applied: row.status === input.to && !reassigned };
}

/**
 * Attaches customer messages to the conversation (those not attached yet) and marks its last activity, in ONE
 * statement. While a human holds the conversation this is all that happens to them: the agents read them.
 */
export async function attachMessages(db: DbOrTx, conversationId: string, messageIds: string[]): Promise<void> {
  await db.execute(sql`
    with m as (
      update messages set conversation_id = ${conversationId}
      where id = any(${pgTextArray(messageIds)}::uuid[]) and conversation_id is null
    )
    update conversations set last_message_at = now(), updated_at = now() where id = ${conversationId}`);
}

/** The text of a stored message (undefined when there is no such message). */
export async function messageBody(db: DbOrTx, messageId: string): Promise<string | undefined> {
  const [message] = await db.select({ body: messages.body }).from(messages).where(eq(messages.id, messageId));
  return message?.body;
}

/**
 * A 0–10 answer to the NPS question, in one transaction: the message is attached to the conversation (if it is not
 * yet), the satisfaction_feedback row (one per conversation) and the nps.answered event.
 */
export async function recordNpsAnswer(db: Database, input: NpsAnswerInput & { score: number }): Promise<void> {
  const { score } = input;
  await db.transaction(async (tx) => {
    await tx
      .update(messages)
      .set({ conversationId: input.conversationId })
      .where(and(eq(messages.id, input.messageId), isNull(messages.conversationId)));
    await tx
      .insert(satisfactionFeedback)
      .values({
        tenantId: input.tenantId,
        conversationId: input.conversationId,
        contactId: input.contactId,
        messageId: input.messageId,
        score,
        category: npsCategory(score),
        resolvedBy: input.resolvedBy,
      })
      .onConflictDoNothing({ target: satisfactionFeedback.conversationId });
    await recordEvents(tx, [
      {
        trace: childSpan(input.trace),
        type: 'nps.answered',
        tenantId: input.tenantId,
        contactId: input.contactId,
        conversationId: input.conversationId,
        messageId: input.messageId,
        payload: { score, category: npsCategory(score), resolvedBy: input.resolvedBy },
      },
    ]);
  });
}
