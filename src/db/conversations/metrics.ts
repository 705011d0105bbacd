import { sql } from 'drizzle-orm';
import type { Database } from '../core/client';
import { ACTIVE_CONVERSATION_STATUSES } from '../schema';

/**
 * Per active conversation: its contact's first inbound message after the last outbound one to that contact that
 * did not fail (a failed reply answers nobody), as an age in ms, split by who owes the answer (the AI, or an agent
 * in HUMAN). By contact, not conversation_id: a message is attached to its conversation only when its turn starts,
 * and one stuck before that is exactly what the gauge is for. Uses conversations(status, …) and
 * messages(contact_id, created_at).
 */
export async function oldestUnansweredAgeMs(db: Database): Promise<{ ai: number; human: number }> {
  const active = sql.join(
    ACTIVE_CONVERSATION_STATUSES.map((status) => sql`${status}`),
    sql`, `,
  );
  const rows = await db.execute<{ human: boolean; age_ms: number | null }>(sql`
    select c.status = 'HUMAN' as human, (extract(epoch from (now() - min(u.first_unanswered))) * 1000)::float8 as age_ms
    from conversations c
    cross join lateral (
      select min(i.created_at) as first_unanswered from messages i
      where i.contact_id = c.contact_id and i.direction = 'inbound'
        and i.created_at > coalesce((select max(o.created_at) from messages o
          where o.contact_id = c.contact_id and o.direction = 'outbound' and o.status <> 'failed'), '-infinity'::timestamptz)
    ) u
    where c.status in (${active})
    group by 1`);
  const age = (human: boolean) => Math.max(0, Math.round(rows.find((r) => r.human === human)?.age_ms ?? 0));
  return { ai: age(false), human: age(true) };
}
