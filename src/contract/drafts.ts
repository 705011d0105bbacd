import { defineUpdate } from '@temporalio/workflow';
import type { AgentRef, TraceContext } from './common';

/**
 * Hybrid mode (issue 13 B): the AI's reply held by the conversation workflow until an agent sends, edits or rejects
 * it. Carried across continue-as-new with the rest of the conversation's state.
 */
export interface PendingDraft {
  /** suggested_responses.id */
  draftId: string;
  aiResultId: string;
  text: string;
  /** The answered inbound message's correlation id (seed 000: the reply reuses it). */
  correlationId: string;
  trace: TraceContext;
  /** Workflow time (ms) the draft was made, and how long it may wait before a `draft_unattended` alert. */
  createdAt: number;
  escalateAfterMs: number;
  escalated: boolean;
}

export interface DraftDecisionArgs {
  draftId: string;
  agent: AgentRef;
  /** `user:<id>`, as for the other operator actions. */
  actor: string;
}
export interface EditDraftArgs extends DraftDecisionArgs {
  text: string;
}
export interface RejectDraftArgs extends DraftDecisionArgs {
  reason: string;
}

export interface DraftDecisionResult {
  draftId: string;
  outcome: 'approved' | 'edited' | 'rejected';
  /** The outbound message (approved, edited); null for a rejection. */
  messageId: string | null;
  status: string | null;
}

// Updates, so the API gets a definite answer: a wrong or already decided draft id is rejected by the validator.
export const approveDraftUpdate = defineUpdate<DraftDecisionResult, [DraftDecisionArgs]>('approveDraft');
export const editDraftUpdate = defineUpdate<DraftDecisionResult, [EditDraftArgs]>('editDraft');
export const rejectDraftUpdate = defineUpdate<DraftDecisionResult, [RejectDraftArgs]>('rejectDraft');
