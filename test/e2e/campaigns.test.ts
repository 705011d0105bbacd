import { openSecret } from '../../src/secrets/keyring';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlCampaign } from '../../src/services/campaigns';
import { ServiceError } from '../../src/services/errors';
import type { RowError } from '../../src/domain/campaign-import';
import { campaigns, contacts, events, messages, messageTemplates, parkedStatusCallbacks } from '../../src/db/schema';
import {
  campaignRow,
  csvOf,
  launchCampaign,
  sentToPhones,
  startTestCampaign,
  targetRows,
  targets,
  textOf,
  waitForStatus,
} from '../support/campaigns';
import { eventually, randomPhone, startHarness, type Harness } from '../support/harness';
import { recordHistory } from '../support/conversation';
import { pacerWorkflowId } from '../../src/contract';
import { contactHash } from '../../src/domain/contact-hash';
import { tenants } from '../../src/db/schema';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ CAMPAIGN_DELIVERY_TIMEOUT: '20s' }, { statusCallbacks: true });
});
afterAll(async () => {
  await h?.close();
});

/** An Etc/GMT zone where it is around noon now, so a test window a few seconds ahead never crosses midnight. */
function noonZone(now = new Date()) {
  const offset = 12 - now.getUTCHours();
  return {
    zone: offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`,
    offsetMs: offset * 3_600_000,
  };
}
const hhmmss = (ms: number) => new Date(ms).toISOString().slice(11, 19);

describe('campaigns (C1, C2, C6)', () => {
  it('a file with bad rows imports nothing and names every bad line', async () => {
    const tenant = await h.createTestTenant();
    const rows = targets(200);
    const csv = csvOf(rows).split('\n');
    csv[8] = '12345,Sem Telefone,,,,';
    csv[51] = `${randomPhone()},Data Ruim,,,10.00,2026-02-30`;
    csv[120] = `${rows[3]!.phone},Duplicado,,,,`;
    const name = 'bad-file';
    const error = await launchCampaign(h, tenant, csv.join('\n'), { name }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).code).toBe('invalid');
    expect(((error as ServiceError).details as RowError[]).map((e) => e.line)).toEqual([9, 52, 121]);
    expect(await h.db.select().from(campaigns).where(eq(campaigns.tenantId, tenant.tenantId))).toHaveLength(0);
    expect(
      await h.db
        .select()
        .from(contacts)
        .where(
          and(
            eq(contacts.tenantId, tenant.tenantId),
            inArray(
              contacts.phone,
              rows.map((r) => r.phone),
            ),
          ),
        ),
    ).toHaveLength(0);
  });

  it('200 targets: exactly one message each, even with a second start and a worker restart mid-campaign', async () => {
    const tenant = await h.createTestTenant();
    const rows = targets(200);
    const phones = rows.map((r) => r.phone);
    const c = await launchCampaign(h, tenant, rows, { ratePerSecond: 40 });
    await h.twilio.waitFor(() => sentToPhones(h, phones).length >= 60, 30_000);
    await h.restartWorker();
    expect((await startTestCampaign(h, tenant, c.campaignId, c.traceId)).started).toBe(false);
    const done = await waitForStatus(h, c.campaignId, 'completed', 90_000);
    const sent = sentToPhones(h, phones);
    expect(sent).toHaveLength(200);
    expect(new Set(sent.map((m) => m.to)).size).toBe(200);
    expect(sent.every((m) => textOf(m).startsWith('Olá Cliente'))).toBe(true);
    expect(done).toMatchObject({ totalTargets: 200, contactedTargets: 200, failedTargets: 0 });
    // Delivery callbacks (sent → delivered) came back through the status webhook and completed every target.
    await eventually(
      async () => (await campaignRow(h, c.campaignId)).successfulContacts === 200,
      20_000,
      'all delivered',
    );
    const states = await targetRows(h, c.campaignId);
    expect(states.every((t) => t.state === 'completed' && t.attemptCount === 1 && t.lastStatus === 'delivered')).toBe(
      true,
    );
    // Each send is a span of the campaign's trace.
    const sends = await h.db
      .select()
      .from(events)
      .where(and(eq(events.traceId, c.traceId), eq(events.type, 'campaign.send')));
    expect(sends).toHaveLength(200);
  });

  it('zero sends while the active hours are closed; sends start when the window opens', async () => {
    const tenant = await h.createTestTenant();
    const { zone, offsetMs } = noonZone();
    const opensAt = Date.now() + 4_000;
    const hours = `daily ${hhmmss(opensAt + offsetMs)}-${hhmmss(opensAt + offsetMs + 3_600_000)}`;
    const rows = targets(10, { timeZone: zone });
    const c = await launchCampaign(h, tenant, rows, { activeHours: hours, ratePerSecond: 20 });
    const waiting = await eventually(
      async () => {
        const t = await targetRows(h, c.campaignId);
        return t.every((x) => x.outcome === 'waiting_active_hours') ? t : null;
      },
      10_000,
      'targets deferred to the window',
    );
    expect(waiting.every((t) => Math.abs(t.nextAttemptAt.getTime() - Math.floor(opensAt / 1000) * 1000) < 1000)).toBe(
      true,
    );
    expect(
      sentToPhones(
        h,
        rows.map((r) => r.phone),
      ),
    ).toHaveLength(0);
    await waitForStatus(h, c.campaignId, 'completed', 30_000);
    const sent = sentToPhones(
      h,
      rows.map((r) => r.phone),
    );
    expect(sent).toHaveLength(10);
    expect(sent.every((m) => m.dateCreated.getTime() >= Math.floor(opensAt / 1000) * 1000)).toBe(true);
    await recordHistory(h, `campaign:${c.campaignId}`, 'campaign-active-hours');
  });

  it('pause stops sends within a second; resume finishes the campaign', async () => {
    const tenant = await h.createTestTenant();
    const rows = targets(60);
    const phones = rows.map((r) => r.phone);
    const c = await launchCampaign(h, tenant, rows, { ratePerSecond: 10 });
    await h.twilio.waitFor(() => sentToPhones(h, phones).length >= 10, 30_000);
    const pausedAt = Date.now();
    await controlCampaign(h.client, c.campaignId, 'pause', { actor: 'test' });
    await waitForStatus(h, c.campaignId, 'paused', 10_000);
    const atPause = sentToPhones(h, phones);
    expect(Math.max(...atPause.map((m) => m.dateCreated.getTime()))).toBeLessThan(pausedAt + 1000);
    expect(atPause.length).toBeLessThan(60);
    // Nothing more goes out while paused (an absence can only be observed over time).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(sentToPhones(h, phones)).toHaveLength(atPause.length);
    await controlCampaign(h.client, c.campaignId, 'resume', { actor: 'test' });
    await waitForStatus(h, c.campaignId, 'completed', 30_000);
    const sent = sentToPhones(h, phones);
    expect(sent).toHaveLength(60);
    expect(new Set(sent.map((m) => m.to)).size).toBe(60);
    const types = (await h.db.select({ type: events.type }).from(events).where(eq(events.traceId, c.traceId))).map(
      (e) => e.type,
    );
    expect(types).toEqual(
      expect.arrayContaining(['campaign.started', 'campaign.paused', 'campaign.resumed', 'campaign.completed']),
    );
    await recordHistory(h, `campaign:${c.campaignId}`, 'campaign-pause-resume');
    // After the claim-ahead patch (src/workflows/campaign.ts): the same run with the patch marker.
    await recordHistory(h, `campaign:${c.campaignId}`, 'campaign-pause-resume-claim-ahead');
    const [t] = await h.db.select({ hashKey: tenants.hashKey }).from(tenants).where(eq(tenants.id, tenant.tenantId));
    await recordHistory(
      h,
      pacerWorkflowId(tenant.slug, contactHash(openSecret(t!.hashKey), `whatsapp:${tenant.phone}`)),
      'pacer',
    );
  });

  it('failed sends are retried with spacing up to max attempts; bad numbers fail alone; the campaign completes', async () => {
    const tenant = await h.createTestTenant();
    const rows = targets(5);
    const [undelivered, invalid, throttled, recovers] = rows.map((r) => `whatsapp:${r.phone}`) as [
      string,
      string,
      string,
      string,
    ];
    h.twilio.scriptDelivery(undelivered, ['sent', 'undelivered'], ['sent', 'undelivered'], ['sent', 'undelivered']);
    h.twilio.failSendsTo(invalid, { status: 400, code: 21211 });
    h.twilio.failSendsTo(throttled, { status: 429, code: 20429 }, { status: 429, code: 20429 });
    // 30008 (unknown error) follows the retry policy; 30003 and the like are permanent (src/domain/twilio-errors.ts).
    h.twilio.scriptDelivery(recovers, [{ status: 'failed', errorCode: '30008' }], ['sent', 'delivered']);
    const c = await launchCampaign(h, tenant, rows, { maxAttempts: 3, attemptSpacingSeconds: 1 });
    const done = await waitForStatus(h, c.campaignId, 'completed', 60_000);
    const t = await targetRows(h, c.campaignId);
    expect(t.map((x) => [x.state, x.attemptCount, x.outcome])).toEqual([
      ['failed', 3, 'undelivered'],
      ['failed', 1, 'invalid_number'],
      ['completed', 1, 'delivered'],
      ['completed', 2, 'delivered'],
      ['completed', 1, 'delivered'],
    ]);
    const attempts = h.twilio.sent.filter((m) => m.to === undelivered).map((m) => m.dateCreated.getTime());
    expect(attempts).toHaveLength(3);
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(900);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(900);
    expect(h.twilio.sent.filter((m) => m.to === invalid)).toHaveLength(0);
    expect(done).toMatchObject({ failedTargets: 2, contactedTargets: 4, successfulContacts: 3 });
    await recordHistory(h, `campaign:${c.campaignId}`, 'campaign-retries');
    // After the claim-ahead patch (src/workflows/campaign.ts): the same run with the patch marker.
    await recordHistory(h, `campaign:${c.campaignId}`, 'campaign-retries-claim-ahead');
  });

  it('callbacks that beat the SID write (found by the message id in their URL): the target is contacted once, in order, nothing parked', async () => {
    const tenant = await h.createTestTenant();
    // Issue 25 C: Twilio's `sent` and `delivered` reach the API before its answer to the send reaches the worker.
    const early: number[] = [];
    h.twilio.beforeNextResponse(async (message) => {
      expect(message.statusCallback).toMatch(/\/webhooks\/twilio\/status\?m=[0-9a-f-]{36}/);
      for (const status of ['sent', 'delivered'])
        early.push(
          (await h.postStatus(tenant, { MessageSid: message.sid, MessageStatus: status }, message.statusCallback!))
            .status,
        );
    });
    const c = await launchCampaign(h, tenant, targets(1));
    const done = await waitForStatus(h, c.campaignId, 'completed', 30_000);
    expect(early).toEqual([204, 204]);
    const [t] = await targetRows(h, c.campaignId);
    expect(t).toMatchObject({ state: 'completed', outcome: 'delivered', lastStatus: 'delivered', attemptCount: 1 });
    expect(t!.contactedAt).not.toBeNull();
    expect(done).toMatchObject({ contactedTargets: 1, successfulContacts: 1, failedTargets: 0 });
    const [m] = await h.db.select().from(messages).where(eq(messages.campaignTargetId, t!.id));
    // The SID write (Twilio answered `queued`) kept `delivered`; nothing waits in the parked table.
    expect(m).toMatchObject({
      status: 'delivered',
      providerSid: h.twilio.sent.find((x) => x.sid === m!.providerSid)!.sid,
    });
    expect(
      await h.db.select().from(parkedStatusCallbacks).where(eq(parkedStatusCallbacks.messageSid, m!.providerSid!)),
    ).toHaveLength(0);
    const sends = await h.db
      .select({ type: events.type })
      .from(events)
      .where(and(eq(events.messageId, m!.id), eq(events.type, 'campaign.send')));
    expect(sends).toHaveLength(1);
  });

  it('a failure callback that beats the SID write counts the contact once and retries the target', async () => {
    const tenant = await h.createTestTenant();
    const rows = targets(1);
    h.twilio.beforeNextResponse(async (message) => {
      await h.postStatus(
        tenant,
        { MessageSid: message.sid, MessageStatus: 'undelivered', ErrorCode: '30008' },
        message.statusCallback!,
      );
    });
    // The first attempt's script: nothing more after the early failure.
    h.twilio.scriptDelivery(`whatsapp:${rows[0]!.phone}`, [], ['sent', 'delivered']);
    const c = await launchCampaign(h, tenant, rows, { maxAttempts: 2, attemptSpacingSeconds: 1 });
    const done = await waitForStatus(h, c.campaignId, 'completed', 30_000);
    const [t] = await targetRows(h, c.campaignId);
    expect(t).toMatchObject({ state: 'completed', outcome: 'delivered', attemptCount: 2 });
    expect(done).toMatchObject({ contactedTargets: 1, successfulContacts: 1, failedTargets: 0 });
    expect(sentToPhones(h, [rows[0]!.phone])).toHaveLength(2);
  });

  it('--retry-on-no-reply: a delivered message with no reply is followed up after the spacing; a reply ends the target', async () => {
    const tenant = await h.createTestTenant();
    const rows = targets(2);
    const [answers, silent] = rows.map((r) => r.phone) as [string, string];
    const c = await launchCampaign(h, tenant, rows, { maxAttempts: 2, attemptSpacingSeconds: 3, retryOnNoReply: true });
    await h.twilio.waitFor(() => sentToPhones(h, [answers]).length === 1, 20_000);
    await h.postInbound(tenant, { body: 'Recebi, obrigado', from: `whatsapp:${answers}` });
    const done = await waitForStatus(h, c.campaignId, 'completed', 30_000);
    const t = await targetRows(h, c.campaignId);
    expect(t.map((x) => [x.state, x.attemptCount, x.outcome])).toEqual([
      ['completed', 1, 'replied'],
      ['completed', 2, 'no_reply'],
    ]);
    const followUps = sentToPhones(h, [silent]).map((m) => m.dateCreated.getTime());
    expect(followUps).toHaveLength(2);
    expect(followUps[1]! - followUps[0]!).toBeGreaterThanOrEqual(2_900);
    // The campaign message went out once to the contact who answered (the rest is the assistant's conversation).
    expect(sentToPhones(h, [answers]).filter((m) => textOf(m).startsWith('Olá Cliente'))).toHaveLength(1);
    expect(done).toMatchObject({ contactedTargets: 2, successfulContacts: 2, failedTargets: 0 });
  });

  it("a STOP reply cancels that contact's pending sends in every campaign; 21610 opts out too", async () => {
    const tenant = await h.createTestTenant();
    const rows = targets(30);
    const quitter = rows[25]!.phone;
    const unsubscribed = rows[5]!.phone;
    h.twilio.failSendsTo(`whatsapp:${unsubscribed}`, { status: 400, code: 21610 });
    const first = await launchCampaign(h, tenant, rows, { ratePerSecond: 5 }, false);
    const second = await launchCampaign(
      h,
      tenant,
      [rows[25]!, ...targets(2)],
      { ratePerSecond: 5, startAt: new Date(Date.now() + 60_000) },
      false,
    );
    await startTestCampaign(h, tenant, first.campaignId, first.traceId);
    await startTestCampaign(h, tenant, second.campaignId, second.traceId);
    await h.twilio.waitFor(
      () =>
        sentToPhones(
          h,
          rows.map((r) => r.phone),
        ).length >= 3,
      20_000,
    );
    await h.postInbound(tenant, { body: ' Stop ', from: `whatsapp:${quitter}` });
    await waitForStatus(h, first.campaignId, 'completed', 60_000);
    expect(sentToPhones(h, [quitter]).filter((m) => m.body.startsWith('Olá'))).toHaveLength(0);
    // The confirmation (WhatsApp: ours; SMS: Twilio's own) is the only message the quitter got.
    expect(sentToPhones(h, [quitter]).map((m) => m.body)).toEqual([expect.stringContaining('não receberá mais')]);
    const [contact] = await h.db
      .select()
      .from(contacts)
      .where(and(eq(contacts.tenantId, tenant.tenantId), eq(contacts.phone, quitter)));
    expect(contact).toMatchObject({ optOutSource: 'keyword' });
    const [other] = await h.db
      .select()
      .from(contacts)
      .where(and(eq(contacts.tenantId, tenant.tenantId), eq(contacts.phone, unsubscribed)));
    expect(other).toMatchObject({ optOutSource: 'twilio_21610' });
    const t = await targetRows(h, first.campaignId);
    expect(t[25]).toMatchObject({ state: 'opted_out' });
    expect(t[5]).toMatchObject({ state: 'opted_out' });
    expect((await targetRows(h, second.campaignId))[0]).toMatchObject({ state: 'opted_out' });
    expect(await campaignRow(h, first.campaignId)).toMatchObject({ optedOutTargets: 2, contactedTargets: 28 });
    // Opted-out contacts are skipped at import too.
    const third = await launchCampaign(h, tenant, [rows[25]!, rows[0]!], {}, false);
    expect(third.optedOut).toBe(1);
    const [stop] = await h.db
      .select({ sid: messages.providerSid })
      .from(messages)
      .where(and(eq(messages.direction, 'inbound'), eq(messages.fromAddress, `whatsapp:${quitter}`)));
    await recordHistory(h, `inbound:${stop!.sid}`, 'inbound-stop');
    await recordHistory(h, `inbound:${stop!.sid}`, 'inbound-stop-built-in-patches');
    await controlCampaign(h.client, second.campaignId, 'cancel', { actor: 'test' });
    await waitForStatus(h, second.campaignId, 'cancelled', 20_000);
  });

  it('WhatsApp templates go out by ContentSid with their positional variables (C3)', async () => {
    const tenant = await h.createTestTenant();
    await h.db.insert(messageTemplates).values({
      tenantId: tenant.tenantId,
      key: 'bill_due',
      locale: 'pt-BR',
      body: 'Olá {{name}}, sua fatura de {{amount}} vence em {{due_date}}.',
      contentSid: 'HX0123456789abcdef0123456789abcdef',
      contentVariables: { 1: 'name', 2: 'amount', 3: 'due_date' },
    });
    const rows = targets(3, { debt: '1.234,50', dueDate: '2026-12-10' });
    const c = await launchCampaign(h, tenant, rows, { templateKey: 'bill_due', body: undefined });
    await waitForStatus(h, c.campaignId, 'completed', 30_000);
    const sent = sentToPhones(
      h,
      rows.map((r) => r.phone),
    );
    expect(sent).toHaveLength(3);
    expect(sent[0]).toMatchObject({ contentSid: 'HX0123456789abcdef0123456789abcdef', body: '' });
    expect(sent[0]!.contentVariables).toEqual({
      1: expect.stringMatching(/^Cliente \d$/),
      2: expect.stringMatching(/1\.234,50/),
      3: '10/12/2026',
    });
  });
});
