import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType, type Channel, type ConversationStatus, type TraceContext } from '../contract';
import type { DbOrTx } from '../db/client';
import { abandonPendingDrafts } from '../db/drafts';
import { recordEvents, type EventInput } from '../db/events';
import {
  ACTIVE_CONVERSATION_STATUSES,
  alerts,
  conversations,
  conversationStateHistory,
  messages,
  satisfactionFeedback,
  tenants,
} from '../db/schema';
import type { AlertSpec } from '../domain/alerts';
import { canTransition, isTerminal } from '../domain/conversation-state';
import { npsCategory, parseNpsScore } from '../domain/nps';
import { childSpan } from '../domain/trace';
import type { ActivityDeps } from './deps';

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
  /** Set (or clear, with null) the assigned agent; a change of agent within HUMAN is a transition of its own. */
  assignedAgent?: string | null;
  department?: string | null;
  resolvedBy?: 'ai' | 'human';
  alert?: AlertSpec;
  trace: TraceContext;
}

export type TransitionResult = ConversationRef & { applied: boolean };

export interface NpsAnswerInput {
  tenantId: string;
  conversationId: string;
  contactId: string;
  messageId: string;
  resolvedBy: 'ai' | 'human';
  trace: TraceContext;
}

const activeStatusSql = sql.raw(ACTIVE_CONVERSATION_STATUSES.map((s) => `'${s}'`).join(', '));

export function createConversationActivities(deps: ActivityDeps) {
  const { db } = deps;
  return {
    /** Finds or creates the one open conversation row of this contact (partial unique index arbitrates races). */
    async openConversation(input: OpenConversationInput): Promise<ConversationRef> {
      return db.transaction(async (tx) => {
        const created = await tx.execute<{ id: string }>(sql`
          insert into ${conversations} (tenant_id, contact_id, channel, workflow_id, assistant_type)
          select ${input.tenantId}, ${input.contactId}, ${input.channel}, ${input.workflowId}, t.assistant_type
          from ${tenants} t where t.id = ${input.tenantId}
          on conflict (tenant_id, contact_id) where status in (${activeStatusSql}) do nothing
          returning id`);
        const [row] = await tx
          .select({ conversationId: conversations.id, status: conversations.status, version: conversations.version })
          .from(conversations)
          .where(
            and(
              eq(conversations.tenantId, input.tenantId),
              eq(conversations.contactId, input.contactId),
              sql`${conversations.status} in (${activeStatusSql})`,
            ),
          );
        if (!row)
          throw ApplicationFailure.create({ type: FailureType.NotFound, message: 'open conversation vanished' });
        if (created.length > 0) {
          await tx.insert(conversationStateHistory).values({
            conversationId: row.conversationId,
            fromStatus: null,
            toStatus: 'PENDING',
            version: 1,
            reason: 'first message',
            actor: 'system',
          });
          await recordEvents(tx, [
            {
              trace: childSpan(input.trace),
              type: 'conversation.opened',
              tenantId: input.tenantId,
              contactId: input.contactId,
              conversationId: row.conversationId,
              payload: { channel: input.channel },
            },
          ]);
        }
        return row;
      });
    },

    async transitionConversation(input: TransitionInput): Promise<TransitionResult> {
      return db.transaction((tx) => transition(tx, input));
    },

    /** While a human holds the conversation the AI stays out; customer messages are attached for the agents. */
    async attachMessages(input: { conversationId: string; messageIds: string[] }): Promise<void> {
      await db.transaction(async (tx) => {
        await tx
          .update(messages)
          .set({ conversationId: input.conversationId })
          .where(and(inArray(messages.id, input.messageIds), isNull(messages.conversationId)));
        await tx
          .update(conversations)
          .set({ lastMessageAt: sql`now()`, updatedAt: sql`now()` })
          .where(eq(conversations.id, input.conversationId));
      });
    },

    /** Records a 0–10 answer to the NPS question; anything else is left for the caller to treat as a new message. */
    async recordNpsAnswer(input: NpsAnswerInput): Promise<{ recorded: boolean; score: number | null }> {
      const [message] = await db.select({ body: messages.body }).from(messages).where(eq(messages.id, input.messageId));
      const score = message ? parseNpsScore(message.body) : null;
      if (score === null) return { recorded: false, score: null };
      await db.transaction(async (tx) => {
        await tx
          .update(messages)
          .set({ conversationId: input.conversationId })
          .where(and(eq(messages.id, input.messageId), isNull(messages.conversationId)));
        await tx
          .insert(satisfactionFeedback)
          .values({
            tenantId: input.tenantId,
            conversationId: input.conversationId,
            contactId: input.contactId,
            messageId: input.messageId,
            score,
            category: npsCategory(score),
            resolvedBy: input.resolvedBy,
          })
          .onConflictDoNothing({ target: satisfactionFeedback.conversationId });
        await recordEvents(tx, [
          {
            trace: childSpan(input.trace),
            type: 'nps.answered',
            tenantId: input.tenantId,
            contactId: input.contactId,
            conversationId: input.conversationId,
            messageId: input.messageId,
            payload: { score, category: npsCategory(score), resolvedBy: input.resolvedBy },
          },
        ]);
      });
      return { recorded: true, score };
    },

    /** An event decided in workflow code (a discarded reply, a handoff), written with the workflow's trace. */
    async recordWorkflowEvent(event: EventInput): Promise<void> {
      await recordEvents(db, [event]);
    },
  };
}

/**
 * One state transition under optimistic locking (seed 002): the UPDATE only matches the version read, so of two
 * concurrent transitions exactly one applies; the loser gets `applied: false` and the current state.
 */
export async function transition(tx: DbOrTx, input: TransitionInput): Promise<TransitionResult> {
  const [current] = await tx
    .select({
      status: conversations.status,
      version: conversations.version,
      tenantId: conversations.tenantId,
      contactId: conversations.contactId,
      assignedAgent: conversations.assignedAgent,
    })
    .from(conversations)
    .where(eq(conversations.id, input.conversationId));
  if (!current)
    throw ApplicationFailure.create({
      type: FailureType.NotFound,
      message: 'conversation not found',
      nonRetryable: true,
    });
  const unchanged = { conversationId: input.conversationId, status: current.status, version: current.version };
  if (input.expectedVersion !== undefined && input.expectedVersion !== current.version)
    return { ...unchanged, applied: false };
  const reassigned = input.assignedAgent !== undefined && input.assignedAgent !== current.assignedAgent;
  if (current.status === input.to && !reassigned) return { ...unchanged, applied: true };
  if (current.status !== input.to && !canTransition(current.status, input.to)) return { ...unchanged, applied: false };

  const terminal = isTerminal(input.to);
  const [updated] = await tx
    .update(conversations)
    .set({
      status: input.to,
      version: current.version + 1,
      updatedAt: sql`now()`,
      ...(input.assignedAgent !== undefined ? { assignedAgent: input.assignedAgent } : {}),
      ...(input.department !== undefined ? { department: input.department } : {}),
      ...(input.to === 'HUMAN' && current.status !== 'HUMAN' ? { transferredAt: sql`now()` } : {}),
      ...(input.resolvedBy ? { resolvedBy: input.resolvedBy } : {}),
      ...(terminal ? { closedAt: sql`now()`, closeReason: input.reason } : {}),
    })
    .where(and(eq(conversations.id, input.conversationId), eq(conversations.version, current.version)))
    .returning({ version: conversations.version });
  if (!updated) {
    const [fresh] = await tx
      .select({ status: conversations.status, version: conversations.version })
      .from(conversations)
      .where(eq(conversations.id, input.conversationId));
    return { conversationId: input.conversationId, status: fresh!.status, version: fresh!.version, applied: false };
  }
  if (terminal) await abandonPendingDrafts(tx, input.conversationId);
  await tx.insert(conversationStateHistory).values({
    conversationId: input.conversationId,
    fromStatus: current.status,
    toStatus: input.to,
    version: updated.version,
    reason: input.reason,
    actor: input.actor,
  });
  const span = childSpan(input.trace);
  const events: EventInput[] = [
    {
      trace: span,
      type: 'conversation.transition',
      tenantId: current.tenantId,
      contactId: current.contactId,
      conversationId: input.conversationId,
      payload: {
        from: current.status,
        to: input.to,
        version: updated.version,
        reason: input.reason,
        actor: input.actor,
      },
    },
  ];
  if (input.alert) {
    await tx.insert(alerts).values({
      tenantId: current.tenantId,
      conversationId: input.conversationId,
      ...input.alert,
      payload: { reason: input.reason, department: input.department ?? null },
    });
    events.push({
      trace: childSpan(span),
      type: 'alert.raised',
      level: 'warn',
      tenantId: current.tenantId,
      contactId: current.contactId,
      conversationId: input.conversationId,
      payload: { alertType: input.alert.type, severity: input.alert.severity },
    });
  }
  await recordEvents(tx, events);
  return { conversationId: input.conversationId, status: input.to, version: updated.version, applied: true };
}
