import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { conversationMessages } from '../../db/conversations/console';
import { addConversationNote, conversationNotesOf } from '../../db/conversations/notes';
import { authenticate, requireRole } from '../auth';
import { conversationActions } from '../../services/conversations';
import { conversationOptions, serviceContext, type AppDeps, type AppEnv } from '../context';
import { readJson } from '../body';
import { exportCsv, parseSearchQuery, searchPage } from '../desk-search';

// D: an optional public https media URL (Twilio fetches it; WhatsApp sends one per message); text optional with it.
export const messageBody = z
  .object({
    body: z.string().trim().max(1600).default(''),
    mediaUrl: z
      .url({ protocol: /^https$/, hostname: z.regexes.domain })
      .max(2000)
      .optional(),
  })
  .refine((m) => m.body.length > 0 || m.mediaUrl !== undefined, { message: 'a message needs a body or a mediaUrl' });
const reasonBody = z.object({ reason: z.string().trim().min(1).max(500).optional() });
/** Issue 20 E: an internal note (agents only, never sent). */
export const noteBody = z.object({ body: z.string().trim().min(1).max(4000) });
const takeOverBody = z.object({ force: z.boolean().optional() });

/**
 * Operator API for human handoff (I6): list and read conversations, take over, reply, release, resolve, close.
 * Scoped (issue 13 C): an AGENT sees their department's conversations (src/db/console.ts visibleTo); others 404.
 */
export function conversationRoutes(deps: AppDeps) {
  const actions = conversationActions(serviceContext(deps), conversationOptions(deps));
  const load = (c: Context<AppEnv>) => actions.load(c.get('operator'), c.req.param('id') ?? '');
  const key = (c: Context<AppEnv>) => {
    const header = c.req.header('idempotency-key');
    return header && /^[\w.:-]{1,128}$/.test(header) ? header : randomUUID();
  };

  return (
    new Hono<AppEnv>()
      .use('*', authenticate(deps))
      // Issue 20 E: search with paging (q, phone, status, department, from, to, cursor, limit); see desk-search.ts.
      .get('/', async (c) => c.json(await searchPage(deps.db, c.get('operator'), parseSearchQuery(c.req.query()))))
      .get('/export', requireRole('SUPERVISOR'), (c) => {
        const query = parseSearchQuery(c.req.query());
        c.get('log').info({ export: 'conversations' }, 'conversation search exported');
        return c.body(exportCsv(deps.db, c.get('operator'), query), 200, {
          'Content-Type': 'text/csv; charset=utf-8',
          'Content-Disposition': 'attachment; filename="conversations.csv"',
          'Cache-Control': 'no-store',
        });
      })
      .get('/:id', async (c) => {
        const row = await load(c);
        const history = await conversationMessages(deps.db, row.id, 100);
        return c.json({
          conversation: row,
          messages: history.map(({ errorCode: _e, statusUpdatedAt: _s, ...m }) => m),
        });
      })
      .get('/:id/notes', async (c) => {
        const row = await load(c);
        return c.json({ notes: await conversationNotesOf(deps.db, row.id) });
      })
      .post('/:id/notes', async (c) => {
        const row = await load(c);
        const { body } = await readJson(c, noteBody);
        const note = await addConversationNote(deps.db, {
          tenantId: row.tenantId,
          conversationId: row.id,
          authorId: c.get('operator').id,
          body,
        });
        return c.json({ note }, 201);
      })
      .post('/:id/takeover', async (c) => {
        const row = await load(c);
        const body = await readJson(c, takeOverBody);
        const snapshot = await actions.takeOver(c.get('operator'), row, { force: body.force, key: key(c) });
        return c.json({ conversation: snapshot });
      })
      .post('/:id/messages', async (c) => {
        const row = await load(c);
        const { body, mediaUrl } = await readJson(c, messageBody);
        return c.json({ message: await actions.reply(c.get('operator'), row, body, key(c), mediaUrl) }, 201);
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
      })
  );
}
