import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../contract';
import type { OutreachInput, OutreachResult } from '../contract/outreach';
import { outreachContact, tenantFirstNumber } from '../db/contacts/outreach';
import { tenantLocale } from '../db/outbound/outbox';
import { loadMessageTemplate } from '../db/knowledge/templates';
import { formatAddress } from '../domain/address';
import { renderTemplate } from '../domain/templates';
import { createOutboundSender } from '../services/outbound/sender';
import type { ActivityDeps } from './deps';

const refuse = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });

export function createOutreachActivities(deps: ActivityDeps) {
  const sender = createOutboundSender(deps);
  return {
    /**
     * Issue 20 E: the first message of an agent-initiated conversation, through the one outbound sender (outbox,
     * idempotency, status callbacks, causal link of the reply). WhatsApp: always the purpose's approved Content
     * template (a business-initiated message; `requireTemplate` even inside the window, so what the agent picked is
     * what the customer gets); none configured → WindowClosed. SMS: the agent's text. An opted-out contact is
     * refused here: agent messages skip the sender's opt-out gate, which is for business-initiated system sends.
     */
    async sendOutreach(input: OutreachInput): Promise<OutreachResult> {
      const contact = await outreachContact(deps.db, input.tenantId, input.contactId);
      if (!contact) throw refuse(FailureType.NotFound, 'no such contact');
      if (contact.optedOutAt) throw refuse(FailureType.InvalidState, 'the contact opted out (STOP): not contacted');
      const from = await tenantFirstNumber(deps.db, input.tenantId, input.channel);
      if (!from) throw refuse(FailureType.NotFound, `the tenant has no ${input.channel} number to send from`);
      let body = input.body;
      if (input.channel === 'whatsapp' && !body && input.purpose) {
        // The stored text: the message template of the same key when there is one, else a description.
        const locale = (await tenantLocale(deps.db, input.tenantId)) ?? 'en';
        const template = await loadMessageTemplate(deps.db, input.tenantId, input.purpose, locale);
        body = template
          ? renderTemplate(template.body, input.variables)
          : `[template ${input.purpose}] ${Object.entries(input.variables)
              .map(([k, v]) => `${k}=${v}`)
              .join(', ')}`.trim();
      }
      const result = await sender.send({
        idempotencyKey: `outreach:${input.tenantId}:${input.key}`,
        tenantId: input.tenantId,
        conversationId: null,
        contactId: input.contactId,
        channel: input.channel,
        from: formatAddress(input.channel, from),
        to: formatAddress(input.channel, contact.phone),
        body,
        sentBy: 'agent',
        author: input.agent,
        ...(input.purpose ? { purpose: input.purpose } : {}),
        variables: input.variables,
        correlationId: `outreach:${input.key}`,
        trace: input.trace,
        ...(input.channel === 'whatsapp' ? { resend: { requireTemplate: true } } : {}),
      });
      if (result.skipped) throw refuse(FailureType.InvalidState, `not sent: ${result.reason}`);
      return { messageId: result.messageId, status: result.status };
    },
  };
}
