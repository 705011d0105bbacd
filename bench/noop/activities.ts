import type { Client } from '@temporalio/client';
import type { NoopMessage } from './shape';

export const noopConversationId = (from: string) => `noop-conversation:${from}`;

/** Signal-with-start of the customer's no-op conversation: what Causeway's delivery to the conversation does. */
export function deliverNoop(client: Client, taskQueue: string, message: NoopMessage) {
  return client.workflow.signalWithStart('noopConversationWorkflow', {
    workflowId: noopConversationId(message.from),
    taskQueue,
    args: [],
    signal: 'noopMessage',
    signalArgs: [message],
  });
}

export function createNoopActivities(deps: {
  client: Client;
  taskQueue: string;
  twilioUrl: string;
  authToken: string;
}) {
  return {
    async noop(): Promise<void> {},
    async deliver(message: NoopMessage): Promise<void> {
      await deliverNoop(deps.client, deps.taskQueue, message);
    },
    /** The reply, as Causeway sends it: a POST to (fake) Twilio's Messages resource. */
    async send(message: NoopMessage): Promise<void> {
      const response = await fetch(`${deps.twilioUrl}/2010-04-01/Accounts/${message.accountSid}/Messages.json`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${message.accountSid}:${deps.authToken}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ To: message.from, From: message.to, Body: 'ok' }).toString(),
      });
      await response.text();
      if (response.status !== 201) throw new Error(`fake Twilio answered ${response.status}`);
    },
  };
}
export type NoopActivities = ReturnType<typeof createNoopActivities>;
