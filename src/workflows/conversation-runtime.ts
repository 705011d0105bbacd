import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import {
  searchAttributes,
  type ConversationStatus,
  type ConversationCarry,
  type ConversationInput,
  type ConversationSnapshot,
  type TraceContext,
} from '../contract';
import type { SendMessageInput, SendMessageResult, TransitionInput, TransitionResult } from '../contract/pipeline';
import { ai, db, localAi, localDb, localMessaging, messaging } from './activity-options';
import { Lock } from './lock';
import { childOf, newRootTrace } from './trace';
import { iso, sendOutcome, showDetails, summary } from './user-metadata';

export type ConversationState = ConversationCarry & { conversationId: string };

/**
 * Where the conversation's short steps run. Issue 14 (patch `conversation-local-steps`): as local activities, one
 * marker event each and no round trip through the server. Each is safe to run twice, which is what a worker lost
 * mid-task costs: openConversation finds the open row (partial unique index); generateReply calls the AI again (a
 * second ai_results row, same correlation id: the reply stays one through the outbox key); sendMessage is keyed by
 * its outbox row (one Twilio send); transitionConversation is optimistic (a re-run finds the row at its target);
 * attachMessages, recordNpsAnswer and raiseAiFailureAlert are idempotent; recordWorkflowEvent may write its event
 * twice. Runs started before the patch keep the regular activities they were recorded with.
 */
export interface ConversationSteps {
  db: typeof db;
  ai: typeof ai;
  messaging: typeof messaging;
  local: boolean;
}
export const regularSteps: ConversationSteps = { db, ai, messaging, local: false };
export const localSteps: ConversationSteps = { db: localDb, ai: localAi, messaging: localMessaging, local: true };

/** The conversation workflow's mutable state and the few helpers every part of it shares. */
export class ConversationRuntime {
  readonly lock = new Lock();
  /** Bumped by operator updates, so the main loop re-reads its deadlines. */
  wakeups = 0;
  turnsThisRun = 0;
  /** The trace of the latest customer message; timers and operator actions without one open a new root. */
  lastTrace: TraceContext | null = null;
  /** Issue 21 F: the last send's policy outcome, for the Web UI's current details (this run only). */
  lastSend: string | null = null;

  constructor(
    readonly input: ConversationInput,
    readonly s: ConversationState,
    readonly steps: ConversationSteps = regularSteps,
  ) {}

  trace(): TraceContext {
    return this.lastTrace ? childOf(this.lastTrace) : newRootTrace();
  }

  snapshot(): ConversationSnapshot {
    const { conversationId, status, version, assignedAgent, turns } = this.s;
    return {
      conversationId,
      status,
      version,
      assignedAgent,
      turns,
      pendingMessages: this.s.pending.length,
      ...(this.s.desk ? { desk: this.s.desk } : {}),
    };
  }

  /**
   * Issue 21 F: the Web UI's current details — state, owner, turns, the next timer and why, the last send's policy
   * outcome. Ids and times only (every Web UI user reads them).
   */
  showDetails(next: { what: string; at?: number } | null): void {
    const { s } = this;
    showDetails(`Conversation ${s.status}`, [
      ['next', next ? (next.at === undefined ? next.what : `${next.what} at ${iso(next.at)}`) : null],
      ['last send', this.lastSend],
      ['conversation', s.conversationId || null],
      ['assigned agent', s.assignedAgent?.id ?? (s.status === 'HUMAN' ? 'unassigned' : null)],
      ['turns', s.turns],
      ['pending messages', s.pending.length || null],
      ['draft', s.draft ? `${s.draft.draftId} awaiting an agent` : null],
      [
        'desk',
        s.desk?.awaiting
          ? `customer waiting since ${iso(s.desk.since)} (${s.desk.kind} response${s.desk.breached ? ', SLA breached' : ''})`
          : null,
      ],
    ]);
  }

  get resolvedBy(): 'ai' | 'human' {
    return this.s.everHuman ? 'human' : 'ai';
  }

  /** Runs a transition and adopts the row's resulting status and version, applied or not. */
  async transition(
    args: Omit<TransitionInput, 'conversationId' | 'trace'> & { trace?: TraceContext },
  ): Promise<TransitionResult> {
    // The summary gives the states only: a transition's reason can quote the AI's words.
    const result = await this.steps.db.transitionConversation.executeWithOptions(
      summary(`transition ${this.s.status} → ${args.to} (${args.actor})`),
      [{ ...args, conversationId: this.s.conversationId, trace: args.trace ?? this.trace() }],
    );
    this.adopt(result);
    return result;
  }

  /** The row's status and version as a step that moved it reported them (the Web UI's status follows). */
  adopt(row: { status: ConversationStatus; version: number }): void {
    const changed = row.status !== this.s.status;
    this.s.status = row.status;
    this.s.version = row.version;
    if (changed) upsertSearchAttributes([{ key: searchAttributes.CONVERSATION_STATUS, value: row.status }]);
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
    const what = args.template?.key ?? (args.sentBy === 'agent' ? 'agent reply' : 'reply');
    // Issue 21 F: the step's summary names what is sent (a template key or the author), never its text.
    return this.steps.messaging.sendMessage
      .executeWithOptions(summary(`send ${what}`), [
        {
          ...args,
          tenantId: this.input.tenantId,
          conversationId: this.s.conversationId,
          contactId: this.input.contactId,
          channel: this.input.channel,
          from: route.tenantAddress,
          to: route.customerAddress,
          correlationId: args.correlationId ?? `${workflowInfo().workflowId}:${args.idempotencyKey}`,
          trace: args.trace ?? this.trace(),
        },
      ])
      .then((result) => {
        this.lastSend = sendOutcome(what, result);
        return result;
      });
  }
}
