import { sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../core/client';
import { OPEN_TARGET_STATES } from '../../contract/statuses';
import {
  aiResults,
  campaignTargets,
  conversations,
  inboundFailures,
  inboundInbox,
  messages,
  orphanInbound,
  outbox,
  tenants,
} from '../schema';

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

/**
 * The copies of customers' words and details kept beside the messages, which must not outlive them: the outbox's
 * template variables (they carry the text and the customer's name), a finished campaign target's personal columns
 * (name, document, the imported line's variables), an inbound failure's saved input, an orphan webhook's params, and
 * a drained inbox row (its input is the message itself; drained, it has no further use). Same limits as the message
 * bodies, each statement bounded by `limit`; returns how many rows it changed, and the most of one kind (the caller repeats while any kind
 * filled its batch).
 */
export async function blankCopiesBefore(
  db: DbOrTx,
  cutoff: Date,
  limit: number,
): Promise<{ changed: number; most: number }> {
  const at = sql`${cutoff.toISOString()}::timestamptz`;
  const open = sql.join(
    OPEN_TARGET_STATES.map((s) => sql`${s}`),
    sql`, `,
  );
  const changed = await Promise.all([
    db.execute(sql`
      update ${outbox} set variables = null,
        content = case when content is null then null else jsonb_set(content, '{variables}', '{}'::jsonb) end
      where id in (select id from ${outbox} where ${outbox.createdAt} < ${at}
                     and (${outbox.variables} is not null or coalesce(${outbox.content}->'variables', '{}'::jsonb) <> '{}'::jsonb)
                     and ${pastTenantRetention(sql`${outbox.tenantId}`, sql`${outbox.createdAt}`)}
                   limit ${limit} for update skip locked)
      returning id`),
    db.execute(sql`
      update ${campaignTargets} set name = null, document = null, variables = '{}'::jsonb
      where id in (select id from ${campaignTargets} where ${campaignTargets.updatedAt} < ${at}
                     and ${campaignTargets.state} not in (${open})
                     and (${campaignTargets.name} is not null or ${campaignTargets.document} is not null or ${campaignTargets.variables} <> '{}'::jsonb)
                     and ${pastTenantRetention(sql`${campaignTargets.tenantId}`, sql`${campaignTargets.updatedAt}`)}
                   limit ${limit} for update skip locked)
      returning id`),
    db.execute(sql`
      update ${inboundFailures} set input = ''
      where id in (select id from ${inboundFailures} where ${inboundFailures.createdAt} < ${at} and ${inboundFailures.input} <> ''
                     and ${pastTenantRetention(sql`${inboundFailures.tenantId}`, sql`${inboundFailures.createdAt}`)}
                   limit ${limit} for update skip locked)
      returning id`),
    // An orphan names no tenant of ours (that is why it is an orphan): the deployment's limit alone applies.
    db.execute(sql`
      update ${orphanInbound} set payload = '{}'::jsonb
      where id in (select id from ${orphanInbound} where ${orphanInbound.receivedAt} < ${at} and ${orphanInbound.payload} <> '{}'::jsonb
                   limit ${limit} for update skip locked)
      returning id`),
    db.execute(sql`
      delete from ${inboundInbox}
      where id in (select id from ${inboundInbox} where ${inboundInbox.createdAt} < ${at} and ${inboundInbox.state} = 'drained'
                     and ${pastTenantRetention(sql`${inboundInbox.tenantId}`, sql`${inboundInbox.createdAt}`)}
                   limit ${limit} for update skip locked)
      returning id`),
  ]);
  const counts = changed.map((rows) => rows.length);
  return { changed: counts.reduce((a, b) => a + b, 0), most: Math.max(...counts) };
}
