import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childProcessEnv } from '../../src/config/env';
import { upsertTenantPolicy } from '../../src/db/outbound/policy';
import { updateTenant } from '../../src/db/tenants/tenants';
import { newRootTrace } from '../../src/domain/trace';
import { EncryptionCodec } from '../../src/temporal/payload-codec';
import {
  alerts,
  campaignTargets,
  contacts,
  conversations,
  messages,
  promises,
  sendDecisions,
} from '../../src/db/schema';
import { launchCampaign, sentToPhones, useContentTemplates, waitForStatus } from '../support/campaigns';
import { conversationOf, sentTo } from '../support/conversation';
import { eventually, randomPhone, startHarness, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ MESSAGE_DEBOUNCE: '100ms' }, { statusCallbacks: true });
});
afterAll(async () => {
  await h?.close();
});

const run = promisify(execFile);
const cli = (args: string[]) =>
  run(process.execPath, ['bin/causeway.js', ...args], {
    env: childProcessEnv({
      DATABASE_URL: h.env.DATABASE_URL!,
      TEMPORAL_ADDRESS: h.env.TEMPORAL_ADDRESS!,
      TEMPORAL_TASK_QUEUE: h.env.TEMPORAL_TASK_QUEUE,
      LOG_LEVEL: 'silent',
      CAUSEWAY_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'cw-cli-')),
    }),
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }),
  );

/** Wall-clock `HH:MM:SS` in São Paulo (a test contact's zone: +1555 numbers have no state) at now + `ms`. */
const spClock = (ms: number) =>
  new Intl.DateTimeFormat('en-GB', {
    timeZone: 'America/Sao_Paulo',
    hourCycle: 'h23',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).format(new Date(Date.now() + ms));
/** A tenant narrowing that opens `fromMs` from now for ten minutes (tests never run across local midnight). */
const openingIn = (fromMs: number) => `daily ${spClock(fromMs)}-${spClock(fromMs + 600_000)}`;

async function decisionsFor(contactPhone: string) {
  return h.db
    .select({ d: sendDecisions })
    .from(sendDecisions)
    .innerJoin(contacts, eq(contacts.id, sendDecisions.contactId))
    .where(eq(contacts.phone, contactPhone))
    .then((rows) => rows.map((r) => r.d));
}

describe('the outbound policy gate (issue 21)', () => {
  it('a collection send and an outage notice in a closed window are held and go out at the next opening', async () => {
    const tenant = await h.createTestTenant();
    // The debt's own words, not the identity request that issue 23 E sends first (test/e2e/identity.test.ts).
    await updateTenant(h.db, tenant.slug, { identityCheck: 'off' });
    const opensAt = Date.now() + 12_000;
    await upsertTenantPolicy(h.db, tenant.tenantId, {
      collectionHours: openingIn(12_000),
      utilityHours: openingIn(12_000),
    });
    const debtor = randomPhone();
    const subscriber = randomPhone();
    // Neither contact ever wrote: outside WhatsApp's window the notice goes out as the tenant's template.
    await useContentTemplates(h, tenant, ['outage_notice']);
    const collection = await launchCampaign(h, tenant, [{ phone: debtor, name: 'Ana' }], { kind: 'collection' });
    const outage = await launchCampaign(h, tenant, [{ phone: subscriber, name: 'Bia' }], { kind: 'outage' });
    const held = await eventually(
      async () => {
        const rows = [...(await decisionsFor(debtor)), ...(await decisionsFor(subscriber))];
        return rows.length === 2 && rows.every((r) => r.decision === 'hold') ? rows : null;
      },
      20_000,
      'both sends held',
    );
    expect(held.map((r) => r.purpose).sort()).toEqual(['collection', 'utility']);
    expect(held.every((r) => r.holdUntil!.getTime() >= opensAt - 1000)).toBe(true);
    expect(sentToPhones(h, [debtor, subscriber])).toHaveLength(0);
    await waitForStatus(h, collection.campaignId, 'completed', 60_000);
    await waitForStatus(h, outage.campaignId, 'completed', 60_000);
    expect(sentToPhones(h, [debtor, subscriber])).toHaveLength(2);
    const sent = [...(await decisionsFor(debtor)), ...(await decisionsFor(subscriber))];
    expect(sent.every((r) => r.decision === 'send' && r.holds >= 1 && r.decidedAt.getTime() >= opensAt - 1000)).toBe(
      true,
    );

    // `causeway why` on the campaign send: the checks, the versions and the delivery status.
    const [message] = await h.db
      .select()
      .from(messages)
      .where(and(eq(messages.toAddress, `whatsapp:${debtor}`), eq(messages.direction, 'outbound')));
    const why = await cli(['why', message!.providerSid!]);
    expect(why.code).toBe(0);
    expect(why.stdout).toMatch(/policy: SEND · purpose collection/);
    expect(why.stdout).toMatch(/after 1 hold|after \d+ hold/);
    expect(why.stdout).toMatch(/contact_hours/);
    expect(why.stdout).toMatch(/rules br-/);
    expect(why.stdout).toMatch(new RegExp(`campaign: ${collection.campaignId}`));
    expect(why.stdout).toMatch(/delivery: (queued|sent|delivered|read)/);
    expect(why.stdout).not.toContain(debtor);
  });

  it('a promise reminder in a closed window waits in a durable timer that says why, and goes out at the opening', async () => {
    const tenant = await h.createTestTenant();
    await useContentTemplates(h, tenant, ['promise_reminder']);
    const opensAt = Date.now() + 10_000;
    await upsertTenantPolicy(h.db, tenant.tenantId, { collectionHours: openingIn(10_000) });
    const phone = randomPhone();
    const [contact] = await h.db
      .insert(contacts)
      .values({ tenantId: tenant.tenantId, phone, phoneHash: `test-${phone}` })
      .returning();
    const workflowId = `promise:test-${randomUUID()}`;
    const [promise] = await h.db
      .insert(promises)
      .values({
        tenantId: tenant.tenantId,
        contactId: contact!.id,
        channel: 'whatsapp',
        sender: tenant.address,
        amountCents: 10_000,
        dueAt: new Date(Date.now() + 3_600_000),
        method: 'pix',
        workflowId,
      })
      .returning();
    const handle = await h.client.workflow.start('promiseWorkflow', {
      workflowId,
      taskQueue: h.env.TEMPORAL_TASK_QUEUE,
      args: [
        {
          promiseId: promise!.id,
          tenantId: tenant.tenantId,
          trace: newRootTrace(),
          dueAt: promise!.dueAt.getTime(),
          reminderAt: Date.now(),
          checkAt: Date.now() + 3_600_000,
        },
      ],
    });
    try {
      const key = `promise_reminder:${promise!.id}`;
      const decision = async () =>
        (await h.db.select().from(sendDecisions).where(eq(sendDecisions.idempotencyKey, key)))[0] ?? null;
      const held = await eventually(
        async () => ((await decision())?.decision === 'hold' ? decision() : null),
        15_000,
        'held',
      );
      expect(held).toMatchObject({ purpose: 'collection', promiseId: promise!.id });
      // The Web UI shows why the workflow waits: the timer's summary names the hold and its instant (no phone).
      const summary = await eventually(
        async () => {
          const history = await handle.fetchHistory();
          const timer = history.events?.find((e) => e.timerStartedEventAttributes && e.userMetadata?.summary);
          if (!timer) return null;
          // Payloads are encrypted when the run has payload keys (the Web UI reads them through the codec).
          const keys = h.env.CAUSEWAY_PAYLOAD_KEYS;
          const [payload] = keys
            ? await new EncryptionCodec(keys).decode([timer.userMetadata!.summary!])
            : [timer.userMetadata!.summary!];
          return Buffer.from(payload!.data!).toString('utf8');
        },
        10_000,
        'the hold timer',
      );
      expect(summary).toMatch(/held until/);
      expect(summary).not.toContain(phone);
      expect(sentToPhones(h, [phone])).toHaveLength(0);
      const sent = await eventually(
        async () => ((await decision())?.decision === 'send' ? decision() : null),
        30_000,
        'sent',
      );
      expect(sent.holds).toBeGreaterThanOrEqual(1);
      expect(sent.decidedAt.getTime()).toBeGreaterThanOrEqual(opensAt - 1000);
      await eventually(() => Promise.resolve(sentToPhones(h, [phone]).length === 1), 10_000, 'the reminder');
    } finally {
      await handle.terminate('test done').catch(() => undefined);
    }
  });

  it('a Procon-SP-listed number gets no collection message and the refusal is recorded; policy check says why', async () => {
    const tenant = await h.createTestTenant();
    const listed = `+5511${String(900000000 + Math.floor(Math.random() * 99999999))}`;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cw-dnc-')), 'procon.csv');
    const registered = new Date(Date.now() - 60 * 86_400_000).toISOString().slice(0, 10);
    fs.writeFileSync(file, `telefone,data_cadastro\n"(${listed.slice(3, 5)}) ${listed.slice(5)}",${registered}\n`);
    const imported = await cli([
      'dnc',
      'import',
      '--all',
      '--list',
      'procon-sp',
      '--registered-at-column',
      'data_cadastro',
      file,
    ]);
    expect(imported.stdout).toMatch(/procon-sp \(procon-sp, all tenants\): 1 new/);
    expect((await cli(['dnc', 'list', '--json'])).stdout).toMatch(/"entries": 1/);

    const c = await launchCampaign(h, tenant, [{ phone: listed, name: 'Caio' }], { kind: 'collection' });
    await waitForStatus(h, c.campaignId, 'completed', 30_000);
    expect(sentToPhones(h, [listed])).toHaveLength(0);
    const [target] = await h.db.select().from(campaignTargets).where(eq(campaignTargets.campaignId, c.campaignId));
    expect(target).toMatchObject({ state: 'skipped', outcome: 'policy_refused' });
    const [decision] = await decisionsFor(listed);
    expect(decision).toMatchObject({ decision: 'refuse', purpose: 'collection' });
    expect(decision!.reason).toMatch(/Procon-SP/);

    const check = await cli(['policy', 'check', '--tenant', tenant.slug, '--to', listed, '--purpose', 'collection']);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/^REFUSE/);
    const later = await cli([
      'policy',
      'check',
      '--tenant',
      tenant.slug,
      '--to',
      '+5511912345678',
      '--purpose',
      'collection',
      '--at',
      '2026-12-07T23:30-03:00',
      '--json',
    ]);
    expect(later.code).toBe(0);
    expect(JSON.parse(later.stdout)).toMatchObject({ decision: 'hold', until: '2026-12-08T11:00:00.000Z' });
  });

  it('with a cap of two a day, the third business-initiated message to a contact is held', async () => {
    const tenant = await h.createTestTenant();
    await upsertTenantPolicy(h.db, tenant.tenantId, { maxPerDay: 2 });
    const phone = randomPhone();
    for (let i = 0; i < 2; i++) {
      const c = await launchCampaign(h, tenant, [{ phone, name: 'Davi' }], { kind: 'broadcast' });
      await waitForStatus(h, c.campaignId, 'completed', 30_000);
    }
    expect(sentToPhones(h, [phone])).toHaveLength(2);
    await launchCampaign(h, tenant, [{ phone, name: 'Davi' }], { kind: 'broadcast' });
    const held = await eventually(
      async () => (await decisionsFor(phone)).find((d) => d.decision === 'hold') ?? null,
      20_000,
      'the third send held',
    );
    expect(held.reason).toMatch(/frequency cap reached \(2\/2 today/);
    expect(sentToPhones(h, [phone])).toHaveLength(2);
  });

  it('a reply to a customer who wrote outside every window goes out; why shows the AI and the agent', async () => {
    const tenant = await h.createTestTenant();
    // Nothing business-initiated may go out at all for this tenant, and the AI still answers the customer.
    await upsertTenantPolicy(h.db, tenant.tenantId, { collectionHours: 'never', marketingHours: 'never' });
    const from = `whatsapp:${randomPhone()}`;
    const { messageSid } = await h.postInbound(tenant, { body: 'olá, preciso de ajuda', from });
    await h.twilio.waitFor(() => sentTo(h, from).length >= 1);
    const workflowId = await conversationOf(h, messageSid);
    const [conversation] = await h.db.select().from(conversations).where(eq(conversations.workflowId, workflowId));
    const [aiReply] = await h.db
      .select()
      .from(messages)
      .where(and(eq(messages.conversationId, conversation!.id), eq(messages.sentBy, 'ai')));
    const why = await cli(['why', aiReply!.id, '--json']);
    expect(why.code).toBe(0);
    const view = JSON.parse(why.stdout);
    expect(view.decision).toMatchObject({ decision: 'send', purpose: 'service', businessInitiated: false });
    expect(view.ai).toMatchObject({ provider: expect.any(String), model: expect.any(String) });
    expect(view.decision.checks.find((c: { name: string }) => c.name === 'contact_hours').result).toBe('skip');

    const agent = await h.createOperator(tenant, 'SUPERVISOR', 'Eva');
    expect(
      (await h.api(`/api/conversations/${conversation!.id}/takeover`, { key: agent.apiKey, body: {} })).status,
    ).toBe(200);
    const replied = await h.api(`/api/conversations/${conversation!.id}/messages`, {
      key: agent.apiKey,
      body: { body: 'Oi, aqui é a Eva.' },
    });
    expect(replied.status).toBe(201);
    const agentReply = await eventually(
      async () =>
        (
          await h.db
            .select()
            .from(messages)
            .where(and(eq(messages.conversationId, conversation!.id), eq(messages.sentBy, 'agent')))
        )[0] ?? null,
      10_000,
      'the agent reply',
    );
    const agentWhy = await cli(['why', agentReply.id]);
    expect(agentWhy.stdout).toMatch(/written by agent: Eva/);
    expect(agentWhy.stdout).toMatch(/policy: SEND · purpose service \(agent_reply\)/);
    const api = await h.api(`/api/messages/${agentReply.id}/why`, { key: agent.apiKey });
    expect(api.status).toBe(200);
    expect(api.json).toMatchObject({ agent: { name: 'Eva' }, decision: { purpose: 'service' } });
    const outsider = await h.createOperator(await h.createTestTenant(), 'ADMIN');
    expect((await h.api(`/api/messages/${agentReply.id}/why`, { key: outsider.apiKey })).status).toBe(404);
  });

  it('a reply failing with a permanent Twilio code raises an alert and is on /console/failures', async () => {
    const tenant = await h.createTestTenant();
    const supervisor = await h.createOperator(tenant, 'SUPERVISOR', 'Gil');
    const from = `whatsapp:${randomPhone()}`;
    h.twilio.failSendsTo(from, { status: 400, code: 21211 });
    await h.postInbound(tenant, { body: 'oi', from });
    const alert = await eventually(
      async () =>
        (
          await h.db
            .select()
            .from(alerts)
            .where(and(eq(alerts.tenantId, tenant.tenantId), eq(alerts.type, 'delivery_failed')))
        )[0] ?? null,
      15_000,
      'the delivery_failed alert',
    );
    expect(alert.message).toMatch(/Twilio error 21211/);
    expect(alert.message).not.toContain(from.slice(9));
    const signIn = await h.app.request('http://localhost/console/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', host: 'localhost', origin: 'http://localhost' },
      body: new URLSearchParams({ key: supervisor.apiKey }).toString(),
    });
    expect(signIn.status).toBe(303);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const failures = await h.app.request('http://localhost/console/failures', {
      headers: { cookie, host: 'localhost' },
    });
    expect(failures.status).toBe(200);
    const html = await failures.text();
    expect(html).toContain('id="send-failures"');
    expect(html).toMatch(/Twilio error 21211/);
  });
});
