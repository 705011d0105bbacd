import type {
  AgentRef,
  DeskAssignInput,
  DeskTransferInput,
  DeskWaitInput,
  DeskWaitResult,
  SlaBreachInput,
  TraceContext,
} from '../contract';
import {
  assignFromQueue as assignFromQueueRow,
  loadDeskPolicyForConversation,
  raiseSlaBreach,
  setDeskWait,
  transferConversation as transferConversationRows,
} from '../db/conversations/desk';
import { recordEvents } from '../db/events/events';
import { addDeskTime, formatOpening, nextDeskOpening } from '../domain/desk-hours';
import { childSpan } from '../domain/trace';
import type { ActivityDeps } from './deps';

/** Defaults when the worker's config has none (tests that build their own deps): DESK_*_RESPONSE_SLA's defaults. */
const DEFAULT_SLA_MS = 15 * 60_000;

/**
 * The desk's steps (issue 20): the SLA clock of a waiting period in desk hours, the breach alert, automatic
 * assignment and transfers. Each is safe to run twice: a wait start rewrites the same two columns, the breach alert
 * is keyed by its waiting period, an assignment applies only to a conversation still unassigned.
 */
export function createDeskActivities(deps: ActivityDeps) {
  const { db } = deps;
  const event = (trace: TraceContext, type: string, conversationId: string, payload: Record<string, unknown>) =>
    recordEvents(db, [{ trace: childSpan(trace), type, conversationId, payload }]);

  return {
    async deskWaitStarted(input: DeskWaitInput): Promise<DeskWaitResult> {
      const policy = await loadDeskPolicyForConversation(db, input.conversationId);
      if (!policy) return { slaDueAt: null, closed: null };
      const since = new Date(input.since);
      const slaMs =
        (input.kind === 'first' ? policy.firstResponseSlaMs : policy.nextResponseSlaMs) ??
        (input.kind === 'first' ? deps.config.desk?.firstResponseSlaMs : deps.config.desk?.nextResponseSlaMs) ??
        DEFAULT_SLA_MS;
      const due = addDeskTime(policy.schedule, since, slaMs);
      const opening = nextDeskOpening(policy.schedule, since);
      const closed =
        opening?.getTime() === since.getTime()
          ? null
          : {
              opensAt: opening?.toISOString() ?? null,
              opensAtText: opening ? formatOpening(opening, policy.schedule!.timeZone, policy.locale) : '',
            };
      await setDeskWait(db, input.conversationId, { since, slaDueAt: due });
      await event(input.trace, 'desk.waiting', input.conversationId, {
        kind: input.kind,
        department: policy.department,
        slaDueAt: due?.toISOString() ?? null,
        deskOpensAt: closed?.opensAt ?? null,
      });
      return { slaDueAt: due?.getTime() ?? null, closed };
    },

    async deskWaitEnded(input: { conversationId: string }): Promise<void> {
      await setDeskWait(db, input.conversationId, null);
    },

    async raiseSlaBreachAlert(input: SlaBreachInput): Promise<{ raised: boolean }> {
      const result = await raiseSlaBreach(db, {
        conversationId: input.conversationId,
        kind: input.kind,
        since: new Date(input.since),
        dueAt: new Date(input.dueAt),
      });
      if (result.raised) {
        deps.metrics?.slaBreaches.inc({ kind: input.kind, department: result.department ?? '' });
        await recordEvents(db, [
          {
            trace: childSpan(input.trace),
            type: 'alert.raised',
            level: 'warn',
            tenantId: result.tenantId,
            conversationId: input.conversationId,
            payload: { alertType: 'sla_breached', severity: 'high', kind: input.kind },
          },
        ]);
      }
      return { raised: result.raised };
    },

    async assignFromQueue(input: DeskAssignInput): Promise<{ agent: AgentRef; version: number } | null> {
      const assigned = await assignFromQueueRow(db, { conversationId: input.conversationId, actor: input.actor });
      if (assigned)
        await event(input.trace, 'desk.assigned', input.conversationId, {
          agentId: assigned.agent.id,
          version: assigned.version,
        });
      return assigned;
    },

    async transferConversation(
      input: DeskTransferInput,
    ): Promise<{ version: number; department: string | null } | null> {
      const { trace, ...transfer } = input;
      const result = await transferConversationRows(db, transfer);
      if (result)
        await event(trace, 'desk.transferred', input.conversationId, {
          toDepartment: result.department,
          toAgent: input.toAgent?.id ?? null,
          version: result.version,
        });
      return result;
    },
  };
}
