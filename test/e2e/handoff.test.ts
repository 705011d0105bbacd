import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationSnapshotQuery } from '../../src/contract';
import { alerts, conversations, events, messages, satisfactionFeedback } from '../../src/db/schema';
import { loadMessageTemplate } from '../../src/db/knowledge/templates';
import { echoHandler, turn, type ChatRequest } from '../support/fake-openai';
import { conversationOf, conversationResult, recordHistory, sentTo } from '../support/conversation';
import { eventually, randomPhone, startHarness, type Harness, type TestTenant } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    MESSAGE_DEBOUNCE: '200ms',
    CONVERSATION_IDLE_AFTER: '5m',
    CONVERSATION_CLOSE_AFTER: '10m',
    NPS_WAIT: '3s',
  });
});
afterAll(async () => {
  await h?.close();
});

const lastUser = (r: ChatRequest) => [...r.messages].reverse().find((m) => m.role === 'user')?.content ?? '';

/** Starts a conversation and waits for its first reply; returns the conversation row id and workflow id. */
async function startConversation(h: Harness, tenant: TestTenant, from: string, body = 'olá') {
  const { messageSid } = await h.postInbound(tenant, { body, from });
  await h.twilio.waitFor(() => sentTo(h, from).length >= 1);
  const workflowId = await conversationOf(h, messageSid);
  const row = await eventually(
    async () => (await h.db.select().from(conversations).where(eq(conversations.workflowId, workflowId)))[0],
    5000,
    'conversation row',
  );
  return { conversationId: row.id, workflowId };
}

describe('human handoff through the operator API', () => {
  it('authenticates API keys and keeps tenants apart', async () => {
    const a = await h.createTestTenant();
    const b = await h.createTestTenant();
    const agentB = await h.createOperator(b);
    const { conversationId } = await startConversation(h, a, `whatsapp:${randomPhone()}`);
    expect((await h.api('/api/conversations')).status).toBe(401);
    expect((await h.api('/api/conversations', { key: 'cw_000000000000_' + 'x'.repeat(32) })).status).toBe(401);
    expect((await h.api(`/api/conversations/${conversationId}`, { key: agentB.apiKey })).status).toBe(404);
    expect(
      (await h.api(`/api/conversations/${conversationId}/takeover`, { key: agentB.apiKey, body: {} })).status,
    ).toBe(404);
    const listed = await h.api('/api/conversations', { key: agentB.apiKey });
    expect(listed.status).toBe(200);
    expect(listed.json.conversations).toEqual([]);
  });

  it('a takeover during the AI call discards the stale reply; the agent answers under their name; release hands back to the AI', async () => {
    const tenant = await h.createTestTenant();
    const agent = await h.createOperator(tenant, 'AGENT', 'Ana');
    const from = `whatsapp:${randomPhone()}`;
    const { conversationId, workflowId } = await startConversation(h, tenant, from);

    let releaseAi!: () => void;
    const aiBlocked = new Promise<void>((resolve) => {
      releaseAi = resolve;
    });
    let aiStarted!: () => void;
    const aiCalled = new Promise<void>((resolve) => {
      aiStarted = resolve;
    });
    h.openai.setHandler(async (request) => {
      if (lastUser(request) !== 'pergunta lenta') return echoHandler(request);
      aiStarted();
      await aiBlocked;
      return turn('resposta velha que não deve sair');
    });
    try {
      await h.postInbound(tenant, { body: 'pergunta lenta', from });
      await aiCalled;
      const taken = await h.api(`/api/conversations/${conversationId}/takeover`, { key: agent.apiKey, body: {} });
      expect(taken.status).toBe(200);
      expect(taken.json.conversation).toMatchObject({ status: 'HUMAN', assignedAgent: { id: agent.id, name: 'Ana' } });
      releaseAi();
      await eventually(
        async () =>
          (
            await h.db
              .select()
              .from(events)
              .where(and(eq(events.conversationId, conversationId), eq(events.type, 'reply.discarded')))
          ).length > 0,
        10_000,
        'the stale reply to be discarded',
      );
    } finally {
      releaseAi();
      h.openai.setHandler(echoHandler);
    }
    const joined = (await loadMessageTemplate(h.db, tenant.tenantId, 'agent_joined', 'pt-BR'))!.body.replace(
      '{{agent_name}}',
      'Ana',
    );
    expect(sentTo(h, from).map((m) => m.body)).toEqual(['Echo: olá', joined]);

    const sent = await h.api(`/api/conversations/${conversationId}/messages`, {
      key: agent.apiKey,
      body: { body: 'Oi, aqui é a Ana. Vou verificar.' },
    });
    expect(sent.status).toBe(201);
    await h.twilio.waitFor(() => sentTo(h, from).length === 3);
    expect(sentTo(h, from)[2]).toMatchObject({ from: tenant.address, body: 'Ana: Oi, aqui é a Ana. Vou verificar.' });
    const [agentMessage] = await h.db
      .select()
      .from(messages)
      .where(eq(messages.id, sent.json.message.messageId as string));
    expect(agentMessage).toMatchObject({ sentBy: 'agent', authorId: agent.id, direction: 'outbound' });

    // While the agent holds it, the AI stays out.
    const aiCallsBefore = h.openai.requests.length;
    const during = await h.postInbound(tenant, { body: 'obrigado Ana', from });
    await eventually(
      async () =>
        (await h.db.select().from(messages).where(eq(messages.providerSid, during.messageSid)))[0]?.conversationId ===
        conversationId,
      10_000,
      'message attached',
    );
    expect(h.openai.requests.length).toBe(aiCallsBefore);

    const released = await h.api(`/api/conversations/${conversationId}/release`, { key: agent.apiKey, body: {} });
    expect(released.json.conversation).toMatchObject({ status: 'PROGRESS', assignedAgent: null });
    await h.postInbound(tenant, { body: 'e agora?', from });
    await h.twilio.waitFor(() => sentTo(h, from).some((m) => m.body === 'Echo: e agora?'));
    expect(sentTo(h, from).some((m) => m.body.includes('resposta velha'))).toBe(false);
    await eventually(
      async () => (await h.client.workflow.getHandle(workflowId).query(conversationSnapshotQuery)).turns === 3,
      5000,
      'the third turn to finish',
    );
    // Issue 25 D: the model call is a regular activity (scheduled, then the task completes), so an operator update
    // is taken while the model is still answering instead of waiting for the workflow task; database and send steps
    // stay local (markers).
    const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
    const scheduled = (history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter(Boolean);
    expect(scheduled).toContain('generateReply');
    expect(scheduled).not.toContain('sendMessage');
    await recordHistory(h, workflowId, 'conversation-takeover-agent-release-local-steps');
    await recordHistory(h, workflowId, 'conversation-takeover-ai-activity');
  });

  it('enforces roles: an agent cannot take or act on another agent’s conversation; a supervisor can force it', async () => {
    const tenant = await h.createTestTenant();
    const ana = await h.createOperator(tenant, 'AGENT', 'Ana');
    const bruno = await h.createOperator(tenant, 'AGENT', 'Bruno');
    const sup = await h.createOperator(tenant, 'SUPERVISOR', 'Sofia');
    const { conversationId } = await startConversation(h, tenant, `whatsapp:${randomPhone()}`);
    expect((await h.api(`/api/conversations/${conversationId}/takeover`, { key: ana.apiKey, body: {} })).status).toBe(
      200,
    );
    const stolen = await h.api(`/api/conversations/${conversationId}/takeover`, { key: bruno.apiKey, body: {} });
    expect(stolen.status).toBe(409);
    expect(stolen.json.error.message).toMatch(/held by Ana/);
    expect(
      (await h.api(`/api/conversations/${conversationId}/takeover`, { key: bruno.apiKey, body: { force: true } }))
        .status,
    ).toBe(403);
    expect(
      (await h.api(`/api/conversations/${conversationId}/messages`, { key: bruno.apiKey, body: { body: 'oi' } }))
        .status,
    ).toBe(403);
    expect(
      (await h.api(`/api/conversations/${conversationId}/messages`, { key: ana.apiKey, body: { body: '' } })).status,
    ).toBe(400);
    const forced = await h.api(`/api/conversations/${conversationId}/takeover`, {
      key: sup.apiKey,
      body: { force: true },
    });
    expect(forced.status).toBe(200);
    expect(forced.json.conversation.assignedAgent).toMatchObject({ name: 'Sofia' });
    const queue = await h.api('/api/conversations?status=HUMAN', { key: sup.apiKey });
    expect(queue.json.conversations.map((c: { id: string }) => c.id)).toContain(conversationId);
  });

  it('an agent resolves: RESOLVED, NPS asked, the score is recorded as resolved by a human', async () => {
    const tenant = await h.createTestTenant();
    const ana = await h.createOperator(tenant, 'AGENT', 'Ana');
    const from = `whatsapp:${randomPhone()}`;
    const { conversationId, workflowId } = await startConversation(h, tenant, from);
    await h.api(`/api/conversations/${conversationId}/takeover`, { key: ana.apiKey, body: {} });
    const resolved = await h.api(`/api/conversations/${conversationId}/resolve`, {
      key: ana.apiKey,
      body: { reason: 'order found' },
    });
    expect(resolved.json.conversation).toMatchObject({ status: 'RESOLVED' });
    const again = await h.api(`/api/conversations/${conversationId}/close`, { key: ana.apiKey, body: {} });
    expect(again.status).toBe(409);
    const nps = (await loadMessageTemplate(h.db, tenant.tenantId, 'nps_question', 'pt-BR'))!.body;
    await h.twilio.waitFor(() => sentTo(h, from).some((m) => m.body === nps));
    await h.postInbound(tenant, { body: '6', from });
    expect(await conversationResult(h, workflowId)).toMatchObject({ status: 'RESOLVED', npsScore: 6 });
    await recordHistory(h, workflowId, 'conversation-resolve-nps-local-steps');
    const [feedback] = await h.db
      .select()
      .from(satisfactionFeedback)
      .where(eq(satisfactionFeedback.conversationId, conversationId));
    expect(feedback).toMatchObject({ score: 6, category: 'detractor', resolvedBy: 'human' });
  });

  it('the AI hands over by itself: HUMAN in the department queue, an alert, and no more AI replies', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    h.openai.setHandler((request) =>
      lastUser(request) === 'quero falar com alguém do financeiro'
        ? {
            content: null,
            toolCalls: [
              { name: 'transfer_to_human', arguments: { department: 'billing', reason: 'billing question' } },
            ],
          }
        : echoHandler(request),
    );
    try {
      const { messageSid } = await h.postInbound(tenant, { body: 'quero falar com alguém do financeiro', from });
      const notice = (await loadMessageTemplate(h.db, tenant.tenantId, 'handoff_notice', 'pt-BR'))!.body;
      await h.twilio.waitFor(() => sentTo(h, from).some((m) => m.body === notice));
      const workflowId = await conversationOf(h, messageSid);
      const row = await eventually(
        async () => {
          const [c] = await h.db.select().from(conversations).where(eq(conversations.workflowId, workflowId));
          return c?.status === 'HUMAN' ? c : null;
        },
        10_000,
        'HUMAN',
      );
      expect(row).toMatchObject({ department: 'billing', assignedAgent: null });
      expect(row.transferredAt).not.toBeNull();
      const [alert] = await h.db.select().from(alerts).where(eq(alerts.conversationId, row.id));
      expect(alert).toMatchObject({ type: 'handoff', severity: 'medium' });
      const aiCalls = h.openai.requests.length;
      const later = await h.postInbound(tenant, { body: 'alô?', from });
      await eventually(
        async () =>
          (await h.db.select().from(messages).where(eq(messages.providerSid, later.messageSid)))[0]?.conversationId ===
          row.id,
        10_000,
        'message attached',
      );
      expect(h.openai.requests.length).toBe(aiCalls);
      await recordHistory(h, workflowId, 'conversation-ai-handoff-local-steps');
    } finally {
      h.openai.setHandler(echoHandler);
    }
  });

  it('raises an alert for an urgent or very negative turn, and closes when the AI calls close_conversation', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    h.openai.setHandler((request) => {
      const text = lastUser(request);
      if (text === 'vazamento de gás!')
        return turn('Ligue para a emergência agora.', {
          urgency: 'critical',
          sentiment: 'very_negative',
          intent: 'emergency',
        });
      if (text === 'resolvido, obrigado')
        return {
          content: JSON.stringify({
            reply: 'Que bom! Até logo.',
            intent: 'thanks',
            sentiment: 'positive',
            urgency: 'low',
            confidence: 0.9,
            wants_human: false,
          }),
          toolCalls: [{ name: 'close_conversation', arguments: { reason: 'customer satisfied' } }],
        };
      return echoHandler(request);
    });
    try {
      const { conversationId, workflowId } = await startConversation(h, tenant, from, 'vazamento de gás!');
      const raised = await eventually(
        async () => {
          const rows = await h.db.select().from(alerts).where(eq(alerts.conversationId, conversationId));
          return rows.length >= 2 ? rows : null;
        },
        10_000,
        'alerts',
      );
      expect(raised.map((a) => `${a.type}:${a.severity}`).sort()).toEqual([
        'negative_sentiment:high',
        'urgent:critical',
      ]);
      await h.postInbound(tenant, { body: 'resolvido, obrigado', from });
      await h.twilio.waitFor(() => sentTo(h, from).some((m) => m.body === 'Que bom! Até logo.'));
      const result = await conversationResult(h, workflowId);
      expect(result).toMatchObject({ status: 'RESOLVED', npsScore: null });
      const [row] = await h.db.select().from(conversations).where(eq(conversations.id, conversationId));
      expect(row).toMatchObject({ resolvedBy: 'ai', closeReason: 'ai closed: customer satisfied' });
    } finally {
      h.openai.setHandler(echoHandler);
    }
  });
});
