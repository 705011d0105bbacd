import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { FailureType } from '../contract';
import type { Database } from '../db/core/client';
import { findVisibleConversation, type ConversationRow } from '../db/conversations/console';
import type { Operator } from '../db/operators/users';
import { ServiceError } from './errors';

/** What the operator is told when WhatsApp's 24 h window refuses a free-form send: names the purpose to configure. */
export function windowClosedMessage(purpose: string, outcome: string): string {
  const what = purpose === 'agent_reply' ? 'agent replies' : purpose === 'ai_reply' ? 'AI replies' : `"${purpose}"`;
  return `The customer last wrote more than 24 hours ago, so WhatsApp only accepts an approved template now, and none is configured for ${what} (causeway template set --purpose ${purpose}). ${outcome}`;
}

/**
 * The one mapping of a conversation workflow update's failure to a ServiceError, shared by the conversation, draft
 * and desk actions: the validator's refusal → conflict with its reason; a send refused by the closed WhatsApp
 * window → window_closed naming the template purpose the send needed (from the failure, else `purpose`); a
 * finished workflow → conflict; anything else → unavailable (Temporal).
 */
export function updateFailure(error: unknown, windowClosed: { purpose: string; outcome: string }): ServiceError {
  if (
    error instanceof WorkflowUpdateFailedError &&
    error.cause instanceof ApplicationFailure &&
    error.cause.type === FailureType.InvalidState
  )
    return new ServiceError('conflict', error.cause.message, { cause: error });
  const failure =
    error instanceof WorkflowUpdateFailedError && error.cause instanceof ActivityFailure ? error.cause.cause : null;
  if (failure instanceof ApplicationFailure && failure.type === FailureType.WindowClosed) {
    const details = failure.details?.[0] as { purpose?: unknown } | undefined;
    const purpose = typeof details?.purpose === 'string' ? details.purpose : windowClosed.purpose;
    return new ServiceError('window_closed', windowClosedMessage(purpose, windowClosed.outcome), { cause: error });
  }
  if (failure instanceof ApplicationFailure && failure.type === FailureType.TemplateVariables)
    return new ServiceError('conflict', failure.message, { cause: error });
  if (error instanceof WorkflowNotFoundError)
    return new ServiceError('conflict', 'the conversation is no longer running', { cause: error });
  return new ServiceError('unavailable', 'could not reach the conversation, retry later', { cause: error });
}

/** The conversation if the operator may see it (tenant + department scoping); not_found otherwise. */
export async function loadVisibleConversation(db: Database, operator: Operator, id: string): Promise<ConversationRow> {
  if (!z.uuid().safeParse(id).success) throw new ServiceError('not_found', 'no such conversation');
  const row = await findVisibleConversation(db, operator, id);
  if (!row) throw new ServiceError('not_found', 'no such conversation');
  return row;
}
