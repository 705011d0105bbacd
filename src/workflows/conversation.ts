import {
  ActivityFailure, allHandlersFinished, ApplicationFailure, condition, continueAsNew, log, setHandler,
  upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import {
  conversationSnapshotQuery, customerMessageSignal, searchAttributes, type ConversationCarry, type ConversationInput,
  type ConversationStatus, type CustomerMessage,
} from '../contract';
import { isTerminal } from '../domain/conversation-state';
import { ai, db, messaging } from './activity-options';
import { childOf, newRootTrace } from './trace';

/** Sent when the AI fails after its retries (I9): the customer is never left in silence. */
export const FALLBACK_REPLY = 'Desculpe, tive um problema para responder agora. Já registramos e vamos retomar em instantes. / Sorry, I could not answer just now; we have logged it and will follow up shortly.';

/** Turns per run before continue-as-new keeps the event history small (I13). */
const MAX_TURNS_PER_RUN = 200;
/** Message ids remembered for de-duplication of re-delivered signals. */
const RECENT_IDS = 500;

/**
 * `conversation:<tenant>:<contact hash>`: one per open customer conversation. Messages arrive as signals and
 * are handled one turn at a time by this single loop, so they are serialized in arrival order; a burst within
 * the debounce window becomes one AI turn. Silence is a durable timer (condition with timeout), never polling.
 */
export async function conversationWorkflow(input: ConversationInput): Promise<{ conversationId: string; status: ConversationStatus }> {
  const carried: ConversationCarry | undefined = input.carried;
  const pending: CustomerMessage[] = [...(carried?.pending ?? [])];
  const recentIds: string[] = [...(carried?.recentMessageIds ?? [])];
  let status: ConversationStatus = carried?.status ?? 'PENDING';
  let turns = carried?.turns ?? 0;
  let conversationId: string | null = carried?.conversationId ?? null;

  setHandler(customerMessageSignal, (message) => {
    // Activities may re-deliver a signal after a retry: the message id makes it harmless.
    if (recentIds.includes(message.messageId) || pending.some((m) => m.messageId === message.messageId)) return;
    pending.push(message);
  });
  setHandler(conversationSnapshotQuery, () => ({ conversationId, status, pendingMessages: pending.length, turns }));

  const first = pending[0];
  if (!conversationId) {
    const trace = first ? childOf(first.trace) : newRootTrace();
    const ref = await db.openConversation({ tenantId: input.tenantId, contactId: input.contactId, channel: input.channel, workflowId: workflowInfo().workflowId, trace });
    conversationId = ref.conversationId;
    status = ref.status;
  }

  for (;;) {
    const gotMessage = await condition(() => pending.length > 0, input.timing.closeAfterMs);
    if (!gotMessage) {
      const reason = recentIds.length > 0 ? 'idle timeout' : 'no message';
      const result = await db.transitionConversation({ conversationId, to: 'EXPIRED', reason, actor: 'system', trace: newRootTrace() });
      status = result.status;
      // Closed by someone else meanwhile (an operator): nothing left to wait for either.
      if (result.applied || isTerminal(result.status)) break;
      continue;
    }

    // Debounce: wait until no new message has arrived for `debounceMs`, then answer the whole burst at once.
    for (let seen = -1; seen !== pending.length; ) {
      seen = pending.length;
      await condition(() => pending.length !== seen, input.timing.debounceMs);
    }
    const batch = pending.splice(0, pending.length);
    for (const m of batch) recentIds.push(m.messageId);
    recentIds.splice(0, Math.max(0, recentIds.length - RECENT_IDS));

    status = await runTurn(conversationId, status, batch, input);
    turns += 1;

    if (turns % MAX_TURNS_PER_RUN === 0 || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof conversationWorkflow>({ ...input, carried: { conversationId, status, pending: [...pending], recentMessageIds: recentIds, turns } });
    }
  }
  await condition(allHandlersFinished);
  upsertSearchAttributes([{ key: searchAttributes.CONVERSATION_STATUS, value: status }]);
  return { conversationId, status };
}

async function runTurn(conversationId: string, status: ConversationStatus, batch: CustomerMessage[], input: ConversationInput): Promise<ConversationStatus> {
  const last = batch[batch.length - 1]!;
  const trace = childOf(last.trace);
  let body: string;
  let sentBy: 'ai' | 'system' = 'ai';
  try {
    const reply = await ai.generateReply({ tenantId: input.tenantId, conversationId, messageIds: batch.map((m) => m.messageId), correlationId: last.correlationId, trace });
    body = reply.output.reply;
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    const type = error.cause instanceof ApplicationFailure ? error.cause.type : 'unknown';
    log.warn('AI turn failed after retries; sending the fallback reply', { conversationId, failureType: type });
    body = FALLBACK_REPLY;
    sentBy = 'system';
  }
  try {
    await messaging.sendMessage({
      idempotencyKey: `reply:${conversationId}:${last.messageId}`,
      tenantId: input.tenantId, conversationId, contactId: input.contactId, channel: input.channel,
      from: last.tenantAddress, to: last.customerAddress, body, sentBy, correlationId: last.correlationId, trace,
    });
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    log.error('reply could not be sent', { conversationId, failureType: error.cause instanceof ApplicationFailure ? error.cause.type : 'unknown' });
  }
  if (status === 'PENDING' || status === 'IDLE') {
    const result = await db.transitionConversation({ conversationId, to: 'PROGRESS', reason: 'assistant replied', actor: sentBy, trace });
    if (result.status !== status) upsertSearchAttributes([{ key: searchAttributes.CONVERSATION_STATUS, value: result.status }]);
    return result.status;
  }
  return status;
}
