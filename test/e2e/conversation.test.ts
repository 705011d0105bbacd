import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundWorkflowId } from '../../src/contract';
import { conversations, conversationStateHistory, messages } from '../../src/db/schema';
import { randomPhone, startHarness, type Harness } from '../support/harness';

let h: Harness;
// Short durations through the env, so durable timers fire within the test.
beforeAll(async () => { h = await startHarness({ MESSAGE_DEBOUNCE: '1500ms', CONVERSATION_IDLE_AFTER: '2s', CONVERSATION_CLOSE_AFTER: '3s' }); });
afterAll(async () => { await h?.close(); });

const conversationOf = async (h: Harness, messageSid: string) =>
  (await h.client.workflow.getHandle(inboundWorkflowId(messageSid)).result() as { conversationWorkflowId: string }).conversationWorkflowId;

describe('conversation workflow', () => {
  it('answers a burst inside the debounce window with one AI turn that sees every message', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    const sids: string[] = [];
    for (const body of ['oi', 'meu pedido', 'não chegou']) sids.push((await h.postInbound(tenant, { body, from })).messageSid);

    await h.twilio.waitFor((sent) => sent.some((m) => m.to === from));
    const workflowId = await conversationOf(h, sids[0]!);
    const result = await h.client.workflow.getHandle(workflowId).result() as { status: string };
    expect(result.status).toBe('EXPIRED');

    const replies = h.twilio.sent.filter((m) => m.to === from);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.body).toBe('Echo: não chegou');
    const aiCalls = h.openai.requests.filter((r) => sids.includes(r.user ?? ''));
    expect(aiCalls).toHaveLength(1);
    expect(aiCalls[0]!.messages.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['oi', 'meu pedido', 'não chegou']);
  });

  it('closes an idle conversation with a durable timer, records each transition, and opens a new one on the next message', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    const first = await h.postInbound(tenant, { body: 'primeira', from });
    const workflowId = await conversationOf(h, first.messageSid);
    const result = await h.client.workflow.getHandle(workflowId).result() as { conversationId: string; status: string };
    expect(result.status).toBe('EXPIRED');

    const [row] = await h.db.select().from(conversations).where(eq(conversations.id, result.conversationId));
    expect(row).toMatchObject({ status: 'EXPIRED', version: 3, closeReason: 'idle timeout' });
    const history = await h.db.select().from(conversationStateHistory).where(eq(conversationStateHistory.conversationId, result.conversationId)).orderBy(asc(conversationStateHistory.id));
    expect(history.map((r) => [r.fromStatus, r.toStatus])).toEqual([[null, 'PENDING'], ['PENDING', 'PROGRESS'], ['PROGRESS', 'EXPIRED']]);

    const second = await h.postInbound(tenant, { body: 'voltei', from });
    await h.twilio.waitFor((sent) => sent.filter((m) => m.to === from).length === 2);
    const next = await h.client.workflow.getHandle(workflowId).result() as { conversationId: string };
    expect(next.conversationId).not.toBe(result.conversationId);
    const [message] = await h.db.select().from(messages).where(eq(messages.providerSid, second.messageSid));
    expect(message!.conversationId).toBe(next.conversationId);
  });
});
