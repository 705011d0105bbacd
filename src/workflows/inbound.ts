import type { InboundInput, InboundResult } from '../contract';
import { db } from './activity-options';
import { childOf } from './trace';
import { classifyKeyword } from '../domain/opt-out';

/**
 * `inbound:<MessageSid>`: short-lived. Stores the message (idempotent insert), then hands it to the
 * conversation by signal-with-start, and ends. It exists so the webhook can answer 200 as soon as Temporal
 * holds the message, while storing and routing happen durably behind it.
 */
export async function inboundWorkflow(input: InboundInput): Promise<InboundResult> {
  const recorded = await db.recordInbound(input);
  if (recorded.alreadyHandled) return { messageId: recorded.messageId, conversationWorkflowId: null, alreadyHandled: true };
  // I12: STOP / START (the whole message) is an instruction to us, not a question for the assistant.
  const keyword = classifyKeyword(input.body);
  if (keyword === 'stop' || keyword === 'start') {
    await db.applyKeyword({
      keyword, tenantId: input.tenantId, contactId: recorded.contactId, messageId: recorded.messageId, messageSid: input.messageSid, channel: input.channel,
      tenantAddress: input.to, customerAddress: input.from, trace: childOf({ ...input.trace, causalTraceId: recorded.causalTraceId }),
    });
    return { messageId: recorded.messageId, conversationWorkflowId: null, alreadyHandled: false };
  }
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
