import { recordEvents } from '../db/events/events';
import { insertDraft, raiseDraftUnattended, recordDraftDecision, type DraftDecision } from '../db/conversations/drafts';
import type { TraceContext } from '../contract';
import { childSpan } from '../domain/trace';
import type { ActivityDeps } from './deps';

/** Default when the worker's config has none (tests that build their own deps). */
const DEFAULT_DRAFT_TIMEOUT_MS = 5 * 60_000;

/** Hybrid mode's steps: store a draft, record an agent's decision, escalate a draft nobody acted on. */
export function createDraftActivities(deps: ActivityDeps) {
  const { db } = deps;
  return {
    async holdDraft(input: {
      tenantId: string;
      conversationId: string;
      aiResultId: string;
      text: string;
      trace: TraceContext;
    }): Promise<{ draftId: string; escalateAfterMs: number }> {
      const { draftId } = await insertDraft(db, input);
      await recordEvents(db, [
        {
          trace: childSpan(input.trace),
          type: 'reply.drafted',
          tenantId: input.tenantId,
          conversationId: input.conversationId,
          payload: { draftId, aiResultId: input.aiResultId },
        },
      ]);
      return { draftId, escalateAfterMs: deps.config.hybrid?.draftTimeoutMs ?? DEFAULT_DRAFT_TIMEOUT_MS };
    },

    async recordDraftDecision(input: DraftDecision & { trace: TraceContext }): Promise<{ recorded: boolean }> {
      const { trace, ...decision } = input;
      const result = await recordDraftDecision(db, decision);
      if (result.recorded)
        await recordEvents(db, [
          {
            trace: childSpan(trace),
            type: 'draft.decided',
            tenantId: result.tenantId,
            conversationId: result.conversationId,
            messageId: decision.messageId ?? null,
            payload: { draftId: decision.draftId, outcome: decision.outcome, decidedBy: decision.decidedBy ?? null },
          },
        ]);
      return { recorded: result.recorded };
    },

    async raiseDraftUnattendedAlert(input: {
      draftId: string;
      waitedMs: number;
      trace: TraceContext;
    }): Promise<{ raised: boolean }> {
      const result = await raiseDraftUnattended(db, input);
      if (result.raised)
        await recordEvents(db, [
          {
            trace: childSpan(input.trace),
            type: 'alert.raised',
            level: 'warn',
            tenantId: result.tenantId,
            conversationId: result.conversationId,
            payload: { alertType: 'draft_unattended', severity: 'high', draftId: input.draftId },
          },
        ]);
      return { raised: result.raised };
    },
  };
}
