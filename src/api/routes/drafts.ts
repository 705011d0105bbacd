import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { z } from 'zod';
import { listConversationDrafts } from '../../db/conversations/drafts';
import { isTerminal } from '../../domain/conversation-state';
import { authenticate } from '../auth';
import { serviceContext, type AppDeps, type AppEnv } from '../context';
import { draftActions } from '../../services/drafts';
import { readJson } from '../body';

const editBody = z.object({ text: z.string().trim().min(1).max(1600) });
const rejectBody = z.object({ reason: z.string().trim().min(1).max(500) });

/**
 * Hybrid mode's operator API (issue 13 B), mounted under /api/conversations: a conversation's AI drafts, and
 * approve (send as is), edit (send the agent's text) or reject (with a reason) of the pending one. AGENT and up.
 */
export function draftRoutes(deps: AppDeps) {
  const { db } = deps;
  const auth = authenticate(deps);
  const actions = draftActions(serviceContext(deps));
  const key = (c: Context<AppEnv>) => {
    const header = c.req.header('idempotency-key');
    return header && /^[\w.:-]{1,128}$/.test(header) ? header : randomUUID();
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
        const row = await actions.load(c.get('operator'), c.req.param('id'));
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
        const operator = c.get('operator');
        const row = await actions.load(operator, c.req.param('id'));
        await readJson(c, z.object({}));
        return c.json({ draft: await actions.approve(operator, row, c.req.param('draftId'), key(c)) }, 201);
      })
      .post('/:id/drafts/:draftId/edit', async (c) => {
        const operator = c.get('operator');
        const row = await actions.load(operator, c.req.param('id'));
        const { text } = await readJson(c, editBody);
        return c.json({ draft: await actions.edit(operator, row, c.req.param('draftId'), text, key(c)) }, 201);
      })
      .post('/:id/drafts/:draftId/reject', async (c) => {
        const operator = c.get('operator');
        const row = await actions.load(operator, c.req.param('id'));
        const { reason } = await readJson(c, rejectBody);
        return c.json({ draft: await actions.reject(operator, row, c.req.param('draftId'), reason, key(c)) });
      })
  );
}
