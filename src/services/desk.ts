import { randomUUID } from 'node:crypto';
import { deskAssignUpdate, transferUpdate } from '../contract';
import { listDepartments } from '../db/operators/admin';
import type { ConversationRow } from '../db/conversations/console';
import { findTenantOperator } from '../db/conversations/console';
import { presenceOf, queuedConversations, setPresence, type Presence } from '../db/conversations/desk';
import type { Operator } from '../db/operators/users';
import { hasRole } from '../domain/api-keys';
import { isTerminal } from '../domain/conversation-state';
import type { OperatorContext } from './context';
import { ServiceError } from './errors';
import { updateFailure } from './workflow-updates';

/** Queued conversations one agent coming online is offered at most (each is one workflow update). */
const OFFER_LIMIT = 50;

/**
 * The desk's operator actions (issue 20 D), shared by the JSON API and the console: presence (an agent coming
 * online is offered the department's queue, oldest first) and transfers. Assignment itself is always the workflow's
 * `assignFromQueue` step, so capacity and the department are checked in one place, under one lock.
 */
export function deskActions(ctx: Pick<OperatorContext, 'db' | 'temporal'>) {
  const { db } = ctx;
  const temporal = ctx.temporal.client;

  /** Offers the department's unassigned conversations to automatic assignment until one finds nobody free. */
  async function offerQueue(operator: Operator): Promise<number> {
    const queued = await queuedConversations(db, operator.tenantId, operator.department, OFFER_LIMIT);
    let assigned = 0;
    for (const row of queued) {
      try {
        const snapshot = await temporal.workflow.getHandle(row.workflowId).executeUpdate(deskAssignUpdate, {
          args: [{ actor: `user:${operator.id}` }],
          updateId: `desk-assign:${row.id}:${randomUUID()}`,
        });
        if (!snapshot.assignedAgent) break;
        assigned += 1;
      } catch (error) {
        // A conversation that ended meanwhile is skipped; Temporal being away stops the offer (the next one retries).
        const failure = updateFailure(error, { purpose: 'agent_reply', outcome: '' });
        if (failure.code === 'unavailable') throw failure;
      }
    }
    return assigned;
  }

  return {
    offerQueue,

    async presence(operator: Operator) {
      return presenceOf(db, operator.id);
    },

    /** Sets the operator's presence; coming online takes conversations waiting in their department. */
    async setPresence(operator: Operator, presence: Presence): Promise<{ presence: Presence; assigned: number }> {
      await setPresence(db, operator.tenantId, operator.id, presence);
      const assigned = presence === 'online' ? await offerQueue(operator) : 0;
      return { presence, assigned };
    },

    /**
     * Moves a HUMAN conversation to another department and/or agent with a note. Agents transfer what they hold (or
     * what is unassigned); supervisors anything. An agent named without a department takes the conversation into
     * their own department.
     */
    async transfer(
      operator: Operator,
      row: ConversationRow,
      input: { department?: string; agentId?: string; note?: string },
      key: string,
    ) {
      if (row.status !== 'HUMAN' || isTerminal(row.status))
        throw new ServiceError('conflict', `the conversation is ${row.status}, not with the desk`);
      if (!hasRole(operator.role, 'SUPERVISOR') && row.assignedAgent && row.assignedAgent !== operator.id)
        throw new ServiceError('forbidden', 'the conversation is held by another agent');
      const agent = input.agentId ? await findTenantOperator(db, operator.tenantId, input.agentId) : null;
      if (input.agentId && !agent) throw new ServiceError('invalid', 'no such agent');
      const department = input.department ?? (agent && agent.department !== row.department ? agent.department : null);
      if (department) {
        const known = (await listDepartments(db, operator.tenantId)).map((d) => d.name);
        if (!known.includes(department)) throw new ServiceError('invalid', `no department "${department}"`);
      }
      if (!department && !agent) throw new ServiceError('invalid', 'name a department or an agent to transfer to');
      try {
        return await temporal.workflow.getHandle(row.workflowId).executeUpdate(transferUpdate, {
          args: [
            {
              actor: `user:${operator.id}`,
              ...(department ? { toDepartment: department } : {}),
              ...(agent ? { toAgent: { id: agent.id, name: agent.name } } : {}),
              ...(input.note ? { note: input.note } : {}),
            },
          ],
          updateId: `transfer:${row.id}:${key}`,
        });
      } catch (error) {
        throw updateFailure(error, { purpose: 'agent_reply', outcome: 'The conversation was not transferred.' });
      }
    },
  };
}
export type DeskActions = ReturnType<typeof deskActions>;
