import { sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from './client';
import { aiResults, conversations, messages, tenants } from './schema';

/*
 * The retention job's statements (F). Each blanks at most `limit` rows in one short statement and returns how many
 * it blanked; the caller repeats until fewer than `limit` come back. SKIP LOCKED: a row a turn is writing right now
 * is taken by the next run instead of waiting for it. Rows stay (counts, statuses, SIDs); only the content goes.
 */

/**
 * Issue 18 H: a tenant may keep its texts longer than the deployment's limit (`tenants.retention_days`, set with
 * `causeway tenant update --retention-days`), never shorter: a row goes when it is past both limits.
 */
const pastTenantRetention = (tenantId: SQL, createdAt: SQL) => sql`not exists (
  select 1 from ${tenants} t where t.id = ${tenantId} and t.retention_days is not null
    and ${createdAt} >= now() - t.retention_days * interval '1 day')`;

/** Message bodies and media links of messages created before `cutoff`. */
export async function blankMessageBodiesBefore(db: DbOrTx, cutoff: Date, limit: number): Promise<number> {
  const rows = await db.execute<{ id: string }>(sql`
    update ${messages} set body = '', media = '[]'::jsonb
    where id in (select id from ${messages} where ${messages.createdAt} < ${cutoff.toISOString()}::timestamptz and (${messages.body} <> '' or ${messages.media} <> '[]'::jsonb)
                   and ${pastTenantRetention(sql`${messages.tenantId}`, sql`${messages.createdAt}`)}
                 limit ${limit} for update skip locked)
    returning id`);
  return rows.length;
}

/** AI result outputs and errors of results created before `cutoff`. */
export async function blankAiResultsBefore(db: DbOrTx, cutoff: Date, limit: number): Promise<number> {
  const rows = await db.execute<{ id: string }>(sql`
    update ${aiResults} set output = null, error = null
    where id in (select id from ${aiResults} where ${aiResults.createdAt} < ${cutoff.toISOString()}::timestamptz and (${aiResults.output} is not null or ${aiResults.error} is not null)
                   and ${pastTenantRetention(sql`${aiResults.tenantId}`, sql`${aiResults.createdAt}`)}
                 limit ${limit} for update skip locked)
    returning id`);
  return rows.length;
}

/** Thread summaries are AI texts about the messages they replaced: they go with the conversation's last message. */
export async function clearConversationSummariesBefore(db: DbOrTx, cutoff: Date): Promise<void> {
  await db.execute(
    sql`update ${conversations} set summary = null where ${conversations.summary} is not null and ${conversations.lastMessageAt} < ${cutoff.toISOString()}::timestamptz
        and ${pastTenantRetention(sql`${conversations.tenantId}`, sql`${conversations.lastMessageAt}`)}`,
  );
}
