import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundWorkflowId, type InboundInput, type InboundResult } from '../../src/contract';
import { events, inboundFailures, messages } from '../../src/db/schema';
import { newRootTrace } from '../../src/domain/trace';
import { newMessageSid } from '../../src/integrations/signed-webhook';
import { startInboundWorkflow } from '../../src/temporal/start-inbound';
import { recordHistory, sentTo } from '../support/conversation';
import { randomPhone, startHarness, type Harness, type TestTenant } from '../support/harness';
import { raisedAlert } from '../support/alerts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ MESSAGE_DEBOUNCE: '200ms' });
});
afterAll(async () => {
  await h?.close();
});

/** A signed inbound webhook with any parameters (media, profile name), as Twilio sends it. */
async function postRaw(tenant: TestTenant, from: string, extra: Record<string, string>) {
  const { response, messageSid } = await h.postInbound(tenant, { body: extra.Body ?? '', from, extra });
  return { status: response.status, messageSid };
}

/** The inbound workflow ran to completion (not running, not retrying) and gave its result. */
async function inboundOutcome(messageSid: string): Promise<InboundResult> {
  const handle = h.client.workflow.getHandle(inboundWorkflowId(messageSid));
  const result = (await handle.result()) as InboundResult;
  expect((await handle.describe()).status.name).toBe('COMPLETED');
  return result;
}

async function storedInbound(messageSid: string) {
  const [row] = await h.db.select().from(messages).where(eq(messages.providerSid, messageSid));
  return row!;
}

describe('odd input: 200, then a recorded outcome, and no workflow left retrying (D)', () => {
  it('control characters: NUL and other C0/C1 characters are removed at the edge, the event says so, the customer is answered', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    const sent = await postRaw(tenant, from, {
      Body: 'meu\u0000 pedido\u0007 não\u0085 chegou\ttab\r\nlinha',
      ProfileName: 'Ana\u0000 Maria',
    });
    expect(sent.status).toBe(200);
    const outcome = await inboundOutcome(sent.messageSid);
    expect(outcome.failed).toBeUndefined();
    await h.twilio.waitFor(() => sentTo(h, from).length === 1);
    const stored = await storedInbound(sent.messageSid);
    expect(stored.body).toBe('meu pedido não chegou\ttab\r\nlinha');
    expect(sentTo(h, from)[0]!.body).toBe('Echo: meu pedido não chegou\ttab\r\nlinha');
    const [received] = await h.db
      .select({ payload: events.payload })
      .from(events)
      .where(and(eq(events.messageId, stored.id), eq(events.type, 'webhook.received')));
    expect(received!.payload.normalizedFields).toEqual(['Body', 'ProfileName']);
  });

  it('1,600+ characters: stored whole and answered', async () => {
    const tenant = await h.createTestTenant();
    const from = randomPhone(); // SMS: Twilio would have joined the segments of a long text into one Body
    const body = 'a'.repeat(1_700) + ' fim';
    const sent = await postRaw(tenant, from, { Body: body, To: tenant.phone });
    expect(sent.status).toBe(200);
    expect((await inboundOutcome(sent.messageSid)).failed).toBeUndefined();
    await h.twilio.waitFor(() => sentTo(h, from).length === 1);
    expect((await storedInbound(sent.messageSid)).body).toBe(body);
  });

  it('emoji (pairs, ZWJ sequences, flags, skin tones) are kept exactly and not reported as normalized', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    const body = 'Oi 👋🏽 família 👨‍👩‍👧‍👦 🇧🇷 ❤️ ok?';
    const sent = await postRaw(tenant, from, { Body: body });
    expect(sent.status).toBe(200);
    expect((await inboundOutcome(sent.messageSid)).failed).toBeUndefined();
    await h.twilio.waitFor(() => sentTo(h, from).length === 1);
    const stored = await storedInbound(sent.messageSid);
    expect(stored.body).toBe(body);
    expect(sentTo(h, from)[0]!.body).toBe(`Echo: ${body}`);
    const [received] = await h.db
      .select({ payload: events.payload })
      .from(events)
      .where(and(eq(events.messageId, stored.id), eq(events.type, 'webhook.received')));
    expect(received!.payload.normalizedFields).toBeUndefined();
  });

  it('right-to-left text with bidi marks and combining marks is kept exactly', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    const body = '\u200Fمرحبا، أين طلبي؟ שָׁלוֹם e\u0301';
    const sent = await postRaw(tenant, from, { Body: body, ProfileName: 'محمد' });
    expect(sent.status).toBe(200);
    expect((await inboundOutcome(sent.messageSid)).failed).toBeUndefined();
    await h.twilio.waitFor(() => sentTo(h, from).length === 1);
    expect((await storedInbound(sent.messageSid)).body).toBe(body);
  });

  it('empty Body with media: stored with its media and answered', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    const url = `https://api.twilio.com/2010-04-01/Accounts/${tenant.accountSid}/Messages/MM0/Media/ME1`;
    const sent = await postRaw(tenant, from, {
      Body: '',
      NumMedia: '1',
      MediaUrl0: url,
      MediaContentType0: 'image/jpeg',
    });
    expect(sent.status).toBe(200);
    expect((await inboundOutcome(sent.messageSid)).failed).toBeUndefined();
    const stored = await storedInbound(sent.messageSid);
    expect(stored.body).toBe('');
    expect(stored.media).toEqual([{ url, contentType: 'image/jpeg' }]);
    await h.twilio.waitFor(() => sentTo(h, from).length === 1);
  });

  it('input the database rejects anyway (a NUL that bypassed the edge) ends in a recorded failed outcome and an alert, not an endless retry', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    const messageSid = newMessageSid();
    const body = 'texto com \u0000 NUL';
    // The webhook would have normalized this; starting the workflow directly is how a message from another
    // start path (inbox drain, reconciliation) with such text would reach Postgres, which refuses it (22021).
    const input: InboundInput = {
      tenantId: tenant.tenantId,
      tenantSlug: tenant.slug,
      messageSid,
      channel: 'whatsapp',
      from,
      to: tenant.address,
      body,
      media: [],
      profileName: null,
      originalRepliedMessageSid: null,
      receivedAt: new Date().toISOString(),
      trace: newRootTrace(),
    };
    expect(await startInboundWorkflow(h.client, h.env.TEMPORAL_TASK_QUEUE, input)).toBe('started');
    const outcome = await inboundOutcome(messageSid);
    expect(outcome).toMatchObject({ messageId: null, failed: { stage: 'record', failureType: 'DatabaseRejected' } });

    const [failure] = await h.db.select().from(inboundFailures).where(eq(inboundFailures.messageSid, messageSid));
    expect(failure).toMatchObject({
      tenantId: tenant.tenantId,
      stage: 'record',
      failureType: 'DatabaseRejected',
      messageId: null,
    });
    expect(failure!.reason).toMatch(/^database rejected the statement \(22\w{3}\)$/);
    // Nothing is lost: the escaped JSON holds the exact input, NUL included.
    expect((JSON.parse(failure!.input) as InboundInput).body).toBe(body);
    const raised = await raisedAlert(h, tenant.tenantId, 'inbound_failed');
    expect(raised.payload).toMatchObject({ messageSid, stage: 'record' });
    expect(raised.message).not.toContain(body);
    expect(raised.message).not.toContain(from.replace('whatsapp:', ''));
    // The failure in the workflow history carries the SQLSTATE only, never the bound parameters.
    const history = JSON.stringify(await h.client.workflow.getHandle(inboundWorkflowId(messageSid)).fetchHistory());
    expect(history).not.toContain('Failed query');
    expect(sentTo(h, from)).toHaveLength(0);
    await recordHistory(h, inboundWorkflowId(messageSid), 'inbound-failed-outcome-one-local-step');
  });
});
