import { sql } from 'drizzle-orm';
import type { DbOrTx } from './client';
import { aiResults, conversations, messages } from './schema';

/*
 * The retention job's statements (F). Each blanks at most `limit` rows in one short statement and returns how many
 * it blanked; the caller repeats until fewer than `limit` come back. SKIP LOCKED: a row a turn is writing right now
 * is taken by the next run instead of waiting for it. Rows stay (counts, statuses, SIDs); only the content goes.
 */

/** Message bodies and media links of messages created before `cutoff`. */
export async function blankMessageBodiesBefore(db: DbOrTx, cutoff: Date, limit: number): Promise<number> {
  const rows = await db.execute<{ id: string }>(sql`
    update ${messages} set body = '', media = '[]'::jsonb
    where id in (select id from ${messages} where ${messages.createdAt} < ${cutoff.toISOString()}::timestamptz and (${messages.body} <> '' or ${messages.media} <> '[]'::jsonb)
                 limit ${limit} for update skip locked)
    returning id`);
  return rows.length;
}

/** AI result outputs and errors of results created before `cutoff`. */
export async function blankAiResultsBefore(db: DbOrTx, cutoff: Date, limit: number): Promise<number> {
  const rows = await db.execute<{ id: string }>(sql`
    update ${aiResults} set output = null, error = null
    where id in (select id from ${aiResults} where ${aiResults.createdAt} < ${cutoff.toISOString()}::timestamptz and (${aiResults.output} is not null or ${aiResults.error} is not null)
                 limit ${limit} for update skip locked)
    returning id`);
  return rows.length;
}

/** Thread summaries are AI texts about the messages they replaced: they go with the conversation's last message. */
export async function clearConversationSummariesBefore(db: DbOrTx, cutoff: Date): Promise<void> {
  await db.execute(
    sql`update ${conversations} set summary = null where ${conversations.summary} is not null and ${conversations.lastMessageAt} < ${cutoff.toISOString()}::timestamptz`,
  );
}
