import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaigns, campaignTargets, messages, promises } from '../../src/db/schema';
import { createUser } from '../../src/db/operators/users';
import { childProcessEnv } from '../../src/config/env';
import { TEST_SECRETS_KEYS } from '../setup-secrets';
import { percentileCont, seedConversation, type SeededConversation } from '../support/desk-data';
import { randomPhone, startHarness, type Harness, type TestTenant } from '../support/harness';

// Issue 20 F: the reports against a dataset whose figures this test computes itself from the rows it inserted.
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** A small deterministic generator (mulberry32): the same dataset on every run, yet varied. */
function lcg(seed: number) {
  let a = seed;
  return (n: number) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 10_000) / 10_000 : null);
const tenth = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);

function figures(rows: SeededConversation[]) {
  const ended = rows.filter((r) => ['RESOLVED', 'CLOSED', 'EXPIRED'].includes(r.status));
  const handoffs = rows.filter((r) => r.transferredAt);
  const first = handoffs
    .filter((r) => r.firstAgentAt)
    .map((r) => (r.firstAgentAt!.getTime() - r.transferredAt!.getTime()) / 1000);
  const resolution = ended.filter((r) => r.closedAt).map((r) => (r.closedAt!.getTime() - r.startedAt.getTime()) / 1000);
  const nps = rows.filter((r) => r.nps !== null).map((r) => r.nps!);
  const promoters = nps.filter((s) => s >= 9).length;
  const detractors = nps.filter((s) => s <= 6).length;
  const contained = ended.filter((r) => !r.transferredAt).length;
  return {
    conversations: rows.length,
    ended: ended.length,
    aiContained: contained,
    handoffs: handoffs.length,
    aiContainment: ratio(contained, ended.length),
    handoffRate: ratio(handoffs.length, rows.length),
    firstResponseP50Seconds: tenth(percentileCont(first, 0.5)),
    firstResponseP90Seconds: tenth(percentileCont(first, 0.9)),
    resolutionP50Seconds: tenth(percentileCont(resolution, 0.5)),
    resolutionP90Seconds: tenth(percentileCont(resolution, 0.9)),
    slaBreaches: rows.reduce((n, r) => n + r.slaBreaches, 0),
    npsResponses: nps.length,
    nps: nps.length ? Math.round(((promoters - detractors) / nps.length) * 1000) / 10 : null,
  };
}

async function seedDesk(tenant: TestTenant, agents: { id: string; department: string }[]) {
  const rand = lcg(20);
  const rows: SeededConversation[] = [];
  for (let i = 0; i < 60; i++) {
    const day = 10 + rand(3);
    const startedAt = new Date(Date.UTC(2026, 10, day, rand(24), rand(60), rand(60)));
    const agent = rand(4) === 0 ? null : agents[rand(agents.length)]!;
    const handedOff = agent !== null && rand(3) > 0;
    const transferredAt = handedOff ? new Date(startedAt.getTime() + (1 + rand(20)) * 60_000) : null;
    const answered = handedOff && rand(5) > 0;
    const status = (['RESOLVED', 'CLOSED', 'EXPIRED', 'PROGRESS', 'HUMAN'] as const)[rand(5)]!;
    const ended = ['RESOLVED', 'CLOSED', 'EXPIRED'].includes(status);
    rows.push(
      await seedConversation(h, tenant, {
        phone: randomPhone(),
        name: `Cliente ${i}`,
        status,
        department: agent ? agent.department : rand(2) ? 'support' : null,
        agentId: handedOff ? agent.id : null,
        startedAt,
        transferredAt,
        firstAgentAt: answered ? new Date(transferredAt!.getTime() + (30 + rand(3600)) * 1000) : null,
        closedAt: ended ? new Date(startedAt.getTime() + (60 + rand(20_000)) * 1000) : null,
        slaBreaches: handedOff ? rand(3) : 0,
        nps: ended && rand(2) ? rand(11) : null,
      }),
    );
  }
  return rows;
}

describe('reports (issue 20 F)', () => {
  it('desk report: per day, department and agent, per day and in total, JSON and CSV, equal to figures computed here', async () => {
    const tenant = await h.createTestTenant();
    const other = await h.createTestTenant();
    const mk = async (department: string, name: string) => {
      const { user } = await createUser(h.db, { tenantId: tenant.tenantId, name, role: 'AGENT', department });
      return { id: user.id, name, department };
    };
    const agents = [await mk('support', 'Ana'), await mk('support', 'Bruno'), await mk('billing', 'Carla')];
    const { apiKey } = await createUser(h.db, { tenantId: tenant.tenantId, name: 'Sup', role: 'SUPERVISOR' });
    const rows = await seedDesk(tenant, agents);
    // Outside the period, and another tenant's: not counted.
    const base = { name: null, status: 'RESOLVED' as const, department: 'support', agentId: null, transferredAt: null };
    const none = { firstAgentAt: null, closedAt: null, slaBreaches: 0, nps: null };
    await seedConversation(h, tenant, {
      ...base,
      ...none,
      phone: randomPhone(),
      startedAt: new Date(Date.UTC(2026, 10, 9, 23, 59)),
    });
    await seedConversation(h, other, {
      ...base,
      ...none,
      phone: randomPhone(),
      startedAt: new Date(Date.UTC(2026, 10, 11)),
    });

    const query = 'since=2026-11-10&until=2026-11-13T00:00:00Z&timeZone=UTC';
    const report = await h.api(`/api/reports/desk?${query}`, { key: apiKey });
    expect(report.status).toBe(200);

    const dayOf = (r: SeededConversation) => r.startedAt.toISOString().slice(0, 10);
    const groups = new Map<string, SeededConversation[]>();
    for (const r of rows) {
      const k = `${dayOf(r)}|${r.department ?? ''}|${r.agentId ?? ''}`;
      groups.set(k, [...(groups.get(k) ?? []), r]);
    }
    const name = (id: string | null) => agents.find((a) => a.id === id)?.name ?? null;
    const expected = [...groups.values()].map((g) => ({
      level: 'detail',
      day: dayOf(g[0]!),
      department: g[0]!.department,
      agentId: g[0]!.agentId,
      agentName: name(g[0]!.agentId),
      ...figures(g),
    }));
    const key = (r: { day: string | null; department: string | null; agentId: string | null }) =>
      `${r.day}|${r.department ?? ''}|${r.agentId ?? ''}`;
    const sortByKey = <T extends { day: string | null; department: string | null; agentId: string | null }>(xs: T[]) =>
      [...xs].sort((a, b) => key(a).localeCompare(key(b)));
    expect(sortByKey(report.json.rows)).toEqual(sortByKey(expected));
    const days = [...new Set(rows.map(dayOf))].sort();
    expect(report.json.days).toEqual(
      days.map((d) => ({
        level: 'day',
        day: d,
        department: null,
        agentId: null,
        agentName: null,
        ...figures(rows.filter((r) => dayOf(r) === d)),
      })),
    );
    expect(report.json.totals).toEqual({
      level: 'total',
      day: null,
      department: null,
      agentId: null,
      agentName: null,
      ...figures(rows),
    });
    // The dataset exercises every figure.
    expect(report.json.totals.slaBreaches).toBeGreaterThan(0);
    expect(report.json.totals.npsResponses).toBeGreaterThan(3);
    expect(report.json.totals.firstResponseP90Seconds).toBeGreaterThan(0);

    // Department filter.
    const billing = await h.api(`/api/reports/desk?${query}&department=billing`, { key: apiKey });
    expect(billing.json.totals).toMatchObject(figures(rows.filter((r) => r.department === 'billing')));

    // CSV: the same lines (detail, days, totals), by ?format=csv and by Accept.
    for (const [path, headers] of [
      [`/api/reports/desk?${query}&format=csv`, {}],
      [`/api/reports/desk?${query}`, { accept: 'text/csv' }],
    ] as const) {
      const response = await fetch(`${h.apiUrl}${path}`, {
        headers: { authorization: `Bearer ${apiKey}`, ...headers },
      });
      expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
      const csv = parse<Record<string, string>>(await response.text(), { columns: true });
      const all = [...report.json.rows, ...report.json.days, report.json.totals] as Record<
        string,
        string | number | null
      >[];
      expect(csv).toEqual(
        all.map((r) => Object.fromEntries(Object.keys(csv[0]!).map((k) => [k, r[k] === null ? '' : String(r[k])]))),
      );
      expect(Object.keys(csv[0]!)).toContain('firstResponseP90Seconds');
    }

    expect((await h.api('/api/reports/desk?since=tomorrow', { key: apiKey })).status).toBe(400);
    expect((await h.api('/api/reports/desk?timeZone=Mars/Base', { key: apiKey })).status).toBe(400);
  });

  it('campaign report: the funnel contacted → delivered → read → replied → promised → paid, with amounts', async () => {
    const tenant = await h.createTestTenant();
    const { apiKey } = await createUser(h.db, { tenantId: tenant.tenantId, name: 'Sup', role: 'SUPERVISOR' });
    const agentKey = (
      await createUser(h.db, { tenantId: tenant.tenantId, name: 'Ag', role: 'AGENT', department: 'support' })
    ).apiKey;
    const [campaign] = await h.db
      .insert(campaigns)
      .values({
        tenantId: tenant.tenantId,
        name: 'Cobrança novembro',
        kind: 'collection',
        status: 'completed',
        channel: 'whatsapp',
        sender: tenant.address,
        ratePerSecond: 1,
        activeHours: 'mon-sun 00:00-24:00',
        defaultTimeZone: 'UTC',
        workflowId: `campaign:test:${Math.random()}`,
        traceId: 'a'.repeat(32),
        createdBy: 'test',
      })
      .returning();
    // Per target: [contacted, message status, replied, promise cents, fulfilled, debt cents]
    const plan: [boolean, string | null, boolean, number | null, boolean, number][] = [
      [true, 'read', true, 10_000, true, 12_000],
      [true, 'read', true, 5_000, false, 8_000],
      [true, 'delivered', true, null, false, 3_000],
      [true, 'delivered', false, null, false, 4_000],
      [true, 'undelivered', false, null, false, 1_000],
      [false, null, false, null, false, 2_000],
    ];
    let line = 0;
    for (const [contacted, status, replied, promised, paid, debt] of plan) {
      line += 1;
      const c = await seedConversation(h, tenant, {
        phone: randomPhone(),
        name: null,
        status: 'PROGRESS',
        department: null,
        agentId: null,
        startedAt: new Date(),
        transferredAt: null,
        firstAgentAt: null,
        closedAt: null,
        slaBreaches: 0,
        nps: null,
      });
      const [target] = await h.db
        .insert(campaignTargets)
        .values({
          campaignId: campaign!.id,
          tenantId: tenant.tenantId,
          contactId: c.contactId,
          line,
          orderKey: line,
          debtAmountCents: debt,
          state: contacted ? 'completed' : 'pending',
          contactedAt: contacted ? new Date() : null,
          repliedAt: replied ? new Date() : null,
        })
        .returning();
      if (status)
        await h.db.insert(messages).values({
          tenantId: tenant.tenantId,
          contactId: c.contactId,
          direction: 'outbound',
          channel: 'whatsapp',
          fromAddress: tenant.address,
          toAddress: `whatsapp:${c.phone}`,
          sentBy: 'system',
          status,
          correlationId: `camp:${line}`,
          campaignTargetId: target!.id,
        });
      if (promised !== null)
        await h.db.insert(promises).values({
          tenantId: tenant.tenantId,
          campaignId: campaign!.id,
          targetId: target!.id,
          contactId: c.contactId,
          channel: 'whatsapp',
          sender: tenant.address,
          amountCents: promised,
          dueAt: new Date(),
          method: 'pix',
          status: paid ? 'fulfilled' : 'pending',
          workflowId: `promise:test:${line}:${Math.random()}`,
        });
    }
    const expected = {
      campaignId: campaign!.id,
      name: 'Cobrança novembro',
      kind: 'collection',
      status: 'completed',
      channel: 'whatsapp',
      targets: plan.length,
      contacted: plan.filter((p) => p[0]).length,
      delivered: plan.filter((p) => p[1] === 'read' || p[1] === 'delivered').length,
      read: plan.filter((p) => p[1] === 'read').length,
      replied: plan.filter((p) => p[2]).length,
      promised: plan.filter((p) => p[3] !== null).length,
      paid: plan.filter((p) => p[4]).length,
      debtCents: plan.reduce((n, p) => n + p[5], 0),
      promisedCents: plan.reduce((n, p) => n + (p[3] ?? 0), 0),
      paidCents: plan.reduce((n, p) => n + (p[4] ? p[3]! : 0), 0),
    };
    const report = await h.api('/api/reports/campaigns?since=1d', { key: apiKey });
    expect(report.status).toBe(200);
    expect(report.json.campaigns).toEqual([{ ...expected, createdAt: campaign!.createdAt.toISOString() }]);
    const response = await fetch(`${h.apiUrl}/api/reports/campaigns?since=1d&format=csv`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    const csv = parse<Record<string, string>>(await response.text(), { columns: true });
    expect(csv).toHaveLength(1);
    expect(Number(csv[0]!.paidCents)).toBe(expected.paidCents);
    expect(csv[0]!.delivered).toBe(String(expected.delivered));
    expect((await h.api('/api/reports/campaigns', { key: agentKey })).status).toBe(403);
  });

  it('causeway canned add|list|remove and causeway report desk|campaign --json (the CLI, built)', async () => {
    const tenant = await h.createTestTenant();
    const env = childProcessEnv({
      DATABASE_URL: h.env.DATABASE_URL!,
      LOG_LEVEL: 'silent',
      CAUSEWAY_SECRETS_KEYS: TEST_SECRETS_KEYS,
    });
    const cli = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['bin/causeway.js', ...args], {
        cwd: path.resolve(import.meta.dirname, '../..'),
        env,
        timeout: 120_000,
      });
    const fails = (...args: string[]) =>
      cli(...args).then(
        () => null,
        (error: { stderr: string }) => error.stderr,
      );
    const added = await cli('canned', 'add', '--tenant', tenant.slug, '--title', 'oi', '--body', 'Olá {{first_name}}!');
    expect(added.stdout).toMatch(/canned response "oi" \(every department\) saved/);
    await cli(
      'canned',
      'add',
      '--tenant',
      tenant.slug,
      '--department',
      'billing',
      '--title',
      'pix',
      '--body',
      'Chave pix: x',
    );
    expect(await fails('canned', 'add', '--tenant', tenant.slug, '--title', 'x', '--body', '{{cpf}}')).toMatch(
      /unknown variables: cpf/,
    );
    const listed = JSON.parse((await cli('canned', 'list', '--tenant', tenant.slug, '--json')).stdout) as {
      title: string;
    }[];
    expect(listed.map((r) => r.title)).toEqual(['pix', 'oi']);
    await cli('canned', 'remove', '--tenant', tenant.slug, '--title', 'pix', '--department', 'billing');
    expect(await fails('canned', 'remove', '--tenant', tenant.slug, '--title', 'pix')).toMatch(
      /no such canned response/,
    );
    const left = JSON.parse((await cli('canned', 'list', '--tenant', tenant.slug, '--json')).stdout) as {
      title: string;
    }[];
    expect(left.map((r) => r.title)).toEqual(['oi']);

    await seedConversation(h, tenant, {
      phone: randomPhone(),
      name: null,
      status: 'RESOLVED',
      department: 'support',
      agentId: null,
      startedAt: new Date(Date.now() - 3_600_000),
      transferredAt: null,
      firstAgentAt: null,
      closedAt: new Date(Date.now() - 3_000_000),
      slaBreaches: 0,
      nps: 9,
    });
    const desk = JSON.parse((await cli('report', 'desk', '--tenant', tenant.slug, '--since', '1d', '--json')).stdout);
    expect(desk.totals).toMatchObject({ conversations: 1, aiContained: 1, resolutionP50Seconds: 600, nps: 100 });
    const table = (await cli('report', 'desk', '--tenant', tenant.slug, '--since', '1d')).stdout;
    expect(table).toContain('TOTAL');
    expect(await fails('report', 'desk', '--tenant', tenant.slug, '--since', 'ontem')).toMatch(/since must be/);
    const campaignsJson = JSON.parse((await cli('report', 'campaign', '--tenant', tenant.slug, '--json')).stdout);
    expect(campaignsJson.campaigns).toEqual([]);
  });
});
