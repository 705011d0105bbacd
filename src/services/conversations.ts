import {
  agentMessageUpdate,
  closeUpdate,
  releaseUpdate,
  resolveUpdate,
  takeOverUpdate,
  type ConversationStatus,
} from '../contract';
import type { ConversationRow } from '../db/conversations/console';
import type { Operator } from '../db/operators/users';
import { hasRole } from '../domain/api-keys';
import { isTerminal } from '../domain/conversation-state';
import { publicMediaUrlProblem, type HostResolver } from '../integrations/public-media-url';
import type { OperatorContext } from './context';
import { ServiceError } from './errors';
import { loadVisibleConversation, updateFailure } from './workflow-updates';

/**
 * The operator actions on a conversation (I6 + handoff), shared by the JSON API (/api/conversations) and the
 * console: each goes through the conversation's workflow as an update; its refusals become ServiceErrors (conflict
 * with the workflow's reason, window_closed, unavailable when Temporal is unreachable). `key` makes an action
 * idempotent.
 */
export function conversationActions(
  ctx: Pick<OperatorContext, 'db' | 'temporal'>,
  options: {
    /** The Twilio API's base URL when not Twilio's own (a media URL may not point at it). */
    twilioApiBaseUrl?: string | undefined;
    /** Resolves a media URL's host for the public-address check (default: the system resolver); tests inject one. */
    resolveHost?: HostResolver | undefined;
  } = {},
) {
  const { db } = ctx;
  const temporal = ctx.temporal.client;

  const load = (operator: Operator, id: string) => loadVisibleConversation(db, operator, id);

  async function update<R>(
    row: { workflowId: string; status: ConversationStatus },
    run: (handle: ReturnType<typeof temporal.workflow.getHandle>) => Promise<R>,
  ): Promise<R> {
    if (isTerminal(row.status)) throw new ServiceError('conflict', `the conversation is already ${row.status}`);
    try {
      return await run(temporal.workflow.getHandle(row.workflowId));
    } catch (error) {
      // E: the agent's text would be free-form outside the WhatsApp window and no agent_reply template is set.
      throw updateFailure(error, { purpose: 'agent_reply', outcome: 'The message was not sent.' });
    }
  }

  /** Agents act on conversations they hold (or unassigned ones); supervisors and admins on any. */
  function assertMayAct(operator: Operator, row: { assignedAgent: string | null }) {
    if (hasRole(operator.role, 'SUPERVISOR')) return;
    if (row.assignedAgent && row.assignedAgent !== operator.id)
      throw new ServiceError('forbidden', 'the conversation is held by another agent');
  }

  const actor = (operator: Operator) => `user:${operator.id}`;
  const agentOf = (operator: Operator) => ({ id: operator.id, name: operator.name });
  const updateId = (action: string, row: { id: string }, key: string) => `${action}:${row.id}:${key}`;

  return {
    load,
    /** Takes the conversation over for `to` (default: the operator); `force` (supervisors) takes it from another agent. */
    takeOver(
      operator: Operator,
      row: ConversationRow,
      options: { force?: boolean; to?: { id: string; name: string }; key: string },
    ) {
      if ((options.force || options.to) && !hasRole(operator.role, 'SUPERVISOR'))
        throw new ServiceError('forbidden', 'only supervisors may take over from another agent or assign');
      return update(row, (h) =>
        h.executeUpdate(takeOverUpdate, {
          args: [{ agent: options.to ?? agentOf(operator), actor: actor(operator), force: options.force ?? false }],
          updateId: updateId('takeover', row, options.key),
        }),
      );
    },
    /**
     * D: `mediaUrl` goes to Twilio as MediaUrl; `body` may then be empty. Issue 18 A: the URL must be public (https,
     * no credentials, not Twilio's API, every resolved address global), checked here so the API and the console
     * share it; Causeway itself never fetches it.
     */
    async reply(operator: Operator, row: ConversationRow, body: string, key: string, mediaUrl?: string) {
      assertMayAct(operator, row);
      if (mediaUrl) {
        const problem = await publicMediaUrlProblem(mediaUrl, {
          ...(options.resolveHost ? { resolve: options.resolveHost } : {}),
          ...(options.twilioApiBaseUrl ? { twilioApiBaseUrl: options.twilioApiBaseUrl } : {}),
        });
        if (problem)
          throw new ServiceError('invalid', `The media URL must be a public https address: it ${problem}.`, {
            details: [{ path: 'mediaUrl', message: problem }],
          });
      }
      const id = updateId('message', row, key);
      return update(row, (h) =>
        h.executeUpdate(agentMessageUpdate, {
          args: [{ agent: agentOf(operator), body, ...(mediaUrl ? { mediaUrl } : {}), idempotencyKey: id }],
          updateId: id,
        }),
      );
    },
    release(operator: Operator, row: ConversationRow, reason: string | undefined, key: string) {
      assertMayAct(operator, row);
      return update(row, (h) =>
        h.executeUpdate(releaseUpdate, {
          args: [{ actor: actor(operator), reason }],
          updateId: updateId('release', row, key),
        }),
      );
    },
    resolve(operator: Operator, row: ConversationRow, reason: string | undefined, key: string) {
      assertMayAct(operator, row);
      return update(row, (h) =>
        h.executeUpdate(resolveUpdate, {
          args: [{ actor: actor(operator), reason }],
          updateId: updateId('resolve', row, key),
        }),
      );
    },
    close(operator: Operator, row: ConversationRow, reason: string | undefined, key: string) {
      assertMayAct(operator, row);
      return update(row, (h) =>
        h.executeUpdate(closeUpdate, {
          args: [{ actor: actor(operator), reason }],
          updateId: updateId('close', row, key),
        }),
      );
    },
  };
}
export type ConversationActions = ReturnType<typeof conversationActions>;
