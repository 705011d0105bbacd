import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childProcessEnv } from '../../src/config/env';
import { purgeAuditBefore } from '../../src/db/operators/audit';
import { auditLog, conversations, events, messages } from '../../src/db/schema';
import { TEST_SECRETS_KEYS } from '../setup-secrets';
import { eventually, randomPhone, startHarness, type Harness, type TestTenant } from '../support/harness';

const run = promisify(execFile);
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ MESSAGE_DEBOUNCE: '200ms' });
});
afterAll(async () => {
  await h?.close();
});

const cli = (args: string[]) =>
  run(process.execPath, ['bin/causeway.js', ...args], {
    env: childProcessEnv({
      DATABASE_URL: h.env.DATABASE_URL!,
      LOG_LEVEL: 'silent',
      CAUSEWAY_SECRETS_KEYS: TEST_SECRETS_KEYS,
      CAUSEWAY_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'cw-audit-')),
    }),
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }),
  );

/** A request with its own X-Request-ID, so the test can find the audit record it left. */
async function call(
  p: string,
  o: { key?: string; cookie?: string; method?: string; body?: unknown; form?: Record<string, string> } = {},
) {
  const requestId = `t-${randomUUID()}`;
  const headers: Record<string, string> = { 'x-request-id': requestId };
  if (o.key) headers.authorization = `Bearer ${o.key}`;
  if (o.cookie) headers.cookie = o.cookie;
  let body: string | undefined;
  if (o.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(o.form).toString();
  } else if (o.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(o.body);
  }
  const response = await fetch(`${h.apiUrl}${p}`, {
    method: o.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
    redirect: 'manual',
  });
  const text = await response.text();
  return { requestId, status: response.status, text, response };
}

async function signIn(key: string) {
  const r = await call('/console/sign-in', { form: { key } });
  expect(r.status).toBe(303);
  const cookie = /causeway_console=([^;]+)/.exec(r.response.headers.get('set-cookie') ?? '')?.[1];
  expect(cookie).toBeTruthy();
  return { cookie: `causeway_console=${cookie}`, requestId: r.requestId };
}

/** A customer conversation with one AI turn; returns its id, trace and the texts that must never reach the log. */
async function conversationOf(tenant: TestTenant, department: string | null) {
  const phone = randomPhone();
  const text = `quero falar sobre a fatura ${randomBytes(4).toString('hex')}`;
  const { messageSid } = await h.postInbound(tenant, { body: text, from: `whatsapp:${phone}` });
  const row = await eventually(async () => {
    const [m] = await h.db
      .select({ conversationId: messages.conversationId, traceId: messages.traceId, id: messages.id })
      .from(messages)
      .where(eq(messages.providerSid, messageSid));
    return m?.conversationId ? m : undefined;
  });
  await eventually(async () => {
    const replies = await h.db
      .select({ id: messages.id })
      .from(messages)
      .where(eq(messages.conversationId, row.conversationId!));
    return replies.length >= 2 ? true : undefined;
  });
  if (department) await h.db.update(conversations).set({ department }).where(eq(conversations.id, row.conversationId!));
  return { phone, text, conversationId: row.conversationId!, traceId: row.traceId!, messageId: row.id };
}

const auditOf = async (requestId: string) => h.db.select().from(auditLog).where(eq(auditLog.requestId, requestId));

describe('audit log (issue 18 G)', () => {
  it('keeps one record per API, console, codec and CLI action, none with a phone or a text', async () => {
    const tenant = await h.createTestTenant();
    const admin = await h.createOperator(tenant, 'ADMIN');
    const supervisor = await h.createOperator(tenant, 'SUPERVISOR');
    const agent = await h.createOperator(tenant, 'AGENT');
    const conv = await conversationOf(tenant, 'support');
    const journeyPath = `/api/contacts/${encodeURIComponent(conv.phone)}/journey`;

    const expected: { requestId: string; action: string; outcome: string; targetId?: string | null }[] = [];
    const expect1 = (
      r: { requestId: string; status: number },
      status: number,
      action: string,
      outcome: string,
      targetId?: string | null,
    ) => {
      expect(r.status, action).toBe(status);
      expected.push({ requestId: r.requestId, action, outcome, targetId });
    };

    expect1(await call('/api/conversations', { key: agent.apiKey }), 200, 'GET /api/conversations', 'ok', null);
    expect1(
      await call(`/api/conversations/${conv.conversationId}`, { key: agent.apiKey }),
      200,
      'GET /api/conversations/:id',
      'ok',
      conv.conversationId,
    );
    expect1(
      await call(`/api/traces/${conv.traceId}`, { key: supervisor.apiKey }),
      200,
      'GET /api/traces/:id',
      'ok',
      conv.traceId,
    );
    expect1(await call(journeyPath, { key: agent.apiKey }), 200, 'GET /api/contacts/:phone/journey', 'ok');
    expect1(await call('/api/admin/users', { key: agent.apiKey }), 403, 'GET /api/admin/users', 'denied', null);
    const created = await call('/api/admin/users', { key: admin.apiKey, body: { name: 'Nova', role: 'AGENT' } });
    const newUserId = (JSON.parse(created.text) as { user: { id: string } }).user.id;
    expect1(created, 201, 'POST /api/admin/users', 'ok', newUserId);
    expect1(
      await call(`/api/admin/users/${newUserId}/disable`, { key: admin.apiKey, body: {} }),
      200,
      'POST /api/admin/users/:id/disable',
      'ok',
      newUserId,
    );
    expect1(
      await call('/codec/decode', { key: supervisor.apiKey, body: { payloads: [] } }),
      200,
      'POST /codec/decode',
      'ok',
      null,
    );

    const session = await signIn(supervisor.apiKey);
    expected.push({ requestId: session.requestId, action: 'console.sign_in', outcome: 'ok' });
    expect1(
      await call(`/console/conversations/${conv.conversationId}`, { cookie: session.cookie }),
      200,
      'GET /console/conversations/:id',
      'ok',
      conv.conversationId,
    );
    expect1(
      await call(`/console/media/${conv.messageId}/0`, { cookie: session.cookie }),
      404,
      'GET /console/media/:messageId/:n',
      'not_found',
      conv.messageId,
    );
    const adminSession = await signIn(admin.apiKey);
    expected.push({ requestId: adminSession.requestId, action: 'console.sign_in', outcome: 'ok' });
    const auditPage = await call('/console/admin/audit?since=1h', { cookie: adminSession.cookie });
    expect1(auditPage, 200, 'GET /console/admin/audit', 'ok', null);
    // The page shows what came before it, e.g. the supervisor's console read of the conversation.
    expect(auditPage.text).toContain('GET /console/conversations/:id');
    expect1(
      await call('/console/admin/audit', { cookie: session.cookie }),
      403,
      'GET /console/admin/audit',
      'denied',
      null,
    );

    for (const e of expected) {
      const rows = await auditOf(e.requestId);
      expect(rows, e.action).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        tenantId: tenant.tenantId,
        action: e.action,
        outcome: e.outcome,
        actorType: 'user',
      });
      if (e.targetId !== undefined) expect(rows[0]!.targetId, e.action).toBe(e.targetId);
    }
    // The journey's phone became the contact's keyed hash.
    const [journeyRow] = await auditOf(expected[3]!.requestId);
    expect(journeyRow!.targetId).toMatch(/^contact:[0-9a-f]{20}$/);

    // CLI admin actions are recorded under the OS account.
    const disabled = await cli(['user', 'disable', supervisor.id, '--tenant', tenant.slug]);
    expect(disabled.code, disabled.stderr).toBe(0);
    const listed = await cli(['audit', 'list', '--tenant', tenant.slug, '--since', '1h', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const fromCli = JSON.parse(listed.stdout) as {
      action: string;
      via: string;
      targetId: string;
      actorLabel: string;
    }[];
    expect(fromCli.find((r) => r.action === 'user.disable')).toMatchObject({
      via: 'cli',
      targetId: supervisor.id,
      actorLabel: expect.stringMatching(/^cli:/),
    });
    // Every API / console request of this test is there too (the list is newest first).
    for (const e of expected) expect(fromCli.some((r) => r.action === e.action)).toBe(true);

    const all = JSON.stringify(await h.db.select().from(auditLog).where(eq(auditLog.tenantId, tenant.tenantId)));
    expect(all).not.toContain(conv.phone.slice(1));
    expect(all).not.toContain(conv.text);
  });

  it('is append-only: UPDATE, DELETE and TRUNCATE are refused; only the retention purge deletes', async () => {
    const tenant = await h.createTestTenant();
    const admin = await h.createOperator(tenant, 'ADMIN');
    const r = await call('/api/admin/users', { key: admin.apiKey });
    const [row] = await auditOf(r.requestId);
    const refused = (query: Promise<unknown>) =>
      query.then(
        () => 'allowed',
        (error: { cause?: { code?: string; message?: string } }) =>
          `${error.cause?.code}: ${error.cause?.message ?? ''}`,
      );
    const appendOnly = /^42501: audit_log is append-only/;
    expect(await refused(h.db.update(auditLog).set({ outcome: 'denied' }).where(eq(auditLog.id, row!.id)))).toMatch(
      appendOnly,
    );
    expect(await refused(h.db.delete(auditLog).where(eq(auditLog.id, row!.id)))).toMatch(appendOnly);
    expect(await refused(h.db.execute(sql`truncate audit_log`))).toMatch(appendOnly);
    expect(await auditOf(r.requestId)).toHaveLength(1);
    // The purge removes only what is older than its cutoff.
    expect(await purgeAuditBefore(h.db, new Date(Date.now() - 3_600_000), { tenantId: tenant.tenantId })).toBe(0);
    expect(await auditOf(r.requestId)).toHaveLength(1);
    expect(await purgeAuditBefore(h.db, new Date(Date.now() + 1000), { tenantId: tenant.tenantId })).toBeGreaterThan(0);
    expect(await auditOf(r.requestId)).toHaveLength(0);
  });
});

describe('operator lifecycle (issue 18 F)', () => {
  it("ends a revoked key's console session and a disabled user's sessions and keys at once", async () => {
    const tenant = await h.createTestTenant();
    const admin = await h.createOperator(tenant, 'ADMIN');
    const agent = await h.createOperator(tenant, 'AGENT');
    const other = await h.createOperator(tenant, 'AGENT');

    const session = await signIn(agent.apiKey);
    expect((await call('/console/mine', { cookie: session.cookie })).status).toBe(200);
    const users = JSON.parse((await call('/api/admin/users', { key: admin.apiKey })).text) as {
      users: { id: string; keys: { id: string }[] }[];
    };
    const keyId = users.users.find((u) => u.id === agent.id)!.keys[0]!.id;
    expect((await call(`/api/admin/keys/${keyId}`, { key: admin.apiKey, method: 'DELETE' })).status).toBe(204);
    // The session opened with that key is over: the next page is the sign-in.
    const after = await call('/console/mine', { cookie: session.cookie });
    expect(after.status).toBe(303);
    expect(after.response.headers.get('location')).toBe('/console/sign-in');

    const otherSession = await signIn(other.apiKey);
    expect((await call('/api/conversations', { key: other.apiKey })).status).toBe(200);
    expect((await call(`/api/admin/users/${other.id}/disable`, { key: admin.apiKey, body: {} })).status).toBe(200);
    expect((await call('/api/conversations', { key: other.apiKey })).status).toBe(401);
    expect((await call('/console/mine', { cookie: otherSession.cookie })).status).toBe(303);
    expect((await call('/console/sign-in', { form: { key: other.apiKey } })).status).toBe(401);
    // Enabled again: the key works, the old session stays ended.
    expect((await call(`/api/admin/users/${other.id}/enable`, { key: admin.apiKey, body: {} })).status).toBe(200);
    expect((await call('/api/conversations', { key: other.apiKey })).status).toBe(200);
    expect((await call('/console/mine', { cookie: otherSession.cookie })).status).toBe(303);
    // An admin cannot disable themselves.
    expect((await call(`/api/admin/users/${admin.id}/disable`, { key: admin.apiKey, body: {} })).status).toBe(409);
  });

  it('rotates the session on sign-in: the old cookie stops working', async () => {
    const tenant = await h.createTestTenant();
    const agent = await h.createOperator(tenant, 'AGENT');
    const first = await signIn(agent.apiKey);
    const again = await call('/console/sign-in', { form: { key: agent.apiKey }, cookie: first.cookie });
    const second = /causeway_console=([^;]+)/.exec(again.response.headers.get('set-cookie') ?? '')?.[1];
    expect(second).toBeTruthy();
    expect(`causeway_console=${second}`).not.toBe(first.cookie);
    expect((await call('/console/mine', { cookie: first.cookie })).status).toBe(303);
    expect((await call('/console/mine', { cookie: `causeway_console=${second}` })).status).toBe(200);
  });

  it("keeps an agent out of another department's journey, trace and close (404)", async () => {
    const tenant = await h.createTestTenant();
    const support = await h.createOperator(tenant, 'AGENT'); // department support
    const { user, apiKey: billingKey } = await import('../../src/db/operators/users').then((m) =>
      m.createUser(h.db, { tenantId: tenant.tenantId, name: 'Bia', role: 'AGENT', department: 'billing' }),
    );
    expect(user.department).toBe('billing');
    const conv = await conversationOf(tenant, 'support');
    const journey = `/api/contacts/${encodeURIComponent(conv.phone)}/journey`;

    expect((await call(journey, { key: support.apiKey })).status).toBe(200);
    expect((await call(`/api/traces/${conv.traceId}`, { key: support.apiKey })).status).toBe(200);

    const j = await call(journey, { key: billingKey });
    expect(j.status).toBe(404);
    expect(j.text).not.toContain(conv.phone);
    expect((await call(`/api/traces/${conv.traceId}`, { key: billingKey })).status).toBe(404);
    expect((await call(`/api/conversations/${conv.conversationId}/close`, { key: billingKey, body: {} })).status).toBe(
      404,
    );
  });

  it('pages a 100k-event campaign trace, 500 events an answer, every event once', async () => {
    const tenant = await h.createTestTenant();
    const supervisor = await h.createOperator(tenant, 'SUPERVISOR');
    const agent = await h.createOperator(tenant, 'AGENT');
    const traceId = randomBytes(16).toString('hex');
    // Seven events share each millisecond: the cursor must break ties by id, not skip or repeat them.
    await h.db.execute(sql`
      insert into ${events} (tenant_id, trace_id, span_id, type, payload, occurred_at)
      select ${tenant.tenantId}::uuid, ${traceId}, lpad(to_hex(g), 16, '0'), 'campaign.send', '{}'::jsonb,
             now() - interval '1 day' + (g / 7) * interval '1 millisecond'
      from generate_series(1, 100000) g`);

    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await call(`/api/traces/${traceId}${cursor ? `?cursor=${cursor}` : ''}`, { key: supervisor.apiKey });
      expect(r.status).toBe(200);
      const page = JSON.parse(r.text) as { events: { id: string }[]; nextCursor: string | null };
      expect(page.events.length).toBeLessThanOrEqual(500);
      for (const e of page.events) seen.add(e.id);
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(200);
    expect(seen.size).toBe(100_000);
    // Campaign-wide events concern no conversation an agent can see.
    expect((await call(`/api/traces/${traceId}`, { key: agent.apiKey })).status).toBe(404);
    expect((await call(`/api/traces/${traceId}?cursor=nonsense`, { key: supervisor.apiKey })).status).toBe(400);
  });
});
