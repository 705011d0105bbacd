import { createServer } from 'node:net';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { conversations, inboundInbox, messages } from '../../src/db/schema';
import { newMessageSid } from '../../src/integrations/signed-webhook';
import { createLogger } from '../../src/logger';
import { createTemporalClient } from '../../src/temporal/connection';
import { createInboxDrainer } from '../../src/services/inbox';
import { startMetricsServer, type MetricsServer } from '../../src/observability/metrics-server';
import { launchCampaign, sentToPhones, targets } from '../support/campaigns';
import { conversationOf } from '../support/conversation';
import {
  eventually,
  postInboundToApp,
  PUBLIC_BASE_URL,
  randomPhone,
  startHarness,
  type Harness,
} from '../support/harness';

/** One sample of Prometheus' text format: `name{a="x",b="y"} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of one series (labels must match exactly those given, among others), or undefined when absent. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

async function scrape(url: string): Promise<{ samples: Sample[]; contentType: string | null; text: string }> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  const text = await response.text();
  return { samples: parseExposition(text), contentType: response.headers.get('content-type'), text };
}

/** A loopback port nobody listens on right now, for the SDK exporter (which cannot report the port it bound). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let h: Harness;
let workerMetrics: MetricsServer;
beforeAll(async () => {
  const sdkPort = await freePort();
  h = await startHarness({}, { statusCallbacks: true, sdkMetricsAddress: `127.0.0.1:${sdkPort}` });
  // The worker's listener exactly as worker.ts main() starts it, on an ephemeral port.
  workerMetrics = await startMetricsServer({
    port: 0,
    host: '127.0.0.1',
    metrics: h.workerMetrics,
    sdkMetricsUrl: `http://127.0.0.1:${sdkPort}/metrics`,
  });
});
afterAll(async () => {
  await workerMetrics?.close();
  await h?.close();
});

const customer = () => `whatsapp:${randomPhone()}`;

describe('GET /metrics on the API and on the worker', () => {
  it('counts webhooks by outcome and reason, and serves the database gauges, on the API', async () => {
    const before = (await scrape(h.apiUrl)).samples;
    const webhooks = (labels: Record<string, string>, samples: Sample[]) =>
      value(samples, 'causeway_webhooks_total', labels) ?? 0;

    const tenant = await h.createTestTenant();
    const from = customer();
    const messageSid = newMessageSid();
    expect((await h.postInbound(tenant, { body: 'Olá', from, messageSid })).response.status).toBe(200);
    expect((await h.postInbound(tenant, { body: 'Olá', from, messageSid })).response.status).toBe(200);
    expect(
      (await h.postInbound(tenant, { body: 'Olá', from }, { signature: 'bm90IGEgc2lnbmF0dXJl' })).response.status,
    ).toBe(403);
    const stranger = { ...tenant, accountSid: `AC${'0'.repeat(32)}` };
    expect((await h.postInbound(stranger, { body: 'Olá', from })).response.status).toBe(403);
    // The reply's delivery statuses come back as signed callbacks (the fake Twilio posts sent, delivered).
    await eventually(
      async () => {
        const [reply] = await h.db
          .select({ status: messages.status })
          .from(messages)
          .where(and(eq(messages.correlationId, messageSid), eq(messages.direction, 'outbound')));
        return reply?.status === 'delivered';
      },
      20_000,
      'the reply delivered',
    );

    const { samples, contentType } = await scrape(h.apiUrl);
    expect(contentType).toContain('text/plain');
    const delta = (labels: Record<string, string>) => webhooks(labels, samples) - webhooks(labels, before);
    expect(delta({ endpoint: 'messages', outcome: 'accepted', reason: '' })).toBe(1);
    expect(delta({ endpoint: 'messages', outcome: 'duplicate', reason: '' })).toBe(1);
    expect(delta({ endpoint: 'messages', outcome: 'rejected', reason: 'invalid_signature' })).toBe(1);
    expect(delta({ endpoint: 'messages', outcome: 'rejected', reason: 'unknown_account' })).toBe(1);
    expect(delta({ endpoint: 'status', outcome: 'applied', reason: '' })).toBeGreaterThanOrEqual(2);
    expect(value(samples, 'causeway_message_status_total', { status: 'delivered' })).toBeGreaterThanOrEqual(1);

    expect(value(samples, 'causeway_database_gauges_up')).toBe(1);
    expect(value(samples, 'causeway_inbox_pending')).toBeGreaterThanOrEqual(0);
    expect(value(samples, 'causeway_inbox_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(
      value(samples, 'causeway_oldest_unanswered_message_age_seconds', { waiting_on: 'ai' }),
    ).toBeGreaterThanOrEqual(0);
    expect(
      value(samples, 'causeway_oldest_unanswered_message_age_seconds', { waiting_on: 'human' }),
    ).toBeGreaterThanOrEqual(0);
    // Process series, labelled with the role.
    expect(value(samples, 'process_cpu_seconds_total', { role: 'api' })).toBeGreaterThan(0);
  });

  it('counts a message parked in the inbox while Temporal is unreachable, and the inbox gauges see it', async () => {
    const tenant = await h.createTestTenant();
    // An API of its own whose Temporal is gone, on a task queue no worker drains: the row stays pending.
    const taskQueue = `metrics-parked-${newMessageSid().slice(2, 12)}`;
    const dead = createTemporalClient({ address: '127.0.0.1:1', namespace: 'default', payloadKeys: h.payloadKeys });
    const log = createLogger('silent');
    const inboxDrainer = createInboxDrainer({ db: h.db, temporal: { client: dead.client, taskQueue }, log });
    const app = createApp({
      env: { ...h.env, TEMPORAL_TASK_QUEUE: taskQueue },
      db: h.db,
      temporal: dead.client,
      log,
      inboxDrainer,
      webhook: { startDeadlineMs: 500 },
    });
    try {
      const messageSid = newMessageSid();
      const params = {
        MessageSid: messageSid,
        AccountSid: tenant.accountSid,
        From: customer(),
        To: tenant.address,
        Body: 'alô?',
        NumMedia: '0',
      };
      const response = await postInboundToApp(app, tenant.authToken, params);
      expect(response.status).toBe(200);
      const scraped = await app.request(`${PUBLIC_BASE_URL}/metrics`);
      const samples = parseExposition(await scraped.text());
      expect(value(samples, 'causeway_webhooks_total', { endpoint: 'messages', outcome: 'parked', reason: '' })).toBe(
        1,
      );
      expect(
        value(samples, 'causeway_webhooks_total', { endpoint: 'messages', outcome: 'accepted', reason: '' }),
      ).toBeUndefined();
      expect(value(samples, 'causeway_inbox_pending')).toBeGreaterThanOrEqual(1);
      expect(value(samples, 'causeway_inbox_oldest_pending_age_seconds')).toBeGreaterThan(0);
    } finally {
      await inboxDrainer.stop();
      await dead.close().catch(() => undefined);
      await h.db.delete(inboundInbox).where(eq(inboundInbox.taskQueue, taskQueue));
    }
  });

  it('a message an agent has not answered shows as the oldest unanswered one, waiting on a human', async () => {
    const tenant = await h.createTestTenant();
    const from = customer();
    const first = await h.postInbound(tenant, { body: 'Oi', from });
    await h.twilio.waitFor((sent) => sent.some((m) => m.to === from));
    const workflowId = await conversationOf(h, first.messageSid);
    const { id: conversationId } = await eventually(
      async () =>
        (
          await h.db
            .select({ id: conversations.id })
            .from(conversations)
            .where(eq(conversations.workflowId, workflowId))
        )[0],
      5000,
      'conversation row',
    );
    const agent = await h.createOperator(tenant, 'AGENT');
    expect((await h.api(`/api/conversations/${conversationId}/takeover`, { key: agent.apiKey, body: {} })).status).toBe(
      200,
    );

    // In HUMAN the AI stays silent: the customer's next message waits for the agent.
    const waiting = await h.postInbound(tenant, { body: 'Alguém aí?', from });
    const stored = await eventually(
      async () => {
        const [row] = await h.db
          .select({ createdAt: messages.createdAt })
          .from(messages)
          .where(eq(messages.providerSid, waiting.messageSid));
        return row;
      },
      20_000,
      'the waiting message stored',
    );
    const { samples } = await scrape(h.apiUrl);
    const age = value(samples, 'causeway_oldest_unanswered_message_age_seconds', { waiting_on: 'human' })!;
    // At least as old as this message (other conversations in the run's database may wait longer).
    expect(age).toBeGreaterThanOrEqual((Date.now() - stored.createdAt.getTime()) / 1000 - 1);
    expect(age).toBeGreaterThan(0);
  });

  it('serves the AI, send and Temporal SDK series on the worker listener', async () => {
    const tenant = await h.createTestTenant();
    const from = customer();
    await h.postInbound(tenant, { body: 'Quero ajuda', from });
    await h.twilio.waitFor((sent) => sent.some((m) => m.to === from));

    // The send is counted right after Twilio accepted it, inside the activity that the reply above came from.
    const { samples, text } = await eventually(
      async () => {
        const s = await scrape(workerMetrics.url);
        return (value(s.samples, 'causeway_sends_total', { kind: 'conversation', result: 'sent' }) ?? 0) >= 1
          ? s
          : null;
      },
      10_000,
      'the send counted',
    );
    expect(
      value(samples, 'causeway_ai_request_duration_seconds_count', { operation: 'reply', outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(1);
    // The fake OpenAI reports 42 prompt and 7 completion tokens per call, as the real API's `usage` does.
    const calls = value(samples, 'causeway_ai_request_duration_seconds_count', { operation: 'reply', outcome: 'ok' })!;
    expect(value(samples, 'causeway_ai_tokens_total', { operation: 'reply', kind: 'prompt' })).toBe(42 * calls);
    expect(value(samples, 'causeway_ai_tokens_total', { operation: 'reply', kind: 'completion' })).toBe(7 * calls);
    expect(value(samples, 'process_cpu_seconds_total', { role: 'worker' })).toBeGreaterThan(0);

    // The SDK's own series, read from core's exporter and appended.
    expect(value(samples, 'causeway_temporal_sdk_metrics_up')).toBe(1);
    const sdkNames = new Set(samples.filter((s) => s.name.startsWith('temporal_')).map((s) => s.name));
    expect([...sdkNames]).toEqual(
      expect.arrayContaining(['temporal_worker_start_total', 'temporal_workflow_completed_total']),
    );
    // Turn steps run as local activities (issue 14), which the SDK times under their own series.
    expect(text).toMatch(/temporal_(local_)?activity_execution_latency_(bucket|count)/);
    // Nothing in either set repeats a name of the other.
    const ours = new Set(samples.filter((s) => !s.name.startsWith('temporal_')).map((s) => s.name));
    expect([...sdkNames].filter((n) => ours.has(n))).toEqual([]);
  });

  it('counts campaign sends apart from conversation sends (their rate is the campaign send rate)', async () => {
    const before = parseExposition(await (await fetch(`${workerMetrics.url}/metrics`)).text());
    const campaignSent = (samples: Sample[]) =>
      value(samples, 'causeway_sends_total', { kind: 'campaign', result: 'sent' }) ?? 0;
    const tenant = await h.createTestTenant();
    const rows = targets(5);
    await launchCampaign(h, tenant, rows);
    await h.twilio.waitFor(
      () =>
        sentToPhones(
          h,
          rows.map((r) => r.phone),
        ).length === 5,
    );
    // Counted when Twilio's answer reaches the activity, a moment after the fake recorded the request.
    const samples = await eventually(
      async () => {
        const s = (await scrape(workerMetrics.url)).samples;
        return campaignSent(s) - campaignSent(before) >= 5 ? s : null;
      },
      10_000,
      'five campaign sends counted',
    );
    // One per message the fake Twilio accepted for these contacts: the sends, no more, no less.
    expect(campaignSent(samples) - campaignSent(before)).toBe(5);
    expect(
      sentToPhones(
        h,
        rows.map((r) => r.phone),
      ),
    ).toHaveLength(5);
  });
});
