import type { DbOrTx } from '../db/core/client';
import { findVisibleConversation } from '../db/conversations/console';
import { findSendDecision, whyView } from '../db/outbound/policy';
import type { Operator } from '../db/operators/users';
import { hasRole } from '../domain/api-keys';
import { ServiceError } from './errors';

/**
 * Issue 21 C: why an outbound message went out (or was held or refused), for `GET /api/messages/:id/why` and the
 * console's message detail. Scoped like conversations: an AGENT sees the messages of conversations visible to them;
 * messages outside a conversation (campaigns, promises) are for SUPERVISOR and ADMIN. Anything else is `not_found`,
 * as if it did not exist.
 */
export async function whyMessage(db: DbOrTx, operator: Operator, ref: string) {
  const found = await findSendDecision(db, ref, operator.tenantId);
  const conversationId = found?.message.conversationId ?? null;
  const visible =
    found &&
    (hasRole(operator.role, 'SUPERVISOR') ||
      (conversationId !== null && (await findVisibleConversation(db, operator, conversationId)) !== null));
  if (!found || !visible) throw new ServiceError('not_found', 'no such outbound message');
  return { view: whyView(found), conversationId };
}
