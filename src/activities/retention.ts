import { Context } from '@temporalio/activity';
import type { RetentionInput, RetentionResult } from '../contract';
import {
  blankAiResultsBefore,
  blankCopiesBefore,
  blankMessageBodiesBefore,
  clearConversationSummariesBefore,
} from '../db/conversations/retention';
import { blankDecidedDrafts } from '../db/conversations/drafts';
import { blankNotesBefore } from '../db/conversations/notes';
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
          const blanked = await blankMessageBodiesBefore(deps.db, cutoff, RETENTION_BATCH);
          result.messagesBlanked += blanked;
          Context.current().heartbeat(result);
          if (blanked < RETENTION_BATCH) break;
        }
        // Issue 20 E: agents' internal notes quote the conversation: they go with the message bodies.
        while ((await blankNotesBefore(deps.db, cutoff, RETENTION_BATCH)) === RETENTION_BATCH)
          Context.current().heartbeat(result);
        // The copies of the same words elsewhere (outbox variables, campaign target lines, failures, orphans, inbox).
        result.copiesBlanked = 0;
        for (;;) {
          const { changed, most } = await blankCopiesBefore(deps.db, cutoff, RETENTION_BATCH);
          result.copiesBlanked += changed;
          Context.current().heartbeat(result);
          if (most < RETENTION_BATCH) break;
        }
      }
      if (input.aiTextsMs !== null) {
        const cutoff = new Date(now - input.aiTextsMs);
        for (;;) {
          const blanked = await blankAiResultsBefore(deps.db, cutoff, RETENTION_BATCH);
          result.aiResultsBlanked += blanked;
          Context.current().heartbeat(result);
          if (blanked < RETENTION_BATCH) break;
        }
        // Hybrid mode's drafts (decided ones only: a pending draft is still to be sent) quote AI and agent texts.
        await blankDecidedDrafts(deps.db, cutoff);
        await clearConversationSummariesBefore(deps.db, cutoff);
      }
      deps.log.info({ ...result }, 'retention applied');
      return result;
    },
  };
}
