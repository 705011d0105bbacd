import { inboundWorkflowId } from '../../src/contract';
import type { ConversationResult } from '../../src/workflows/conversation';
import type { Harness } from './harness';

/** The conversation workflow id an inbound message was routed to. */
export async function conversationOf(h: Harness, messageSid: string): Promise<string> {
  const result = await h.client.workflow.getHandle(inboundWorkflowId(messageSid)).result() as { conversationWorkflowId: string };
  return result.conversationWorkflowId;
}

/** The result of the conversation run that finishes next (follows continue-as-new). */
export async function conversationResult(h: Harness, workflowId: string): Promise<ConversationResult> {
  return await h.client.workflow.getHandle(workflowId).result() as ConversationResult;
}

export const sentTo = (h: Harness, to: string) => h.twilio.sent.filter((m) => m.to === to);
