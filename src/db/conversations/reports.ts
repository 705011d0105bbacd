import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../core/client';

export interface DeskReportQuery {
  tenantId: string;
  since: Date;
  until: Date;
  department?: string;
  /** IANA zone the days are cut in. */
  timeZone: string;
}

/**
 * One line of the desk report: a (day, department, agent) group (`detail`), a whole day (`day`: department and agent
 * null), or the period's totals (`total`: every key null).
 */
export interface DeskReportRow {
  level: 'detail' | 'day' | 'total';
  day: string | null;
  department: string | null;
  agentId: string | null;
  agentName: string | null;
  conversations: number;
  ended: number;
  aiContained: number;
  handoffs: number;
  /** aiContained / ended (null when none ended). */
  aiContainment: number | null;
  /** handoffs / conversations. */
  handoffRate: number | null;
  firstResponseP50Seconds: number | null;
  firstResponseP90Seconds: number | null;
  resolutionP50Seconds: number | null;
  resolutionP90Seconds: number | null;
  slaBreaches: number;
  npsResponses: number;
  /** % promoters − % detractors, −100…100 (null without answers). */
  nps: number | null;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 10_000) / 10_000 : null);
const seconds = (v: unknown) => {
  const n = num(v);
  return n === null ? null : Math.round(n * 10) / 10;
};

/**
 * Issue 20 F: the desk report in ONE statement over the conversations started in [since, until) (index
 * conversations_tenant_started_idx / _department_started_idx), grouped by day (in `timeZone`), department and the
 * agent who holds (last held) the conversation, plus a line per day and one of totals (GROUPING SETS, so their
 * percentiles are true percentiles, not averages of groups).
 * - AI containment: ended conversations (RESOLVED, CLOSED, EXPIRED) that never went to a human (transferred_at null).
 * - Handoff: the conversation went to HUMAN. First response: from the (last) handoff to the first agent message
 *   after it (messages_conversation_created_idx). Resolution: start → closed_at of ended conversations.
 * - SLA breaches: `sla_breached` alerts of the group's conversations (alerts_tenant_type_created_idx).
 * - NPS: answers (satisfaction_feedback) of the group's conversations.
 * Times are wall-clock seconds, not desk hours (the desk's calendar is another module's; see docs/desk-tools.md).
 */
export async function deskReport(db: DbOrTx, q: DeskReportQuery): Promise<DeskReportRow[]> {
  // The planner's row estimates for grouping sets over a CTE are far off (billions), which turns JIT compilation on:
  // measured at 100k conversations, compiling took 1.8 s of a 3 s report. Off for this statement, and enough
  // work_mem for its sorts to stay in memory (they spilled to disk at the default 4 MB).
  return db.transaction(async (tx) => {
    await tx.execute(sql`set local jit = off`);
    await tx.execute(sql`set local work_mem = '32MB'`);
    return deskReportRows(tx, q);
  });
}

async function deskReportRows(db: DbOrTx, q: DeskReportQuery): Promise<DeskReportRow[]> {
  const rows = await db.execute<Record<string, unknown>>(sql`
    with c as (
      select c.id, c.department, c.assigned_agent, c.started_at, c.closed_at, c.transferred_at,
             c.status in ('RESOLVED', 'CLOSED', 'EXPIRED') as ended,
             (c.started_at at time zone ${q.timeZone})::date as day,
             case when c.transferred_at is not null then extract(epoch from (
               select min(m.created_at) from messages m
               where m.conversation_id = c.id and m.sent_by = 'agent' and m.created_at >= c.transferred_at
             ) - c.transferred_at) end as fr_secs
      from conversations c
      where c.tenant_id = ${q.tenantId}
        and c.started_at >= ${q.since.toISOString()}::timestamptz and c.started_at < ${q.until.toISOString()}::timestamptz
        ${q.department !== undefined ? sql`and c.department = ${q.department}` : sql``}
    ),
    sla as (
      select a.conversation_id as id, count(*)::int as n from alerts a
      where a.tenant_id = ${q.tenantId} and a.type = 'sla_breached' and a.conversation_id is not null
        and a.created_at >= ${q.since.toISOString()}::timestamptz
      group by a.conversation_id
    ),
    nps as (
      select f.conversation_id as id, f.category from satisfaction_feedback f
      where f.tenant_id = ${q.tenantId} and f.created_at >= ${q.since.toISOString()}::timestamptz
    )
    select grouping(c.day, c.department, c.assigned_agent) as level,
           c.day::text as day, c.department, c.assigned_agent as agent_id,
           case when grouping(c.assigned_agent) = 0 then max(u.name) end as agent_name,
           count(*)::int as conversations,
           count(*) filter (where c.ended)::int as ended,
           count(*) filter (where c.ended and c.transferred_at is null)::int as ai_contained,
           count(*) filter (where c.transferred_at is not null)::int as handoffs,
           percentile_cont(0.5) within group (order by c.fr_secs) as fr_p50,
           percentile_cont(0.9) within group (order by c.fr_secs) as fr_p90,
           percentile_cont(0.5) within group (order by extract(epoch from c.closed_at - c.started_at))
             filter (where c.ended and c.closed_at is not null) as res_p50,
           percentile_cont(0.9) within group (order by extract(epoch from c.closed_at - c.started_at))
             filter (where c.ended and c.closed_at is not null) as res_p90,
           coalesce(sum(sla.n), 0)::int as sla_breaches,
           count(nps.id)::int as nps_responses,
           count(*) filter (where nps.category = 'promoter')::int as promoters,
           count(*) filter (where nps.category = 'detractor')::int as detractors
    from c
    left join sla on sla.id = c.id
    left join nps on nps.id = c.id
    left join users u on u.id = c.assigned_agent
    group by grouping sets ((c.day, c.department, c.assigned_agent), (c.day), ())
    order by level, c.day, c.department nulls first, max(u.name) nulls first
  `);
  return rows.map((r) => {
    const conversations = Number(r.conversations);
    const ended = Number(r.ended);
    const aiContained = Number(r.ai_contained);
    const handoffs = Number(r.handoffs);
    const npsResponses = Number(r.nps_responses);
    return {
      level: Number(r.level) === 0 ? 'detail' : Number(r.level) === 3 ? 'day' : 'total',
      day: (r.day as string | null) ?? null,
      department: (r.department as string | null) ?? null,
      agentId: (r.agent_id as string | null) ?? null,
      agentName: (r.agent_name as string | null) ?? null,
      conversations,
      ended,
      aiContained,
      handoffs,
      aiContainment: ratio(aiContained, ended),
      handoffRate: ratio(handoffs, conversations),
      firstResponseP50Seconds: seconds(r.fr_p50),
      firstResponseP90Seconds: seconds(r.fr_p90),
      resolutionP50Seconds: seconds(r.res_p50),
      resolutionP90Seconds: seconds(r.res_p90),
      slaBreaches: Number(r.sla_breaches),
      npsResponses,
      nps:
        npsResponses > 0 ? Math.round(((Number(r.promoters) - Number(r.detractors)) / npsResponses) * 1000) / 10 : null,
    };
  });
}

export interface CampaignReportRow {
  campaignId: string;
  name: string;
  kind: string;
  status: string;
  channel: string;
  createdAt: string;
  targets: number;
  contacted: number;
  delivered: number;
  read: number;
  replied: number;
  promised: number;
  paid: number;
  debtCents: number;
  promisedCents: number;
  paidCents: number;
}

/**
 * Issue 20 F: each campaign created in [since, until) and its funnel, targets counted once per stage:
 * contacted (a send accepted), delivered (a message of the target delivered or read), read, replied, promised (a
 * promise to pay made from it), paid (a promise fulfilled); amounts: the targets' debt, promised and paid (fulfilled
 * promises). Target stages by campaign (campaign_targets_campaign_contact_uq), messages by target
 * (messages_campaign_target_idx), promises by campaign (promises_campaign_idx).
 */
export async function campaignReport(
  db: DbOrTx,
  q: { tenantId: string; since: Date; until: Date; campaignId?: string },
): Promise<CampaignReportRow[]> {
  const rows = await db.execute<Record<string, unknown>>(sql`
    with k as (
      select id, name, kind, status, channel, created_at from campaigns
      where tenant_id = ${q.tenantId}
        and created_at >= ${q.since.toISOString()}::timestamptz and created_at < ${q.until.toISOString()}::timestamptz
        ${q.campaignId ? sql`and id = ${q.campaignId}` : sql``}
    ),
    t as (
      select t.campaign_id, t.id, t.contacted_at, t.replied_at, coalesce(t.debt_amount_cents, 0) as debt,
             exists (select 1 from messages m where m.campaign_target_id = t.id and m.status in ('delivered', 'read')) as delivered,
             exists (select 1 from messages m where m.campaign_target_id = t.id and m.status = 'read') as read
      from campaign_targets t where t.campaign_id in (select id from k)
    ),
    p as (
      select campaign_id, target_id, sum(amount_cents) as promised_cents,
             sum(amount_cents) filter (where status = 'fulfilled') as paid_cents,
             bool_or(status = 'fulfilled') as paid
      from promises where campaign_id in (select id from k) and target_id is not null
      group by campaign_id, target_id
    )
    select k.id, k.name, k.kind, k.status, k.channel, k.created_at,
           count(t.id)::int as targets,
           count(t.id) filter (where t.contacted_at is not null)::int as contacted,
           count(t.id) filter (where t.delivered)::int as delivered,
           count(t.id) filter (where t.read)::int as read,
           count(t.id) filter (where t.replied_at is not null)::int as replied,
           count(p.target_id)::int as promised,
           count(p.target_id) filter (where p.paid)::int as paid,
           coalesce(sum(t.debt), 0)::bigint as debt_cents,
           coalesce(sum(p.promised_cents), 0)::bigint as promised_cents,
           coalesce(sum(p.paid_cents), 0)::bigint as paid_cents
    from k
    left join t on t.campaign_id = k.id
    left join p on p.campaign_id = k.id and p.target_id = t.id
    group by k.id, k.name, k.kind, k.status, k.channel, k.created_at
    order by k.created_at desc, k.id
  `);
  return rows.map((r) => ({
    campaignId: r.id as string,
    name: r.name as string,
    kind: r.kind as string,
    status: r.status as string,
    channel: r.channel as string,
    createdAt: new Date(r.created_at as string).toISOString(),
    targets: Number(r.targets),
    contacted: Number(r.contacted),
    delivered: Number(r.delivered),
    read: Number(r.read),
    replied: Number(r.replied),
    promised: Number(r.promised),
    paid: Number(r.paid),
    debtCents: Number(r.debt_cents),
    promisedCents: Number(r.promised_cents),
    paidCents: Number(r.paid_cents),
  }));
}
