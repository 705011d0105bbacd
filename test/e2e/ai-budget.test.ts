import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alerts, contacts, conversations, promises } from '../../src/db/schema';
import { sentTo } from '../support/conversation';
import { echoHandler, turn } from '../support/fake-openai';
import { eventually, randomPhone, startHarness, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  // The deployment default (30 turns an hour) is what the flood meets.
  h = await startHarness({ MESSAGE_DEBOUNCE: '100ms' });
});
afterAll(async () => {
  await h?.close();
});

const conversationOf = async (tenantId: string, phone: string) => {
  const [row] = await h.db
    .select({ id: conversations.id, status: conversations.status, workflowId: conversations.workflowId })
    .from(conversations)
    .innerJoin(contacts, eq(contacts.id, conversations.contactId))
    .where(and(eq(conversations.tenantId, tenantId), eq(contacts.phone, phone)));
  return row;
};

describe('AI budget (issue 18 E)', () => {
  it('a one-number flood of 40 messages in an hour makes 30 AI calls, then a human takes over with one alert', async () => {
    h.openai.setHandler(echoHandler);
    const tenant = await h.createTestTenant();
    const phone = randomPhone();
    const from = `whatsapp:${phone}`;
    const before = h.openai.requests.length;
    for (let i = 1; i <= 40; i++) {
      await h.postInbound(tenant, { body: `mensagem ${i}`, from });
      if (i <= 31) await h.twilio.waitFor(() => sentTo(h, from).length >= i, 20_000);
      else await new Promise((resolve) => setTimeout(resolve, 150));
    }
    // Time for any late turn to show up.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const calls = h.openai.requests.slice(before);
    expect(calls.length).toBe(30);
    expect(calls.every((r) => r.max_completion_tokens === 1024)).toBe(true);
    const conversation = await conversationOf(tenant.tenantId, phone);
    expect(conversation!.status).toBe('HUMAN');
    const raised = await h.db
      .select()
      .from(alerts)
      .where(and(eq(alerts.conversationId, conversation!.id), eq(alerts.type, 'ai_budget_exceeded')));
    expect(raised).toHaveLength(1);
    expect(raised[0]!.message).not.toContain(phone);
    // The 31st message got the handoff notice, not an AI reply.
    expect(sentTo(h, from)).toHaveLength(31);
  }, 120_000);

  it('refuses a promise of R$0,01 due 9999-12-31 with a tool error the AI sees; the conversation goes on', async () => {
    const tenant = await h.createTestTenant();
    const phone = randomPhone();
    const from = `whatsapp:${phone}`;
    h.openai.setHandler(echoHandler);
    await h.postInbound(tenant, { body: 'oi', from });
    await h.twilio.waitFor(() => sentTo(h, from).length >= 1);
    // A São Paulo debtor: the end of 9999-12-31 there is already year 10000 in UTC (the 22009 crash).
    await h.db
      .update(contacts)
      .set({ timeZone: 'America/Sao_Paulo' })
      .where(and(eq(contacts.tenantId, tenant.tenantId), eq(contacts.phone, phone)));

    h.openai.setHandler((request) => {
      if (!request.response_format) return turn('resumo');
      const system = request.messages[0]!.content;
      if (system.includes('REFUSED')) return turn('Não consigo registrar esse acordo. Podemos combinar outra data?');
      return {
        content: null,
        toolCalls: [{ name: 'register_promise', arguments: { amount: 0.01, due_date: '9999-12-31', method: 'pix' } }],
      };
    });
    const before = h.openai.requests.length;
    await h.postInbound(tenant, { body: 'pago um centavo no fim dos tempos', from });
    await h.twilio.waitFor(() => sentTo(h, from).length >= 2);
    expect(sentTo(h, from)[1]!.body).toContain('Não consigo registrar esse acordo');
    const calls = h.openai.requests.slice(before).filter((r) => r.response_format);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.messages[0]!.content).toMatch(/register_promise\(.*\) was REFUSED: the due date is more than 60/);

    const conversation = await conversationOf(tenant.tenantId, phone);
    expect(await h.db.select().from(promises).where(eq(promises.conversationId, conversation!.id))).toHaveLength(0);
    const described = await h.client.workflow.getHandle(conversation!.workflowId).describe();
    expect(described.status.name).toBe('RUNNING');

    // Still alive: the next message is answered.
    h.openai.setHandler(echoHandler);
    await h.postInbound(tenant, { body: 'ok, e amanhã?', from });
    await h.twilio.waitFor(() => sentTo(h, from).length >= 3);
    await eventually(async () => (await conversationOf(tenant.tenantId, phone))?.status === 'PROGRESS');
  }, 60_000);
});
