import type { InboundInput, InboundResult } from '../contract';
import { db } from './activity-options';
import { childOf } from './trace';

/**
 * `inbound:<MessageSid>`: short-lived. Stores the message (idempotent insert), then hands it to the
 * conversation by signal-with-start, and ends. It exists so the webhook can answer 200 as soon as Temporal
 * holds the message, while storing and routing happen durably behind it.
 */
export async function inboundWorkflow(input: InboundInput): Promise<InboundResult> {
  const recorded = await db.recordInbound(input);
  if (recorded.alreadyHandled) return { messageId: recorded.messageId, conversationWorkflowId: null, alreadyHandled: true };
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
