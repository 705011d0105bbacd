import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileTenant } from '../../src/activities/reconcile';
import { formatReconcileRun, runReconcile } from '../../src/cli/commands/reconcile';
import { inboundWorkflowId, reconcileScheduleId, type ReconcileResult } from '../../src/contract';
import { formatWhy } from '../../src/cli/commands/policy';
import { findSendDecision, whyView } from '../../src/db/outbound/policy';
import { alerts, messages } from '../../src/db/schema';
import { createTwilioGateway } from '../../src/integrations/twilio-gateway';
import { newMessageSid } from '../../src/integrations/signed-webhook';
import { ensureReconcileSchedule } from '../../src/temporal/reconcile-schedule';
import { testActivityDeps } from '../support/activity-deps';
import { recordHistory, sentTo } from '../support/conversation';
import { eventually, randomPhone, startHarness, type Harness, type TestTenant } from '../support/harness';

// Status callbacks on (as Twilio sends them); RECONCILE_SETTLE_AFTER 0 so an open outbound message is due at once.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ RECONCILE_SETTLE_AFTER: '0ms' }, { statusCallbacks: true });
});
afterAll(async () => {
  await h?.close();
});

const customer = () => `whatsapp:${randomPhone()}`;
const HOURS_2 = 2 * 3_600_000;

/** A message a customer sent that Twilio logged, but whose webhook never reached us. */
function lostWebhook(
  tenant: TestTenant,
  from: string,
  body: string,
  extra: { media?: { contentType: string }[] } = {},
) {
  const sid = extra.media ? newMessageSid().replace(/^SM/, 'MM') : newMessageSid();
  h.twilio.receive({ sid, accountSid: tenant.accountSid, from, to: tenant.address, body, ...extra });
  return sid;
}

async function inboundRows(sid: string) {
  return h.db
    .select()
    .from(messages)
    .where(and(eq(messages.providerSid, sid), eq(messages.direction, 'inbound')));
}

async function outboundStatus(correlationId: string) {
  const [row] = await h.db
    .select({ status: messages.status, sid: messages.providerSid })
    .from(messages)
    .where(and(eq(messages.correlationId, correlationId), eq(messages.direction, 'outbound')));
  return row;
}

describe("reconciliation with Twilio's message log", () => {
  it('causeway reconcile answers a message whose webhook never arrived, exactly once; a second run does nothing more', async () => {
    const tenant = await h.createTestTenant();
    const from = customer();
    const photoFrom = customer();
    const sid = lostWebhook(tenant, from, 'Olá, alguém aí?');
    const photoSid = lostWebhook(tenant, photoFrom, '', { media: [{ contentType: 'image/jpeg' }] });
    // The webhook of another message did arrive: reconciliation must see it as known.
    const { messageSid: delivered } = await h.postInbound(tenant, { body: 'oi', from: customer() });
    await eventually(
      async () => (await inboundRows(delivered)).length === 1,
      20_000,
      'the delivered webhook to be stored',
    );

    const deps = { db: h.db, client: h.client, taskQueue: h.env.TEMPORAL_TASK_QUEUE };
    const [first] = await runReconcile(deps, { tenantSlug: tenant.slug, sinceMs: HOURS_2 });
    expect(first!.error).toBeNull();
    expect(first!.result).toMatchObject({
      tenantSlug: tenant.slug,
      accounts: 1,
      inboundMissingFed: 2,
      inboundAlreadyKnown: 1,
      inboundInvalid: 0,
      truncated: false,
    });
    expect(first!.result!.pages).toBeGreaterThanOrEqual(1);

    await h.twilio.waitFor((sent) => sent.some((m) => m.to === from), 30_000);
    const [stored] = await eventually(
      async () => {
        const rows = await inboundRows(photoSid);
        return rows.length ? rows : null;
      },
      20_000,
      'the photo message',
    );
    expect(stored!.media).toEqual([
      {
        url: expect.stringMatching(
          new RegExp(
            `^https://api\\.twilio\\.com/2010-04-01/Accounts/${tenant.accountSid}/Messages/${photoSid}/Media/ME[0-9a-f]{32}$`,
          ),
        ),
        contentType: 'image/jpeg',
      },
    ]);
    const [recovered] = await inboundRows(sid);
    expect(recovered!.body).toBe('Olá, alguém aí?');
    await h.client.workflow.getHandle(inboundWorkflowId(sid)).result();

    const [second] = await runReconcile(deps, { tenantSlug: tenant.slug, sinceMs: HOURS_2 });
    expect(second!.result).toMatchObject({ inboundMissingFed: 0, inboundAlreadyKnown: 3 });
    expect(await inboundRows(sid)).toHaveLength(1);
    expect(sentTo(h, from)).toHaveLength(1);

    // The operator sees counts and ids, never a phone number or a body.
    const printed = formatReconcileRun(first!);
    expect(printed).toContain('2 missing');
    for (const secret of [from, photoFrom, tenant.phone, 'Olá'])
      expect(printed).not.toContain(secret.replace('whatsapp:', ''));
    const [alert] = await h.db
      .select()
      .from(alerts)
      .where(and(eq(alerts.tenantId, tenant.tenantId), eq(alerts.type, 'reconciliation')));
    expect(alert!.message).toMatch(/2 inbound message\(s\) never reached the webhook/);
    expect(alert!.message).not.toContain(tenant.phone);
  });

  it('settles outbound messages whose status callbacks were dropped, and only once they are due', async () => {
    const tenant = await h.createTestTenant();
    const from = customer();
    h.twilio.scriptDelivery(from, [
      { status: 'sent', dropCallback: true },
      { status: 'delivered', dropCallback: true },
    ]);
    const { messageSid } = await h.postInbound(tenant, { body: 'status?', from });
    const [reply] = await h.twilio
      .waitFor((sent) => sent.some((m) => m.to === from))
      .then((sent) => sent.filter((m) => m.to === from));
    await eventually(
      async () => reply!.status === 'delivered' && (await outboundStatus(messageSid))?.sid === reply!.sid,
      20_000,
      'Twilio to deliver the reply',
    );
    expect((await outboundStatus(messageSid))!.status).toBe('queued');

    // Not due yet with a settle time of an hour: left for its callbacks.
    const deps = testActivityDeps(h, {
      twilio: createTwilioGateway({ apiBaseUrl: h.twilio.url, timeoutMs: 5000 }),
      config: { reconcile: { settleAfterMs: 3_600_000, maxPages: 5 } },
    });
    const early = await reconcileTenant(deps, { tenantSlug: tenant.slug, lookbackMs: HOURS_2 });
    expect(early).toMatchObject({
      outboundNotDue: 1,
      outboundSettled: 0,
      inboundMissingFed: 0,
      inboundAlreadyKnown: 1,
    });
    expect((await outboundStatus(messageSid))!.status).toBe('queued');

    const [run] = await runReconcile(
      { db: h.db, client: h.client, taskQueue: h.env.TEMPORAL_TASK_QUEUE },
      { tenantSlug: tenant.slug, sinceMs: HOURS_2 },
    );
    expect(run!.result).toMatchObject({ outboundSettled: 1, outboundNotDue: 0, outboundStillOpen: 0 });
    expect((await outboundStatus(messageSid))!.status).toBe('delivered');
    const [again] = await runReconcile(
      { db: h.db, client: h.client, taskQueue: h.env.TEMPORAL_TASK_QUEUE },
      { tenantSlug: tenant.slug, sinceMs: HOURS_2 },
    );
    expect(again!.result).toMatchObject({ outboundSettled: 0, outboundStillOpen: 0, inboundMissingFed: 0 });
  });

  it("records Twilio's price of a sent reply with its send decision (the Message resource has it, callbacks never do)", async () => {
    const tenant = await h.createTestTenant();
    const from = customer();
    const { messageSid } = await h.postInbound(tenant, { body: 'how much?', from });
    const [reply] = await h.twilio
      .waitFor((sent) => sent.some((m) => m.to === from))
      .then((sent) => sent.filter((m) => m.to === from));
    await eventually(
      async () => (await outboundStatus(messageSid))?.status === 'delivered',
      20_000,
      'the delivered callback',
    );
    const before = whyView((await findSendDecision(h.db, reply!.sid, tenant.tenantId))!);
    expect(before.delivery).toMatchObject({ status: 'delivered', price: null });

    const [run] = await runReconcile(
      { db: h.db, client: h.client, taskQueue: h.env.TEMPORAL_TASK_QUEUE },
      { tenantSlug: tenant.slug, sinceMs: HOURS_2 },
    );
    expect(run!.result!.outboundPriced).toBe(1);
    const after = whyView((await findSendDecision(h.db, reply!.sid, tenant.tenantId))!);
    // WhatsApp free text inside the window, as the fake bills it (Twilio shows a negative amount in price_unit).
    expect(after.delivery).toMatchObject({ status: 'delivered', price: '-0.00500', priceUnit: 'USD' });
    expect(formatWhy(after)).toContain('price -0.00500 USD');

    // A price already recorded is not written again.
    const [again] = await runReconcile(
      { db: h.db, client: h.client, taskQueue: h.env.TEMPORAL_TASK_QUEUE },
      { tenantSlug: tenant.slug, sinceMs: HOURS_2 },
    );
    expect(again!.result!.outboundPriced).toBe(0);
  });

  it('settles an outbound message Twilio never sent (no date_sent): found by our own send time, not by DateSent', async () => {
    const tenant = await h.createTestTenant();
    const from = customer();
    // Failed before Twilio handed it on (so no date_sent), and the failure's callback never reached us.
    h.twilio.scriptDelivery(from, [{ status: 'failed', errorCode: '63032', dropCallback: true }]);
    const { messageSid } = await h.postInbound(tenant, { body: 'never sent', from });
    const [reply] = await h.twilio
      .waitFor((sent) => sent.some((m) => m.to === from))
      .then((sent) => sent.filter((m) => m.to === from));
    await eventually(
      async () => reply!.status === 'failed' && (await outboundStatus(messageSid))?.sid === reply!.sid,
      20_000,
      'Twilio to fail the reply',
    );
    expect(reply!.dateSent).toBeNull();
    expect((await outboundStatus(messageSid))!.status).toBe('queued');

    // Twilio's DateSent> listing does not show it, as Twilio documents (the filter is on date_sent).
    const gateway = createTwilioGateway({ apiBaseUrl: h.twilio.url, timeoutMs: 5000 });
    const listed: string[] = [];
    for await (const page of gateway.listSince(
      { accountSid: tenant.accountSid, authToken: tenant.authToken },
      { since: new Date(Date.now() - HOURS_2), pageSize: 50, maxPages: 5 },
    ))
      listed.push(...page.messages.map((m) => m.sid));
    expect(listed).not.toContain(reply!.sid);

    const [run] = await runReconcile(
      { db: h.db, client: h.client, taskQueue: h.env.TEMPORAL_TASK_QUEUE },
      { tenantSlug: tenant.slug, sinceMs: HOURS_2 },
    );
    expect(run!.result).toMatchObject({ outboundFetched: 1, outboundSettled: 1, outboundStillOpen: 0 });
    expect((await outboundStatus(messageSid))!.status).toBe('failed');
    const [again] = await runReconcile(
      { db: h.db, client: h.client, taskQueue: h.env.TEMPORAL_TASK_QUEUE },
      { tenantSlug: tenant.slug, sinceMs: HOURS_2 },
    );
    expect(again!.result).toMatchObject({ outboundFetched: 0, outboundSettled: 0 });
  });

  it("the tenant's Schedule recovers a lost webhook when it runs, once; running again does nothing more", async () => {
    const tenant = await h.createTestTenant();
    const from = customer();
    const sid = lostWebhook(tenant, from, 'ninguém me respondeu');
    // A long interval: only the triggers below run it.
    const settings = { taskQueue: h.env.TEMPORAL_TASK_QUEUE, intervalMs: 3_600_000, settleAfterMs: 0 };
    expect(await ensureReconcileSchedule(h.client, tenant.slug, settings)).toBe('created');
    expect(await ensureReconcileSchedule(h.client, tenant.slug, settings)).toBe('updated');
    const schedule = h.client.schedule.getHandle(reconcileScheduleId(tenant.slug));
    const described = await schedule.describe();
    expect(described.policies.overlap).toBe('SKIP');

    const runOnce = async (n: number) => {
      await schedule.trigger();
      const workflowId = await eventually(
        async () => {
          const actions = (await schedule.describe()).info.recentActions;
          return actions.length >= n ? actions[n - 1]!.action.workflow.workflowId : null;
        },
        20_000,
        `scheduled run ${n} to start`,
      );
      expect(workflowId.startsWith(`${reconcileScheduleId(tenant.slug)}-`)).toBe(true);
      return { workflowId, result: (await h.client.workflow.getHandle(workflowId).result()) as ReconcileResult };
    };
    try {
      const first = await runOnce(1);
      expect(first.result).toMatchObject({ inboundMissingFed: 1, inboundAlreadyKnown: 0 });
      await h.twilio.waitFor((sent) => sent.some((m) => m.to === from), 30_000);
      await h.client.workflow.getHandle(inboundWorkflowId(sid)).result();
      await recordHistory(h, first.workflowId, 'reconcile-scheduled');

      const second = await runOnce(2);
      expect(second.result).toMatchObject({ inboundMissingFed: 0, inboundAlreadyKnown: 1 });
      expect(await inboundRows(sid)).toHaveLength(1);
      expect(sentTo(h, from)).toHaveLength(1);
    } finally {
      await schedule.delete();
    }
  });
});
