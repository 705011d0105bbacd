import { ApplicationFailure, condition, patched, setHandler } from '@temporalio/workflow';
import type { GeneratedReply } from '../activities/ai';
import {
  approveDraftUpdate,
  editDraftUpdate,
  FailureType,
  rejectDraftUpdate,
  type CustomerMessage,
  type DraftDecisionArgs,
  type DraftDecisionResult,
  type EditDraftArgs,
  type PendingDraft,
  type RejectDraftArgs,
  type TraceContext,
} from '../contract';
import { isTerminal } from '../domain/conversation-state';
import type { AiAction } from '../integrations/ai';
import { db } from './activity-options';
import type { ConversationRuntime } from './conversation-runtime';
import { iso, summary } from './user-metadata';

/**
 * Hybrid mode (issue 13 B). The turn hands the AI's text to `holdDraft` instead of sending it; the draft waits in
 * the workflow's state (carried across continue-as-new, so a worker restart or a rotation loses nothing) until an
 * agent approves, edits or rejects it through an update, and a draft nobody acts on raises a `draft_unattended`
 * alert after HYBRID_DRAFT_TIMEOUT. Everything here runs only once a draft exists, which only the
 * `hybrid-drafts`-patched branch of the turn creates: histories from before replay untouched.
 */
export const HYBRID_PATCH = 'hybrid-drafts';

const reject = (message: string): never => {
  throw ApplicationFailure.create({ type: FailureType.InvalidState, message, nonRetryable: true });
};

/**
 * Called by the turn (under the lock) when the conversation is in hybrid mode and the AI wrote text. A plain reply
 * or a farewell becomes a draft (the close waits for the agent's send: the idle timers end the conversation later);
 * a handoff or a registered promise sends its template instead of the AI's words. Returns what the turn goes on with.
 */
export async function holdDraft(
  rt: ConversationRuntime,
  turn: { result: GeneratedReply; text: string; action: AiAction; last: CustomerMessage; trace: TraceContext },
): Promise<{ text: null; action: AiAction }> {
  const { s, input } = rt;
  if (turn.action.type === 'handoff' || turn.action.type === 'promise') return { text: null, action: turn.action };
  const held = await db.holdDraft({
    tenantId: input.tenantId,
    conversationId: s.conversationId,
    aiResultId: turn.result.aiResultId,
    text: turn.text,
    trace: turn.trace,
  });
  s.draft = {
    draftId: held.draftId,
    aiResultId: turn.result.aiResultId,
    text: turn.text,
    correlationId: turn.last.correlationId,
    trace: turn.trace,
    createdAt: Date.now(),
    escalateAfterMs: held.escalateAfterMs,
    escalated: false,
  };
  return { text: null, action: { type: 'reply' } };
}

/** The approve / edit / reject updates and the escalation timer; inert until a draft exists. */
export function registerDraftHandlers(rt: ConversationRuntime) {
  const { s } = rt;
  const pending = (args: DraftDecisionArgs): PendingDraft => {
    if (isTerminal(s.status)) reject(`the conversation is already ${s.status}`);
    if (!s.draft || s.draft.draftId !== args.draftId)
      reject('no such pending draft: it was decided, superseded by a newer one, or never existed');
    return s.draft!;
  };

  const decide = (
    args: DraftDecisionArgs,
    outcome: DraftDecisionResult['outcome'],
    extra: { text?: string; reason?: string },
  ) =>
    rt.lock.run(async (): Promise<DraftDecisionResult> => {
      const draft = pending(args);
      let sent: { messageId: string; status: string } | null = null;
      if (outcome !== 'rejected') {
        // A window_closed refusal fails the update (the API answers 409 window_closed); the draft stays pending.
        const result = await rt.send({
          body: extra.text ?? draft.text,
          sentBy: 'ai',
          author: args.agent,
          idempotencyKey: `draft:${draft.draftId}`,
          correlationId: draft.correlationId,
          guard: { expectedVersion: s.version },
          trace: draft.trace,
        });
        if (result.skipped) reject(`not sent (${result.reason}); reload and retry`);
        else sent = { messageId: result.messageId, status: result.status };
      }
      await db.recordDraftDecision({
        draftId: draft.draftId,
        outcome,
        finalText: outcome === 'rejected' ? null : (extra.text ?? draft.text),
        reason: extra.reason ?? null,
        decidedBy: args.agent.id,
        messageId: sent?.messageId ?? null,
        trace: draft.trace,
      });
      s.draft = null;
      if (sent) s.lastActivityAt = Date.now();
      rt.wakeups += 1;
      return { draftId: draft.draftId, outcome, messageId: sent?.messageId ?? null, status: sent?.status ?? null };
    });

  setHandler(approveDraftUpdate, (args) => decide(args, 'approved', {}), {
    validator: (args: DraftDecisionArgs) => void pending(args),
  });
  setHandler(editDraftUpdate, (args) => decide(args, 'edited', { text: args.text.trim() }), {
    validator: (args: EditDraftArgs) => {
      pending(args);
      if (!args.text.trim()) reject('empty message');
    },
  });
  setHandler(rejectDraftUpdate, (args) => decide(args, 'rejected', { reason: args.reason.trim() }), {
    validator: (args: RejectDraftArgs) => {
      pending(args);
      if (!args.reason.trim()) reject('a rejection needs a reason');
    },
  });

  void watchDrafts(rt);
}

/**
 * Escalation: a draft still pending `escalateAfterMs` after it was made raises one `draft_unattended` alert (it
 * stays pending: an agent may still act). A conversation that ends first leaves its draft `abandoned`, written by
 * the final transition itself (a step here could be cut off by the workflow's completion).
 */
async function watchDrafts(rt: ConversationRuntime): Promise<void> {
  const { s } = rt;
  for (;;) {
    await condition(() => !!s.draft);
    if (!patched(HYBRID_PATCH)) return;
    const draft = s.draft!;
    const gone = () => s.draft?.draftId !== draft.draftId || isTerminal(s.status);
    const due = draft.createdAt + draft.escalateAfterMs;
    if (draft.escalated) await condition(gone);
    else if (
      !(await condition(
        gone,
        Math.max(1, due - Date.now()),
        summary(`draft ${draft.draftId} unattended alert at ${iso(due)} unless an agent acts`),
      ))
    ) {
      await rt.lock.run(async () => {
        if (gone()) return;
        await db.raiseDraftUnattendedAlert({
          draftId: draft.draftId,
          waitedMs: Date.now() - draft.createdAt,
          trace: draft.trace,
        });
        draft.escalated = true;
      });
      continue;
    }
    // The transition to a final state marked the row `abandoned` (src/db/conversations/drafts.ts, abandonPendingDrafts).
    if (isTerminal(s.status) && s.draft?.draftId === draft.draftId) {
      s.draft = null;
      return;
    }
  }
}
