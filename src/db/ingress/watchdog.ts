import { sql } from 'drizzle-orm';
import type { Database } from '../core/client';
import { ACTIVE_CONVERSATION_STATUSES } from '../schema';

export interface WatchdogResult {
  /** Inbound messages older than the SLA (within the last day) with no outcome: the gauge's value. */
  withoutOutcome: number;
  /** `inbound_stuck` alerts raised by this run (one per message, ever). */
  raised: number;
}

/**
 * Issue 21 D, the inbound watchdog. Every acknowledged inbound message must reach an outcome within the SLA; one
 * statement finds those that did not and raises one `inbound_stuck` alert per message (none for a message that has
 * one already, resolved or not). ONE query over `messages_inbound_created_idx` (inbound rows by created_at), bounded
 * to [now - 1 day, now - SLA]: a per-minute run reads only the last day's inbound messages, not the table. Outcomes:
 * - an outbound message to the contact after it, or carrying its correlation id (the MessageSid: the reply to the
 *   last message of a burst carries that one's; replies to earlier ones are after them) — campaign sends excluded;
 * - a send_decisions row for the contact after it (a reply held or refused by the policy gate);
 * - a hybrid draft in its conversation after it (waiting for an agent, watched by `draft_unattended`);
 * - its conversation handed to a human (HUMAN) or over (resolved, closed, expired);
 * - a recorded failure: the message marked failed, an inbound_failures row, an ai_failure alert after it;
 * - a STOP/START keyword handled (its contact.opted_out / opted_in event).
 * A transaction-scoped advisory lock keeps two runs (two task queues, a manual one) from alerting twice.
 */
export async function checkInboundOutcomes(db: Database, slaMs: number): Promise<WatchdogResult> {
  const open = sql.join(
    ACTIVE_CONVERSATION_STATUSES.filter((status) => status !== 'HUMAN').map((status) => sql`${status}`),
    sql`, `,
  );
  return await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('causeway.inbound-watchdog'))`);
    const [row] = await tx.execute<{ without_outcome: number; raised: number }>(sql`
      with stuck as (
        select m.id, m.tenant_id, m.conversation_id, m.provider_sid, m.created_at
        from messages m
        left join conversations c on c.id = m.conversation_id
        where m.direction = 'inbound'
          and m.created_at > now() - interval '1 day'
          and m.created_at <= now() - ${slaMs} * interval '1 millisecond'
          and m.status <> 'failed'
          and (c.id is null or c.status in (${open}))
          and not exists (select 1 from messages o where o.correlation_id = m.correlation_id
            and o.direction = 'outbound')
          and not exists (select 1 from messages o where o.contact_id = m.contact_id and o.created_at >= m.created_at
            and o.direction = 'outbound' and o.campaign_target_id is null)
          and not exists (select 1 from send_decisions d where d.tenant_id = m.tenant_id
            and d.decided_at >= m.created_at and d.contact_id = m.contact_id and d.campaign_id is null)
          and not exists (select 1 from suggested_responses s where s.conversation_id = m.conversation_id
            and s.created_at >= m.created_at)
          and not exists (select 1 from inbound_failures f where f.message_sid = m.provider_sid)
          and not exists (select 1 from alerts a where a.tenant_id = m.tenant_id and a.type = 'ai_failure'
            and a.created_at >= m.created_at and a.conversation_id = m.conversation_id)
          and not exists (select 1 from events e where e.contact_id = m.contact_id and e.occurred_at >= m.created_at
            and e.message_id = m.id and e.type in ('contact.opted_out', 'contact.opted_in'))
      ),
      raised as (
        insert into alerts (tenant_id, conversation_id, type, severity, message, payload)
        select s.tenant_id, s.conversation_id, 'inbound_stuck', 'high',
          'An inbound message got no reply, handoff, hold, refusal or recorded failure within ' ||
            ${formatSla(slaMs)} || ' of arriving',
          jsonb_build_object('messageId', s.id, 'messageSid', s.provider_sid, 'receivedAt', s.created_at,
            'slaMs', ${slaMs}::bigint)
        from stuck s
        where not exists (select 1 from alerts a where a.tenant_id = s.tenant_id and a.type = 'inbound_stuck'
          and a.created_at >= s.created_at and a.payload->>'messageId' = s.id::text)
        returning 1
      )
      select (select count(*) from stuck)::int as without_outcome, (select count(*) from raised)::int as raised`);
    return { withoutOutcome: row?.without_outcome ?? 0, raised: row?.raised ?? 0 };
  });
}

/** The SLA as people write it (2m, 90s, 1h30m), for the alert's text. */
export function formatSla(ms: number): string {
  if (ms % 1000 !== 0 || ms < 1000) return `${ms}ms`;
  let rest = ms / 1000;
  const parts: string[] = [];
  for (const [unit, size] of [
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join('');
}
