// The no-op pipeline's workflows (bundled on their own, their own task queue): the same Temporal hops as
// Causeway's inbound path with no business logic at all. Every figure of Causeway's pipeline is reported as a
// ratio to this one, measured in the same run on the same server (DESIGN §6).
import { condition, defineSignal, proxyActivities, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { NoopActivities } from './activities';
import type { NoopMessage, Steps } from './shape';

const options = { startToCloseTimeout: '15s', retry: { initialInterval: '500ms', maximumInterval: '30s' } } as const;
const regular = proxyActivities<NoopActivities>(options);
const local = proxyLocalActivities<NoopActivities>(options);

export const noopMessageSignal = defineSignal<[NoopMessage]>('noopMessage');

/** The steps in `steps.order` (else `steps.local` local activities, then `steps.regular` regular ones); the last
 *  one does `last` instead of nothing (`steps.after` is the caller's). */
async function run(steps: Steps, last: (proxy: NoopActivities) => Promise<void>) {
  const kinds = steps.order ?? 'L'.repeat(steps.local) + 'R'.repeat(steps.regular);
  for (let i = 0; i < kinds.length; i += 1) {
    const proxy = kinds[i] === 'L' ? local : regular;
    await (i === kinds.length - 1 ? last(proxy) : proxy.noop());
  }
}

/** `noop-inbound:<MessageSid>`: its steps, the last of which signal-with-starts the customer's conversation. */
export async function noopInboundWorkflow(message: NoopMessage): Promise<void> {
  await run(message.shape.inbound!, (proxy) => proxy.deliver(message));
}

/** `noop-conversation:<from>`: one turn per message; the turn's last step sends the reply to the fake Twilio. */
export async function noopConversationWorkflow(): Promise<void> {
  const queue: NoopMessage[] = [];
  setHandler(noopMessageSignal, (message) => void queue.push(message));
  for (;;) {
    await condition(() => queue.length > 0);
    const message = queue.shift()!;
    await run(message.shape.conversation, (proxy) => proxy.send(message));
    for (let i = 0; i < (message.shape.conversation.after ?? 0); i += 1) await regular.noop();
  }
}
