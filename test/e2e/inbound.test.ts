import { WorkflowNotFoundError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationSnapshotQuery, inboundWorkflowId } from '../../src/contract';
import { aiResults, conversations, events, messages, orphanInbound, outbox } from '../../src/db/schema';
import { conversationOf, runInput } from '../support/conversation';
import { newMessageSid } from '../../src/integrations/signed-webhook';
import { loadMessageTemplate } from '../../src/db/knowledge/templates';
import { eventually, postSignedWebhook, randomPhone, startHarness, type Harness } from '../support/harness';
import { safetyIdentifier } from '../../src/secrets/safety-identifier';

/** The AI turn calls made for one contact: the requests carrying its safety_identifier (issue 23: no `user` any more). */
async function aiCallsFor(harness: Harness, tenantId: string, messageSid: string) {
  const [row] = await harness.db
    .select({ contactId: messages.contactId })
    .from(messages)
    .where(eq(messages.providerSid, messageSid));
  const id = safetyIdentifier(tenantId, row!.contactId);
  return harness.openai.requests.filter((r) => r.response_format && r.safety_identifier === id);
}

const EventType = temporal.api.enums.v1.EventType;

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const customer = () => `whatsapp:${randomPhone()}`;

async function workflowExists(h: Harness, workflowId: string): Promise<boolean> {
  try {
    await h.client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

describe('inbound pipeline: webhook → Temporal → AI → Twilio → Postgres', () => {
  it('answers a signed webhook once, from the tenant number to the sender, with the AI text', async () => {
    const tenant = await h.createTestTenant();
    const from = customer();
    const { response, messageSid, text } = await h.postInbound(tenant, { body: 'Olá, meu pedido atrasou', from });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/xml');
    expect(text).toContain('<Response></Response>');

    const [reply] = await h.twilio.waitFor((sent) => sent.some((m) => m.to === from));
    const sent = h.twilio.sent.filter((m) => m.to === from);
    expect(sent).toHaveLength(1);
    expect(reply).toBeDefined();
    expect(sent[0]).toMatchObject({
      accountSid: tenant.accountSid,
      from: tenant.address,
      to: from,
      body: 'Echo: Olá, meu pedido atrasou',
    });

    // Postgres: inbound and outbound share the correlation id; the AI call is stored with it too (seed 000).
    const rows = await eventually(
      async () => {
        const r = await h.db.select().from(messages).where(eq(messages.correlationId, messageSid));
        return r.length === 2 && r.every((m) => m.providerSid) ? r : null;
      },
      10_000,
      'both messages stored with SIDs',
    );
    const inbound = rows.find((m) => m.direction === 'inbound')!;
    const outbound = rows.find((m) => m.direction === 'outbound')!;
    // The message id rides in the callback URL (issue 25 A): it is the outbound row's id.
    expect(sent[0]!.statusCallback).toBe(
      `https://causeway.example.test/webhooks/twilio/status?m=${outbound.id}#${h.env.TWILIO_CONNECTION_OVERRIDES}`,
    );
    expect(inbound).toMatchObject({
      providerSid: messageSid,
      body: 'Olá, meu pedido atrasou',
      sentBy: 'customer',
      tenantId: tenant.tenantId,
    });
    expect(outbound).toMatchObject({
      providerSid: sent[0]!.sid,
      status: 'queued',
      sentBy: 'ai',
      conversationId: inbound.conversationId,
      traceId: inbound.traceId,
    });
    const [ai] = await h.db.select().from(aiResults).where(eq(aiResults.correlationId, messageSid));
    expect(ai).toMatchObject({
      provider: 'openai',
      model: 'fake-model',
      status: 'ok',
      promptTokens: 42,
      completionTokens: 7,
      conversationId: inbound.conversationId,
    });
    const [box] = await h.db.select().from(outbox).where(eq(outbox.messageId, outbound.id));
    expect(box).toMatchObject({ status: 'sent', providerSid: sent[0]!.sid, attempts: 1 });

    // The AI saw the customer's message, and the trace has the steps in order.
    expect(await aiCallsFor(h, tenant.tenantId, messageSid)).toHaveLength(1);
    const trace = await h.db
      .select({ type: events.type })
      .from(events)
      .where(eq(events.traceId, inbound.traceId!))
      .orderBy(events.occurredAt);
    expect(trace.map((e) => e.type)).toEqual(
      expect.arrayContaining(['webhook.received', 'message.stored', 'ai.called', 'reply.sent']),
    );

    // Both workflows exist under readable ids; the conversation id carries no phone number.
    const inboundRun = (await h.client.workflow.getHandle(inboundWorkflowId(messageSid)).result()) as {
      conversationWorkflowId: string;
    };
    expect(inboundRun.conversationWorkflowId).toMatch(new RegExp(`^conversation:${tenant.slug}:[0-9a-f]{20}$`));
    expect(inboundRun.conversationWorkflowId).not.toContain(from.replace(/\D/g, '').slice(-7));
  });

  it('starts a new conversation with its first message in the input (eager start), no signal', async () => {
    const tenant = await h.createTestTenant();
    const from = customer();
    const { messageSid } = await h.postInbound(tenant, { body: 'primeira mensagem', from });
    await h.twilio.waitFor((sent) => sent.some((m) => m.to === from && m.body === 'Echo: primeira mensagem'));
    const workflowId = await conversationOf(h, messageSid);
    const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
    const kinds = (history.events ?? []).map((e) => e.eventType);
    // Issue 25 A: the inbound step opened the conversation, so it started the run with the message in its input
    // (src/services/inbound.ts): the history has no WorkflowExecutionSignaled, and the run answered it.
    expect(kinds[0]).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
    expect(kinds).not.toContain(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
    expect(await runInput(h, workflowId)).toMatchObject({ first: { correlationId: messageSid } });

    // A second message to the running conversation goes by signal.
    await h.postInbound(tenant, { body: 'segunda', from });
    await h.twilio.waitFor((sent) => sent.some((m) => m.to === from && m.body === 'Echo: segunda'));
    const again = await h.client.workflow.getHandle(workflowId).fetchHistory();
    expect(again.events!.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)).toHaveLength(
      1,
    );
  });

  it('hands the message to a run that is still alive by signal when the inbound step opened a new row beside it', async () => {
    const tenant = await h.createTestTenant();
    const from = customer();
    const { messageSid } = await h.postInbound(tenant, { body: 'antes', from });
    await h.twilio.waitFor((sent) => sent.some((m) => m.to === from && m.body === 'Echo: antes'));
    const workflowId = await conversationOf(h, messageSid);
    // The row ended long ago while its run is still alive (a worker far behind, a row closed by hand): the next
    // message's statement opens a new row, the start of the same workflow id is refused, and signal-with-start
    // delivers the message to the live run instead of losing it.
    await h.db
      .update(conversations)
      .set({ status: 'EXPIRED', closedAt: new Date(Date.now() - 30 * 86_400_000) })
      .where(eq(conversations.workflowId, workflowId));
    const second = await h.postInbound(tenant, { body: 'depois', from });
    expect(await conversationOf(h, second.messageSid)).toBe(workflowId);
    const rows = await h.db
      .select({ id: conversations.id })
      .from(conversations)
      .where(eq(conversations.workflowId, workflowId));
    expect(rows).toHaveLength(2);
    const history = await eventually(async () => {
      const events = (await h.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
      return events.some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) ? events : null;
    });
    expect(history.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)).toHaveLength(1);
  });

  it('turns 50 concurrent copies of one webhook into one stored message, one AI call and one reply', async () => {
    const tenant = await h.createTestTenant();
    const from = customer();
    const messageSid = newMessageSid();
    const results = await Promise.all(
      Array.from({ length: 50 }, () => h.postInbound(tenant, { body: 'duplicado?', from, messageSid })),
    );
    expect(results.map((r) => r.response.status)).toEqual(Array(50).fill(200));

    const { conversationWorkflowId } = (await h.client.workflow.getHandle(inboundWorkflowId(messageSid)).result()) as {
      conversationWorkflowId: string;
    };
    await h.twilio.waitFor((sent) => sent.some((m) => m.to === from));
    const snapshot = await eventually(
      async () => {
        const s = await h.client.workflow.getHandle(conversationWorkflowId).query(conversationSnapshotQuery);
        return s.turns >= 1 && s.pendingMessages === 0 ? s : null;
      },
      10_000,
      'the conversation turn to finish',
    );
    expect(snapshot.turns).toBe(1);
    expect(
      await h.db
        .select()
        .from(messages)
        .where(and(eq(messages.correlationId, messageSid), eq(messages.direction, 'inbound'))),
    ).toHaveLength(1);
    expect(await aiCallsFor(h, tenant.tenantId, messageSid)).toHaveLength(1);
    expect(h.twilio.sent.filter((m) => m.to === from)).toHaveLength(1);
  });

  it('rejects a bad or missing signature with 403 and stores or starts nothing', async () => {
    const tenant = await h.createTestTenant();
    const wrongToken = await h.postInbound(
      tenant,
      { body: 'forged', from: customer() },
      { authToken: 'not-the-token' },
    );
    const missing = await h.postInbound(tenant, { body: 'forged', from: customer() }, { signature: null });
    const garbage = await h.postInbound(tenant, { body: 'forged', from: customer() }, { signature: 'AAAA' });
    for (const attempt of [wrongToken, missing, garbage]) {
      expect(attempt.response.status).toBe(403);
      expect(JSON.parse(attempt.text)).toMatchObject({ error: { code: 'invalid_signature' } });
      expect(await h.db.select().from(messages).where(eq(messages.providerSid, attempt.messageSid))).toHaveLength(0);
      expect(await workflowExists(h, inboundWorkflowId(attempt.messageSid))).toBe(false);
    }
  });

  it('checks the signature against PUBLIC_BASE_URL, not the Host the request arrived on', async () => {
    const tenant = await h.createTestTenant();
    // Signed for the local address a proxy would forward to: wrong for the public URL Twilio actually calls.
    const params = {
      MessageSid: `SM${crypto.randomUUID().replace(/-/g, '')}`,
      AccountSid: tenant.accountSid,
      From: customer(),
      To: tenant.address,
      Body: 'x',
    };
    const response = await postSignedWebhook({
      origin: h.apiUrl,
      path: '/webhooks/twilio/messages',
      authToken: tenant.authToken,
      params,
      publicBaseUrl: h.apiUrl,
    });
    expect(response.status).toBe(403);
  });

  it('keeps a message to a number no tenant owns as an orphan and answers nothing', async () => {
    const tenant = await h.createTestTenant();
    const from = customer();
    const { response, messageSid } = await h.postInbound(tenant, {
      body: 'anyone there?',
      from,
      to: `whatsapp:${randomPhone()}`,
    });
    expect(response.status).toBe(200);
    const [orphan] = await h.db.select().from(orphanInbound).where(eq(orphanInbound.messageSid, messageSid));
    expect(orphan).toMatchObject({ accountSid: tenant.accountSid, reason: 'number not assigned to a tenant' });
    expect(await h.db.select().from(messages).where(eq(messages.providerSid, messageSid))).toHaveLength(0);
    expect(await workflowExists(h, inboundWorkflowId(messageSid))).toBe(false);
    expect(h.twilio.sent.filter((m) => m.to === from)).toHaveLength(0);
  });

  it('never answers from another tenant: a number of tenant B posted under tenant A’s account is an orphan', async () => {
    const a = await h.createTestTenant();
    const b = await h.createTestTenant();
    const { response, messageSid } = await h.postInbound(a, { body: 'cross-tenant', from: customer(), to: b.address });
    expect(response.status).toBe(200);
    expect(await h.db.select().from(orphanInbound).where(eq(orphanInbound.messageSid, messageSid))).toHaveLength(1);
    expect(await workflowExists(h, inboundWorkflowId(messageSid))).toBe(false);
  });

  it('rejects malformed input with a clear 4xx and stores nothing', async () => {
    const tenant = await h.createTestTenant();
    const post = (body: string, type = 'application/x-www-form-urlencoded') =>
      fetch(`${h.apiUrl}/webhooks/twilio/messages`, {
        method: 'POST',
        headers: { 'content-type': type, 'x-twilio-signature': 'x' },
        body,
      });
    const noSid = await post(
      new URLSearchParams({ AccountSid: tenant.accountSid, From: customer(), To: tenant.address }).toString(),
    );
    expect(noSid.status).toBe(400);
    expect(await noSid.json()).toMatchObject({
      error: { code: 'bad_request', message: 'missing parameter MessageSid' },
    });
    const badTo = await post(
      new URLSearchParams({
        MessageSid: `SM${'0'.repeat(32)}`,
        AccountSid: tenant.accountSid,
        From: customer(),
        To: 'not-a-number',
      }).toString(),
    );
    expect(badTo.status).toBe(400);
    expect((await post('{"MessageSid":"x"}', 'application/json')).status).toBe(415);
    const huge = await post(`Body=${'a'.repeat(70 * 1024)}`);
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('sends one friendly fallback when the AI keeps failing, and records each failure', async () => {
    const tenant = await h.createTestTenant();
    const from = customer();
    h.openai.setHandler((request) =>
      request.messages.some((m) => m.content === 'fail me')
        ? { status: 500, body: { error: { message: 'boom' } } }
        : { content: '' },
    );
    try {
      const { messageSid } = await h.postInbound(tenant, { body: 'fail me', from });
      const [reply] = (await h.twilio.waitFor((sent) => sent.some((m) => m.to === from))).filter((m) => m.to === from);
      expect(reply!.body).toBe((await loadMessageTemplate(h.db, tenant.tenantId, 'fallback', 'pt-BR'))!.body);
      const failures = await h.db.select().from(aiResults).where(eq(aiResults.correlationId, messageSid));
      expect(failures.map((f) => f.status)).toEqual(['failed', 'failed', 'failed']);
      const [outbound] = await h.db
        .select()
        .from(messages)
        .where(and(eq(messages.correlationId, messageSid), eq(messages.direction, 'outbound')));
      expect(outbound).toMatchObject({ sentBy: 'system' });
    } finally {
      const { echoHandler } = await import('../support/fake-openai');
      h.openai.setHandler(echoHandler);
    }
  });
});
