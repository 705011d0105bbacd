import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { authenticate, requireRole } from '../auth';
import { setCapacity } from '../../db/conversations/desk';
import { readJson } from '../body';
import { conversationActions } from '../../services/conversations';
import { conversationOptions, serviceContext, type AppDeps, type AppEnv } from '../context';
import { deskActions } from '../../services/desk';
import { ApiError } from '../errors';

const presenceBody = z.object({ presence: z.enum(['online', 'away', 'offline']) });
const capacityBody = z.object({ capacity: z.number().int().min(0).max(100) });
const transferBody = z
  .object({
    department: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,39}$/)
      .optional(),
    agentId: z.uuid().optional(),
    note: z.string().trim().max(2000).optional(),
  })
  .refine((b) => b.department !== undefined || b.agentId !== undefined, {
    message: 'name a department or an agentId',
  });

/**
 * The desk's JSON API (issue 20 D): `GET|POST /api/desk/presence` (the caller's presence; `online` counts for
 * automatic assignment while the operator has a console session), `PUT /api/desk/agents/:id/capacity` and
 * `POST /api/conversations/:id/transfer`.
 */
export function deskRoutes(deps: AppDeps) {
  const services = serviceContext(deps);
  const desk = deskActions(services);
  const conversations = conversationActions(services, conversationOptions(deps));
  return (
    new Hono<AppEnv>()
      .use('*', authenticate(deps))
      .get('/desk/presence', async (c) => {
        const presence = await desk.presence(c.get('operator'));
        if (!presence) throw new ApiError('not_found', 'no such operator');
        return c.json(presence);
      })
      .post('/desk/presence', async (c) => {
        const { presence } = await readJson(c, presenceBody);
        return c.json(await desk.setPresence(c.get('operator'), presence));
      })
      // How many open conversations automatic assignment gives an agent at most (SUPERVISOR+).
      .put('/desk/agents/:id/capacity', requireRole('SUPERVISOR'), async (c) => {
        const { capacity } = await readJson(c, capacityBody);
        const id = c.req.param('id');
        if (!z.uuid().safeParse(id).success || !(await setCapacity(deps.db, c.get('operator').tenantId, id, capacity)))
          throw new ApiError('not_found', 'no such operator');
        return c.json({ id, capacity });
      })
      .post('/conversations/:id/transfer', async (c) => {
        const row = await conversations.load(c.get('operator'), c.req.param('id'));
        const body = await readJson(c, transferBody);
        const header = c.req.header('idempotency-key');
        const key = header && /^[\w.:-]{1,128}$/.test(header) ? header : randomUUID();
        return c.json({ conversation: await desk.transfer(c.get('operator'), row, body, key) });
      })
  );
}
