import { updateTenant } from '../../src/db/tenants/tenants';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childProcessEnv } from '../../src/config/env';
import { TEST_SECRETS_KEYS } from '../setup-secrets';
import { createOutage, resolveOutage, startCampaign } from '../../src/services/campaigns';
import { contacts, events, failureNotifications, massiveFailures, messages, promises } from '../../src/db/schema';
import { newRootTrace } from '../../src/domain/trace';
import { turn } from '../support/fake-openai';
import {
  campaignRow,
  csvOf,
  launchCampaign,
  sentToPhones,
  targetRows,
  targets,
  textOf,
  useContentTemplates,
  waitForStatus,
} from '../support/campaigns';
import { eventually, startHarness, type Harness, type TestTenant } from '../support/harness';
import { recordHistory } from '../support/conversation';

let h: Harness;
beforeAll(async () => {
  h = await startHarness(
    { MESSAGE_DEBOUNCE: '100ms', NPS_WAIT: '0s', PROMISE_REMINDER_BEFORE: '3s', PROMISE_CHECK_AFTER: '1s' },
    { statusCallbacks: true },
  );
});
afterAll(async () => {
  await h?.close();
});

const run = promisify(execFile);

describe('promises to pay (C4)', () => {
  it('a reply conversation registers a promise; the reminder goes out; payment → fulfilled, none → broken with a follow-up', async () => {
    const tenant = await h.createTestTenant();
    // Issue 23 E (identity before disclosure) has its own tests: this one is about the debt-bearing template.
    await updateTenant(h.db, tenant.slug, { identityCheck: 'off' });
    const supervisor = await h.createOperator(tenant, 'SUPERVISOR');
    const rows = targets(2, { debt: '150,00', dueDate: '2026-12-20' });
    const [payer, defaulter] = rows.map((r) => r.phone) as [string, string];
    // The debtors never wrote: the notice goes out as the tenant's WhatsApp template (E).
    await useContentTemplates(h, tenant, ['collection_notice']);
    const c = await launchCampaign(h, tenant, rows, {
      templateKey: 'collection_notice',
      body: undefined,
      kind: 'collection',
    });
    await waitForStatus(h, c.campaignId, 'completed', 30_000);
    expect(textOf(sentToPhones(h, [payer])[0]!)).toMatch(/fatura em aberto de R\$\s?150,00/);

    const dueAt = new Date(Date.now() + 8_000).toISOString();
    h.openai.setHandler((request) =>
      request.response_format
        ? {
            content: null,
            toolCalls: [{ name: 'register_promise', arguments: { amount: 150, due_date: dueAt, method: 'pix' } }],
          }
        : turn('resumo'),
    );
    for (const phone of [payer, defaulter])
      await h.postInbound(tenant, { body: 'Consigo pagar hoje à tarde pelo pix', from: `whatsapp:${phone}` });

    const made = await eventually(
      async () => {
        const rows2 = await h.db.select().from(promises).where(eq(promises.campaignId, c.campaignId));
        return rows2.length === 2 ? rows2 : null;
      },
      20_000,
      'two promises',
    );
    expect(
      made.every((p) => p.amountCents === 15_000 && p.method === 'pix' && p.status === 'pending' && p.targetId),
    ).toBe(true);
    // The assistant answered with the collections prompt and knew what the campaign had said.
    const system = h.openai.requests.filter((r) => r.response_format).map((r) => r.messages[0]!.content);
    expect(
      system.some(
        (text) =>
          text.startsWith('You are the collections assistant') &&
          /Open amount: R\$\s?150,00/.test(text) &&
          text.includes('fatura em aberto'),
      ),
    ).toBe(true);
    await eventually(
      () =>
        Promise.resolve(sentToPhones(h, [payer, defaulter]).filter((m) => m.body.startsWith('Combinado')).length === 2),
      10_000,
      'confirmations',
    );
    // The conversation that made the promise was caused by the campaign (T3).
    const [reply] = await h.db
      .select()
      .from(messages)
      .where(and(eq(messages.direction, 'inbound'), eq(messages.fromAddress, `whatsapp:${payer}`)));
    const [routed] = await h.db
      .select()
      .from(events)
      .where(and(eq(events.messageId, reply!.id), eq(events.type, 'webhook.received')));
    expect(routed!.causalTraceId).toBe(c.traceId);

    await eventually(
      () =>
        Promise.resolve(sentToPhones(h, [payer, defaulter]).filter((m) => m.body.startsWith('Lembrete')).length === 2),
      15_000,
      'both reminders',
    );
    const paid = await h.api('/api/payments', {
      key: supervisor.apiKey,
      body: { phone: payer, amount: 150, externalId: `pay-${payer}` },
    });
    expect(paid.status).toBe(201);
    expect(
      (
        await h.api('/api/payments', {
          key: supervisor.apiKey,
          body: { phone: payer, amount: 150, externalId: `pay-${payer}` },
        })
      ).json,
    ).toEqual({ recorded: false });

    await eventually(
      async () => {
        const rows2 = await h.db.select().from(promises).where(eq(promises.campaignId, c.campaignId));
        return rows2.every((p) => p.status !== 'pending');
      },
      20_000,
      'promises settled',
    );
    const byContact = new Map(
      (
        await h.db
          .select({ phone: contacts.phone, status: promises.status })
          .from(promises)
          .innerJoin(contacts, eq(contacts.id, promises.contactId))
          .where(eq(promises.campaignId, c.campaignId))
      ).map((r) => [r.phone, r.status]),
    );
    expect(byContact.get(payer)).toBe('fulfilled');
    expect(byContact.get(defaulter)).toBe('broken');
    await eventually(
      () =>
        Promise.resolve(
          sentToPhones(h, [payer]).some((m) => m.body.startsWith('Recebemos')) &&
            sentToPhones(h, [defaulter]).some((m) => m.body.startsWith('Não identificamos')),
        ),
      10_000,
      'thanks and follow-up',
    );
    expect(await campaignRow(h, c.campaignId)).toMatchObject({
      promisesMade: 2,
      promisesFulfilled: 1,
      promisesBroken: 1,
    });
    const t = await targetRows(h, c.campaignId);
    expect(t.map((x) => [x.state, x.paymentStatus])).toEqual([
      ['paid', 'paid'],
      ['completed', 'overdue'],
    ]);
    for (const p of await h.db.select().from(promises).where(eq(promises.campaignId, c.campaignId)))
      await recordHistory(h, p.workflowId, `promise-${p.status}`);
  });
});

describe('outage broadcast (C5)', () => {
  async function seedRegions(tenant: TestTenant) {
    const people = [
      ...targets(3, { region: 'Teresopolis' }),
      ...targets(2, { region: 'petropolis' }),
      ...targets(2, { region: 'rio' }),
    ];
    await launchCampaign(h, tenant, people, {}, false);
    await useContentTemplates(h, tenant, ['outage_notice', 'outage_resolution']);
    await h.db
      .update(contacts)
      .set({ optedOutAt: new Date(), optOutSource: 'operator' })
      .where(and(eq(contacts.tenantId, tenant.tenantId), eq(contacts.phone, people[2]!.phone)));
    return people;
  }

  it('notifies each contact of the affected regions once, then sends the resolution to the same contacts', async () => {
    const tenant = await h.createTestTenant();
    const people = await seedRegions(tenant);
    const affected = people.slice(0, 5).map((p) => p.phone);
    const trace = newRootTrace();
    const outage = await createOutage(h.db, {
      tenantId: tenant.tenantId,
      name: 'fibra-centro',
      regions: ['teresopolis', ' Petropolis'],
      message: 'Estamos com uma falha na sua região. Previsão: 18h.',
      options: { activeHours: 'always', ratePerSecond: 20 },
      createdBy: 'test',
      traceId: trace.traceId,
    });
    const start = () =>
      startCampaign(h.client, {
        campaignId: outage.campaignId,
        tenantId: tenant.tenantId,
        tenantSlug: tenant.slug,
        taskQueue: h.env.TEMPORAL_TASK_QUEUE,
        trace,
        name: 'outage',
      });
    expect((await start()).started).toBe(true);
    expect((await start()).started).toBe(false);
    await waitForStatus(h, outage.campaignId, 'completed', 30_000);
    const notices = sentToPhones(h, affected);
    expect(notices.map(textOf)).toEqual(Array(4).fill('Estamos com uma falha na sua região. Previsão: 18h.'));
    expect(
      sentToPhones(
        h,
        people.slice(5).map((p) => p.phone),
      ),
    ).toHaveLength(0);
    const rows = await h.db
      .select()
      .from(failureNotifications)
      .where(eq(failureNotifications.failureId, outage.failureId));
    expect(rows.filter((r) => r.sentAt)).toHaveLength(4);

    const resolved = await resolveOutage(h.db, {
      tenantId: tenant.tenantId,
      failureRef: 'fibra-centro',
      message: 'Serviço normalizado. Obrigado pela paciência!',
      options: { activeHours: 'always', ratePerSecond: 20 },
      createdBy: 'test',
      traceId: trace.traceId,
    });
    expect(resolved.notified).toBe(4);
    await startCampaign(h.client, {
      campaignId: resolved.campaignId,
      tenantId: tenant.tenantId,
      tenantSlug: tenant.slug,
      taskQueue: h.env.TEMPORAL_TASK_QUEUE,
      trace,
      name: 'resolved',
    });
    await waitForStatus(h, resolved.campaignId, 'completed', 30_000);
    expect(sentToPhones(h, affected).filter((m) => textOf(m).startsWith('Serviço normalizado'))).toHaveLength(4);
    const [failure] = await h.db.select().from(massiveFailures).where(eq(massiveFailures.id, outage.failureId));
    expect(failure).toMatchObject({ status: 'resolved', affectedRegions: ['teresopolis', 'petropolis'] });
    await expect(
      resolveOutage(h.db, {
        tenantId: tenant.tenantId,
        failureRef: 'fibra-centro',
        message: 'de novo',
        options: {},
        createdBy: 'test',
        traceId: trace.traceId,
      }),
    ).rejects.toThrow(/already resolved/);
  });

  it('a resolution mid-broadcast: no notice goes out after it, and exactly the contacts told get the resolution', async () => {
    const tenant = await h.createTestTenant();
    const people = targets(8, { region: 'nova-friburgo' });
    await launchCampaign(h, tenant, people, {}, false);
    await useContentTemplates(h, tenant, ['outage_notice', 'outage_resolution']);
    const phones = people.map((p) => p.phone);
    const trace = newRootTrace();
    const notice = 'Falha na rede em Nova Friburgo.';
    const outage = await createOutage(h.db, {
      tenantId: tenant.tenantId,
      name: 'friburgo',
      regions: ['nova-friburgo'],
      message: notice,
      options: { activeHours: 'always', ratePerSecond: 2 },
      createdBy: 'test',
      traceId: trace.traceId,
    });
    await startCampaign(h.client, {
      campaignId: outage.campaignId,
      tenantId: tenant.tenantId,
      tenantSlug: tenant.slug,
      taskQueue: h.env.TEMPORAL_TASK_QUEUE,
      trace,
      name: 'outage',
    });
    await h.twilio.waitFor(() => sentToPhones(h, phones).length >= 2, 20_000);
    const resolved = await resolveOutage(h.db, {
      tenantId: tenant.tenantId,
      failureRef: 'friburgo',
      message: 'Normalizado.',
      options: { activeHours: 'always', ratePerSecond: 20 },
      createdBy: 'test',
      traceId: trace.traceId,
    });
    // The notice campaign is not cancelled here: its remaining sends must refuse by themselves.
    await waitForStatus(h, outage.campaignId, 'completed', 30_000);
    const told = sentToPhones(h, phones)
      .filter((m) => textOf(m) === notice)
      .map((m) => m.to);
    expect(told.length).toBeGreaterThanOrEqual(2);
    expect(told.length).toBeLessThan(8);
    expect(resolved.notified).toBe(told.length);
    const skipped = (await targetRows(h, outage.campaignId)).filter((t) => t.state === 'skipped');
    expect(skipped.length).toBe(8 - told.length);
    expect(skipped.every((t) => t.outcome === 'outage_resolved')).toBe(true);
    await startCampaign(h.client, {
      campaignId: resolved.campaignId,
      tenantId: tenant.tenantId,
      tenantSlug: tenant.slug,
      taskQueue: h.env.TEMPORAL_TASK_QUEUE,
      trace,
      name: 'resolved',
    });
    await waitForStatus(h, resolved.campaignId, 'completed', 30_000);
    const resolutions = sentToPhones(h, phones)
      .filter((m) => textOf(m) === 'Normalizado.')
      .map((m) => m.to);
    expect(resolutions.sort()).toEqual([...told].sort());
  });
});

describe('campaign CLI', () => {
  const cli = (args: string[]) =>
    run(process.execPath, ['bin/causeway.js', ...args], {
      env: childProcessEnv({
        DATABASE_URL: h.env.DATABASE_URL!,
        TEMPORAL_ADDRESS: h.env.TEMPORAL_ADDRESS!,
        TEMPORAL_TASK_QUEUE: h.env.TEMPORAL_TASK_QUEUE,
        LOG_LEVEL: 'silent',
        CAUSEWAY_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'cw-cli-')),
        // The import opens the tenant's sealed contact-hash key (issue 18 H).
        CAUSEWAY_SECRETS_KEYS: TEST_SECRETS_KEYS,
      }),
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({
        code: error.code,
        stdout: error.stdout,
        stderr: error.stderr,
      }),
    );

  it('create reports bad lines and imports nothing; a good file is created, started and followed to the end', async () => {
    const tenant = await h.createTestTenant();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-campaign-'));
    const rows = targets(5);
    const bad = csvOf(rows).split('\n');
    bad[3] = 'not-a-phone,Fulano,,,,';
    fs.writeFileSync(path.join(dir, 'bad.csv'), bad.join('\n'));
    fs.writeFileSync(path.join(dir, 'good.csv'), csvOf(rows));
    const failed = await cli([
      'campaign',
      'create',
      '--tenant',
      tenant.slug,
      '--name',
      'cli-test',
      '--file',
      path.join(dir, 'bad.csv'),
      '--body',
      'Oi {{name}}',
      '--active-hours',
      'always',
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/1 bad row\(s\) in bad\.csv; nothing was imported/);
    expect(failed.stderr).toMatch(/line 4: phone/);
    // The contacts never wrote: a WhatsApp broadcast needs the tenant's approved template (E), set through the CLI.
    const badSid = await cli([
      'template',
      'set',
      '--tenant',
      tenant.slug,
      '--purpose',
      'broadcast',
      '--content-sid',
      'HX123',
    ]);
    expect(badSid.code).toBe(1);
    expect(badSid.stderr).toMatch(/--content-sid must be HX followed by 32 hex digits/);
    const sid = `HX${'ab'.repeat(16)}`;
    const set = await cli([
      'template',
      'set',
      '--tenant',
      tenant.slug,
      '--purpose',
      'broadcast',
      '--content-sid',
      sid,
      '--variables',
      '{"1":"text","2":"name"}',
    ]);
    expect(set.stdout).toMatch(new RegExp(`"broadcast" messages outside the window use ${sid}`));
    const templates = JSON.parse((await cli(['template', 'list', '--tenant', tenant.slug, '--json'])).stdout) as {
      purpose: string;
      contentSid: string;
      variables: Record<string, string>;
    }[];
    expect(templates).toEqual([
      expect.objectContaining({ purpose: 'broadcast', contentSid: sid, variables: { 1: 'text', 2: 'name' } }),
    ]);
    const created = await cli([
      'campaign',
      'create',
      '--tenant',
      tenant.slug,
      '--name',
      'cli-test',
      '--file',
      path.join(dir, 'good.csv'),
      '--body',
      'Oi {{name}}',
      '--active-hours',
      'always',
      '--rate',
      '20',
      '--start-now',
    ]);
    expect(created.stderr).toBe('');
    expect(created.stdout).toMatch(/5 targets imported/);
    expect(created.stdout).toMatch(/campaign cli-test started/);
    expect(created.stdout).toMatch(/namespaces\/default\/workflows\/campaign%3A[0-9a-f-]{36}/);
    const watched = await cli(['campaign', 'status', 'cli-test', '--tenant', tenant.slug, '--watch']);
    expect(watched.code).toBe(0);
    expect(watched.stdout).toMatch(/status\s+completed/);
    expect(watched.stdout).toMatch(/5 total · 5 contacted/);
    const again = await cli(['campaign', 'start', 'cli-test', '--tenant', tenant.slug]);
    expect(again.stdout).toMatch(/already started/);
    const sent = sentToPhones(
      h,
      rows.map((r) => r.phone),
    );
    expect(sent).toHaveLength(5);
    expect(
      sent.every((m) => m.contentSid === sid && m.contentVariables?.['1'] === `Oi ${m.contentVariables?.['2']}`),
    ).toBe(true);
    const listed = await cli(['campaign', 'list', '--tenant', tenant.slug, '--json']);
    expect((JSON.parse(listed.stdout) as { name: string; status: string }[]).map((c) => [c.name, c.status])).toEqual([
      ['cli-test', 'completed'],
    ]);
    const pausedDone = await cli(['campaign', 'pause', 'cli-test', '--tenant', tenant.slug]);
    expect(pausedDone.code).toBe(1);
    expect(pausedDone.stderr).toMatch(/not running/);
  });
});
