import { Context } from '@temporalio/activity';
import { sql } from 'drizzle-orm';
import type { RetentionInput, RetentionResult } from '../contract';
import { blankDecidedDrafts } from '../db/drafts';
import { aiResults, conversations, messages } from '../db/schema';
import type { ActivityDeps } from './deps';

/** Rows per statement: each batch is a short transaction, so webhooks and turns never wait long on it. */
export const RETENTION_BATCH = 1000;

/**
 * F: blanks message bodies (and media links) and AI texts (result outputs, conversation summaries) older than the
 * configured limits, in batches until none is left. Rows stay (counts, statuses, SIDs for reconciliation); only the
 * content goes. Idempotent: a rerun, or a run after a crash, continues where the last batch ended.
 */
export function createRetentionActivities(deps: ActivityDeps) {
  return {
    async applyRetention(input: RetentionInput): Promise<RetentionResult> {
      const now = deps.clock().getTime();
      const result: RetentionResult = { messagesBlanked: 0, aiResultsBlanked: 0 };
      if (input.messageBodiesMs !== null) {
        const cutoff = new Date(now - input.messageBodiesMs);
        for (;;) {
          // SKIP LOCKED: a row a turn is writing right now is taken by the next run instead of waiting for it.
          const rows = await deps.db.execute<{ id: string }>(sql`
            update ${messages} set body = '', media = '[]'::jsonb
            where id in (select id from ${messages} where ${messages.createdAt} < ${cutoff.toISOString()}::timestamptz and (${messages.body} <> '' or ${messages.media} <> '[]'::jsonb)
                         limit ${RETENTION_BATCH} for update skip locked)
            returning id`);
          result.messagesBlanked += rows.length;
          Context.current().heartbeat(result);
          if (rows.length < RETENTION_BATCH) break;
        }
      }
      if (input.aiTextsMs !== null) {
        const cutoff = new Date(now - input.aiTextsMs);
        for (;;) {
          const rows = await deps.db.execute<{ id: string }>(sql`
            update ${aiResults} set output = null, error = null
            where id in (select id from ${aiResults} where ${aiResults.createdAt} < ${cutoff.toISOString()}::timestamptz and (${aiResults.output} is not null or ${aiResults.error} is not null)
                         limit ${RETENTION_BATCH} for update skip locked)
            returning id`);
          result.aiResultsBlanked += rows.length;
          Context.current().heartbeat(result);
          if (rows.length < RETENTION_BATCH) break;
        }
        // Hybrid mode's drafts (decided ones only: a pending draft is still to be sent) quote AI and agent texts.
        await blankDecidedDrafts(deps.db, cutoff);
        // Thread summaries are AI texts about the messages they replaced: they go with the conversation's last message.
        await deps.db.execute(
          sql`update ${conversations} set summary = null where ${conversations.summary} is not null and ${conversations.lastMessageAt} < ${cutoff.toISOString()}::timestamptz`,
        );
      }
      deps.log.info({ ...result }, 'retention applied');
      return result;
    },
  };
}
