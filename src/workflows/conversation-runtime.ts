import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import {
  searchAttributes,
  type ConversationCarry,
  type ConversationInput,
  type ConversationSnapshot,
  type TraceContext,
} from '../contract';
import type { TransitionInput, TransitionResult } from '../activities/conversation';
import type { SendMessageInput, SendMessageResult } from '../activities/messaging';
import { db, messaging } from './activity-options';
import { Lock } from './lock';
import { childOf, newRootTrace } from './trace';

export type ConversationState = ConversationCarry & { conversationId: string };

/** The conversation workflow's mutable state and the few helpers every part of it shares. */
export class ConversationRuntime {
  readonly lock = new Lock();
  /** Bumped by operator updates, so the main loop re-reads its deadlines. */
  wakeups = 0;
  turnsThisRun = 0;
  /** The trace of the latest customer message; timers and operator actions without one open a new root. */
  lastTrace: TraceContext | null = null;

  constructor(
    readonly input: ConversationInput,
    readonly s: ConversationState,
  ) {}

  trace(): TraceContext {
    return this.lastTrace ? childOf(this.lastTrace) : newRootTrace();
  }

  snapshot(): ConversationSnapshot {
    const { conversationId, status, version, assignedAgent, turns } = this.s;
    return { conversationId, status, version, assignedAgent, turns, pendingMessages: this.s.pending.length };
  }

  get resolvedBy(): 'ai' | 'human' {
    return this.s.everHuman ? 'human' : 'ai';
  }

  /** Runs a transition and adopts the row's resulting status and version, applied or not. */
  async transition(
    args: Omit<TransitionInput, 'conversationId' | 'trace'> & { trace?: TraceContext },
  ): Promise<TransitionResult> {
    const result = await db.transitionConversation({
      ...args,
      conversationId: this.s.conversationId,
      trace: args.trace ?? this.trace(),
    });
    const changed = result.status !== this.s.status;
    this.s.status = result.status;
    this.s.version = result.version;
    if (changed) upsertSearchAttributes([{ key: searchAttributes.CONVERSATION_STATUS, value: result.status }]);
    return result;
  }

  /** Sends to the customer on the conversation's current route, keyed for idempotency. */
  send(
    args: Omit<
      SendMessageInput,
      'tenantId' | 'conversationId' | 'contactId' | 'channel' | 'from' | 'to' | 'trace' | 'correlationId'
    > & { correlationId?: string; trace?: TraceContext },
  ): Promise<SendMessageResult> {
    const route = this.s.route;
    if (!route) throw new Error('no reply route yet: the conversation has had no customer message');
    return messaging.sendMessage({
      ...args,
      tenantId: this.input.tenantId,
      conversationId: this.s.conversationId,
      contactId: this.input.contactId,
      channel: this.input.channel,
      from: route.tenantAddress,
      to: route.customerAddress,
      correlationId: args.correlationId ?? `${workflowInfo().workflowId}:${args.idempotencyKey}`,
      trace: args.trace ?? this.trace(),
    });
  }
}
