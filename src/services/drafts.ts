import { z } from 'zod';
import { approveDraftUpdate, editDraftUpdate, rejectDraftUpdate } from '../contract';
import type { ConversationRow } from '../db/conversations/console';
import { findDraft } from '../db/conversations/drafts';
import type { Operator } from '../db/operators/users';
import { hasRole } from '../domain/api-keys';
import { isTerminal } from '../domain/conversation-state';
import type { OperatorContext } from './context';
import { ServiceError } from './errors';
import { loadVisibleConversation, updateFailure } from './workflow-updates';

/**
 * Hybrid mode's decisions on a pending AI draft, shared by the JSON API and the console: each is an update of the
 * conversation's workflow, whose validator refuses a wrong or already decided draft (409 with its reason).
 */
export function draftActions(ctx: Pick<OperatorContext, 'db' | 'temporal'>) {
  const { db } = ctx;
  const temporal = ctx.temporal.client;

  const load = (operator: Operator, id: string) => loadVisibleConversation(db, operator, id);

  async function pending(operator: Operator, row: ConversationRow, draftId: string) {
    const draft = z.uuid().safeParse(draftId).success ? await findDraft(db, row.id, draftId) : null;
    if (!draft) throw new ServiceError('not_found', 'no such draft');
    if (draft.outcome) throw new ServiceError('conflict', `the draft was already ${draft.outcome}`);
    if (isTerminal(row.status)) throw new ServiceError('conflict', `the conversation is already ${row.status}`);
    if (!hasRole(operator.role, 'SUPERVISOR') && row.assignedAgent && row.assignedAgent !== operator.id)
      throw new ServiceError('forbidden', 'the conversation is held by another agent');
  }

  async function update<R>(workflowId: string, run: (h: ReturnType<typeof temporal.workflow.getHandle>) => Promise<R>) {
    try {
      return await run(temporal.workflow.getHandle(workflowId));
    } catch (error) {
      // An approved draft goes out as the AI's message (sentBy ai): outside the window it needs an ai_reply template.
      throw updateFailure(error, { purpose: 'ai_reply', outcome: 'The draft was not sent; it is still pending.' });
    }
  }

  const who = (operator: Operator) => ({
    agent: { id: operator.id, name: operator.name },
    actor: `user:${operator.id}`,
  });
  // A retried request (same key) gets the first answer; a second decision is refused by the validator.
  const updateId = (action: string, draftId: string, key: string) => `draft-${action}:${draftId}:${key}`;

  return {
    load,
    async approve(operator: Operator, row: ConversationRow, draftId: string, key: string) {
      await pending(operator, row, draftId);
      return update(row.workflowId, (h) =>
        h.executeUpdate(approveDraftUpdate, {
          args: [{ draftId, ...who(operator) }],
          updateId: updateId('approve', draftId, key),
        }),
      );
    },
    async edit(operator: Operator, row: ConversationRow, draftId: string, text: string, key: string) {
      await pending(operator, row, draftId);
      return update(row.workflowId, (h) =>
        h.executeUpdate(editDraftUpdate, {
          args: [{ draftId, text, ...who(operator) }],
          updateId: updateId('edit', draftId, key),
        }),
      );
    },
    async reject(operator: Operator, row: ConversationRow, draftId: string, reason: string, key: string) {
      await pending(operator, row, draftId);
      return update(row.workflowId, (h) =>
        h.executeUpdate(rejectDraftUpdate, {
          args: [{ draftId, reason, ...who(operator) }],
          updateId: updateId('reject', draftId, key),
        }),
      );
    },
  };
}
