import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promptTemplates, promptVersions } from '../../src/db/schema';
import { sentTo } from '../support/conversation';
import { randomPhone, startHarness, type Harness, type TestTenant } from '../support/harness';
import { runCli } from '../support/cli';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ MESSAGE_DEBOUNCE: '200ms', CONVERSATION_IDLE_AFTER: '5m', CONVERSATION_CLOSE_AFTER: '10m' });
});
afterAll(async () => {
  await h?.close();
});

const cli = (args: string[], input?: string) => runCli(h, args, input);

/** The system prompt of the next AI turn for a new conversation of the tenant. */
async function nextSystemPrompt(tenant: TestTenant): Promise<string> {
  const from = `whatsapp:${randomPhone()}`;
  const before = h.openai.requests.length;
  await h.postInbound(tenant, { body: 'oi', from });
  await h.twilio.waitFor(() => sentTo(h, from).length >= 1);
  const request = h.openai.requests.slice(before).find((r) => r.response_format)!;
  return request.messages.find((m) => m.role === 'system')!.content;
}

async function activeTenantVersions(tenantId: string) {
  return (
    await h.db
      .select({ version: promptVersions.version })
      .from(promptVersions)
      .innerJoin(promptTemplates, eq(promptTemplates.id, promptVersions.templateId))
      .where(and(eq(promptTemplates.tenantId, tenantId), eq(promptVersions.active, true)))
  ).map((r) => r.version);
}

describe('causeway prompt', () => {
  it('adds versions from stdin and a file, diffs, activates, rolls back; the AI turn follows', async () => {
    const tenant = await h.createTestTenant();
    const builtIn = await nextSystemPrompt(tenant);
    expect(builtIn).toContain('customer-service assistant');

    const added = await cli(
      ['prompt', 'add', '--tenant', tenant.slug, '--version', '2.0.0'],
      'You are Lia.\nAnswer briefly.\nNever promise refunds.\n',
    );
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('support prompt 2.0.0 added (inactive');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cw-prompt-')), 'p.txt');
    fs.writeFileSync(file, 'You are Lia.\nAnswer in one sentence.\nNever promise refunds.\n');
    expect((await cli(['prompt', 'add', '--tenant', tenant.slug, '--version', '2.1.0', '--file', file])).code).toBe(0);
    // Adding does not change what the AI uses.
    expect(await activeTenantVersions(tenant.tenantId)).toEqual([]);

    // Independent commands run side by side (each CLI start costs seconds on a loaded machine).
    const [dup, diff, first] = await Promise.all([
      cli(['prompt', 'add', '--tenant', tenant.slug, '--version', '2.0.0'], 'x'),
      cli(['prompt', 'diff', '--tenant', tenant.slug, '2.0.0', '2.1.0']),
      cli(['prompt', 'activate', '--tenant', tenant.slug, '2.0.0']),
    ]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('exists already');
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toContain(
      '  You are Lia.\n- Answer briefly.\n+ Answer in one sentence.\n  Never promise refunds.',
    );
    expect(first.stdout).toContain('2.0.0 is active (was the built-in one)');
    expect(await nextSystemPrompt(tenant)).toMatch(/^You are Lia\.\nAnswer briefly\./);
    const activated = await cli(['prompt', 'activate', '--tenant', tenant.slug, '2.1.0']);
    expect(activated.stdout).toContain('2.1.0 is active (was 2.0.0)');
    expect(await activeTenantVersions(tenant.tenantId)).toEqual(['2.1.0']);
    expect(await nextSystemPrompt(tenant)).toMatch(/^You are Lia\.\nAnswer in one sentence\./);

    const [listed, shown, unknown, missing] = await Promise.all([
      cli(['prompt', 'list', '--tenant', tenant.slug, '--json']),
      cli(['prompt', 'show', '--tenant', tenant.slug]),
      cli(['prompt', 'list', '--tenant', 'no-such-tenant']),
      cli(['prompt', 'activate', '--tenant', tenant.slug, '9.9.9']),
    ]);
    expect(unknown.code).toBe(3);
    expect(missing.code).toBe(3);
    const rows = JSON.parse(listed.stdout) as {
      version: string;
      scope: string;
      inEffect: boolean;
      assistantType: string;
    }[];
    expect(rows.filter((r) => r.inEffect && r.assistantType === 'support').map((r) => r.version)).toEqual(['2.1.0']);
    expect(rows.some((r) => r.scope === 'built-in' && r.assistantType === 'support' && !r.inEffect)).toBe(true);
    expect(shown.stdout.trim()).toBe('You are Lia.\nAnswer in one sentence.\nNever promise refunds.');

    // Rollbacks walk back: 2.1.0 → 2.0.0 → the built-in prompt; then there is nothing left to roll back.
    expect((await cli(['prompt', 'rollback', '--tenant', tenant.slug])).stdout).toContain('from 2.1.0 to 2.0.0');
    expect(await activeTenantVersions(tenant.tenantId)).toEqual(['2.0.0']);
    expect((await cli(['prompt', 'rollback', '--tenant', tenant.slug])).stdout).toContain(
      'from 2.0.0 to the built-in one',
    );
    expect(await nextSystemPrompt(tenant)).toBe(builtIn);
    const none = await cli(['prompt', 'rollback', '--tenant', tenant.slug]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('nothing to roll back');
  }, 300_000);

  it('concurrent activations leave exactly one active version', async () => {
    const tenant = await h.createTestTenant();
    const admin = await h.createOperator(tenant, 'ADMIN');
    for (const v of ['a', 'b', 'c', 'd'])
      expect(
        (await h.api('/api/admin/prompts', { key: admin.apiKey, body: { version: v, content: `prompt ${v}` } })).status,
      ).toBe(201);
    const results = await Promise.all(
      ['a', 'b', 'c', 'd', 'a', 'c'].map((v) =>
        h.api(`/api/admin/prompts/support/${v}/activate`, { key: admin.apiKey, method: 'POST' }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await activeTenantVersions(tenant.tenantId)).toHaveLength(1);
  });
});

describe('/api/admin', () => {
  it('answers 403 to agents and supervisors on every admin route, 401 without a key', async () => {
    const tenant = await h.createTestTenant();
    const agent = await h.createOperator(tenant, 'AGENT');
    const supervisor = await h.createOperator(tenant, 'SUPERVISOR');
    const routes: [string, string, unknown?][] = [
      ['GET', '/api/admin/prompts'],
      ['POST', '/api/admin/prompts', { version: 'x', content: 'y' }],
      ['GET', '/api/admin/prompts/support/1.0.0'],
      ['GET', '/api/admin/prompts/support/diff?from=1.0.0&to=1.0.0'],
      ['POST', '/api/admin/prompts/support/1.0.0/activate'],
      ['POST', '/api/admin/prompts/support/rollback'],
      ['GET', '/api/admin/users'],
      ['POST', '/api/admin/users', { name: 'x', role: 'ADMIN' }],
      ['POST', `/api/admin/users/${agent.id}/keys`],
      ['DELETE', '/api/admin/keys/00000000-0000-4000-8000-000000000000'],
      ['GET', '/api/admin/departments'],
      ['POST', '/api/admin/departments', { name: 'x' }],
      ['PUT', '/api/admin/departments/default', { name: 'x' }],
      ['GET', '/api/admin/templates'],
      ['PUT', `/api/admin/templates/agent_reply`, { contentSid: `HX${'0'.repeat(32)}` }],
    ];
    for (const [method, route, body] of routes) {
      for (const key of [agent.apiKey, supervisor.apiKey])
        expect((await h.api(route, { key, method, body })).status, `${method} ${route}`).toBe(403);
      expect((await h.api(route, { method, body })).status, `${method} ${route}`).toBe(401);
    }
  });

  it('an admin manages users and keys (shown once, revocable), departments and Content templates', async () => {
    const tenant = await h.createTestTenant();
    const other = await h.createTestTenant();
    const admin = await h.createOperator(tenant, 'ADMIN');
    const created = await h.api('/api/admin/users', {
      key: admin.apiKey,
      body: { name: 'Carla', role: 'AGENT', department: 'billing' },
    });
    expect(created.status).toBe(201);
    const carlaKey = created.json.apiKey as string;
    expect((await h.api('/api/conversations', { key: carlaKey })).status).toBe(200);
    const listed = await h.api('/api/admin/users', { key: admin.apiKey });
    const carla = (listed.json.users as { id: string; name: string; keys: { id: string; prefix: string }[] }[]).find(
      (u) => u.name === 'Carla',
    )!;
    expect(JSON.stringify(listed.json)).not.toContain(carlaKey);
    expect(carla.keys).toHaveLength(1);

    const second = await h.api(`/api/admin/users/${carla.id}/keys`, { key: admin.apiKey, method: 'POST' });
    expect(second.status).toBe(201);
    expect((await h.api(`/api/admin/keys/${carla.keys[0]!.id}`, { key: admin.apiKey, method: 'DELETE' })).status).toBe(
      204,
    );
    expect((await h.api('/api/conversations', { key: carlaKey })).status).toBe(401);
    expect((await h.api('/api/conversations', { key: second.json.apiKey as string })).status).toBe(200);
    // Another tenant's admin neither sees nor touches them.
    const otherAdmin = await h.createOperator(other, 'ADMIN');
    expect(
      (await h.api(`/api/admin/keys/${second.json.key.id as string}`, { key: otherAdmin.apiKey, method: 'DELETE' }))
        .status,
    ).toBe(404);
    expect((await h.api(`/api/admin/users/${carla.id}/keys`, { key: otherAdmin.apiKey, method: 'POST' })).status).toBe(
      404,
    );

    expect((await h.api('/api/admin/departments', { key: admin.apiKey, body: { name: 'sales' } })).status).toBe(201);
    expect((await h.api('/api/admin/departments', { key: admin.apiKey, body: { name: 'sales' } })).status).toBe(409);
    expect((await h.api('/api/admin/departments', { key: admin.apiKey, body: { name: 'Bad Name' } })).status).toBe(400);
    const departments = await h.api('/api/admin/departments', { key: admin.apiKey });
    expect(departments.json.departments).toEqual(
      expect.arrayContaining([
        { name: 'sales', declared: true, isDefault: false, users: 0, waiting: 0 },
        { name: 'billing', declared: false, isDefault: false, users: 1, waiting: 0 },
        { name: 'support', declared: false, isDefault: true, users: 1, waiting: 0 },
      ]),
    );

    expect(
      (await h.api('/api/admin/departments/default', { key: admin.apiKey, method: 'PUT', body: { name: 'sales' } }))
        .status,
    ).toBe(200);
    const after = await h.api('/api/admin/departments', { key: admin.apiKey });
    expect(
      after.json.departments.filter((d: { isDefault: boolean }) => d.isDefault).map((d: { name: string }) => d.name),
    ).toEqual(['sales']);

    const sid = `HX${'ab'.repeat(16)}`;
    const put = await h.api('/api/admin/templates/agent_reply', {
      key: admin.apiKey,
      method: 'PUT',
      body: { contentSid: sid, variables: { '1': 'text' } },
    });
    expect(put.status).toBe(200);
    const templates = await h.api('/api/admin/templates', { key: admin.apiKey });
    expect(templates.json.templates).toMatchObject([
      { purpose: 'agent_reply', contentSid: sid, variables: { '1': 'text' } },
    ]);
    expect(
      (
        await h.api('/api/admin/templates/agent_reply', {
          key: admin.apiKey,
          method: 'PUT',
          body: { contentSid: 'HX1' },
        })
      ).status,
    ).toBe(400);
  });

  it('prompt versions over the API: add, diff line by line, activate, roll back', async () => {
    const tenant = await h.createTestTenant();
    const admin = await h.createOperator(tenant, 'ADMIN');
    const add = (version: string, content: string) =>
      h.api('/api/admin/prompts', { key: admin.apiKey, body: { version, content } });
    expect((await add('v1', 'one\ntwo')).status).toBe(201);
    expect((await add('v2', 'one\n2\nthree')).status).toBe(201);
    expect((await add('v2', 'again')).status).toBe(409);
    expect((await add('bad version!', 'x')).status).toBe(400);
    const diff = await h.api('/api/admin/prompts/support/diff?from=v1&to=v2', { key: admin.apiKey });
    expect(diff.json.lines.map((l: { op: string; text: string }) => `${l.op} ${l.text}`)).toEqual([
      'same one',
      'del two',
      'add 2',
      'add three',
    ]);
    expect((await h.api('/api/admin/prompts/support/diff?from=v1&to=nope', { key: admin.apiKey })).status).toBe(404);
    expect((await h.api('/api/admin/prompts/support/v2/activate', { key: admin.apiKey, method: 'POST' })).json).toEqual(
      { previous: null, active: 'v2' },
    );
    expect(await nextSystemPrompt(tenant)).toMatch(/^one\n2\nthree/);
    const shown = await h.api('/api/admin/prompts/support/v2', { key: admin.apiKey });
    expect(shown.json.version).toMatchObject({
      version: 'v2',
      content: 'one\n2\nthree',
      active: true,
      scope: 'tenant',
    });
    expect((await h.api('/api/admin/prompts/support/rollback', { key: admin.apiKey, method: 'POST' })).json).toEqual({
      from: 'v2',
      to: null,
    });
    expect((await h.api('/api/admin/prompts/support/rollback', { key: admin.apiKey, method: 'POST' })).status).toBe(
      409,
    );
  });
});
