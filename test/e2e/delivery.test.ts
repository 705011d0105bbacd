import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { contacts, events, inboundInbox, messages, outbox, parkedStatusCallbacks } from '../../src/db/schema';
import { createOutboundSender } from '../../src/activities/messaging';
import { newRootTrace } from '../../src/domain/trace';
import { newMessageSid } from '../../src/integrations/signed-webhook';
import { createLogger } from '../../src/logger';
import { createTemporalClient } from '../../src/temporal/connection';
import { createInboxDrainer } from '../../src/services/inbox';
import { testActivityDeps } from '../support/activity-deps';
import {
  eventually,
  postInboundToApp,
  postSignedWebhook,
  PUBLIC_BASE_URL,
  randomPhone,
  startHarness,
  type Harness,
} from '../support/harness';
import { withDrainSchedulePaused } from '../support/inbox';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const customer = () => `whatsapp:${randomPhone()}`;

async function outboundOf(h: Harness, correlationId: string) {
  return eventually(
    async () => {
      const [row] = await h.db
        .select()
        .from(messages)
        .where(and(eq(messages.correlationId, correlationId), eq(messages.direction, 'outbound')));
      return row && row.status !== 'pending' ? row : null;
    },
    20_000,
    'the outbound message to settle',
  );
}

/**
 * A WhatsApp contact whose message of a minute ago is stored and in the fake Twilio's log (so free text is inside
 * the window), and a sender of our own to call directly.
 */
async function contactWhoWroteAMinuteAgo(tag: string) {
  const tenant = await h.createTestTenant();
  const to = customer();
  const [contact] = await h.db
    .insert(contacts)
    .values({ tenantId: tenant.tenantId, phone: to.replace('whatsapp:', ''), phoneHash: `test-${randomPhone()}` })
    .returning();
  await h.db.insert(messages).values({
    tenantId: tenant.tenantId,
    contactId: contact!.id,
    direction: 'inbound',
    channel: 'whatsapp',
    fromAddress: to,
    toAddress: tenant.address,
    body: 'oi',
    sentBy: 'customer',
    status: 'received',
    correlationId: `${tag}:${to}`,
    createdAt: new Date(Date.now() - 60_000),
  });
  h.twilio.receive({
    sid: `SM${randomPhone().slice(1)}`,
    accountSid: tenant.accountSid,
    from: to,
    to: tenant.address,
    body: 'oi',
    dateCreated: new Date(Date.now() - 60_000),
  });
  const sender = createOutboundSender(testActivityDeps(h, { config: { whatsappWindowMs: 24 * 3_600_000 } }));
  return { tenant, to, contact: contact!, sender };
}

describe('outbound delivery and status callbacks', () => {
  it('parks the message in the Postgres inbox and answers 200 when Temporal is unreachable (Twilio would not retry a 503)', () =>
    withDrainSchedulePaused(h, async () => {
      const tenant = await h.createTestTenant();
      const dead = createTemporalClient({ address: '127.0.0.1:1', namespace: 'default', payloadKeys: h.payloadKeys });
      const log = createLogger('silent');
      const inboxDrainer = createInboxDrainer({
        db: h.db,
        temporal: { client: dead.client, taskQueue: h.env.TEMPORAL_TASK_QUEUE },
        log,
      });
      const app = createApp({
        env: h.env,
        db: h.db,
        temporal: dead.client,
        log,
        inboxDrainer,
        webhook: { startDeadlineMs: 1000 },
      });
      const messageSid = newMessageSid();
      const params = {
        MessageSid: messageSid,
        AccountSid: tenant.accountSid,
        From: customer(),
        To: tenant.address,
        Body: 'hello?',
      };
      const response = await postInboundToApp(app, tenant.authToken, params);
      expect(response.status).toBe(200);
      const [parked] = await h.db
        .select({ state: inboundInbox.state })
        .from(inboundInbox)
        .where(eq(inboundInbox.messageSid, messageSid));
      expect(parked?.state).toBe('pending');
      // Not stored as a message yet: the inbound workflow does that once a drain hands it over.
      expect(await h.db.select().from(messages).where(eq(messages.providerSid, messageSid))).toHaveLength(0);
      const ready = await app.request(`${PUBLIC_BASE_URL}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ checks: { database: 'ok', temporal: 'unavailable' } });
      await inboxDrainer.stop();
      await dead.close().catch(() => undefined);
      // Temporal is back (the harness's server): a drain hands the row over, and the customer is answered once.
      await createInboxDrainer({
        db: h.db,
        temporal: { client: h.client, taskQueue: h.env.TEMPORAL_TASK_QUEUE },
        log,
      }).drainNow();
      await h.twilio.waitFor((sent) => sent.some((m) => m.to === params.From));
      const replies = h.twilio.sent.filter((m) => m.to === params.From);
      expect(replies).toHaveLength(1);
      // Its status callbacks carry the connection overrides, so Twilio retries one that meets a 5xx, and the message
      // id, so a callback that beats the SID write finds its message (issue 25 A).
      const [callbackPath, fragment] = replies[0]!.statusCallback!.split('#');
      expect(fragment).toBe(h.env.TWILIO_CONNECTION_OVERRIDES);
      expect(callbackPath).toMatch(
        /\/webhooks\/twilio\/status\?m=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );
      expect(callbackPath!.startsWith(`${PUBLIC_BASE_URL}/webhooks/twilio/status?m=`)).toBe(true);
    }));

  it('applies delivery statuses monotonically: duplicates and late callbacks change nothing', async () => {
    const tenant = await h.createTestTenant();
    const from = customer();
    const { messageSid } = await h.postInbound(tenant, { body: 'status please', from });
    const outbound = await outboundOf(h, messageSid);
    const sid = outbound.providerSid!;
    const statusOf = async () =>
      (await h.db.select({ status: messages.status }).from(messages).where(eq(messages.id, outbound.id)))[0]!.status;

    for (const status of ['sent', 'delivered', 'delivered', 'sent', 'queued']) {
      expect((await h.postStatus(tenant, { MessageSid: sid, MessageStatus: status })).status).toBe(204);
    }
    expect(await statusOf()).toBe('delivered');
    await h.postStatus(tenant, { MessageSid: sid, MessageStatus: 'read' });
    expect(await statusOf()).toBe('read');
    await h.postStatus(tenant, { MessageSid: sid, MessageStatus: 'failed', ErrorCode: '30008' });
    expect(await statusOf()).toBe('failed');
    await h.postStatus(tenant, { MessageSid: sid, MessageStatus: 'delivered' });
    expect(await statusOf()).toBe('failed');

    const changes = await h.db
      .select({ payload: events.payload })
      .from(events)
      .where(and(eq(events.messageId, outbound.id), eq(events.type, 'message.status')))
      .orderBy(events.occurredAt);
    expect(changes.map((c) => c.payload.to)).toEqual(['sent', 'delivered', 'read', 'failed']);
    // Issue 22 D: a status we do not know is taken (Twilio drops a refused callback); a non-status is refused.
    const unknown = await h.postStatus(tenant, { MessageSid: newMessageSid(), MessageStatus: 'bogus' });
    expect(unknown.status).toBe(204);
    const malformed = await h.postStatus(tenant, { MessageSid: newMessageSid(), MessageStatus: 'Bogus Status!' });
    expect(malformed.status).toBe(400);
  });

  it('keeps a status callback that arrives before the send stored its SID, and applies it once the SID is stored', async () => {
    const tenant = await h.createTestTenant();
    const from = customer();
    let early = 0;
    h.twilio.beforeNextResponse(async (message) => {
      early = (await h.postStatus(tenant, { MessageSid: message.sid, MessageStatus: 'sent' })).status;
    });
    const { messageSid } = await h.postInbound(tenant, { body: 'rápido', from });
    const outbound = await eventually(
      async () => {
        const [row] = await h.db
          .select()
          .from(messages)
          .where(and(eq(messages.correlationId, messageSid), eq(messages.direction, 'outbound')));
        return row?.status === 'sent' ? row : null;
      },
      15_000,
      'the parked "sent" status to be applied',
    );
    expect(early).toBe(204);
    const changes = await h.db
      .select({ payload: events.payload })
      .from(events)
      .where(and(eq(events.messageId, outbound.id), eq(events.type, 'message.status')));
    expect(changes.map((c) => c.payload.to)).toEqual(['sent']);
    expect(
      await h.db
        .select()
        .from(parkedStatusCallbacks)
        .where(eq(parkedStatusCallbacks.messageSid, outbound.providerSid!)),
    ).toHaveLength(0);
  });

  it('applies callbacks that beat the SID write by the message id in their URL: nothing parked, never moved back', async () => {
    const tenant = await h.createTestTenant();
    const from = customer();
    const early: number[] = [];
    h.twilio.beforeNextResponse(async (message) => {
      // Twilio's `sent` and `delivered` reach us before its answer to the send does (issue 25 A).
      for (const status of ['sent', 'delivered'])
        early.push(
          (await h.postStatus(tenant, { MessageSid: message.sid, MessageStatus: status }, message.statusCallback!))
            .status,
        );
    });
    const { messageSid } = await h.postInbound(tenant, { body: 'depressa', from });
    const outbound = await eventually(
      async () => {
        const [row] = await h.db
          .select({ id: messages.id, status: messages.status, providerSid: messages.providerSid, box: outbox.status })
          .from(messages)
          .innerJoin(outbox, eq(outbox.messageId, messages.id))
          .where(and(eq(messages.correlationId, messageSid), eq(messages.direction, 'outbound')));
        return row?.box === 'sent' ? row : null;
      },
      15_000,
      'the send to store its SID',
    );
    expect(early).toEqual([204, 204]);
    // Twilio answered `queued` after the callbacks: the SID write kept `delivered`.
    expect(outbound).toMatchObject({ status: 'delivered', providerSid: h.twilio.sent.find((m) => m.to === from)!.sid });
    const changes = await h.db
      .select({ payload: events.payload })
      .from(events)
      .where(and(eq(events.messageId, outbound.id), eq(events.type, 'message.status')));
    // Each moved the status one step on (rows in no particular order).
    expect(changes.map((c) => `${String(c.payload.from)}→${String(c.payload.to)}`).sort()).toEqual([
      'pending→sent',
      'sent→delivered',
    ]);
    expect(
      await h.db
        .select()
        .from(parkedStatusCallbacks)
        .where(eq(parkedStatusCallbacks.messageSid, outbound.providerSid!)),
    ).toHaveLength(0);
    // A callback with another message's id (or a forged one) cannot move this message: it is looked up by SID too.
    const other = await h.postStatus(
      tenant,
      { MessageSid: newMessageSid(), MessageStatus: 'failed', ErrorCode: '30008' },
      h.twilio.sent.find((m) => m.to === from)!.statusCallback!,
    );
    expect(other.status).toBe(204);
    const [after] = await h.db.select({ status: messages.status }).from(messages).where(eq(messages.id, outbound.id));
    expect(after!.status).toBe('delivered');
  });

  it('rejects a status callback with a bad signature', async () => {
    const tenant = await h.createTestTenant();
    const params = { MessageSid: newMessageSid(), MessageStatus: 'delivered', AccountSid: tenant.accountSid };
    const response = await postSignedWebhook({
      origin: h.apiUrl,
      path: '/webhooks/twilio/status',
      authToken: 'wrong',
      params,
    });
    expect(response.status).toBe(403);
  });

  it('gives up at once on a permanent Twilio error (21211) and records it', async () => {
    const tenant = await h.createTestTenant();
    h.twilio.failNext({ status: 400, code: 21211 });
    const { messageSid } = await h.postInbound(tenant, { body: 'bad number', from: customer() });
    const outbound = await outboundOf(h, messageSid);
    expect(outbound).toMatchObject({ status: 'failed', errorCode: '21211', errorMessage: 'invalid_number' });
    const [box] = await h.db.select().from(outbox).where(eq(outbox.messageId, outbound.id));
    expect(box).toMatchObject({ status: 'failed', attempts: 1, lastErrorCode: '21211' });
  });

  it('retries a rate-limited send (429) and sends exactly once', async () => {
    const tenant = await h.createTestTenant();
    const from = customer();
    h.twilio.failNext({ status: 429, code: 20429 });
    const { messageSid } = await h.postInbound(tenant, { body: 'busy?', from });
    const outbound = await outboundOf(h, messageSid);
    expect(outbound.status).toBe('queued');
    const [box] = await h.db.select().from(outbox).where(eq(outbox.messageId, outbound.id));
    expect(box).toMatchObject({ status: 'sent', attempts: 2 });
    expect(h.twilio.sent.filter((m) => m.to === from)).toHaveLength(1);
  });

  it('adopts a message Twilio accepted before the connection dropped instead of sending it twice', async () => {
    const tenant = await h.createTestTenant();
    const from = customer();
    h.twilio.failNext({ dropConnectionAfterAccepting: true });
    const { messageSid } = await h.postInbound(tenant, { body: 'in doubt', from });
    const outbound = await outboundOf(h, messageSid);
    const sent = h.twilio.sent.filter((m) => m.to === from);
    expect(sent).toHaveLength(1);
    expect(outbound.providerSid).toBe(sent[0]!.sid);
    const adopted = await h.db
      .select({ payload: events.payload })
      .from(events)
      .where(and(eq(events.messageId, outbound.id), eq(events.type, 'reply.sent')));
    expect(adopted[0]!.payload).toMatchObject({ adopted: true });
  });

  it('two attempts of one send at the same time reach Twilio once (a retried batch racing a live one)', async () => {
    // The contact wrote a minute ago: free text is inside its WhatsApp window.
    const { tenant, to, contact, sender } = await contactWhoWroteAMinuteAgo('race-in');
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    h.twilio.beforeNextResponse(() => held);
    const input = {
      idempotencyKey: `race:${to}`,
      tenantId: tenant.tenantId,
      conversationId: null,
      contactId: contact.id,
      channel: 'whatsapp' as const,
      from: tenant.address,
      to,
      body: 'uma vez só',
      sentBy: 'system' as const,
      correlationId: 'race',
      trace: newRootTrace(),
    };
    const first = sender.send(input);
    await h.twilio.waitFor((sent) => sent.some((m) => m.to === to));
    // While the first attempt waits for Twilio's answer, the second must not call Twilio.
    await expect(sender.send(input)).rejects.toMatchObject({ type: 'TwilioRetryableError' });
    release();
    const done = await first;
    expect(done).toMatchObject({ skipped: false, status: 'queued' });
    expect(await sender.send(input)).toMatchObject({
      skipped: false,
      messageId: (done as { messageId: string }).messageId,
    });
    expect(h.twilio.sent.filter((m) => m.to === to)).toHaveLength(1);
  });

  it('a STOP between two attempts of a system send stops the retry: no Twilio call, recorded as opted out', async () => {
    const { tenant, to, contact, sender } = await contactWhoWroteAMinuteAgo('stop-in');
    const input = {
      idempotencyKey: `stop-retry:${to}`,
      tenantId: tenant.tenantId,
      conversationId: null,
      contactId: contact.id,
      channel: 'whatsapp' as const,
      from: tenant.address,
      to,
      template: { key: 'idle_nudge' },
      sentBy: 'system' as const,
      correlationId: 'stop-retry',
      trace: newRootTrace(),
    };
    // First attempt: Twilio says 429, nothing was sent, the outbox row is back to pending.
    h.twilio.failSendsTo(to, { status: 429, code: 20429 });
    await expect(sender.send(input)).rejects.toMatchObject({ type: 'TwilioRetryableError' });
    const calls = h.twilio.sent.filter((m) => m.to === to).length;
    await h.db.update(contacts).set({ optedOutAt: new Date() }).where(eq(contacts.id, contact.id));
    // The retry after the STOP: refused before Twilio, and every later retry says the same.
    expect(await sender.send(input)).toEqual({ skipped: true, reason: 'opted_out' });
    expect(await sender.send(input)).toEqual({ skipped: true, reason: 'opted_out' });
    expect(h.twilio.sent.filter((m) => m.to === to)).toHaveLength(calls);
    const [box] = await h.db.select().from(outbox).where(eq(outbox.idempotencyKey, input.idempotencyKey));
    expect(box).toMatchObject({ status: 'failed', lastError: 'opted_out' });
  });
});
