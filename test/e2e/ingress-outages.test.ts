import { WorkflowNotFoundError } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import {
  conversationSnapshotQuery,
  inboundWorkflowId,
  inboxDrainScheduleId,
  statusCallbackWorkflowId,
  type InboundInput,
} from '../../src/contract';
import { drainInbox, inboxDepth, parkInbound, REFUSED_ALERT_AFTER } from '../../src/db/ingress/inbox';
import { alerts, inboundInbox, messages, redeliveryInbox } from '../../src/db/schema';
import { newMessageSid, signedWebhook } from '../../src/integrations/signed-webhook';
import { newRootTrace } from '../../src/domain/trace';
import { startInboundWorkflow } from '../../src/temporal/start-inbound';
import { recordHistory } from '../support/conversation';
import { withDrainSchedulePaused } from '../support/inbox';
import {
  eventually,
  PUBLIC_BASE_URL,
  randomPhone,
  startHarness,
  type Harness,
  type TestTenant,
} from '../support/harness';
import { hostPort, startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

// The API talks to Temporal and Postgres through toggleable proxies; the worker talks to both directly. A webhook
// is posted ONCE and never retried (Twilio does not retry a 5xx): what it gets is all the customer gets.
let h: Harness;
let temporalProxy: TcpProxy;
let dbProxy: TcpProxy;

beforeAll(async () => {
  temporalProxy = await startTcpProxy(hostPort(inject('temporalAddress')));
  const target = hostPort(inject('databaseUrl'));
  dbProxy = await startTcpProxy(target);
  const proxiedDb = new URL(inject('databaseUrl'));
  proxiedDb.host = dbProxy.address;
  // TTL 0: every webhook looks the tenant up, so a database outage always exercises the stale-if-error path.
  h = await startHarness(
    {},
    {
      api: {
        databaseUrl: proxiedDb.toString(),
        temporalAddress: temporalProxy.address,
        tenantCacheTtlMs: 0,
        startDeadlineMs: 2000,
      },
    },
  );
});
afterEach(() => {
  temporalProxy.resume();
  dbProxy.resume();
});
afterAll(async () => {
  await h?.close();
  await Promise.all([temporalProxy?.close(), dbProxy?.close()]);
});

const customer = () => `whatsapp:${randomPhone()}`;
const repliesTo = (to: string) => h.twilio.sent.filter((m) => m.to === to);

async function workflowExists(workflowId: string): Promise<boolean> {
  try {
    await h.client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

async function inboxRow(messageSid: string) {
  const [row] = await h.db.select().from(inboundInbox).where(eq(inboundInbox.messageSid, messageSid));
  return row;
}

/** The message is answered, its conversation turn is over, and it was answered exactly once. */
async function expectAnsweredOnce(messageSid: string, from: string) {
  await h.twilio.waitFor(() => repliesTo(from).length > 0);
  const { conversationWorkflowId } = (await h.client.workflow.getHandle(inboundWorkflowId(messageSid)).result()) as {
    conversationWorkflowId: string;
  };
  await eventually(
    async () => {
      const s = await h.client.workflow.getHandle(conversationWorkflowId).query(conversationSnapshotQuery);
      return s.turns >= 1 && s.pendingMessages === 0;
    },
    15_000,
    'the conversation turn to finish',
  );
  expect(repliesTo(from)).toHaveLength(1);
  expect(
    await h.db
      .select()
      .from(messages)
      .where(and(eq(messages.correlationId, messageSid), eq(messages.direction, 'inbound'))),
  ).toHaveLength(1);
}

/** One warm-up message while everything is up: the API's tenant cache then knows this tenant's number. */
async function warm(tenant: TestTenant) {
  const from = customer();
  const { response, messageSid } = await h.postInbound(tenant, { body: 'warm-up', from });
  expect(response.status).toBe(200);
  await expectAnsweredOnce(messageSid, from);
}

describe('inbound webhook during outages (posted once, never retried)', () => {
  it('Temporal down: parks the verified message, answers 200, and the customer is answered once Temporal is back', () =>
    withDrainSchedulePaused(h, async () => {
      const tenant = await h.createTestTenant();
      const from = customer();
      temporalProxy.pause();
      const { response, messageSid } = await h.postInbound(tenant, { body: 'Temporal está fora?', from });
      expect(response.status).toBe(200);
      expect(await inboxRow(messageSid)).toMatchObject({
        state: 'pending',
        tenantId: tenant.tenantId,
        taskQueue: h.env.TEMPORAL_TASK_QUEUE,
      });
      expect((await inboxRow(messageSid))!.input).toMatchObject({
        messageSid,
        from,
        to: tenant.address,
        body: 'Temporal está fora?',
      });
      expect(await workflowExists(inboundWorkflowId(messageSid))).toBe(false);
      const depth = await inboxDepth(h.db, h.env.TEMPORAL_TASK_QUEUE);
      expect(depth.pending).toBeGreaterThanOrEqual(1);
      expect(depth.oldestPendingAgeMs).toBeGreaterThanOrEqual(0);

      temporalProxy.resume();
      await expectAnsweredOnce(messageSid, from);
      const row = await eventually(
        async () => {
          const r = await inboxRow(messageSid);
          return r?.state === 'drained' ? r : null;
        },
        10_000,
        'the inbox row drained',
      );
      expect(row.attempts).toBeGreaterThanOrEqual(1);
      expect(row.drainedAt).not.toBeNull();
      expect((await inboxDepth(h.db, h.env.TEMPORAL_TASK_QUEUE)).pending).toBe(0);
    }));

  it('the database down for the API: verifies from the stale-if-error cache and starts the workflow directly', async () => {
    const tenant = await h.createTestTenant();
    await warm(tenant);
    const from = customer();
    dbProxy.pause();
    const { response, messageSid } = await h.postInbound(tenant, { body: 'banco fora?', from });
    expect(response.status).toBe(200);
    await expectAnsweredOnce(messageSid, from);
    // Nothing was parked: Temporal took it directly.
    expect(await inboxRow(messageSid)).toBeUndefined();
  });

  it('the database down: a webhook that cannot be verified (account never cached) is a 503, not a 403', async () => {
    const tenant = await h.createTestTenant();
    dbProxy.pause();
    const { response, messageSid, text } = await h.postInbound(tenant, { body: 'quem sou eu?', from: customer() });
    expect(response.status).toBe(503);
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'database_unavailable' } });
    dbProxy.resume();
    expect(await workflowExists(inboundWorkflowId(messageSid))).toBe(false);
  });

  it('a stale token still is a bad signature: the stale-if-error cache never skips verification', async () => {
    const tenant = await h.createTestTenant();
    await warm(tenant);
    dbProxy.pause();
    const forged = await h.postInbound(tenant, { body: 'forged', from: customer() }, { authToken: 'not-the-token' });
    expect(forged.response.status).toBe(403);
  });

  it('both down: 503, and nothing half-accepted is left behind', async () => {
    const tenant = await h.createTestTenant();
    await warm(tenant);
    temporalProxy.pause();
    dbProxy.pause();
    const { response, messageSid, text } = await h.postInbound(tenant, { body: 'tudo fora', from: customer() });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'temporal_unavailable' } });
    temporalProxy.resume();
    dbProxy.resume();
    expect(await inboxRow(messageSid)).toBeUndefined();
    expect(await workflowExists(inboundWorkflowId(messageSid))).toBe(false);
  });

  it('the same MessageSid once through the inbox and once directly gives one reply', () =>
    withDrainSchedulePaused(h, async () => {
      const tenant = await h.createTestTenant();
      const from = customer();
      const messageSid = newMessageSid();
      temporalProxy.pause();
      expect((await h.postInbound(tenant, { body: 'duas vezes', from, messageSid })).response.status).toBe(200);
      expect(await inboxRow(messageSid)).toMatchObject({ state: 'pending' });
      temporalProxy.resume();
      // Twilio's own retry (or reconciliation) delivering the same message while the drain is under way.
      expect((await h.postInbound(tenant, { body: 'duas vezes', from, messageSid })).response.status).toBe(200);
      await expectAnsweredOnce(messageSid, from);
      await eventually(async () => (await inboxRow(messageSid))?.state === 'drained', 10_000, 'the inbox row drained');
      expect(repliesTo(from)).toHaveLength(1);
    }));
});

describe('Fallback URL', () => {
  it('/webhooks/twilio/messages/fallback takes the request Twilio sends there (ErrorCode, ErrorUrl) like the primary', async () => {
    const tenant = await h.createTestTenant();
    const from = customer();
    const messageSid = newMessageSid();
    const params = {
      MessageSid: messageSid,
      SmsMessageSid: messageSid,
      AccountSid: tenant.accountSid,
      From: from,
      To: tenant.address,
      Body: 'pelo fallback',
      NumMedia: '0',
      ApiVersion: '2010-04-01',
      ErrorCode: '11200',
      ErrorUrl: `${PUBLIC_BASE_URL}/webhooks/twilio/messages`,
    };
    const request = signedWebhook({
      publicBaseUrl: PUBLIC_BASE_URL,
      path: '/webhooks/twilio/messages/fallback',
      authToken: tenant.authToken,
      params,
    });
    const response = await fetch(`${h.apiUrl}/webhooks/twilio/messages/fallback`, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
    });
    expect(response.status).toBe(200);
    await expectAnsweredOnce(messageSid, from);
    // Signed for the primary path, posted to the fallback path: rejected.
    const wrongPath = signedWebhook({
      publicBaseUrl: PUBLIC_BASE_URL,
      path: '/webhooks/twilio/messages',
      authToken: tenant.authToken,
      params: { ...params, MessageSid: newMessageSid() },
    });
    expect(
      (
        await fetch(`${h.apiUrl}/webhooks/twilio/messages/fallback`, {
          method: 'POST',
          headers: wrongPath.headers,
          body: wrongPath.body,
        })
      ).status,
    ).toBe(403);
  });
});

function inputFor(tenant: TestTenant, from: string, messageSid = newMessageSid()): InboundInput {
  return {
    tenantId: tenant.tenantId,
    tenantSlug: tenant.slug,
    messageSid,
    channel: 'whatsapp',
    from,
    to: tenant.address,
    body: 'do inbox',
    media: [],
    profileName: null,
    originalRepliedMessageSid: null,
    receivedAt: new Date().toISOString(),
    trace: newRootTrace(),
  };
}

describe('inbox drain', () => {
  it('marks a row drained when its workflow was already started (duplicate), and keeps a refused row pending', async () => {
    const tenant = await h.createTestTenant();
    const from = customer();
    const input = inputFor(tenant, from);
    expect(await startInboundWorkflow(h.client, h.env.TEMPORAL_TASK_QUEUE, input)).toBe('started');
    const queue = `drain-test-${input.messageSid}`;
    expect(await parkInbound(h.db, queue, input)).toBe('parked');
    expect(await parkInbound(h.db, queue, input)).toBe('already_parked');
    const refused = inputFor(tenant, customer());
    await parkInbound(h.db, queue, refused);

    const result = await drainInbox(h.db, queue, (i) =>
      i.messageSid === refused.messageSid
        ? Promise.reject(new Error('no'))
        : startInboundWorkflow(h.client, h.env.TEMPORAL_TASK_QUEUE, i),
    );
    // A refusal that is not Temporal being unavailable does not stop the batch (the order is oldest first).
    expect(result).toMatchObject({ drained: 1, duplicates: 1, started: 0, failed: 1, unavailable: false });
    expect(await inboxRow(input.messageSid)).toMatchObject({ state: 'drained', attempts: 1 });
    expect(await inboxRow(refused.messageSid)).toMatchObject({ state: 'pending', attempts: 1, lastError: 'Error: no' });
    await expectAnsweredOnce(input.messageSid, from);

    // Refused again and again with Temporal up: a supervisor is told once, at REFUSED_ALERT_AFTER; the row stays pending.
    const inboxAlerts = () =>
      h.db
        .select()
        .from(alerts)
        .where(and(eq(alerts.tenantId, tenant.tenantId), eq(alerts.type, 'inbound_failed')));
    for (let i = 1; i < REFUSED_ALERT_AFTER + 2; i++)
      await drainInbox(h.db, queue, () => Promise.reject(new Error('no')));
    const raised = await inboxAlerts();
    expect(raised).toHaveLength(1);
    expect(raised[0]!.payload).toMatchObject({ messageSid: refused.messageSid, stage: 'inbox' });
    expect(await inboxRow(refused.messageSid)).toMatchObject({ state: 'pending', attempts: REFUSED_ALERT_AFTER + 2 });
  });

  it('concurrent drains hand each row over exactly once (SKIP LOCKED)', async () => {
    const tenant = await h.createTestTenant();
    const queue = `drain-race-${newMessageSid()}`;
    const inputs = Array.from({ length: 12 }, () => inputFor(tenant, customer()));
    for (const input of inputs) await parkInbound(h.db, queue, input);
    const handedOver: string[] = [];
    const handOver = async (i: InboundInput) => {
      handedOver.push(i.messageSid);
      await new Promise((r) => setImmediate(r));
      return 'started' as const;
    };
    const results = await Promise.all([1, 2, 3].map(() => drainInbox(h.db, queue, handOver, { batchSize: 5 })));
    const again = await drainInbox(h.db, queue, handOver, { batchSize: 50 });
    expect(results.reduce((n, r) => n + r.drained, 0) + again.drained).toBe(12);
    expect(new Set(handedOver).size).toBe(handedOver.length);
    expect(handedOver.slice().sort()).toEqual(inputs.map((i) => i.messageSid).sort());
  });

  it('the inbox-drain schedule exists for this task queue and its run drains a parked row into a reply', async () => {
    const handle = h.client.schedule.getHandle(inboxDrainScheduleId(h.env.TEMPORAL_TASK_QUEUE));
    const description = await handle.describe();
    expect(description.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'inboxDrainWorkflow',
      taskQueue: h.env.TEMPORAL_TASK_QUEUE,
    });
    expect(description.spec.intervals).toEqual([expect.objectContaining({ every: 60_000 })]);

    // A row parked by an API that then died (nobody kicked a drain): the schedule takes it.
    const tenant = await h.createTestTenant();
    const from = customer();
    const input = inputFor(tenant, from);
    await parkInbound(h.db, h.env.TEMPORAL_TASK_QUEUE, input);
    const before = description.info.recentActions.length;
    await handle.trigger();
    const run = await eventually(
      async () => {
        const actions = (await handle.describe()).info.recentActions;
        return actions.length > before ? actions.at(-1)! : null;
      },
      10_000,
      'the schedule to start a run',
    );
    await h.client.workflow.getHandle(run.action.workflow.workflowId).result();
    await expectAnsweredOnce(input.messageSid, from);
    expect(await inboxRow(input.messageSid)).toMatchObject({ state: 'drained' });
    await recordHistory(h, run.action.workflow.workflowId, 'inboxDrain');
  });
});

describe('status callbacks during a database outage', () => {
  it('are handed to Temporal and applied once the database takes them; both down is a 503', async () => {
    const tenant = await h.createTestTenant();
    const from = customer();
    const { messageSid } = await h.postInbound(tenant, { body: 'status?', from });
    await expectAnsweredOnce(messageSid, from);
    const replySid = repliesTo(from)[0]!.sid;
    await eventually(
      async () => (await h.db.select().from(messages).where(eq(messages.providerSid, replySid))).length === 1,
      10_000,
      'the reply stored with its SID',
    );
    // While the database is up: applied directly (and the account is now in the API's cache).
    expect((await h.postStatus(tenant, { MessageSid: replySid, MessageStatus: 'sent' })).status).toBe(204);
    expect(await workflowExists(statusCallbackWorkflowId(replySid, 'sent'))).toBe(false);

    dbProxy.pause();
    expect((await h.postStatus(tenant, { MessageSid: replySid, MessageStatus: 'delivered' })).status).toBe(204);
    // Twilio's duplicate of the same callback: the workflow id takes it once.
    expect((await h.postStatus(tenant, { MessageSid: replySid, MessageStatus: 'delivered' })).status).toBe(204);
    const workflowId = statusCallbackWorkflowId(replySid, 'delivered');
    expect(await h.client.workflow.getHandle(workflowId).result()).toEqual({ outcome: 'updated' });
    const [stored] = await h.db
      .select({ status: messages.status })
      .from(messages)
      .where(eq(messages.providerSid, replySid));
    expect(stored!.status).toBe('delivered');
    await recordHistory(h, workflowId, 'statusCallback');

    temporalProxy.pause();
    const both = await h.postStatus(tenant, { MessageSid: replySid, MessageStatus: 'read' });
    expect(both.status).toBe(503);
    expect(await both.json()).toMatchObject({ error: { code: 'database_unavailable' } });
    temporalProxy.resume();
    dbProxy.resume();
    expect(await workflowExists(statusCallbackWorkflowId(replySid, 'read'))).toBe(false);
  });
});

describe('a redelivery while Temporal is down (issue 24 C)', () => {
  it('is recorded with the failed status first, and started by the inbox drain once Temporal is back', () =>
    withDrainSchedulePaused(h, async () => {
      const tenant = await h.createTestTenant();
      const from = customer();
      const { messageSid } = await h.postInbound(tenant, { body: 'manda de novo', from });
      await expectAnsweredOnce(messageSid, from);
      const reply = repliesTo(from)[0]!;
      await eventually(
        async () => (await h.db.select().from(messages).where(eq(messages.providerSid, reply.sid))).length === 1,
        10_000,
        'the reply stored with its SID',
      );
      const [stored] = await h.db.select({ id: messages.id }).from(messages).where(eq(messages.providerSid, reply.sid));
      const key = `redeliver:${stored!.id}:retry`;

      temporalProxy.pause();
      // 30008 (unknown error) calls for a resend: the status is stored and the resend recorded, Temporal or not.
      const failed = await h.postStatus(tenant, { MessageSid: reply.sid, MessageStatus: 'failed', ErrorCode: '30008' });
      expect(failed.status).toBe(204);
      const [row] = await h.db.select().from(redeliveryInbox).where(eq(redeliveryInbox.key, key));
      expect(row).toMatchObject({ state: 'pending', tenantId: tenant.tenantId });
      expect(await workflowExists(key)).toBe(false);
      expect(repliesTo(from)).toHaveLength(1);

      temporalProxy.resume();
      // The webhook kicked the API's drain loop: it starts the resend as soon as Temporal answers again.
      await h.twilio.waitFor(() => repliesTo(from).length === 2, 30_000);
      await eventually(
        async () =>
          (await h.db.select().from(redeliveryInbox).where(eq(redeliveryInbox.key, key)))[0]?.state === 'drained',
        10_000,
        'the redelivery row drained',
      );
      await h.client.workflow.getHandle(key).result();
      expect(repliesTo(from)).toHaveLength(2);
    }));
});
