import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../contract';
import type { SendMessageInput, SendMessageResult } from '../contract/pipeline';
import { createOutboundSender } from '../services/outbound/sender';
import type { ActivityDeps } from './deps';

export type { SendMessageInput, SendMessageResult } from '../contract/pipeline';
export { createOutboundSender, WINDOW_CLOSED, windowClosedFailure, type SendHooks } from '../services/outbound/sender';

export function createMessagingActivities(deps: ActivityDeps) {
  const sender = createOutboundSender(deps);
  return {
    /**
     * The conversation's sends (replies, system messages, agent messages); see createOutboundSender. A system
     * message (idle nudge, close, NPS) refused for the WhatsApp window is recorded, alerted and returned as
     * skipped: the conversation goes on without it. An agent's message throws, so the operator API answers 409.
     */
    async sendMessage(input: SendMessageInput): Promise<SendMessageResult> {
      try {
        return await sender.send(input);
      } catch (error) {
        if (input.sentBy === 'system' && error instanceof ApplicationFailure && error.type === FailureType.WindowClosed)
          return { skipped: true, reason: 'window_closed' };
        if (
          input.sentBy === 'system' &&
          error instanceof ApplicationFailure &&
          error.type === FailureType.TemplateVariables
        )
          return { skipped: true, reason: 'template_variables' };
        throw error;
      }
    },

    /** Started by a failed status callback (63016 with a template, or a retryable code); see redeliver. */
    async redeliverMessage(input: { messageId: string; mode: 'template' | 'retry' }): Promise<{ outcome: string }> {
      try {
        const result = await sender.redeliver(input);
        return { outcome: result.skipped ? result.reason : result.status };
      } catch (error) {
        if (
          error instanceof ApplicationFailure &&
          (error.type === FailureType.WindowClosed ||
            error.type === FailureType.TwilioPermanent ||
            error.type === FailureType.TemplateVariables)
        )
          return { outcome: error.type };
        throw error;
      }
    },
  };
}
