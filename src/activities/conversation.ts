import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../contract';
import type { DbOrTx } from '../db/core/client';
import {
  attachMessages as attachMessageRows,
  ConversationNotFound,
  messageBody,
  openConversation as openConversationRow,
  recordNpsAnswer as recordNpsAnswerRows,
  transitionConversation,
} from '../db/conversations/conversation';
import { recordEvents, type EventInput } from '../db/events/events';
import { parseNpsScore } from '../domain/nps';
import type { ActivityDeps } from './deps';
import type {
  OpenConversationInput,
  ConversationRef,
  TransitionInput,
  TransitionResult,
  NpsAnswerInput,
} from '../contract/pipeline';
export type {
  OpenConversationInput,
  ConversationRef,
  TransitionInput,
  TransitionResult,
  NpsAnswerInput,
} from '../contract/pipeline';

export function createConversationActivities(deps: ActivityDeps) {
  const { db } = deps;
  return {
    /** Finds or creates the one open conversation row of this contact (src/db/conversation.ts). */
    openConversation: (input: OpenConversationInput): Promise<ConversationRef> =>
      notFoundIsFinal(() => openConversationRow(db, input)),

    transitionConversation: (input: TransitionInput): Promise<TransitionResult> => transition(db, input),

    /** While a human holds the conversation the AI stays out; customer messages are attached for the agents. */
    async attachMessages(input: { conversationId: string; messageIds: string[] }): Promise<void> {
      await attachMessageRows(db, input.conversationId, input.messageIds);
    },

    /** Records a 0–10 answer to the NPS question; anything else is left for the caller to treat as a new message. */
    async recordNpsAnswer(input: NpsAnswerInput): Promise<{ recorded: boolean; score: number | null }> {
      const body = await messageBody(db, input.messageId);
      const score = body !== undefined ? parseNpsScore(body) : null;
      if (score === null) return { recorded: false, score: null };
      await recordNpsAnswerRows(db, { ...input, score });
      return { recorded: true, score };
    },

    /** An event decided in workflow code (a discarded reply, a handoff), written with the workflow's trace. */
    async recordWorkflowEvent(event: EventInput): Promise<void> {
      await recordEvents(db, [event]);
    },
  };
}

/** A missing conversation row is final: retrying will not bring it back. */
async function notFoundIsFinal<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ConversationNotFound)
      throw ApplicationFailure.create({ type: FailureType.NotFound, message: error.message, nonRetryable: true });
    throw error;
  }
}

/** One state transition under optimistic locking (seed 002): see transitionConversation in src/db/conversation.ts. */
export function transition(tx: DbOrTx, input: TransitionInput): Promise<TransitionResult> {
  return notFoundIsFinal(() => transitionConversation(tx, input));
}
