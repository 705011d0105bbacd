import type { OutreachInput, OutreachResult } from '../contract/outreach';
import { messaging } from './activity-options';

/**
 * `outreach:<tenant>:<key>`: an agent's first message to a contact (issue 20 E). One send, retried by Temporal
 * through the idempotent outbox; the customer's answer opens a conversation through the inbound path as usual.
 */
export async function outreachWorkflow(input: OutreachInput): Promise<OutreachResult> {
  return messaging.sendOutreach(input);
}
