import type { Redelivery } from '../contract';
import { messaging } from './activity-options';

/**
 * `redeliver:<messageId>:<mode>`: one follow-up send for a message whose delivery failed (63016 → as the
 * purpose's WhatsApp template; a retryable code → the same message again). Short-lived; the outbox keeps it once.
 */
export async function redeliveryWorkflow(input: Redelivery): Promise<{ outcome: string }> {
  return messaging.redeliverMessage(input);
}
