import { and, eq, sql } from 'drizzle-orm';
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType, type Channel, type ConversationStatus, type TraceContext } from '../contract';
import type { DbOrTx } from '../db/client';
import { ACTIVE_CONVERSATION_STATUSES, conversations, conversationStateHistory } from '../db/schema';
import { canTransition, isTerminal } from '../domain/conversation-state';
import { childSpan } from '../domain/trace';
import type { ActivityDeps } from './deps';
import { recordEvents } from '../db/events';

export interface OpenConversationInput {
  tenantId: string;
  contactId: string;
  channel: Channel;
  workflowId: string;
  trace: TraceContext;
}

export interface ConversationRef {
  conversationId: string;
  status: ConversationStatus;
  version: number;
}

export interface TransitionInput {
  conversationId: string;
  to: ConversationStatus;
  reason: string;
  actor: string;
  /** When set, the transition applies only if the row is still at this version (the caller's view is fresh). */
  expectedVersion?: number;
  trace: TraceContext;
}

export type TransitionResult = ConversationRef & { applied: boolean };

const activeStatusSql = sql.raw(ACTIVE_CONVERSATION_STATUSES.map((s) => `'${s}'`).join(', '));

export function createConversationActivities(deps: ActivityDeps) {
  return {
    /** Finds or creates the one open conversation row of this contact (partial unique index arbitrates races). */
    async openConversation(input: OpenConversationInput): Promise<ConversationRef> {
      return deps.db.transaction(async (tx) => {
        const created = await tx.execute<{ id: string }>(sql`
          insert into ${conversations} (tenant_id, contact_id, channel, workflow_id)
          values (${input.tenantId}, ${input.contactId}, ${input.channel}, ${input.workflowId})
          on conflict (tenant_id, contact_id) where status in (${activeStatusSql}) do nothing
          returning id`);
        const [row] = await tx.select({ conversationId: conversations.id, status: conversations.status, version: conversations.version })
          .from(conversations)
          .where(and(eq(conversations.tenantId, input.tenantId), eq(conversations.contactId, input.contactId), sql`${conversations.status} in (${activeStatusSql})`));
        if (!row) throw ApplicationFailure.create({ type: FailureType.NotFound, message: 'open conversation vanished' });
        if (created.length > 0) {
          await tx.insert(conversationStateHistory).values({ conversationId: row.conversationId, fromStatus: null, toStatus: 'PENDING', version: 1, reason: 'first message', actor: 'system' });
          await recordEvents(tx, [{ trace: childSpan(input.trace), type: 'conversation.opened', tenantId: input.tenantId, contactId: input.contactId, conversationId: row.conversationId, payload: { channel: input.channel } }]);
        }
        return row;
      });
    },

    async transitionConversation(input: TransitionInput): Promise<TransitionResult> {
      return deps.db.transaction((tx) => transition(tx, input));
    },
  };
}

/**
 * One state transition under optimistic locking (seed 002): the UPDATE only matches the version read, so of two
 * concurrent transitions exactly one applies; the loser gets `applied: false` and the current state.
 */
export async function transition(tx: DbOrTx, input: TransitionInput): Promise<TransitionResult> {
  const [current] = await tx.select({ status: conversations.status, version: conversations.version, tenantId: conversations.tenantId, contactId: conversations.contactId })
    .from(conversations).where(eq(conversations.id, input.conversationId));
  if (!current) throw ApplicationFailure.create({ type: FailureType.NotFound, message: 'conversation not found', nonRetryable: true });
  const unchanged = { conversationId: input.conversationId, status: current.status, version: current.version };
  if (input.expectedVersion !== undefined && input.expectedVersion !== current.version) return { ...unchanged, applied: false };
  if (current.status === input.to) return { ...unchanged, applied: true };
  if (!canTransition(current.status, input.to)) return { ...unchanged, applied: false };

  const terminal = isTerminal(input.to);
  const [updated] = await tx.update(conversations)
    .set({
      status: input.to, version: current.version + 1, updatedAt: sql`now()`,
      ...(terminal ? { closedAt: sql`now()`, closeReason: input.reason } : {}),
    })
    .where(and(eq(conversations.id, input.conversationId), eq(conversations.version, current.version)))
    .returning({ version: conversations.version });
  if (!updated) {
    const [fresh] = await tx.select({ status: conversations.status, version: conversations.version }).from(conversations).where(eq(conversations.id, input.conversationId));
    return { conversationId: input.conversationId, status: fresh!.status, version: fresh!.version, applied: false };
  }
  await tx.insert(conversationStateHistory).values({ conversationId: input.conversationId, fromStatus: current.status, toStatus: input.to, version: updated.version, reason: input.reason, actor: input.actor });
  await recordEvents(tx, [{
    trace: childSpan(input.trace), type: 'conversation.transition', tenantId: current.tenantId, contactId: current.contactId,
    conversationId: input.conversationId, payload: { from: current.status, to: input.to, version: updated.version, reason: input.reason, actor: input.actor },
  }]);
  return { conversationId: input.conversationId, status: input.to, version: updated.version, applied: true };
}
