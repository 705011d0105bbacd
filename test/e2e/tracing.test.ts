import { randomBytes } from 'node:crypto';
import { bundleWorkflowCode } from '@temporalio/worker';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker, WORKFLOW_BUNDLE_OPTIONS } from '../../worker';
import { createApp } from '../../src/api/app';
import { aiResults, contacts, events, messages } from '../../src/db/schema';
import { recordEvents } from '../../src/db/events/events';
import { newRootTrace } from '../../src/domain/trace';
import { newMessageSid } from '../../src/integrations/signed-webhook';
import { createLogger } from '../../src/logger';
import { NativeConnection } from '@temporalio/worker';
import { startTelemetry } from '../../src/tracing/telemetry';
import { sentTo } from '../support/conversation';
import { listenLocal, readBody, sendJson } from '../support/http-server';
import {
  eventually,
  postInboundToApp,
  postSignedWebhook,
  randomPhone,
  startHarness,
  type Harness,
} from '../support/harness';
import { silentBundlerLogger } from '../support/workflow-bundle';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ MESSAGE_DEBOUNCE: '100ms', NPS_WAIT: '0s' });
});
afterAll(async () => {
  await h?.close();
});

const phoneOf = (address: string) => address.replace('whatsapp:', '');

describe('tracing and journeys (T1–T5)', () => {
  it('one inbound message: the trace is webhook → routing → turn → AI → reply → delivery statuses, each under its parent', async () => {
    const tenant = await h.createTestTenant();
    const operator = await h.createOperator(tenant, 'SUPERVISOR');
    const from = `whatsapp:${randomPhone()}`;
    const { messageSid } = await h.postInbound(tenant, { body: 'rastreie isto', from });
    await h.twilio.waitFor(() => sentTo(h, from).length === 1);
    const [inbound] = await h.db.select().from(messages).where(eq(messages.providerSid, messageSid));
    const traceId = inbound!.traceId!;
    const outbound = await eventually(
      async () =>
        (
          await h.db
            .select()
            .from(messages)
            .where(and(eq(messages.correlationId, messageSid), eq(messages.direction, 'outbound')))
        )[0]?.providerSid
          ? (
              await h.db
                .select()
                .from(messages)
                .where(and(eq(messages.correlationId, messageSid), eq(messages.direction, 'outbound')))
            )[0]
          : null,
      10_000,
      'reply stored',
    );
    for (const status of ['sent', 'delivered'])
      await h.postStatus(tenant, { MessageSid: outbound.providerSid!, MessageStatus: status });

    const response = await h.api(`/api/traces/${traceId}`, { key: operator.apiKey });
    expect(response.status).toBe(200);
    const trace = response.json as {
      events: { type: string; spanId: string; parentId: string | null }[];
      tree: unknown[];
    };
    const types = trace.events.map((e) => e.type);
    for (const [before, after] of [
      ['webhook.received', 'message.routed'],
      ['message.routed', 'conversation.turn'],
      ['conversation.turn', 'ai.called'],
      ['ai.called', 'reply.sent'],
      ['reply.sent', 'message.status'],
    ]) {
      expect(types.indexOf(before!)).toBeGreaterThanOrEqual(0);
      expect(types.indexOf(before!)).toBeLessThan(types.indexOf(after!));
    }
    const spans = new Set(trace.events.map((e) => e.spanId));
    const roots = trace.events.filter((e) => !e.parentId || !spans.has(e.parentId));
    expect(roots.map((e) => e.type)).toEqual(['webhook.received']);
    const parentOf = (type: string) =>
      trace.events.find((e) => e.spanId === trace.events.find((x) => x.type === type)!.parentId)!.type;
    expect(parentOf('message.routed')).toBe('webhook.received');
    expect(parentOf('conversation.turn')).toBe('message.routed');
    expect(parentOf('ai.called')).toBe('conversation.turn');
    expect(parentOf('reply.sent')).toBe('conversation.turn');
    expect(parentOf('message.status')).toBe('reply.sent');
    expect(trace.tree).toHaveLength(1);
    // With the interceptors in place, no activity lost its context.
    expect(
      await h.db
        .select()
        .from(events)
        .where(and(eq(events.type, 'trace.broken'), eq(events.tenantId, tenant.tenantId))),
    ).toHaveLength(0);
    // The rows carry the same ids.
    expect(outbound.traceId).toBe(traceId);
    const [ai] = await h.db.select().from(aiResults).where(eq(aiResults.correlationId, messageSid));
    expect(ai!.traceId).toBe(traceId);
    // Operator requests are traced too: X-Request-ID in, X-Request-ID and X-Trace-ID out.
    const echoed = await fetch(`${h.apiUrl}/api/traces/${traceId}`, {
      headers: { authorization: `Bearer ${operator.apiKey}`, 'x-request-id': 'f'.repeat(32) },
    });
    expect(echoed.headers.get('x-request-id')).toBe('f'.repeat(32));
    expect(echoed.headers.get('x-trace-id')).toBe('f'.repeat(32));
  });

  it('a reply to one of our messages starts a new trace linked to the cause; the journey shows both, linked', async () => {
    const tenant = await h.createTestTenant();
    const operator = await h.createOperator(tenant);
    const from = `whatsapp:${randomPhone()}`;
    const first = await h.postInbound(tenant, { body: 'primeira', from });
    await h.twilio.waitFor(() => sentTo(h, from).length === 1);
    const ourMessage = sentTo(h, from)[0]!;
    // Twilio sets OriginalRepliedMessageSid when the customer uses WhatsApp's "reply" on our message.
    const params = {
      MessageSid: newMessageSid(),
      AccountSid: tenant.accountSid,
      From: from,
      To: tenant.address,
      Body: 'respondendo',
      NumMedia: '0',
      OriginalRepliedMessageSid: ourMessage.sid,
    };
    expect(
      (
        await postSignedWebhook({
          origin: h.apiUrl,
          path: '/webhooks/twilio/messages',
          authToken: tenant.authToken,
          params,
        })
      ).status,
    ).toBe(200);
    await h.twilio.waitFor(() => sentTo(h, from).length === 2);

    const [a] = await h.db.select().from(messages).where(eq(messages.providerSid, first.messageSid));
    const [b] = await h.db.select().from(messages).where(eq(messages.providerSid, params.MessageSid));
    expect(b!.traceId).not.toBe(a!.traceId);
    const journey = await eventually(
      async () => {
        const r = await h.api(`/api/contacts/${encodeURIComponent(phoneOf(from))}/journey`, { key: operator.apiKey });
        return r.json.clusters
          ?.find((c: { traceId: string }) => c.traceId === b!.traceId)
          ?.events.some((e: { type: string }) => e.type === 'reply.sent')
          ? r
          : null;
      },
      10_000,
      'the second reply in the journey',
    );
    expect(journey.json.clusters.map((c: { traceId: string }) => c.traceId)).toEqual([a!.traceId, b!.traceId]);
    expect(journey.json.links).toEqual([{ from: a!.traceId, to: b!.traceId }]);
    const second = journey.json.clusters[1];
    expect(second.causalTraceId).toBe(a!.traceId);
    expect(second.events.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['webhook.received', 'ai.called', 'reply.sent']),
    );
  });

  it('without OriginalRepliedMessageSid, a message after our business-initiated send links to it: send → reply → bot answer', async () => {
    const tenant = await h.createTestTenant();
    const operator = await h.createOperator(tenant);
    const phone = randomPhone();
    const from = `whatsapp:${phone}`;
    // What a campaign send leaves behind (issue 5 builds the campaign itself): an outbound message outside any
    // conversation, in the campaign's trace, and its event.
    const campaignTrace = newRootTrace();
    const [contact] = await h.db
      .insert(contacts)
      .values({ tenantId: tenant.tenantId, phone, phoneHash: randomBytes(10).toString('hex') })
      .returning();
    const [sent] = await h.db
      .insert(messages)
      .values({
        tenantId: tenant.tenantId,
        contactId: contact!.id,
        direction: 'outbound',
        channel: 'whatsapp',
        providerSid: newMessageSid(),
        fromAddress: tenant.address,
        toAddress: from,
        body: 'Sua fatura vence amanhã.',
        sentBy: 'system',
        status: 'delivered',
        correlationId: 'campaign:test',
        traceId: campaignTrace.traceId,
        spanId: campaignTrace.spanId,
      })
      .returning();
    await recordEvents(h.db, [
      {
        trace: campaignTrace,
        type: 'campaign.send',
        tenantId: tenant.tenantId,
        contactId: contact!.id,
        messageId: sent!.id,
        payload: { campaign: 'test' },
      },
    ]);

    const reply = await h.postInbound(tenant, { body: 'já paguei', from });
    await h.twilio.waitFor(() => sentTo(h, from).length === 1);
    const [inbound] = await h.db.select().from(messages).where(eq(messages.providerSid, reply.messageSid));
    const journey = await eventually(
      async () => {
        const r = await h.api(`/api/contacts/${encodeURIComponent(phone)}/journey`, { key: operator.apiKey });
        return r.json.clusters?.[1]?.events.some((e: { type: string }) => e.type === 'reply.sent') ? r.json : null;
      },
      10_000,
      'the bot answer in the journey',
    );
    expect(journey.clusters.map((c: { traceId: string }) => c.traceId)).toEqual([
      campaignTrace.traceId,
      inbound!.traceId,
    ]);
    expect(journey.links).toEqual([{ from: campaignTrace.traceId, to: inbound!.traceId }]);
    expect(journey.clusters[0].events.map((e: { type: string }) => e.type)).toEqual(['campaign.send']);
    expect(journey.clusters[1].events.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['webhook.received', 'ai.called', 'reply.sent']),
    );
    const ai = await h.db
      .select({ causal: events.causalTraceId })
      .from(events)
      .where(and(eq(events.traceId, inbound!.traceId!), eq(events.type, 'ai.called')));
    expect(ai[0]!.causal).toBe(campaignTrace.traceId);
  });

  it('exports the same tree as OTLP spans when OTEL_EXPORTER_OTLP_ENDPOINT is set', async () => {
    const received: { traceId: string; spanId: string; parentSpanId?: string; name: string }[] = [];
    const collector = await listenLocal(async (req, res) => {
      const body = JSON.parse(await readBody(req));
      expect(req.url).toBe('/v1/traces');
      expect(body.resourceSpans[0].resource.attributes).toEqual([
        { key: 'service.name', value: { stringValue: 'causeway-test' } },
      ]);
      received.push(...body.resourceSpans.flatMap((r: any) => r.scopeSpans.flatMap((s: any) => s.spans)));
      sendJson(res, 200, {});
    });
    const stop = startTelemetry(
      { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_SERVICE_NAME: 'causeway-test' },
      createLogger('silent'),
    );
    try {
      const tenant = await h.createTestTenant();
      const from = `whatsapp:${randomPhone()}`;
      const { messageSid } = await h.postInbound(tenant, { body: 'otel', from });
      await h.twilio.waitFor(() => sentTo(h, from).length === 1);
      const [inbound] = await h.db.select().from(messages).where(eq(messages.providerSid, messageSid));
      const stored = await eventually(
        async () => {
          const rows = await h.db.select().from(events).where(eq(events.traceId, inbound!.traceId!));
          return rows.some((r) => r.type === 'reply.sent') ? rows : null;
        },
        10_000,
        'reply.sent event',
      );
      const key = (x: {
        spanId: string;
        parentId?: string | null;
        parentSpanId?: string;
        type?: string;
        name?: string;
      }) => `${x.type ?? x.name}:${x.spanId}:${x.parentId ?? x.parentSpanId ?? ''}`;
      // An event a statement wrote itself (the send's `reply.sent`) reaches the sinks when that statement returns,
      // which can be just after the row is visible here: wait for the exporter's periodic flush to bring every span.
      const wanted = stored.map(key);
      await eventually(
        () => {
          const got = new Set(received.filter((s) => s.traceId === inbound!.traceId).map(key));
          return Promise.resolve(wanted.every((k) => got.has(k)));
        },
        10_000,
        'every stored event exported as a span',
      );
      await stop();
      const spans = received.filter((s) => s.traceId === inbound!.traceId);
      expect(spans.map(key).sort()).toEqual(expect.arrayContaining(wanted.sort()));
    } finally {
      await stop();
      await collector.close();
    }
  });

  it('an activity that arrives without trace context opens a new root with a "broken trace chain" warning, still in the journey', async () => {
    // A worker whose workflow code lacks the propagating interceptors: its activities get no trace header.
    const taskQueue = `no-trace-${randomBytes(3).toString('hex')}`;
    const env = { ...h.env, TEMPORAL_TASK_QUEUE: taskQueue };
    const bundle = await bundleWorkflowCode({
      ...WORKFLOW_BUNDLE_OPTIONS,
      workflowInterceptorModules: [],
      logger: silentBundlerLogger,
    });
    const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS! });
    const worker = await createWorker({
      env,
      db: h.db,
      client: h.client,
      connection,
      log: createLogger('silent'),
      payloadKeys: h.payloadKeys,
      workflowBundle: bundle,
    });
    const running = worker.run();
    try {
      const tenant = await h.createTestTenant();
      const operator = await h.createOperator(tenant);
      const from = `whatsapp:${randomPhone()}`;
      const app = createApp({ env, db: h.db, temporal: h.client, log: createLogger('silent') });
      const params = {
        MessageSid: newMessageSid(),
        AccountSid: tenant.accountSid,
        From: from,
        To: tenant.address,
        Body: 'sem contexto',
        NumMedia: '0',
      };
      const response = await postInboundToApp(app, tenant.authToken, params);
      expect(response.status).toBe(200);
      await h.twilio.waitFor(() => sentTo(h, from).length === 1);

      const broken = await eventually(
        async () => {
          const rows = await h.db
            .select()
            .from(events)
            .where(and(eq(events.type, 'trace.broken'), eq(events.tenantId, tenant.tenantId)));
          return rows.some((r) => r.conversationId) ? rows : null;
        },
        10_000,
        'broken-chain events',
      );
      expect(broken.every((e) => e.level === 'warn' && e.parentId === null)).toBe(true);
      expect(broken[0]!.payload.message).toMatch(/^broken trace chain at activity \w+ of (inbound|conversation):/);
      const all = await eventually(
        async () => {
          const journey = await h.api(`/api/contacts/${encodeURIComponent(phoneOf(from))}/journey`, {
            key: operator.apiKey,
          });
          const types: string[] = journey.json.clusters.flatMap((c: { events: { type: string }[] }) =>
            c.events.map((e) => e.type),
          );
          return types.includes('reply.sent') ? types : null;
        },
        10_000,
        'the reply in the journey',
      );
      expect(all).toContain('trace.broken');
    } finally {
      worker.shutdown();
      await running;
      await connection.close();
    }
  });
});
