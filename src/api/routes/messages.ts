import { Hono } from 'hono';
import { findVisibleConversation } from '../../db/console';
import { findSendDecision, whyView } from '../../db/policy';
import { hasRole } from '../../domain/api-keys';
import { authenticate } from '../auth';
import type { AppDeps, AppEnv } from '../context';
import { ApiError } from '../errors';

/**
 * Issue 21 C: why an outbound message went out (or was held or refused). Scoped like conversations: an AGENT sees
 * the messages of conversations visible to them; messages outside a conversation (campaigns, promises) are for
 * SUPERVISOR and ADMIN. Anything else is a 404, as if it did not exist.
 */
export function messageRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().use('*', authenticate(deps)).get('/:id/why', async (c) => {
    const operator = c.get('operator');
    const ref = c.req.param('id');
    if (!/^([0-9a-f-]{36}|SM[0-9a-fA-F]{32}|MM[0-9a-fA-F]{32})$/.test(ref))
      throw new ApiError('bad_request', 'a message id (uuid) or Twilio MessageSid');
    const found = await findSendDecision(deps.db, ref, operator.tenantId);
    const conversationId = found?.message.conversationId ?? null;
    const visible =
      found &&
      (hasRole(operator.role, 'SUPERVISOR') ||
        (conversationId !== null && (await findVisibleConversation(deps.db, operator, conversationId)) !== null));
    if (!found || !visible) throw new ApiError('not_found', 'no such outbound message');
    return c.json(whyView(found));
  });
}
