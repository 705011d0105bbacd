import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_COOKIE, csrfTokenFor } from '../../src/api/console/session';
import { childProcessEnv } from '../../src/config/env';
import { createOperatorSession } from '../../src/db/operators/sessions';
import { alerts, conversations, conversationTransfers } from '../../src/db/schema';
import { createUser, findOperatorByApiKey } from '../../src/db/operators/users';
import { localDate } from '../../src/domain/active-hours';
import { formatOpening } from '../../src/domain/desk-hours';
import { TEST_SECRETS_KEYS } from '../setup-secrets';
import { loadMessageTemplate } from '../../src/db/knowledge/templates';
import { echoHandler, type ChatRequest } from '../support/fake-openai';
import { conversationOf, conversationResult, recordHistory, sentTo } from '../support/conversation';
import { eventually, randomPhone, startHarness, type Harness, type TestTenant } from '../support/harness';

// Issue 20: the desk. Short clocks: the AI's close after 2 s, the first-response SLA 2 s, the human close 3 s.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    MESSAGE_DEBOUNCE: '200ms',
    CONVERSATION_IDLE_AFTER: '1s',
    CONVERSATION_CLOSE_AFTER: '2s',
    HUMAN_CLOSE_AFTER: '3s',
    DESK_FIRST_RESPONSE_SLA: '2s',
    DESK_NEXT_RESPONSE_SLA: '2s',
    NPS_WAIT: '1s',
  });
});
afterAll(async () => {
  await h?.close();
});

const HANDOFF = 'quero falar com uma pessoa';
const lastUser = (r: ChatRequest) => [...r.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
const handoffTo = (department: string) => (request: ChatRequest) =>
  lastUser(request) === HANDOFF
    ? {
        content: null,
        toolCalls: [{ name: 'transfer_to_human', arguments: { department, reason: 'asked for a person' } }],
      }
    : echoHandler(request);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function handOff(tenant: TestTenant, from: string) {
  const { messageSid } = await h.postInbound(tenant, { body: HANDOFF, from });
  const workflowId = await conversationOf(h, messageSid);
  const row = await eventually(
    async () => {
      const [c] = await h.db.select().from(conversations).where(eq(conversations.workflowId, workflowId));
      return c?.status === 'HUMAN' && c.waitingSince ? c : null;
    },
    10_000,
    'the conversation in the queue',
  );
  return { workflowId, row };
}

const slaAlerts = (conversationId: string) =>
  h.db
    .select()
    .from(alerts)
    .where(and(eq(alerts.conversationId, conversationId), eq(alerts.type, 'sla_breached')));

describe('a customer waiting for a human (issue 20 A, C)', () => {
  it('is never closed while waiting; one sla_breached alert; resolved after HUMAN_CLOSE_AFTER once an agent answered', async () => {
    h.openai.setHandler(handoffTo('support'));
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    const closing = (await loadMessageTemplate(h.db, tenant.tenantId, 'closing', 'pt-BR'))!.body;
    const { workflowId, row } = await handOff(tenant, from);
    expect(row.slaDueAt!.getTime() - row.waitingSince!.getTime()).toBe(2000);

    // Past CONVERSATION_CLOSE_AFTER (2 s) and the SLA (2 s), with no agent answering.
    await eventually(async () => (await slaAlerts(row.id)).length > 0, 10_000, 'the sla_breached alert');
    await sleep(3000);
    const [still] = await h.db.select().from(conversations).where(eq(conversations.id, row.id));
    expect(still).toMatchObject({ status: 'HUMAN', closedAt: null });
    expect(sentTo(h, from).some((m) => m.body === closing)).toBe(false);
    const breaches = await slaAlerts(row.id);
    expect(breaches).toHaveLength(1);
    expect(breaches[0]).toMatchObject({ severity: 'high', resolvedAt: null });
    expect(breaches[0]!.payload).toMatchObject({ kind: 'first', department: 'support' });
    const metrics = await h.workerMetrics.registry.getSingleMetricAsString('causeway_sla_breaches_total');
    expect(metrics).toMatch(/causeway_sla_breaches_total\{kind="first",department="support",role="worker"\} 1/);

    // A message from the customer while waiting does not start the silence clock either.
    await h.postInbound(tenant, { body: 'alguém?', from });
    await sleep(2500);
    expect((await h.db.select().from(conversations).where(eq(conversations.id, row.id)))[0]!.status).toBe('HUMAN');

    // An agent answers; the customer goes silent: resolved after HUMAN_CLOSE_AFTER with the closing message.
    const agent = await h.createOperator(tenant, 'AGENT', 'Ana');
    expect((await h.api(`/api/conversations/${row.id}/takeover`, { key: agent.apiKey, body: {} })).status).toBe(200);
    const answered = await h.api(`/api/conversations/${row.id}/messages`, {
      key: agent.apiKey,
      body: { body: 'Oi, aqui é a Ana.' },
    });
    expect(answered.status).toBe(201);
    const answeredAt = Date.now();
    const [afterAnswer] = await h.db.select().from(conversations).where(eq(conversations.id, row.id));
    expect(afterAnswer).toMatchObject({ status: 'HUMAN', waitingSince: null, slaDueAt: null });
    const result = await conversationResult(h, workflowId);
    expect(result.status).toBe('RESOLVED');
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(2900);
    const [resolved] = await h.db.select().from(conversations).where(eq(conversations.id, row.id));
    expect(resolved).toMatchObject({ status: 'RESOLVED', resolvedBy: 'human' });
    const bodies = sentTo(h, from).map((m) => m.body);
    expect(bodies.filter((b) => b === closing)).toHaveLength(1);
    expect(bodies.indexOf(closing)).toBeGreaterThan(bodies.indexOf('Ana: Oi, aqui é a Ana.'));
    // The breach alert is settled with the conversation; still exactly one.
    expect(await slaAlerts(row.id)).toMatchObject([{ resolvedAt: expect.any(Date) }]);
    await recordHistory(h, workflowId, 'conversation-desk-human-wait');
  });
});

const run = promisify(execFile);
const cli = (args: string[]) =>
  run(process.execPath, ['bin/causeway.js', ...args], {
    env: childProcessEnv({
      DATABASE_URL: h.env.DATABASE_URL!,
      TEMPORAL_ADDRESS: h.env.TEMPORAL_ADDRESS!,
      LOG_LEVEL: 'silent',
      CAUSEWAY_SECRETS_KEYS: TEST_SECRETS_KEYS,
      CAUSEWAY_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'cw-desk-')),
    }),
  }).then(
    ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

/** An agent of `department` with a console session, online (which offers them the department's queue). */
async function onlineAgent(tenant: TestTenant, name: string, department: string, capacity: number) {
  const { user, apiKey } = await createUser(h.db, { tenantId: tenant.tenantId, name, role: 'AGENT', department });
  const supervisor = await h.createOperator(tenant, 'SUPERVISOR');
  const set = await h.api(`/api/desk/agents/${user.id}/capacity`, {
    key: supervisor.apiKey,
    method: 'PUT',
    body: { capacity },
  });
  expect(set.status).toBe(200);
  // Sessions are bound to the key they were opened with (issue 18 F).
  await createOperatorSession(h.db, (await findOperatorByApiKey(h.db, apiKey))!, 3_600_000);
  const online = await h.api('/api/desk/presence', { key: apiKey, body: { presence: 'online' } });
  expect(online.status).toBe(200);
  return { id: user.id, name, apiKey, assigned: online.json.assigned as number };
}

const rowOf = async (id: string) => (await h.db.select().from(conversations).where(eq(conversations.id, id)))[0]!;
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

describe('a customer writing again after an agent answered (issue 20 A, C)', () => {
  it('starts a next-response wait: its own sla_breached alert, and no close past HUMAN_CLOSE_AFTER while waiting', async () => {
    h.openai.setHandler(handoffTo('support'));
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    const closing = (await loadMessageTemplate(h.db, tenant.tenantId, 'closing', 'pt-BR'))!.body;
    const { row } = await handOff(tenant, from);
    const agent = await h.createOperator(tenant, 'AGENT', 'Ana');
    expect((await h.api(`/api/conversations/${row.id}/takeover`, { key: agent.apiKey, body: {} })).status).toBe(200);
    expect(
      (await h.api(`/api/conversations/${row.id}/messages`, { key: agent.apiKey, body: { body: 'Já vejo.' } })).status,
    ).toBe(201);
    expect(await rowOf(row.id)).toMatchObject({ waitingSince: null, slaDueAt: null });
    await h.postInbound(tenant, { body: 'e então?', from });
    const waiting = await eventually(
      async () => ((await rowOf(row.id)).waitingSince ? rowOf(row.id) : null),
      10_000,
      'a next-response wait',
    );
    expect(waiting.slaDueAt!.getTime() - waiting.waitingSince!.getTime()).toBe(2000);
    await eventually(
      async () => (await slaAlerts(row.id)).some((a) => (a.payload as { kind?: string }).kind === 'next'),
      10_000,
      'the next-response breach',
    );
    // Past HUMAN_CLOSE_AFTER (3 s) since the agent's answer: still open, the customer waits for an answer.
    await sleep(3500);
    expect(await rowOf(row.id)).toMatchObject({ status: 'HUMAN', closedAt: null });
    expect(sentTo(h, from).some((m) => m.body === closing)).toBe(false);
    // One alert for this waiting period (a first-response one may exist too if the agent took over after 2 s).
    expect((await slaAlerts(row.id)).filter((a) => (a.payload as { kind?: string }).kind === 'next')).toHaveLength(1);
  });
});

describe('desk hours (issue 20 B)', () => {
  it("a handoff outside hours is told the next opening (past the desk's weekend and a closed date) and waits; an agent coming online takes it", async () => {
    h.openai.setHandler(handoffTo('support'));
    const tenant = await h.createTestTenant();
    const zone = 'America/Sao_Paulo';
    // Whatever today is: the desk is closed today and tomorrow (its weekend), and the day after is a closed date.
    const day = (n: number) => new Date(Date.now() + n * 86_400_000);
    const weekday = (n: number) => WEEKDAYS[new Date(`${localDate(zone, day(n))}T12:00:00Z`).getUTCDay()]!;
    const openDays = [2, 3, 4, 5, 6].map(weekday).join(',');
    const closedDate = localDate(zone, day(2));
    const set = await cli([
      'desk',
      'hours',
      'set',
      '--tenant',
      tenant.slug,
      '--time-zone',
      zone,
      '--hours',
      `${openDays} 08:00-18:00`,
      '--closed',
      closedDate,
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/closed now, opens/);
    const shown = await cli(['desk', 'hours', 'show', '--tenant', tenant.slug, '--json']);
    expect(JSON.parse(shown.stdout).desks[0]).toMatchObject({
      department: '(tenant)',
      timeZone: zone,
      closed: [closedDate],
    });
    // Bad input is refused with the reason, and nothing changes.
    const bad = await cli([
      'desk',
      'hours',
      'set',
      '--tenant',
      tenant.slug,
      '--time-zone',
      zone,
      '--hours',
      'mon 18:00-08:00',
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/ends before it starts/);

    const opening = new Date(`${localDate(zone, day(3))}T11:00:00Z`); // 08:00 in São Paulo (UTC-3)
    const from = `whatsapp:${randomPhone()}`;
    const { row } = await handOff(tenant, from);
    const template = (await loadMessageTemplate(h.db, tenant.tenantId, 'desk_closed', 'pt-BR'))!.body;
    const told = template.replace('{{opens_at}}', formatOpening(opening, zone, 'pt-BR'));
    await h.twilio.waitFor(() => sentTo(h, from).some((m) => m.body === told));
    expect(told).toMatch(/às 08:00/);
    // The SLA counts desk time only: it ends 2 s after the opening.
    expect(row.slaDueAt!.getTime()).toBe(opening.getTime() + 2000);

    // Waits in the queue (no SLA alert while the desk is closed), and is assigned when an agent comes online.
    await sleep(2500);
    expect(await slaAlerts(row.id)).toHaveLength(0);
    expect(await rowOf(row.id)).toMatchObject({ status: 'HUMAN', assignedAgent: null });
    const ana = await onlineAgent(tenant, 'Ana', 'support', 3);
    expect(ana.assigned).toBe(1);
    expect(await rowOf(row.id)).toMatchObject({ status: 'HUMAN', assignedAgent: ana.id });
    await h.twilio.waitFor(() => sentTo(h, from).some((m) => m.body.startsWith('Ana ')));
  });
});

describe('assignment and transfers (issue 20 D)', () => {
  it('automatic assignment respects capacity and department; a transfer moves the conversation with its note', async () => {
    const tenant = await h.createTestTenant();
    const admin = await h.createOperator(tenant, 'ADMIN');
    expect((await h.api('/api/admin/departments', { key: admin.apiKey, body: { name: 'billing' } })).status).toBe(201);
    const ana = await onlineAgent(tenant, 'Ana', 'support', 1);
    const bruno = await onlineAgent(tenant, 'Bruno', 'billing', 5);
    expect(ana.assigned + bruno.assigned).toBe(0);

    h.openai.setHandler(handoffTo('support'));
    const first = await handOff(tenant, `whatsapp:${randomPhone()}`);
    const second = await handOff(tenant, `whatsapp:${randomPhone()}`);
    await eventually(async () => (await rowOf(first.row.id)).assignedAgent === ana.id, 10_000, 'the first to Ana');
    // Ana is at capacity and Bruno is in another department: the second waits.
    await sleep(500);
    expect(await rowOf(second.row.id)).toMatchObject({ status: 'HUMAN', assignedAgent: null });
    h.openai.setHandler(handoffTo('billing'));
    const third = await handOff(tenant, `whatsapp:${randomPhone()}`);
    await eventually(async () => (await rowOf(third.row.id)).assignedAgent === bruno.id, 10_000, 'the third to Bruno');

    // A second support agent comes online: the waiting one is theirs.
    const carla = await onlineAgent(tenant, 'Carla', 'support', 2);
    expect(carla.assigned).toBe(1);
    expect(await rowOf(second.row.id)).toMatchObject({ assignedAgent: carla.id });

    // Ana transfers hers to billing with a note: it moves, Bruno (free in billing) gets it, the note is kept.
    const moved = await h.api(`/api/conversations/${first.row.id}/transfer`, {
      key: ana.apiKey,
      body: { department: 'billing', note: 'Cliente quer parcelar em 3x.' },
    });
    expect(moved.status).toBe(200);
    expect(moved.json.conversation).toMatchObject({ status: 'HUMAN', assignedAgent: { id: bruno.id } });
    expect(await rowOf(first.row.id)).toMatchObject({ department: 'billing', assignedAgent: bruno.id });
    const [transfer] = await h.db
      .select()
      .from(conversationTransfers)
      .where(eq(conversationTransfers.conversationId, first.row.id));
    expect(transfer).toMatchObject({
      fromDepartment: 'support',
      toDepartment: 'billing',
      fromAgent: ana.id,
      note: 'Cliente quer parcelar em 3x.',
      actor: `user:${ana.id}`,
    });
    // Refusals: an unknown department; another agent's conversation.
    expect(
      (
        await h.api(`/api/conversations/${third.row.id}/transfer`, {
          key: bruno.apiKey,
          body: { department: 'nowhere' },
        })
      ).status,
    ).toBe(400);
    expect(
      (await h.api(`/api/conversations/${third.row.id}/transfer`, { key: ana.apiKey, body: { department: 'billing' } }))
        .status,
    ).toBeGreaterThanOrEqual(403);
  });

  it("a department created by an admin receives the AI's handoffs (the transfer tool lists the tenant's departments)", async () => {
    const tenant = await h.createTestTenant();
    const admin = await h.createOperator(tenant, 'ADMIN');
    expect((await h.api('/api/admin/departments', { key: admin.apiKey, body: { name: 'recovery' } })).status).toBe(201);
    let offered: unknown = null;
    h.openai.setHandler((request) => {
      const tools = (request as ChatRequest & { tools?: { function: { name: string; parameters: unknown } }[] }).tools;
      offered = tools?.find((t) => t.function.name === 'transfer_to_human')?.function.parameters ?? null;
      return handoffTo('recovery')(request);
    });
    const { row } = await handOff(tenant, `whatsapp:${randomPhone()}`);
    expect(row.department).toBe('recovery');
    // The strict structured-output subset: an enum of strings, every property required, no additional properties.
    expect(offered).toEqual({
      type: 'object',
      properties: { department: { type: 'string', enum: ['recovery', 'support'] }, reason: { type: 'string' } },
      required: ['department', 'reason'],
      additionalProperties: false,
    });
  });
});

describe('the desk in the console (server-rendered pages, no browser needed)', () => {
  it('the queue shows SLA time left or overdue and sets presence; the admin sets desk hours; a conversation offers transfer', async () => {
    h.openai.setHandler(handoffTo('support'));
    const tenant = await h.createTestTenant();
    const admin = await h.createOperator(tenant, 'ADMIN', 'Dora');
    const { token } = await createOperatorSession(h.db, (await findOperatorByApiKey(h.db, admin.apiKey))!, 3_600_000);
    const cookie = `${CONSOLE_COOKIE}=${token}`;
    const get = async (path: string) => {
      const response = await fetch(`${h.apiUrl}${path}`, { headers: { cookie }, redirect: 'manual' });
      return { status: response.status, html: await response.text() };
    };
    const post = async (path: string, form: Record<string, string>) => {
      const response = await fetch(`${h.apiUrl}${path}`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrfTokenFor(token), ...form }).toString(),
        redirect: 'manual',
      });
      // The flash text is URI-encoded, then encoded again as a cookie value.
      const flash = decodeURIComponent(decodeURIComponent(response.headers.get('set-cookie') ?? ''));
      return { status: response.status, flash };
    };

    // Desk hours from the admin page; a bad schedule is refused with its reason.
    expect((await get('/console/admin/desk')).html).toContain('id="set-desk-hours"');
    const bad = await post('/console/admin/desk/hours', { timeZone: 'America/Sao_Paulo', hours: 'mon 18:00-08:00' });
    expect(bad.flash).toMatch(/error:.*ends before it starts/);
    const saved = await post('/console/admin/desk/hours', {
      timeZone: 'America/Sao_Paulo',
      hours: 'always',
      holidays: 'BR',
    });
    expect(saved.flash).toMatch(/ok:Hours of the tenant: always/);
    expect(await post('/console/admin/desk/sla', { firstResponse: '1s' })).toMatchObject({ status: 303 });
    const page = (await get('/console/admin/desk')).html;
    expect(page).toMatch(/always \(America\/Sao_Paulo\)/);
    expect(page).toMatch(/1s \/ default/);

    // A handoff with the 1 s SLA: the queue reads "overdue" once it passed.
    const { row } = await handOff(tenant, `whatsapp:${randomPhone()}`);
    expect(row.slaDueAt!.getTime() - row.waitingSince!.getTime()).toBe(1000);
    await sleep(1500);
    const queue = (await get('/console')).html;
    expect(queue).toMatch(new RegExp(`data-conversation-id="${row.id}"[\\s\\S]*class="sla overdue"[^>]*>overdue`));
    expect(queue).toContain('id="set-presence"');
    expect((await post('/console/presence', { presence: 'away' })).flash).toMatch(/ok:You are away/);
    expect(await h.api('/api/desk/presence', { key: admin.apiKey })).toMatchObject({
      status: 200,
      json: { presence: 'away' },
    });
    expect((await get(`/console/conversations/${row.id}`)).html).toContain('id="transfer"');
    // Signing out makes the operator offline.
    await post('/console/sign-out', {});
    expect((await h.api('/api/desk/presence', { key: admin.apiKey })).json.presence).toBe('offline');
  });
});
