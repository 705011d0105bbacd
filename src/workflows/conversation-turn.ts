import { ActivityFailure, ApplicationFailure, log, patched, sleep, TimeoutFailure } from '@temporalio/workflow';
import { FailureType, type AiAction, type CustomerMessage, type GeneratedReply } from '../contract';
import { isTerminal } from '../domain/conversation-state';
import { ai as aiActivity, db } from './activity-options';
import { holdDraft, HYBRID_PATCH } from './conversation-drafts';
import { deskSteps, startWait } from './conversation-desk';
import type { ConversationRuntime } from './conversation-runtime';
import { childOf } from './trace';
import { patchedUnlessBuiltIn } from './patches';
import { summary } from './user-metadata';

const failureType = (error: ActivityFailure) =>
  error.cause instanceof ApplicationFailure ? error.cause.type : 'unknown';

/**
 * G: the apology is for the AI failing, not for the plumbing around it. A turn interrupted by Postgres being
 * unreachable, or by the activity timing out (the worker died, Temporal was away), is tried again after a pause:
 * the customer waits a little. Bounded only by time, like the `db` steps; the AI's own failures still end in the
 * fallback after its three tries.
 */
const interruptedByInfrastructure = (error: ActivityFailure) =>
  error.cause instanceof TimeoutFailure ||
  (error.cause instanceof ApplicationFailure && error.cause.type === FailureType.DatabaseUnavailable);
const TURN_RETRY_MAX_MS = 30_000;

export const AI_ACTIVITY_PATCH = 'lean-ai-activity';
export const SEND_ADVANCES_PATCH = 'send-advances-conversation';

/**
 * One AI turn for a burst of customer messages. The AI call runs outside the lock (it is slow); what it decided
 * is applied under the lock, and only if nothing changed meanwhile: a takeover or close during the call makes
 * the reply stale, and a stale reply is recorded, never sent (I6).
 */
export async function runTurn(rt: ConversationRuntime, batch: CustomerMessage[]): Promise<void> {
  const { s, input } = rt;
  const last = batch[batch.length - 1]!;
  const trace = childOf(last.trace);
  const versionAtStart = s.version;

  let result: GeneratedReply | null = null;
  const request = {
    tenantId: input.tenantId,
    conversationId: s.conversationId,
    messageIds: batch.map((m) => m.messageId),
    correlationId: last.correlationId,
    trace,
  };
  // Issue 25 D (patch `lean-ai-activity`): the model call is a regular activity again, not a local one. A real model
  // takes 1.5–30 s; as a local activity it held the workflow task open for that long, so a takeover, an approval or
  // the customer's next message waited for the model (up to the task heartbeat, ~8 s), and a worker lost mid-call
  // paid the whole call again. As a regular activity the task completes at once and the call runs beside it; the
  // version check below already discards a reply made stale meanwhile. The short steps (database, send) stay local.
  const ai =
    rt.steps.local && patchedUnlessBuiltIn(AI_ACTIVITY_PATCH, rt.input.builtInPatches) ? aiActivity : rt.steps.ai;
  // Runs on local steps (issue 14) all postdate this patch: they take its path without recording its marker again.
  if (rt.steps.local || patched('turn-retries-infrastructure-failures')) {
    for (let pause = 1_000; ; pause = Math.min(pause * 2, TURN_RETRY_MAX_MS)) {
      try {
        result = await ai.generateReply.executeWithOptions(summary(`AI reply to ${batch.length} message(s)`), [
          request,
        ]);
        break;
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        if (interruptedByInfrastructure(error)) {
          log.warn('AI turn interrupted by database or Temporal trouble; trying again', {
            conversationId: s.conversationId,
            failureType: failureType(error),
            pauseMs: pause,
          });
          rt.showDetails({ what: `AI turn retry after ${failureType(error)}`, at: Date.now() + pause });
          await sleep(pause, summary(`AI turn retry in ${pause / 1000} s after ${failureType(error)}`));
          continue;
        }
        // I9: the AI's retries ran out; the customer still gets an answer, and supervisors an `ai_failure` alert.
        log.warn('AI turn failed after retries; sending the fallback message', {
          conversationId: s.conversationId,
          failureType: failureType(error),
        });
        await rt.steps.db.raiseAiFailureAlert({
          tenantId: input.tenantId,
          conversationId: s.conversationId,
          correlationId: last.correlationId,
          failureType: failureType(error) ?? 'unknown',
          trace,
        });
        break;
      }
    }
  } else {
    try {
      result = await ai.generateReply.executeWithOptions(summary(`AI reply to ${batch.length} message(s)`), [request]);
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      // I9: the retries ran out; the customer still gets an answer (the failures are in ai_results).
      log.warn('AI turn failed after retries; sending the fallback message', {
        conversationId: s.conversationId,
        failureType: failureType(error),
      });
    }
  }

  await rt.lock.run(async () => {
    if (s.version !== versionAtStart || s.status === 'HUMAN' || isTerminal(s.status)) {
      await rt.steps.db.recordWorkflowEvent({
        trace,
        type: 'reply.discarded',
        tenantId: input.tenantId,
        contactId: input.contactId,
        conversationId: s.conversationId,
        payload: {
          reason: 'conversation changed during the AI call',
          status: s.status,
          versionAtStart,
          version: s.version,
        },
      });
      return;
    }
    let action: AiAction = result?.action ?? { type: 'reply' as const };
    const idempotencyKey = `reply:${s.conversationId}:${last.messageId}`;
    let text = result?.reply ?? null;
    // hybrid-drafts: in hybrid mode the AI's words wait for an agent instead of going out (conversation-drafts.ts).
    if (text && result?.hybrid && patched(HYBRID_PATCH))
      ({ text, action } = await holdDraft(rt, { result, text, action, last, trace }));
    // C4: the promise is stored (and its reminder workflow started) before the reply confirms it.
    const promise =
      action.type === 'promise' && result && s.route
        ? await db.registerPromise({
            tenantId: input.tenantId,
            conversationId: s.conversationId,
            contactId: input.contactId,
            aiResultId: result.aiResultId,
            amountCents: action.amountCents,
            dueDate: action.dueDate,
            method: action.method,
            channel: input.channel,
            sender: s.route.tenantAddress,
            trace,
          })
        : null;
    const content = text
      ? { body: text, sentBy: 'ai' as const }
      : result === null
        ? { template: { key: 'fallback' as const }, sentBy: 'system' as const }
        : action.type === 'handoff'
          ? { template: { key: 'handoff_notice' as const }, sentBy: 'ai' as const }
          : promise
            ? {
                template: { key: 'promise_confirmation' as const, variables: promise.variables },
                sentBy: 'ai' as const,
              }
            : null;
    if (content) {
      // Issue 25 A: a reply that moves the conversation to PROGRESS carries the move, and the send writes it with
      // the message (one step and its marker fewer). A send that did not (a retry, the general path, a failure)
      // returns no `advanced`, and the transition below runs as before (finding the row moved, if it was).
      const advance =
        action.type !== 'handoff' &&
        action.type !== 'close' &&
        (s.status === 'PENDING' || s.status === 'IDLE') &&
        patchedUnlessBuiltIn(SEND_ADVANCES_PATCH, rt.input.builtInPatches)
          ? { reason: 'assistant replied', actor: text ? ('ai' as const) : ('system' as const) }
          : undefined;
      try {
        const sent = await rt.send({
          ...content,
          idempotencyKey,
          correlationId: last.correlationId,
          guard: { expectedVersion: s.version },
          trace,
          ...(advance ? { advance } : {}),
        });
        if (sent.skipped) return;
        if (sent.advanced) rt.adopt(sent.advanced);
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        log.error('reply could not be sent', { conversationId: s.conversationId, failureType: failureType(error) });
      }
    }
    if (action.type === 'handoff') {
      await rt.transition({
        to: 'HUMAN',
        reason: `ai handoff: ${action.reason}`,
        actor: 'ai',
        department: action.department,
        assignedAgent: null,
        trace,
        alert: {
          type: 'handoff',
          severity: 'medium',
          message: `Customer handed to ${action.department} by the assistant`,
        },
      });
      s.everHuman = true;
      // Issue 20: the customer now waits for the desk (SLA clock, desk-closed notice, automatic assignment).
      if ((s.status as string) === 'HUMAN' && deskSteps())
        await startWait(rt, 'first', { assign: true, tellClosed: true, trace });
    } else if (action.type === 'close') {
      await rt.transition({
        to: 'RESOLVED',
        reason: `ai closed: ${action.reason}`,
        actor: 'ai',
        resolvedBy: 'ai',
        trace,
      });
    } else if (s.status === 'PENDING' || s.status === 'IDLE') {
      await rt.transition({ to: 'PROGRESS', reason: 'assistant replied', actor: text ? 'ai' : 'system', trace });
    }
  });
}
