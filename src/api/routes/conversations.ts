import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { conversationMessages, listVisibleConversations } from '../../db/console';
import { authenticate } from '../auth';
import { conversationActions } from '../conversation-actions';
import type { AppDeps, AppEnv } from '../context';
import { ApiError } from '../errors';
import { readJson } from '../body';

const STATUSES = ['PENDING', 'PROGRESS', 'IDLE', 'HUMAN', 'RESOLVED', 'CLOSED', 'EXPIRED'] as const;
const listQuery = z.object({
  status: z.enum(STATUSES).optional(),
  department: z.string().min(1).max(40).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
const messageBody = z.object({ body: z.string().trim().min(1).max(1600) });
const reasonBody = z.object({ reason: z.string().trim().min(1).max(500).optional() });
const takeOverBody = z.object({ force: z.boolean().optional() });

/**
 * Operator API for human handoff (I6): list and read conversations, take over, reply, release, resolve, close.
 * Scoped (issue 13 C): an AGENT sees their department's conversations (src/db/console.ts visibleTo); others 404.
 */
export function conversationRoutes(deps: AppDeps) {
  const actions = conversationActions(deps);
  const load = (c: Context<AppEnv>) => actions.load(c.get('operator'), c.req.param('id') ?? '');
  const key = (c: Context<AppEnv>) => {
    const header = c.req.header('idempotency-key');
    return header && /^[\w.:-]{1,128}$/.test(header) ? header : randomUUID();
  };

  return new Hono<AppEnv>()
    .use('*', authenticate(deps))
    .get('/', async (c) => {
      const query = listQuery.safeParse(c.req.query());
      if (!query.success)
        throw new ApiError('bad_request', 'invalid query', {
          details: query.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        });
      return c.json({ conversations: await listVisibleConversations(deps.db, c.get('operator'), query.data) });
    })
    .get('/:id', async (c) => {
      const row = await load(c);
      const history = await conversationMessages(deps.db, row.id, 100);
      return c.json({
        conversation: row,
        messages: history.map(({ errorCode: _e, statusUpdatedAt: _s, ...m }) => m),
      });
    })
    .post('/:id/takeover', async (c) => {
      const row = await load(c);
      const body = await readJson(c, takeOverBody);
      const snapshot = await actions.takeOver(c.get('operator'), row, { force: body.force, key: key(c) });
      return c.json({ conversation: snapshot });
    })
    .post('/:id/messages', async (c) => {
      const row = await load(c);
      const { body } = await readJson(c, messageBody);
      return c.json({ message: await actions.reply(c.get('operator'), row, body, key(c)) }, 201);
    })
    .post('/:id/release', async (c) => {
      const row = await load(c);
      const { reason } = await readJson(c, reasonBody);
      return c.json({ conversation: await actions.release(c.get('operator'), row, reason, key(c)) });
    })
    .post('/:id/resolve', async (c) => {
      const row = await load(c);
      const { reason } = await readJson(c, reasonBody);
      return c.json({ conversation: await actions.resolve(c.get('operator'), row, reason, key(c)) });
    })
    .post('/:id/close', async (c) => {
      const row = await load(c);
      const { reason } = await readJson(c, reasonBody);
      return c.json({ conversation: await actions.close(c.get('operator'), row, reason, key(c)) });
    });
}
