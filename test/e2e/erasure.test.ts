import { openSecret } from '../../src/secrets/keyring';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { WorkflowNotFoundError } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childProcessEnv } from '../../src/config/env';
import { EncryptionCodec, formatPayloadKeys, isEncryptedPayload } from '../../src/temporal/payload-codec';
import { TEST_SECRETS_KEYS } from '../setup-secrets';
import { conversationSnapshotQuery, conversationWorkflowId, type ErasureSummary } from '../../src/contract';
import { campaignTargets, contacts, contactSuppressions, erasures, tenants } from '../../src/db/schema';
import { contactHash } from '../../src/domain/contact-hash';
import { requestErasure } from '../../src/temporal/start-erasure';
import { launchCampaign } from '../support/campaigns';
import { conversationOf, recordHistory, sentTo } from '../support/conversation';
import { eventually, randomPhone, startHarness, type Harness, type TestTenant } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ MESSAGE_DEBOUNCE: '200ms' });
});
afterAll(async () => {
  await h?.close();
});

const unique = (label: string) => `${label}-${randomBytes(5).toString('hex')}`;

/** Every text and jsonb column of every table, searched for each needle: rows that still hold one. */
async function tablesHolding(needles: string[]): Promise<string[]> {
  const columns = await h.sql<{ table_name: string; column_name: string }[]>`
    select table_name, column_name from information_schema.columns
    where table_schema = 'public' and data_type in ('text', 'jsonb', 'json', 'character varying') and table_name not like '__drizzle%'`;
  const hits: string[] = [];
  for (const { table_name, column_name } of columns) {
    for (const needle of needles) {
      const rows = await h.sql.unsafe(
        `select count(*)::int as n from "${table_name}" where "${column_name}"::text like $1`,
        [`%${needle}%`],
      );
      if ((rows[0] as unknown as { n: number }).n > 0) hits.push(`${table_name}.${column_name}`);
    }
  }
  return [...new Set(hits)];
}

/** Every payload byte of a history, as text (raw json/plain payloads are UTF-8 JSON). */
/** Histories are encrypted (payload codec): "readable" means readable with the service's keys, so decode first. */
async function decodedHistory(value: unknown): Promise<unknown> {
  const codec = new EncryptionCodec(h.payloadKeys!);
  const walk = async (v: unknown): Promise<unknown> => {
    if (v instanceof Uint8Array || v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return Promise.all(v.map(walk));
    const o = v as Record<string, unknown>;
    if (o.metadata && typeof o.metadata === 'object' && o.data instanceof Uint8Array && isEncryptedPayload(o))
      return (await codec.decode([o]))[0];
    return Object.fromEntries(await Promise.all(Object.entries(o).map(async ([k, x]) => [k, await walk(x)] as const)));
  };
  return walk(value);
}

function historyText(value: unknown): string {
  const parts: string[] = [];
  const walk = (v: unknown) => {
    if (v instanceof Uint8Array) parts.push(Buffer.from(v).toString('utf8'));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    else if (typeof v === 'string') parts.push(v);
  };
  walk(value);
  return parts.join('\n');
}

/** Histories of this run's task queue that are still readable and contain one of the needles. */
async function readableHistoriesHolding(needles: string[]): Promise<string[]> {
  const holding: string[] = [];
  for await (const info of h.client.workflow.list({ query: `TaskQueue = '${h.env.TEMPORAL_TASK_QUEUE}'` })) {
    let text: string;
    try {
      text = historyText(
        await decodedHistory(await h.client.workflow.getHandle(info.workflowId, info.runId).fetchHistory()),
      );
    } catch (error) {
      if (error instanceof WorkflowNotFoundError || (error as { code?: number }).code === 5) continue;
      throw error;
    }
    if (needles.some((n) => text.includes(n))) holding.push(info.workflowId);
  }
  return holding;
}

/** A contact with a conversation (two turns answered by the AI), an orphan message, and an opt-out. */
async function contactWithHistory(tenant: TestTenant, options: { optOut?: boolean } = {}) {
  const phone = randomPhone();
  const from = `whatsapp:${phone}`;
  const bodies = [unique('minha dívida'), unique('meu cpf')];
  const sids: string[] = [];
  for (const [i, body] of bodies.entries()) {
    sids.push((await h.postInbound(tenant, { body, from })).messageSid);
    await h.twilio.waitFor(() => sentTo(h, from).length === i + 1);
  }
  const conversation = await conversationOf(h, sids[0]!);
  // Also written to a number the tenant does not own: kept as an orphan, holding the sender and the text.
  const orphanBody = unique('engano');
  expect(
    (await h.postInbound(tenant, { body: orphanBody, from, to: `whatsapp:${randomPhone()}` })).response.status,
  ).toBe(200);
  bodies.push(orphanBody);
  if (options.optOut) {
    await h.postInbound(tenant, { body: 'STOP', from });
    await eventually(
      async () =>
        (
          await h.db
            .select({ at: contacts.optedOutAt })
            .from(contacts)
            .where(and(eq(contacts.tenantId, tenant.tenantId), eq(contacts.phone, phone)))
        )[0]?.at,
      20_000,
      'opt-out',
    );
  }
  return { phone, from, bodies, replies: bodies.slice(0, 2).map((b) => `Echo: ${b}`), sids, conversation };
}

const ROOT = path.resolve(import.meta.dirname, '../..');

const waitErasure = async (workflowId: string, runId: string) =>
  (await h.client.workflow.getHandle(workflowId, runId).result()) as ErasureSummary;

describe('erasure on request (LGPD/GDPR)', () => {
  it('DELETE /api/contacts/:phone is ADMIN only; afterwards no table and no readable history holds the phone or the texts', async () => {
    const tenant = await h.createTestTenant();
    const c = await contactWithHistory(tenant, { optOut: true });
    const needles = [c.phone.slice(1), ...c.bodies, ...c.replies];
    expect(await tablesHolding(needles)).not.toEqual([]);
    expect((await readableHistoriesHolding(needles)).length).toBeGreaterThan(0);

    const path = `/api/contacts/${encodeURIComponent(c.phone)}`;
    for (const role of ['AGENT', 'SUPERVISOR'] as const) {
      const key = (await h.createOperator(tenant, role)).apiKey;
      expect((await h.api(path, { method: 'DELETE', key, body: { reason: 'ticket 1' } })).status).toBe(403);
    }
    const admin = await h.createOperator(tenant, 'ADMIN');
    expect((await h.api(path, { method: 'DELETE', key: admin.apiKey, body: {} })).status).toBe(400);
    const bad = await h.api('/api/contacts/12345', {
      method: 'DELETE',
      key: admin.apiKey,
      body: { reason: 'ticket 1' },
    });
    expect(bad.status).toBe(400);

    const accepted = await h.api(path, { method: 'DELETE', key: admin.apiKey, body: { reason: 'LGPD ticket 4711' } });
    expect(accepted.status).toBe(202);
    const { workflowId, runId } = accepted.json.erasure as { workflowId: string; runId: string };
    const [tenantRow] = await h.db
      .select({ hashKey: tenants.hashKey })
      .from(tenants)
      .where(eq(tenants.id, tenant.tenantId));
    const hash = contactHash(openSecret(tenantRow!.hashKey), c.phone);
    expect(workflowId).toBe(`erasure:${tenant.slug}:${hash}`);
    const summary = await waitErasure(workflowId, runId);
    await recordHistory(h, workflowId, 'erasure-contact');

    expect(summary.workflowsTerminated).toBeGreaterThanOrEqual(1); // the open conversation
    expect(summary.historiesDeleted).toBeGreaterThanOrEqual(4); // conversation + three inbound + STOP
    expect(summary.counts).toMatchObject({ contacts: 1, orphan_inbound: 1 });
    expect(summary.counts.messages).toBeGreaterThanOrEqual(5);
    expect(summary.counts.ai_results).toBeGreaterThanOrEqual(2);
    expect(summary.suppressed).toBe(true);
    const deletingSince = Date.now();
    await eventually(
      () =>
        h.client.workflow
          .getHandle(c.conversation)
          .describe()
          .then(
            () => false,
            (error: unknown) => error instanceof WorkflowNotFoundError,
          ),
      90_000,
      'conversation history deleted',
    );

    expect(await tablesHolding(needles)).toEqual([]);
    // Temporal deletes asynchronously: wait until visibility no longer lists readable histories holding them.
    await eventually(async () => (await readableHistoriesHolding(needles)).length === 0, 90_000, 'histories deleted');
    console.log(`[measure] histories unreadable ${Date.now() - deletingSince} ms after the erasure completed`);

    const [audit] = await h.db.select().from(erasures).where(eq(erasures.runId, runId));
    expect(audit).toMatchObject({
      status: 'completed',
      reason: 'LGPD ticket 4711',
      requestedBy: `operator:${admin.id}`,
      contactHash: hash,
      targets: null,
    });
    expect(JSON.stringify(audit)).not.toContain(c.phone.slice(1));
    expect(
      await h.db
        .select()
        .from(contactSuppressions)
        .where(and(eq(contactSuppressions.tenantId, tenant.tenantId), eq(contactSuppressions.phoneHash, hash))),
    ).toHaveLength(1);

    // Twice is harmless: a second run finds nothing left, and writes its own audit row.
    const again = await requestErasure(h.db, h.client, h.env.TEMPORAL_TASK_QUEUE, {
      tenant: { slug: tenant.slug },
      phone: c.from,
      reason: 'duplicate request',
      requestedBy: 'test',
    });
    const second = await waitErasure(again.workflowId, again.runId);
    expect(Object.values(second.counts).every((n) => n === 0)).toBe(true);
    expect(second.historiesDeleted).toBe(0);
    expect(await h.db.select().from(erasures).where(eq(erasures.contactHash, hash))).toHaveLength(2);
    expect(await tablesHolding(needles)).toEqual([]);

    // A later import of the number skips the erased person who had opted out (imported as opted_out, not sent to).
    const campaign = await launchCampaign(
      h,
      tenant,
      [
        { phone: c.phone, name: 'Again' },
        { phone: randomPhone(), name: 'Other' },
      ],
      {},
      false,
    );
    const rows = await h.db
      .select({ state: campaignTargets.state, outcome: campaignTargets.outcome, name: campaignTargets.name })
      .from(campaignTargets)
      .where(eq(campaignTargets.campaignId, campaign.campaignId))
      .orderBy(campaignTargets.line);
    expect(rows.map((r) => r.state)).toEqual(['opted_out', 'pending']);
  }, 180_000);

  // Temporal deletes executions asynchronously (a deletion task per execution): visibility lags by some seconds.
  it('resumes after a worker crash midway: completed steps are not redone, the result is complete', async () => {
    const tenant = await h.createTestTenant();
    const c = await contactWithHistory(tenant);
    const needles = [c.phone.slice(1), ...c.bodies, ...c.replies];
    const [contact] = await h.db
      .select({ id: contacts.id })
      .from(contacts)
      .where(and(eq(contacts.tenantId, tenant.tenantId), eq(contacts.phone, c.phone)));

    // Hold the contact's row: the anonymizing step blocks on it (lock_timeout), mid-workflow, while the worker dies.
    const holder = await h.sql.reserve();
    await holder`begin`;
    await holder`select id from contacts where id = ${contact!.id} for update`;
    let started: Awaited<ReturnType<typeof requestErasure>>;
    try {
      started = await requestErasure(h.db, h.client, h.env.TEMPORAL_TASK_QUEUE, {
        tenant: { slug: tenant.slug },
        phone: c.phone,
        reason: 'crash test',
        requestedBy: 'test',
      });
      await eventually(
        async () => {
          const d = await started.handle.describe();
          return d.raw.pendingActivities?.some((a) => a.activityType?.name === 'anonymizeContactRows');
        },
        20_000,
        'anonymize step running',
      );
      await h.restartWorker();
    } finally {
      await holder`rollback`;
      holder.release();
    }
    const summary = await waitErasure(started.workflowId, started.runId);
    expect(summary.counts.contacts).toBe(1);
    expect(summary.workflowsTerminated).toBeGreaterThanOrEqual(1);

    const history = await started.handle.fetchHistory();
    const scheduled = history
      .events!.filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name);
    expect(scheduled).toEqual([
      'beginErasure',
      'collectErasureTargets',
      'endContactWorkflows',
      'anonymizeContactRows',
      'deleteContactHistories',
      'completeErasure',
    ]);
    const anonymizeStarted = history.events!.find(
      (e) =>
        e.activityTaskStartedEventAttributes &&
        e.eventId &&
        history.events!.some(
          (s) =>
            s.activityTaskScheduledEventAttributes?.activityType?.name === 'anonymizeContactRows' &&
            Number(s.eventId) === Number(e.activityTaskStartedEventAttributes!.scheduledEventId),
        ),
    );
    expect(anonymizeStarted!.activityTaskStartedEventAttributes!.attempt).toBeGreaterThan(1);

    expect(await tablesHolding(needles)).toEqual([]);
    await eventually(async () => (await readableHistoriesHolding(needles)).length === 0, 90_000, 'histories deleted');
    // The contact writes again later: a new contact and conversation, nothing of the old one.
    const later = await h.postInbound(tenant, { body: unique('de novo'), from: c.from });
    const conversation = await conversationOf(h, later.messageSid);
    const [tenantRow] = await h.db
      .select({ hashKey: tenants.hashKey })
      .from(tenants)
      .where(eq(tenants.id, tenant.tenantId));
    expect(conversation).toBe(
      conversationWorkflowId(tenant.slug, contactHash(openSecret(tenantRow!.hashKey), c.phone)),
    );
    const snapshot = await h.client.workflow.getHandle(conversation).query(conversationSnapshotQuery);
    expect(snapshot.turns).toBeLessThanOrEqual(1);
  }, 180_000);

  it('causeway contact erase runs the same erasure from the CLI, and refuses a bad phone without echoing it', async () => {
    const tenant = await h.createTestTenant();
    const phone = randomPhone();
    const body = unique('pelo cli');
    await h.postInbound(tenant, { body, from: `whatsapp:${phone}` });
    await h.twilio.waitFor(() => sentTo(h, `whatsapp:${phone}`).length === 1);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-cli-'));
    const env = childProcessEnv({
      DATABASE_URL: h.env.DATABASE_URL!,
      TEMPORAL_ADDRESS: h.env.TEMPORAL_ADDRESS!,
      TEMPORAL_TASK_QUEUE: h.env.TEMPORAL_TASK_QUEUE,
      CAUSEWAY_DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      CAUSEWAY_PAYLOAD_KEYS: formatPayloadKeys(h.payloadKeys!),
      CAUSEWAY_SECRETS_KEYS: TEST_SECRETS_KEYS,
    });
    const cli = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['bin/causeway.js', ...args], { cwd: ROOT, env, timeout: 120_000 });
    try {
      const { stdout } = await cli('contact', 'erase', phone, '--tenant', tenant.slug, '--reason', 'ticket CLI-1');
      expect(stdout).toContain(`erasure erasure:${tenant.slug}:`);
      expect(stdout).toMatch(/erased: .*messages 2/);
      expect(stdout).not.toContain(phone.slice(1));
      expect(await tablesHolding([phone.slice(1), body])).toEqual([]);

      const bad = await cli('contact', 'erase', '555-not-a-phone-0199', '--tenant', tenant.slug, '--reason', 'x').then(
        () => null,
        (error: { code: number; stderr: string }) => error,
      );
      expect(bad?.code).toBe(1);
      expect(bad?.stderr).toContain('the phone must be E.164');
      expect(bad?.stderr).not.toContain('0199');
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
