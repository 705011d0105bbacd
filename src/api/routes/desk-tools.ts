import { Hono } from 'hono';
import { z } from 'zod';
import { findCannedResponse, listCannedResponses, removeCannedResponse, upsertCannedResponse } from '../../db/knowledge/canned';
import { contactOf } from '../../db/conversations/console';
import { hasRole } from '../../domain/api-keys';
import { cannedVariables, renderCanned, unknownCannedVariables } from '../../domain/desk-tools';
import { authenticate, requireRole } from '../auth';
import { readJson } from '../body';
import { serviceContext, type AppDeps, type AppEnv } from '../context';
import { ApiError } from '../errors';
import { outreachBody, outreachTemplates, startOutreach } from '../../services/outreach';
import { loadVisibleConversation } from '../../services/workflow-updates';

export const cannedBody = z.object({
  title: z.string().trim().min(1).max(80),
  body: z.string().trim().min(1).max(1600),
  department: z.string().trim().min(1).max(40).nullish(),
});

/**
 * Issue 20 E: canned responses (`/api/canned`; agents read those of their department and the general ones,
 * supervisors and admins manage them) and agent-initiated outreach (`/api/outreach`).
 */
export function deskToolRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .use('/canned/*', authenticate(deps))
    .use('/canned', authenticate(deps))
    .use('/outreach/*', authenticate(deps))
    .use('/outreach', authenticate(deps))
    .get('/canned', async (c) => {
      const operator = c.get('operator');
      const rows = await listCannedResponses(
        deps.db,
        operator.tenantId,
        hasRole(operator.role, 'SUPERVISOR') ? undefined : operator.department,
      );
      // ?conversation=<id>: each response also rendered for that conversation (its contact, the agent).
      const conversationId = c.req.query('conversation');
      if (!conversationId) return c.json({ canned: rows });
      const conversation = await loadVisibleConversation(deps.db, operator, conversationId);
      const contact = await contactOf(deps.db, conversation.contactId);
      const vars = cannedVariables({
        contactName: contact?.name ?? null,
        agentName: operator.name,
        department: conversation.department,
      });
      return c.json({ canned: rows.map((r) => ({ ...r, text: renderCanned(r.body, vars) })) });
    })
    .post('/canned', requireRole('SUPERVISOR'), async (c) => {
      const input = await readJson(c, cannedBody);
      const unknown = unknownCannedVariables(input.body);
      if (unknown.length) throw new ApiError('bad_request', `unknown variables: ${unknown.join(', ')}`);
      const operator = c.get('operator');
      const row = await upsertCannedResponse(deps.db, {
        tenantId: operator.tenantId,
        department: input.department ?? null,
        title: input.title,
        body: input.body,
        createdBy: `user:${operator.id}`,
      });
      return c.json({ canned: row }, 201);
    })
    .delete('/canned/:id', requireRole('SUPERVISOR'), async (c) => {
      const id = c.req.param('id');
      const operator = c.get('operator');
      if (!z.uuid().safeParse(id).success || !(await findCannedResponse(deps.db, operator.tenantId, id)))
        throw new ApiError('not_found', 'no such canned response');
      await removeCannedResponse(deps.db, operator.tenantId, { id });
      return c.body(null, 204);
    })
    .get('/outreach/templates', async (c) =>
      c.json({ templates: await outreachTemplates(serviceContext(deps), c.get('operator').tenantId) }),
    )
    .post('/outreach', async (c) => {
      const req = await readJson(c, outreachBody);
      const header = c.req.header('idempotency-key');
      const key = req.key ?? (header && /^[\w.:-]{1,100}$/.test(header) ? header : undefined);
      const result = await startOutreach(serviceContext(deps), c.get('operator'), { ...req, key });
      return c.json({ outreach: result }, 201);
    });
}
