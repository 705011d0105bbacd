import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { DEPARTMENTS as LEGACY_DEPARTMENTS, type AlertSpec } from '../../contract/ai';
import type { AiFailureAlertInput } from '../../contract/pipeline';
import type { IdentityCheck } from '../../contract/statuses';
import type { MediaItem } from '../../contract/types';
import { childSpan } from '../../domain/trace';
import { raiseAlerts } from '../events/alerts';
import type { Database } from '../core/client';
import { hybridEnabledFor } from './drafts';
import { EVENT_RECORDSET_COLUMNS, eventRecordset, publishEvents, recordEvents, type EventInput } from '../events/events';
import { CAUSAL_WINDOW_MS } from '../ingress/inbound';
import { alerts } from '../schema';

const eventColumns = sql.raw(EVENT_RECORDSET_COLUMNS);
const uuidArray = (ids: readonly string[]) => `{${ids.join(',')}}`;

export interface TurnContext {
  assistantType: string;
  summary: string | null;
  contactId: string;
  tenantLocale: string;
  /** Issue 13 C: where a handoff goes when the model names no department. */
  defaultDepartment: string;
  /** Issue 20 D: the departments the transfer tool offers (never empty). */
  departments: string[];
  /** Hybrid mode is on for this conversation (its department's setting, else the tenant's): replies become drafts. */
  hybrid: boolean;
  /** Issue 23 E: the tenant's identity check, and when this conversation's contact passed it (null: not yet). */
  identityCheck: IdentityCheck;
  identityConfirmedAt: string | null;
  /** Issue 23 D: the tenant has knowledge base articles (else retrieval is skipped: no statement spent). */
  hasKnowledge: boolean;
  /**
   * The campaign message the customer may be answering (sent within the causal window), if any, with the target's
   * identity data (document, variables) for the identity check: never put in a prompt, a payload or a log.
   */
  campaign: {
    body: string;
    kind: string;
    name: string;
    debt: number | null;
    due: string | null;
    document: string | null;
    variables: Record<string, string> | null;
  } | null;
  prompt: { versionId: string; version: string; content: string } | null;
  /** The messages a prompt may show (with text, not failed, newer than the summary), newest first. */
  history: { id: string; direction: 'inbound' | 'outbound'; body: string; media: MediaItem[] }[];
  /**
   * This very turn (same conversation, correlation id and messages) already has a stored answer: a local activity
   * re-run after a lost workflow task, or a retry after the result was stored. The caller returns it as it is.
   */
  prior: { id: string; output: Record<string, unknown> } | null;
  /** Issue 18 E: this conversation's AI calls in the last hour, the tenant's tokens in the last day, its limits. */
  budget: {
    turnsLastHour: number;
    tokensLastDay: number;
    maxTurnsPerHour: number | null;
    maxTokensPerDay: number | null;
    promiseMaxDaysAhead: number | null;
    debtCents: number | null;
  };
}

/**
 * The start of an AI turn in ONE statement: attaches the burst to the conversation, marks its last activity, writes
 * the conversation.turn event (first attempt only), and reads everything the prompt needs: the conversation and
 * tenant, the campaign message being answered, the active prompt version (the collections prompt for a collection
 * reply; the tenant's own template before the built-in one) and the recent history. The history's snapshot predates
 * the attach, so the burst is matched by id as well. Null when the conversation does not exist.
 */
export async function loadTurnContext(
  db: Database,
  input: {
    tenantId: string;
    conversationId: string;
    messageIds: string[];
    correlationId: string;
    turnEvent: EventInput | null;
    historyWindow: number;
  },
): Promise<TurnContext | null> {
  const recordset = eventRecordset(input.turnEvent ? [input.turnEvent] : []);
  const ids = uuidArray(input.messageIds);
  const since = new Date(Date.now() - CAUSAL_WINDOW_MS).toISOString();
  const rows = await db.execute<{
    conv: TurnConv | null;
    camp: TurnContext['campaign'];
    prompt: TurnPrompt | null;
    hist: TurnContext['history'];
    prior: TurnContext['prior'];
  }>(sql`
    with prior as (
      select id, output from ai_results
      where conversation_id = ${input.conversationId} and correlation_id = ${input.correlationId} and status = 'ok'
        and input_message_ids = ${JSON.stringify(input.messageIds)}::jsonb
      order by created_at desc
      limit 1
    ),
    att as (
      update messages set conversation_id = ${input.conversationId}
      where id = any(${ids}::uuid[]) and conversation_id is null
    ),
    touch as (
      update conversations set last_message_at = now(), updated_at = now() where id = ${input.conversationId}
    ),
    ev as (
      insert into events (trace_id, span_id, parent_id, causal_trace_id, type, level, tenant_id, contact_id,
        conversation_id, message_id, payload, occurred_at)
      select e.* from jsonb_to_recordset(${recordset.json}::jsonb) as e(${eventColumns})
      where not exists (select 1 from prior)
    ),
    conv as (
      select c.assistant_type as "assistantType", c.summary, c.summarized_until as "summarizedUntil",
        c.contact_id as "contactId", t.locale as "tenantLocale", t.default_department as "defaultDepartment",
        (select coalesce(json_agg(d.name order by d.name), '[]'::json) from departments d
          where d.tenant_id = c.tenant_id) as "declaredDepartments",
        ${hybridEnabledFor({ tenantId: sql.raw('c.tenant_id'), department: sql.raw('coalesce(c.department, t.default_department)') })} as hybrid,
        t.identity_check as "identityCheck", c.identity_confirmed_at as "identityConfirmedAt",
        exists (select 1 from kb_articles k where k.tenant_id = t.id) as "hasKnowledge",
        -- Issue 18 E: the AI budget, counted in the database (every call is an ai_results row), not in workflow memory.
        (select count(*) from ai_results r
          where r.conversation_id = c.id and r.created_at > now() - interval '1 hour')::int as "turnsLastHour",
        (select coalesce(sum(coalesce(r.prompt_tokens, 0) + coalesce(r.completion_tokens, 0)), 0) from ai_results r
          where r.tenant_id = c.tenant_id and r.created_at > now() - interval '1 day')::bigint as "tokensLastDay",
        t.ai_max_turns_per_hour as "maxTurnsPerHour", t.ai_max_tokens_per_day as "maxTokensPerDay",
        t.promise_max_days_ahead as "promiseMaxDaysAhead",
        -- The debt a promise is bounded by: the contact's target that registerPromiseOnce would link (60 days).
        (select ct.debt_amount_cents from campaign_targets ct
          where ct.contact_id = c.contact_id and ct.last_attempt_at > now() - interval '60 days'
          order by ct.last_attempt_at desc limit 1) as "debtCents"
      from conversations c join tenants t on t.id = c.tenant_id
      where c.id = ${input.conversationId}
    ),
    camp as (
      select m.body, k.kind, k.name, ct.debt_amount_cents as debt, ct.due_date::text as due, ct.document, ct.variables
      from campaign_targets ct
      join campaigns k on k.id = ct.campaign_id
      join messages m on m.id = ct.last_message_id
      where ct.contact_id = (select "contactId" from conv) and ct.last_attempt_at > ${since}::timestamptz
      order by ct.last_attempt_at desc
      limit 1
    ),
    prompt as (
      select pv.id as "versionId", pv.version, pv.content
      from prompt_versions pv join prompt_templates pt on pt.id = pv.template_id
      where pv.active
        and pt.assistant_type = case when (select kind from camp) = 'collection' then 'collections'
          else (select "assistantType" from conv) end
        and (pt.tenant_id = ${input.tenantId} or pt.tenant_id is null)
      order by pt.tenant_id is null
      limit 1
    ),
    hist as (
      select direction, body, media, created_at, id from messages
      where (conversation_id = ${input.conversationId} or (id = any(${ids}::uuid[]) and conversation_id is null))
        and (body <> '' or media <> '[]'::jsonb) and status <> 'failed'
        and ((select "summarizedUntil" from conv) is null or created_at > (select "summarizedUntil" from conv))
      order by created_at desc, id desc
      limit ${input.historyWindow}
    )
    select (select row_to_json(conv) from conv) as conv, (select row_to_json(camp) from camp) as camp,
      (select row_to_json(prompt) from prompt) as prompt, (select row_to_json(prior) from prior) as prior,
      (select coalesce(json_agg(json_build_object('id', id, 'direction', direction, 'body', body, 'media', media)
        order by created_at desc, id desc), '[]'::json) from hist) as hist`);
  const row = rows[0];
  if (!row?.conv) return null;
  if (!row.prior) publishEvents(recordset.stamped);
  return {
    prior: row.prior,
    assistantType: row.conv.assistantType,
    summary: row.conv.summary,
    contactId: row.conv.contactId,
    tenantLocale: row.conv.tenantLocale,
    defaultDepartment: row.conv.defaultDepartment,
    departments: handoffDepartments(row.conv.declaredDepartments ?? [], row.conv.defaultDepartment),
    identityCheck: row.conv.identityCheck,
    identityConfirmedAt: row.conv.identityConfirmedAt,
    hasKnowledge: row.conv.hasKnowledge === true,
    hybrid: row.conv.hybrid === true,
    budget: {
      turnsLastHour: Number(row.conv.turnsLastHour),
      tokensLastDay: Number(row.conv.tokensLastDay),
      maxTurnsPerHour: row.conv.maxTurnsPerHour,
      maxTokensPerDay: row.conv.maxTokensPerDay === null ? null : Number(row.conv.maxTokensPerDay),
      promiseMaxDaysAhead: row.conv.promiseMaxDaysAhead,
      debtCents: row.conv.debtCents === null ? null : Number(row.conv.debtCents),
    },
    campaign: row.camp,
    prompt: row.prompt,
    history: row.hist,
  };
}

interface TurnConv {
  turnsLastHour: number;
  tokensLastDay: number;
  maxTurnsPerHour: number | null;
  maxTokensPerDay: number | null;
  promiseMaxDaysAhead: number | null;
  debtCents: number | null;
  assistantType: string;
  summary: string | null;
  summarizedUntil: string | null;
  contactId: string;
  tenantLocale: string;
  defaultDepartment: string;
  declaredDepartments: string[] | null;
  identityCheck: IdentityCheck;
  identityConfirmedAt: string | null;
  hasKnowledge: boolean | null;
  hybrid: boolean | null;
}

/**
 * Issue 20 D: the departments the AI may hand a conversation to are the tenant's (declared, plus the default one).
 * A tenant that never declared any keeps the four the assistant always knew, so its handoffs do not change.
 */
export function handoffDepartments(declared: string[], defaultDepartment: string): string[] {
  const names = new Set([defaultDepartment, ...(declared.length > 0 ? declared : LEGACY_DEPARTMENTS)]);
  return [...names].sort();
}

/** Issue 23 C: a message's media with what the model heard or saw, stored with it (retention and erasure blank it). */
export async function recordMediaText(db: Database, messageId: string, media: MediaItem[]): Promise<void> {
  await db.execute(sql`update messages set media = ${JSON.stringify(media)}::jsonb where id = ${messageId}`);
}

/** Issue 23 E: the contact passed the identity check in this conversation (the first confirmation stands). */
export async function confirmIdentity(db: Database, conversationId: string): Promise<void> {
  await db.execute(sql`
    update conversations set identity_confirmed_at = now(), updated_at = now()
    where id = ${conversationId} and identity_confirmed_at is null`);
}

/**
 * Issue 23 E: may a debt-bearing template go to this contact? Yes when the tenant's check is off, when the contact
 * confirmed their identity in the conversation the message belongs to, or when we hold no debt of theirs (no
 * collection target: a promise they made on their own quotes only what they said).
 */
export async function debtDisclosureAllowed(
  db: Database,
  input: { tenantId: string; contactId: string; conversationId: string | null },
): Promise<{ allowed: boolean; method: IdentityCheck; locale: string }> {
  const rows = await db.execute<{ method: IdentityCheck; locale: string; confirmed: boolean; debtor: boolean }>(sql`
    select t.identity_check as method, t.locale,
      exists (select 1 from conversations c where c.id = ${input.conversationId}::uuid and c.tenant_id = t.id
        and c.identity_confirmed_at is not null) as confirmed,
      exists (select 1 from campaign_targets ct join campaigns k on k.id = ct.campaign_id
        where ct.contact_id = ${input.contactId} and ct.tenant_id = t.id
          and (k.kind = 'collection' or ct.debt_amount_cents is not null)) as debtor
    from tenants t where t.id = ${input.tenantId}`);
  const row = rows[0];
  if (!row) return { allowed: false, method: 'cpf-last-digits', locale: 'pt-BR' };
  return { allowed: row.method === 'off' || row.confirmed || !row.debtor, method: row.method, locale: row.locale };
}
interface TurnPrompt {
  versionId: string;
  version: string;
  content: string;
}

export interface AiResultRow {
  tenantId: string;
  conversationId: string;
  correlationId: string;
  traceId: string;
  provider: 'openai' | 'scripted';
  model: string;
  attempt: number;
  promptVersionId?: string | null;
  inputMessageIds?: string[];
  latencyMs: number;
  promptTokens?: number | null;
  completionTokens?: number | null;
  output?: Record<string, unknown> | null;
  error?: string | null;
}

/**
 * Stores one AI call's result with its alerts and events in ONE statement. The alerts and events are built by the caller;
 * both get the new row's id (generated here). Returns the ai_results id.
 */
export async function recordAiResult(
  db: Database,
  result: AiResultRow & { status: 'ok' | 'failed' },
  alerts: (aiResultId: string) => (AlertSpec & { payload: Record<string, unknown> })[],
  events: (aiResultId: string) => EventInput[],
): Promise<string> {
  const id = randomUUID();
  const recordset = eventRecordset(events(id));
  const alertJson = JSON.stringify(
    alerts(id).map((a) => ({ type: a.type, severity: a.severity, message: a.message, payload: a.payload })),
  );
  await db.execute(sql`
    with r as (
      insert into ai_results (id, tenant_id, conversation_id, correlation_id, trace_id, provider, model, status,
        attempt, prompt_version_id, input_message_ids, prompt_tokens, completion_tokens, latency_ms, output, error)
      values (${id}, ${result.tenantId}, ${result.conversationId}, ${result.correlationId}, ${result.traceId},
        ${result.provider}, ${result.model}, ${result.status}, ${result.attempt}, ${result.promptVersionId ?? null}::uuid,
        ${JSON.stringify(result.inputMessageIds ?? [])}::jsonb, ${result.promptTokens ?? null}::int,
        ${result.completionTokens ?? null}::int, ${result.latencyMs},
        ${result.output ? JSON.stringify(result.output) : null}::jsonb, ${result.error ?? null}::text)
    ),
    al as (
      insert into alerts (tenant_id, conversation_id, type, severity, message, payload)
      select ${result.tenantId}, ${result.conversationId}, a.type, a.severity, a.message, a.payload
      from jsonb_to_recordset(${alertJson}::jsonb) as a(type text, severity text, message text, payload jsonb)
    )
    insert into events (trace_id, span_id, parent_id, causal_trace_id, type, level, tenant_id, contact_id,
      conversation_id, message_id, payload, occurred_at)
    select e.* from jsonb_to_recordset(${recordset.json}::jsonb) as e(${eventColumns})`);
  publishEvents(recordset.stamped);
  return id;
}

/**
 * G: the fallback went out because the AI failed after its retries: one `ai_failure` alert per turn (conversation and
 * correlation id) with its alert.raised event, in one transaction; nothing when the turn has its alert already.
 */
export async function raiseAiFailureAlert(db: Database, input: AiFailureAlertInput): Promise<void> {
  await db.transaction(async (tx) => {
    const [open] = await tx
      .select({ id: alerts.id })
      .from(alerts)
      .where(
        and(
          eq(alerts.conversationId, input.conversationId),
          eq(alerts.type, 'ai_failure'),
          sql`${alerts.payload}->>'correlationId' = ${input.correlationId}`,
        ),
      )
      .limit(1);
    if (open) return;
    await raiseAlerts(tx, [
      {
        tenantId: input.tenantId,
        conversationId: input.conversationId,
        type: 'ai_failure',
        severity: 'high',
        message: `The assistant failed after its retries (${input.failureType}); the customer got the fallback message`,
        payload: { correlationId: input.correlationId, failureType: input.failureType },
      },
    ]);
    await recordEvents(tx, [
      {
        trace: childSpan(input.trace),
        type: 'alert.raised',
        level: 'warn',
        tenantId: input.tenantId,
        conversationId: input.conversationId,
        payload: { alertType: 'ai_failure', severity: 'high' },
      },
    ]);
  });
}
