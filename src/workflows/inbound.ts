import { ActivityFailure, ApplicationFailure, patched } from '@temporalio/workflow';
import { patchedUnlessBuiltIn } from './patches';
import type { InboundInput, InboundResult } from '../contract';
import { db, localDb } from './activity-options';
import { childOf } from './trace';
import { classifyKeyword } from '../domain/opt-out';

type Stage = NonNullable<InboundResult['failed']>['stage'];

/**
 * `inbound:<MessageSid>`: short-lived. Stores the message (idempotent insert), then hands it to the
 * conversation by signal-with-start, and ends. It exists so the webhook can answer 200 as soon as Temporal
 * holds the message, while storing and routing happen durably behind it.
 */
export async function inboundWorkflow(input: InboundInput): Promise<InboundResult> {
  // Issue 14: one local step (store + route) instead of two activities; its failures end as `inbound-failed-outcome`.
  if (patchedUnlessBuiltIn('inbound-one-local-step', input.builtInPatches))
    return settle(input, (at) => receive(input, at));
  if (!patched('inbound-failed-outcome')) return handle(input, { stage: 'record' });
  // D: database steps retry without a cap, so an activity failure reaching here is final (the database rejected
  // the data, the tenant is gone, …). It ends in a recorded `failed` outcome and an alert, never in a stuck workflow.
  return settle(input, (at) => handle(input, at));
}

async function settle(
  input: InboundInput,
  run: (at: { stage: Stage }) => Promise<InboundResult>,
): Promise<InboundResult> {
  const at = { stage: 'record' as Stage };
  try {
    return await run(at);
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    const failureType =
      error.cause instanceof ApplicationFailure
        ? (error.cause.type ?? 'ApplicationFailure')
        : (error.cause?.name ?? 'unknown');
    await db.recordInboundFailure({
      input,
      stage: at.stage,
      failureType,
      reason: error.cause?.message ?? error.message,
    });
    return {
      messageId: null,
      conversationWorkflowId: null,
      alreadyHandled: false,
      failed: { stage: at.stage, failureType },
    };
  }
}

async function handle(input: InboundInput, at: { stage: Stage }): Promise<InboundResult> {
  const recorded = await db.recordInbound(input);
  if (recorded.alreadyHandled)
    return { messageId: recorded.messageId, conversationWorkflowId: null, alreadyHandled: true };
  // I12: STOP / START (the whole message) is an instruction to us, not a question for the assistant.
  const keyword = classifyKeyword(input.body);
  if (keyword === 'stop' || keyword === 'start') {
    at.stage = 'keyword';
    await db.applyKeyword({
      keyword,
      tenantId: input.tenantId,
      contactId: recorded.contactId,
      messageId: recorded.messageId,
      messageSid: input.messageSid,
      channel: input.channel,
      tenantAddress: input.to,
      customerAddress: input.from,
      trace: childOf({ ...input.trace, causalTraceId: recorded.causalTraceId }),
    });
    return { messageId: recorded.messageId, conversationWorkflowId: null, alreadyHandled: false };
  }
  at.stage = 'deliver';
  const { workflowId } = await db.deliverToConversation({
    tenantId: input.tenantId,
    tenantSlug: input.tenantSlug,
    contactId: recorded.contactId,
    contactHash: recorded.contactHash,
    channel: input.channel,
    message: {
      messageId: recorded.messageId,
      correlationId: input.messageSid,
      receivedAt: input.receivedAt,
      tenantAddress: input.to,
      customerAddress: input.from,
      trace: childOf({ ...input.trace, causalTraceId: recorded.causalTraceId }),
    },
  });
  return { messageId: recorded.messageId, conversationWorkflowId: workflowId, alreadyHandled: false };
}

/**
 * Issue 14: the message is stored and handed to its conversation by ONE local activity (receiveInbound). Local,
 * because a worker lost mid-task re-running it is harmless: the insert is idempotent (tenant + MessageSid) and the
 * conversation drops a message id it has already seen. A STOP/START keyword is then applied by a regular activity
 * (it sends a confirmation and signals campaigns, so it keeps its own retries and history entry).
 */
async function receive(input: InboundInput, at: { stage: Stage }): Promise<InboundResult> {
  const received = await localDb.receiveInbound(input);
  const result = {
    messageId: received.messageId,
    conversationWorkflowId: received.conversationWorkflowId,
    alreadyHandled: received.alreadyHandled,
  };
  if (received.alreadyHandled || !received.keyword) return result;
  at.stage = 'keyword';
  await db.applyKeyword({
    keyword: received.keyword,
    tenantId: input.tenantId,
    contactId: received.contactId,
    messageId: received.messageId,
    messageSid: input.messageSid,
    channel: input.channel,
    tenantAddress: input.to,
    customerAddress: input.from,
    trace: childOf({ ...input.trace, causalTraceId: received.causalTraceId }),
  });
  return result;
}
