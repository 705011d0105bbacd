import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alerts, conversations } from '../../src/db/schema';
import { loadMessageTemplate } from '../../src/db/templates';
import { echoHandler, type ChatRequest } from '../support/fake-openai';
import { conversationOf, conversationResult, recordHistory, sentTo } from '../support/conversation';
import { eventually, randomPhone, startHarness, type Harness, type TestTenant } from '../support/harness';

// Issue 20: the desk. Short clocks: the AI's close after 2 s, the first-response SLA 2 s, the human close 3 s.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    MESSAGE_DEBOUNCE: '200ms',
    CONVERSATION_IDLE_AFTER: '1s',
    CONVERSATION_CLOSE_AFTER: '2s',
    HUMAN_CLOSE_AFTER: '3s',
    DESK_FIRST_RESPONSE_SLA: '2s',
    NPS_WAIT: '1s',
  });
});
afterAll(async () => {
  await h?.close();
});

const HANDOFF = 'quero falar com uma pessoa';
const lastUser = (r: ChatRequest) => [...r.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
const handoffTo = (department: string) => (request: ChatRequest) =>
  lastUser(request) === HANDOFF
    ? {
        content: null,
        toolCalls: [{ name: 'transfer_to_human', arguments: { department, reason: 'asked for a person' } }],
      }
    : echoHandler(request);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function handOff(tenant: TestTenant, from: string) {
  const { messageSid } = await h.postInbound(tenant, { body: HANDOFF, from });
  const workflowId = await conversationOf(h, messageSid);
  const row = await eventually(
    async () => {
      const [c] = await h.db.select().from(conversations).where(eq(conversations.workflowId, workflowId));
      return c?.status === 'HUMAN' && c.waitingSince ? c : null;
    },
    10_000,
    'the conversation in the queue',
  );
  return { workflowId, row };
}

const slaAlerts = (conversationId: string) =>
  h.db
    .select()
    .from(alerts)
    .where(and(eq(alerts.conversationId, conversationId), eq(alerts.type, 'sla_breached')));

describe('a customer waiting for a human (issue 20 A, C)', () => {
  it('is never closed while waiting; one sla_breached alert; resolved after HUMAN_CLOSE_AFTER once an agent answered', async () => {
    h.openai.setHandler(handoffTo('support'));
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    const closing = (await loadMessageTemplate(h.db, tenant.tenantId, 'closing', 'pt-BR'))!.body;
    const { workflowId, row } = await handOff(tenant, from);
    expect(row.slaDueAt!.getTime() - row.waitingSince!.getTime()).toBe(2000);

    // Past CONVERSATION_CLOSE_AFTER (2 s) and the SLA (2 s), with no agent answering.
    await eventually(async () => (await slaAlerts(row.id)).length > 0, 10_000, 'the sla_breached alert');
    await sleep(3000);
    const [still] = await h.db.select().from(conversations).where(eq(conversations.id, row.id));
    expect(still).toMatchObject({ status: 'HUMAN', closedAt: null });
    expect(sentTo(h, from).some((m) => m.body === closing)).toBe(false);
    const breaches = await slaAlerts(row.id);
    expect(breaches).toHaveLength(1);
    expect(breaches[0]).toMatchObject({ severity: 'high', resolvedAt: null });
    expect(breaches[0]!.payload).toMatchObject({ kind: 'first', department: 'support' });
    const metrics = await h.workerMetrics.registry.getSingleMetricAsString('causeway_sla_breaches_total');
    expect(metrics).toMatch(/causeway_sla_breaches_total\{kind="first",department="support",role="worker"\} 1/);

    // A message from the customer while waiting does not start the silence clock either.
    await h.postInbound(tenant, { body: 'alguém?', from });
    await sleep(2500);
    expect((await h.db.select().from(conversations).where(eq(conversations.id, row.id)))[0]!.status).toBe('HUMAN');

    // An agent answers; the customer goes silent: resolved after HUMAN_CLOSE_AFTER with the closing message.
    const agent = await h.createOperator(tenant, 'AGENT', 'Ana');
    expect((await h.api(`/api/conversations/${row.id}/takeover`, { key: agent.apiKey, body: {} })).status).toBe(200);
    const answered = await h.api(`/api/conversations/${row.id}/messages`, {
      key: agent.apiKey,
      body: { body: 'Oi, aqui é a Ana.' },
    });
    expect(answered.status).toBe(201);
    const answeredAt = Date.now();
    const [afterAnswer] = await h.db.select().from(conversations).where(eq(conversations.id, row.id));
    expect(afterAnswer).toMatchObject({ status: 'HUMAN', waitingSince: null, slaDueAt: null });
    const result = await conversationResult(h, workflowId);
    expect(result.status).toBe('RESOLVED');
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(2900);
    const [resolved] = await h.db.select().from(conversations).where(eq(conversations.id, row.id));
    expect(resolved).toMatchObject({ status: 'RESOLVED', resolvedBy: 'human' });
    const bodies = sentTo(h, from).map((m) => m.body);
    expect(bodies.filter((b) => b === closing)).toHaveLength(1);
    expect(bodies.indexOf(closing)).toBeGreaterThan(bodies.indexOf('Ana: Oi, aqui é a Ana.'));
    // The breach alert is settled with the conversation; still exactly one.
    expect(await slaAlerts(row.id)).toMatchObject([{ resolvedAt: expect.any(Date) }]);
    await recordHistory(h, workflowId, 'conversation-desk-human-wait');
  });
});
