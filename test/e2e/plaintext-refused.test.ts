import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerMessageSignal, inboundWorkflowId, type CustomerMessage, type InboundInput } from '../../src/contract';
import { conversations, messages } from '../../src/db/schema';
import { newRootTrace } from '../../src/domain/trace';
import { newMessageSid } from '../../src/integrations/signed-webhook';
import { createTemporalClient, type TemporalClientHandle } from '../../src/temporal/connection';
import { EncryptionCodec } from '../../src/temporal/payload-codec';
import { conversationOf, sentTo } from '../support/conversation';
import { eventually, randomPhone, startHarness, type Harness } from '../support/harness';

// Issue 18 B, the attack: someone who reaches Temporal's frontend (or the Web UI with writes on) starts a workflow or
// sends a signal with a plain-JSON payload. A worker in production mode (CAUSEWAY_PLAINTEXT_PAYLOADS=refuse, the
// production default) refuses it: the workflow task fails with a clear error and nothing runs.
let h: Harness;
let forger: TemporalClientHandle;
beforeAll(async () => {
  h = await startHarness({ MESSAGE_DEBOUNCE: '100ms', CAUSEWAY_PLAINTEXT_PAYLOADS: 'refuse' });
  // A client without the keys: everything it sends is plain JSON.
  forger = createTemporalClient({
    address: h.env.TEMPORAL_ADDRESS!,
    namespace: h.env.TEMPORAL_NAMESPACE,
    payloadKeys: null,
  });
});
afterAll(async () => {
  await forger?.close();
  await h?.close();
});

/** The failure message of the workflow's latest failed workflow task, once there is one. */
async function workflowTaskFailure(workflowId: string) {
  return eventually(
    async () => {
      const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
      const failed = (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes);
      const failure = failed.at(-1)?.workflowTaskFailedEventAttributes?.failure;
      if (!failure) return null;
      // The failure converter encodes messages as an (encrypted) payload.
      if (!failure.encodedAttributes) return failure.message ?? '';
      const [plain] = await new EncryptionCodec(h.payloadKeys!).decode([failure.encodedAttributes]);
      return (JSON.parse(new TextDecoder().decode(plain!.data)) as { message: string }).message;
    },
    15_000,
    `a failed workflow task in ${workflowId}`,
  );
}

describe('issue 18 B: a production worker refuses unencrypted payloads', () => {
  it('encrypted traffic still works; a forged plain-JSON start and signal are refused and nothing runs', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    // The real path (the API's client encrypts) is answered as usual.
    const { messageSid } = await h.postInbound(tenant, { body: 'oi, tudo bem?', from });
    await h.twilio.waitFor(() => sentTo(h, from).length >= 1);
    const workflowId = await conversationOf(h, messageSid);

    // A forged start of inbound:<sid> for another phone: not stored, not answered.
    const forgedPhone = randomPhone();
    const forgedSid = newMessageSid();
    const input: InboundInput = {
      tenantId: tenant.tenantId,
      tenantSlug: tenant.slug,
      messageSid: forgedSid,
      channel: 'whatsapp',
      from: `whatsapp:${forgedPhone}`,
      to: tenant.address,
      body: 'forjada',
      media: [],
      profileName: null,
      originalRepliedMessageSid: null,
      receivedAt: new Date().toISOString(),
      trace: newRootTrace(),
    };
    await forger.client.workflow.start('inboundWorkflow', {
      workflowId: inboundWorkflowId(forgedSid),
      taskQueue: h.env.TEMPORAL_TASK_QUEUE,
      args: [input],
    });
    expect(await workflowTaskFailure(inboundWorkflowId(forgedSid))).toMatch(/unencrypted payload refused/);

    // A forged signal into the live conversation, naming a message that would otherwise be answered.
    const [conversation] = await h.db.select().from(conversations).where(eq(conversations.workflowId, workflowId));
    const [first] = await h.db.select().from(messages).where(eq(messages.providerSid, messageSid));
    const [planted] = await h.db
      .insert(messages)
      .values({
        tenantId: tenant.tenantId,
        conversationId: conversation!.id,
        contactId: first!.contactId,
        direction: 'inbound',
        channel: 'whatsapp',
        providerSid: newMessageSid(),
        fromAddress: from,
        toAddress: tenant.address,
        body: 'mensagem plantada',
        sentBy: 'customer',
        status: 'received',
        correlationId: `planted-${randomBytes(3).toString('hex')}`,
      })
      .returning();
    const signal: CustomerMessage = {
      messageId: planted!.id,
      correlationId: planted!.correlationId,
      receivedAt: new Date().toISOString(),
      tenantAddress: tenant.address,
      customerAddress: from,
      trace: newRootTrace(),
    };
    const aiCallsBefore = h.openai.requests.length;
    await forger.client.workflow.getHandle(workflowId).signal(customerMessageSignal, signal);
    expect(await workflowTaskFailure(workflowId)).toMatch(/unencrypted payload refused/);
    // Give a (wrongly) executed signal time to reach the AI and Twilio: neither happens.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(h.openai.requests.length).toBe(aiCallsBefore);
    expect(sentTo(h, from).length).toBe(1);
    expect(h.twilio.sent.some((m) => m.to === `whatsapp:${forgedPhone}`)).toBe(false);
    expect(await h.db.select().from(messages).where(eq(messages.providerSid, forgedSid))).toEqual([]);
  });
});
