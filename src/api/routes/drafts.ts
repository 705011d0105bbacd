import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { Hono, type Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { z } from 'zod';
import { approveDraftUpdate, editDraftUpdate, FailureType, rejectDraftUpdate } from '../../contract';
import { findVisibleConversation } from '../../db/console';
import { findDraft, listConversationDrafts } from '../../db/drafts';
import { hasRole } from '../../domain/api-keys';
import { isTerminal } from '../../domain/conversation-state';
import { authenticate } from '../auth';
import type { AppDeps, AppEnv } from '../context';
import { ApiError } from '../errors';
import { readJson } from '../body';

const editBody = z.object({ text: z.string().trim().min(1).max(1600) });
const rejectBody = z.object({ reason: z.string().trim().min(1).max(500) });

/**
 * Hybrid mode's operator API (issue 13 B), mounted under /api/conversations: a conversation's AI drafts, and
 * approve (send as is), edit (send the agent's text) or reject (with a reason) of the pending one. AGENT and up.
 */
export function draftRoutes(deps: AppDeps) {
  const { db, temporal } = deps;
  const auth = authenticate(deps);

  async function load(c: Context<AppEnv>) {
    const id = c.req.param('id') ?? '';
    if (!z.uuid().safeParse(id).success) throw new ApiError('not_found', 'no such conversation');
    // Tenant and department scoping, as for every conversation read (src/db/console.ts).
    const row = await findVisibleConversation(db, c.get('operator'), id);
    if (!row) throw new ApiError('not_found', 'no such conversation');
    return row;
  }

  async function loadDraft(c: Context<AppEnv>) {
    const row = await load(c);
    const draftId = c.req.param('draftId') ?? '';
    const draft = z.uuid().safeParse(draftId).success ? await findDraft(db, row.id, draftId) : null;
    if (!draft) throw new ApiError('not_found', 'no such draft');
    if (draft.outcome) throw new ApiError('conflict', `the draft was already ${draft.outcome}`);
    if (isTerminal(row.status)) throw new ApiError('conflict', `the conversation is already ${row.status}`);
    const operator = c.get('operator');
    if (!hasRole(operator.role, 'SUPERVISOR') && row.assignedAgent && row.assignedAgent !== operator.id)
      throw new ApiError('forbidden', 'the conversation is held by another agent');
    return { row, draftId };
  }

  /** The workflow's validator rejects a wrong or decided draft id: 409 with its reason, as for takeover & co. */
  async function update<R>(workflowId: string, run: (h: ReturnType<typeof temporal.workflow.getHandle>) => Promise<R>) {
    try {
      return await run(temporal.workflow.getHandle(workflowId));
    } catch (error) {
      if (
        error instanceof WorkflowUpdateFailedError &&
        error.cause instanceof ApplicationFailure &&
        error.cause.type === FailureType.InvalidState
      )
        throw new ApiError('conflict', error.cause.message, { cause: error });
      const failure =
        error instanceof WorkflowUpdateFailedError && error.cause instanceof ActivityFailure ? error.cause.cause : null;
      if (failure instanceof ApplicationFailure && failure.type === FailureType.WindowClosed)
        throw new ApiError(
          'window_closed',
          'The customer last wrote more than 24 hours ago, so WhatsApp only accepts an approved template now, and none is configured for AI replies (causeway template set --purpose ai_reply). The draft was not sent; it is still pending.',
          { cause: error },
        );
      if (error instanceof WorkflowNotFoundError)
        throw new ApiError('conflict', 'the conversation is no longer running', { cause: error });
      throw new ApiError('temporal_unavailable', 'could not reach the conversation, retry later', { cause: error });
    }
  }

  const who = (c: Context<AppEnv>) => ({
    agent: { id: c.get('operator').id, name: c.get('operator').name },
    actor: `user:${c.get('operator').id}`,
  });
  // A retried request (same Idempotency-Key) gets the first answer; a second decision is refused by the validator.
  const updateId = (c: Context<AppEnv>, action: string, draftId: string) => {
    const key = c.req.header('idempotency-key');
    return `draft-${action}:${draftId}:${key && /^[\w.:-]{1,128}$/.test(key) ? key : randomUUID()}`;
  };

  return (
    new Hono<AppEnv>()
      // Mounted beside conversationRoutes, whose middleware may have authenticated the request already.
      .use(
        '*',
        createMiddleware<AppEnv>(async (c, next) => {
          if (c.get('operator')) await next();
          else await auth(c, next);
        }),
      )
      .get('/:id/drafts', async (c) => {
        const row = await load(c);
        const drafts = await listConversationDrafts(db, row.id);
        return c.json({
          drafts: drafts.map((d) => ({
            ...d,
            // A draft left pending by a conversation that has ended can no longer be sent.
            pending: d.outcome === null && !isTerminal(row.status),
            decidedBy: d.decidedBy?.id ? d.decidedBy : null,
          })),
        });
      })
      .post('/:id/drafts/:draftId/approve', async (c) => {
        const { row, draftId } = await loadDraft(c);
        await readJson(c, z.object({}));
        const result = await update(row.workflowId, (h) =>
          h.executeUpdate(approveDraftUpdate, {
            args: [{ draftId, ...who(c) }],
            updateId: updateId(c, 'approve', draftId),
          }),
        );
        return c.json({ draft: result }, 201);
      })
      .post('/:id/drafts/:draftId/edit', async (c) => {
        const { row, draftId } = await loadDraft(c);
        const { text } = await readJson(c, editBody);
        const result = await update(row.workflowId, (h) =>
          h.executeUpdate(editDraftUpdate, {
            args: [{ draftId, text, ...who(c) }],
            updateId: updateId(c, 'edit', draftId),
          }),
        );
        return c.json({ draft: result }, 201);
      })
      .post('/:id/drafts/:draftId/reject', async (c) => {
        const { row, draftId } = await loadDraft(c);
        const { reason } = await readJson(c, rejectBody);
        const result = await update(row.workflowId, (h) =>
          h.executeUpdate(rejectDraftUpdate, {
            args: [{ draftId, reason, ...who(c) }],
            updateId: updateId(c, 'reject', draftId),
          }),
        );
        return c.json({ draft: result });
      })
  );
}
