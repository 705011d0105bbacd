import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { and, desc, eq, type SQL } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import {
  agentMessageUpdate,
  closeUpdate,
  FailureType,
  releaseUpdate,
  resolveUpdate,
  takeOverUpdate,
  type ConversationStatus,
} from '../../contract';
import { CONVERSATION_STATUSES } from '../../contract/statuses';
import { contacts, conversations, messages, users } from '../../db/schema';
import { hasRole } from '../../domain/api-keys';
import { isTerminal } from '../../domain/conversation-state';
import { authenticate } from '../auth';
import type { AppDeps, AppEnv } from '../context';
import { ApiError } from '../errors';
import { readJson } from '../body';

const listQuery = z.object({
  status: z.enum(CONVERSATION_STATUSES).optional(),
  department: z.string().min(1).max(40).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
const messageBody = z.object({ body: z.string().trim().min(1).max(1600) });
const reasonBody = z.object({ reason: z.string().trim().min(1).max(500).optional() });
const takeOverBody = z.object({ force: z.boolean().optional() });

/** Operator API for human handoff (I6): list and read conversations, take over, reply, release, resolve, close. */
export function conversationRoutes(deps: AppDeps) {
  const { db, temporal } = deps;

  async function load(c: Context<AppEnv>) {
    const id = c.req.param('id') ?? '';
    if (!z.uuid().safeParse(id).success) throw new ApiError('not_found', 'no such conversation');
    const [row] = await db
      .select()
      .from(conversations)
      .where(and(eq(conversations.id, id), eq(conversations.tenantId, c.get('operator').tenantId)));
    if (!row) throw new ApiError('not_found', 'no such conversation');
    return row;
  }

  /** Sends an update to the conversation's workflow; its rejections become 409 with the workflow's reason. */
  async function update<R>(
    row: { workflowId: string; status: ConversationStatus },
    run: (handle: ReturnType<typeof temporal.workflow.getHandle>) => Promise<R>,
  ): Promise<R> {
    if (isTerminal(row.status)) throw new ApiError('conflict', `the conversation is already ${row.status}`);
    try {
      return await run(temporal.workflow.getHandle(row.workflowId));
    } catch (error) {
      if (
        error instanceof WorkflowUpdateFailedError &&
        error.cause instanceof ApplicationFailure &&
        error.cause.type === FailureType.InvalidState
      ) {
        throw new ApiError('conflict', error.cause.message, { cause: error });
      }
      // E: the agent's text would be free-form outside the WhatsApp window and no agent_reply template is set.
      const failure =
        error instanceof WorkflowUpdateFailedError && error.cause instanceof ActivityFailure ? error.cause.cause : null;
      if (failure instanceof ApplicationFailure && failure.type === FailureType.WindowClosed) {
        throw new ApiError(
          'window_closed',
          'The customer last wrote more than 24 hours ago, so WhatsApp only accepts an approved template now, and none is configured for agent replies (causeway template set --purpose agent_reply). The message was not sent.',
          { cause: error },
        );
      }
      if (error instanceof WorkflowNotFoundError)
        throw new ApiError('conflict', 'the conversation is no longer running', { cause: error });
      throw new ApiError('temporal_unavailable', 'could not reach the conversation, retry later', { cause: error });
    }
  }

  /** Agents act on conversations they hold (or unassigned ones); supervisors and admins on any. */
  function assertMayAct(c: Context<AppEnv>, row: { assignedAgent: string | null }) {
    const operator = c.get('operator');
    if (hasRole(operator.role, 'SUPERVISOR')) return;
    if (row.assignedAgent && row.assignedAgent !== operator.id)
      throw new ApiError('forbidden', 'the conversation is held by another agent');
  }

  const actor = (c: Context<AppEnv>) => `user:${c.get('operator').id}`;
  const agent = (c: Context<AppEnv>) => ({ id: c.get('operator').id, name: c.get('operator').name });
  const updateId = (c: Context<AppEnv>, action: string, row: { id: string }) => {
    const key = c.req.header('idempotency-key');
    return `${action}:${row.id}:${key && /^[\w.:-]{1,128}$/.test(key) ? key : randomUUID()}`;
  };

  return new Hono<AppEnv>()
    .use('*', authenticate(deps))
    .get('/', async (c) => {
      const query = listQuery.safeParse(c.req.query());
      if (!query.success)
        throw new ApiError('bad_request', 'invalid query', {
          details: query.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        });
      const where: (SQL | undefined)[] = [eq(conversations.tenantId, c.get('operator').tenantId)];
      if (query.data.status) where.push(eq(conversations.status, query.data.status));
      if (query.data.department) where.push(eq(conversations.department, query.data.department));
      const rows = await db
        .select({
          id: conversations.id,
          status: conversations.status,
          version: conversations.version,
          channel: conversations.channel,
          department: conversations.department,
          assignedAgent: conversations.assignedAgent,
          lastMessageAt: conversations.lastMessageAt,
          startedAt: conversations.startedAt,
          contact: { id: contacts.id, name: contacts.name, phone: contacts.phone },
        })
        .from(conversations)
        .innerJoin(contacts, eq(contacts.id, conversations.contactId))
        .where(and(...where))
        .orderBy(desc(conversations.updatedAt))
        .limit(query.data.limit);
      return c.json({ conversations: rows });
    })
    .get('/:id', async (c) => {
      const row = await load(c);
      const history = await db
        .select({
          id: messages.id,
          direction: messages.direction,
          sentBy: messages.sentBy,
          body: messages.body,
          status: messages.status,
          createdAt: messages.createdAt,
          author: users.name,
          correlationId: messages.correlationId,
        })
        .from(messages)
        .leftJoin(users, eq(users.id, messages.authorId))
        .where(eq(messages.conversationId, row.id))
        .orderBy(desc(messages.createdAt))
        .limit(100);
      return c.json({ conversation: row, messages: history.reverse() });
    })
    .post('/:id/takeover', async (c) => {
      const row = await load(c);
      const body = await readJson(c, takeOverBody);
      if (body.force && !hasRole(c.get('operator').role, 'SUPERVISOR'))
        throw new ApiError('forbidden', 'only supervisors may take over from another agent');
      const snapshot = await update(row, (h) =>
        h.executeUpdate(takeOverUpdate, {
          args: [{ agent: agent(c), actor: actor(c), force: body.force ?? false }],
          updateId: updateId(c, 'takeover', row),
        }),
      );
      return c.json({ conversation: snapshot });
    })
    .post('/:id/messages', async (c) => {
      const row = await load(c);
      assertMayAct(c, row);
      const { body } = await readJson(c, messageBody);
      const id = updateId(c, 'message', row);
      const sent = await update(row, (h) =>
        h.executeUpdate(agentMessageUpdate, { args: [{ agent: agent(c), body, idempotencyKey: id }], updateId: id }),
      );
      return c.json({ message: sent }, 201);
    })
    .post('/:id/release', async (c) => {
      const row = await load(c);
      assertMayAct(c, row);
      const { reason } = await readJson(c, reasonBody);
      return c.json({
        conversation: await update(row, (h) =>
          h.executeUpdate(releaseUpdate, {
            args: [{ actor: actor(c), reason }],
            updateId: updateId(c, 'release', row),
          }),
        ),
      });
    })
    .post('/:id/resolve', async (c) => {
      const row = await load(c);
      assertMayAct(c, row);
      const { reason } = await readJson(c, reasonBody);
      return c.json({
        conversation: await update(row, (h) =>
          h.executeUpdate(resolveUpdate, {
            args: [{ actor: actor(c), reason }],
            updateId: updateId(c, 'resolve', row),
          }),
        ),
      });
    })
    .post('/:id/close', async (c) => {
      const row = await load(c);
      assertMayAct(c, row);
      const { reason } = await readJson(c, reasonBody);
      return c.json({
        conversation: await update(row, (h) =>
          h.executeUpdate(closeUpdate, { args: [{ actor: actor(c), reason }], updateId: updateId(c, 'close', row) }),
        ),
      });
    });
}
