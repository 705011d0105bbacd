import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveDraftUpdate, FailureType } from '../../src/contract';
import { childProcessEnv, loadEnv } from '../../src/config/env';
import { TEST_SECRETS_KEYS } from '../setup-secrets';
import { hybridEnabledSql, setHybridMode } from '../../src/db/conversations/drafts';
import { alerts, conversations, events, messages, suggestedResponses } from '../../src/db/schema';
import { conversationOf, recordHistory, sentTo } from '../support/conversation';
import { eventually, randomPhone, startHarness, type Harness, type TestTenant } from '../support/harness';

// Replay fixtures are written with plain payloads (replay.test.ts decodes with a key of its own).
const recording = loadEnv().CAUSEWAY_RECORD_HISTORIES === '1';
const DRAFT_TIMEOUT_MS = 2_500;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    MESSAGE_DEBOUNCE: '150ms',
    NPS_WAIT: '0s',
    HYBRID_DRAFT_TIMEOUT: `${DRAFT_TIMEOUT_MS}ms`,
    ...(recording ? { CAUSEWAY_PAYLOAD_KEYS: '' } : {}),
  });
});
afterAll(async () => {
  await h?.close();
});

const cli = (args: string[]) =>
  promisify(execFile)(process.execPath, ['bin/causeway.js', ...args], {
    env: childProcessEnv({
      DATABASE_URL: h.env.DATABASE_URL!,
      TEMPORAL_ADDRESS: h.env.TEMPORAL_ADDRESS!,
      LOG_LEVEL: 'silent',
      CAUSEWAY_SECRETS_KEYS: TEST_SECRETS_KEYS,
      CAUSEWAY_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'cw-hybrid-')),
    }),
  }).then(
    ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

async function hybridTenant() {
  const tenant = await h.createTestTenant();
  await setHybridMode(h.db, { tenantId: tenant.tenantId, department: null, enabled: true });
  return tenant;
}

/** A customer message in a hybrid tenant, and the pending draft it produced (nothing sent yet). */
async function draftFor(tenant: TestTenant, from: string, body: string, key: string) {
  const { messageSid } = await h.postInbound(tenant, { body, from });
  const workflowId = await conversationOf(h, messageSid);
  const conversationId = await eventually(
    async () => (await h.db.select().from(conversations).where(eq(conversations.workflowId, workflowId)))[0]?.id,
    10_000,
    'the conversation row',
  );
  const draft = await eventually(
    async () => {
      const listed = await h.api(`/api/conversations/${conversationId}/drafts`, { key });
      return (listed.json.drafts as { id: string; draftText: string; pending: boolean }[]).find(
        (d) => d.pending && d.draftText === `Echo: ${body}`,
      );
    },
    10_000,
    'a pending draft',
  );
  return { workflowId, conversationId, draftId: draft.id };
}

const row = async (draftId: string) =>
  (await h.db.select().from(suggestedResponses).where(eq(suggestedResponses.id, draftId)))[0]!;

describe('hybrid mode: the AI drafts, an agent sends', () => {
  it('holds the draft across a worker restart; approve sends it as is and stores the decision', async () => {
    const tenant = await hybridTenant();
    const agent = await h.createOperator(tenant, 'AGENT', 'Ana');
    const from = `whatsapp:${randomPhone()}`;
    const { workflowId, conversationId, draftId } = await draftFor(tenant, from, 'qual o prazo?', agent.apiKey);
    expect(sentTo(h, from)).toEqual([]);

    await h.restartWorker();
    expect(sentTo(h, from)).toEqual([]);

    // The workflow's validator answers definitely: an unknown draft id is rejected, not queued.
    const wrong = await h.client.workflow
      .getHandle(workflowId)
      .executeUpdate(approveDraftUpdate, {
        args: [{ draftId: randomUUID(), agent: { id: agent.id, name: agent.name }, actor: `user:${agent.id}` }],
      })
      .catch((error: unknown) => error);
    expect(wrong).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(((wrong as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe(FailureType.InvalidState);

    const approved = await h.api(`/api/conversations/${conversationId}/drafts/${draftId}/approve`, {
      key: agent.apiKey,
      body: {},
    });
    expect(approved.status).toBe(201);
    expect(approved.json.draft).toMatchObject({ draftId, outcome: 'approved' });
    await h.twilio.waitFor(() => sentTo(h, from).length === 1);
    expect(sentTo(h, from)[0]).toMatchObject({ from: tenant.address, body: 'Echo: qual o prazo?' });

    const decided = await row(draftId);
    expect(decided).toMatchObject({
      outcome: 'approved',
      draftText: 'Echo: qual o prazo?',
      finalText: 'Echo: qual o prazo?',
      decidedBy: agent.id,
      messageId: approved.json.draft.messageId,
      reason: null,
    });
    expect(decided.promptVersionId).not.toBeNull();
    expect(decided.decidedAt).not.toBeNull();
    const [sent] = await h.db.select().from(messages).where(eq(messages.id, decided.messageId!));
    expect(sent).toMatchObject({ sentBy: 'ai', authorId: agent.id, direction: 'outbound' });

    const again = await h.api(`/api/conversations/${conversationId}/drafts/${draftId}/approve`, {
      key: agent.apiKey,
      body: {},
    });
    expect(again.status).toBe(409);
    await recordHistory(h, workflowId, 'conversation-hybrid-approve');
  });

  it('edit sends the agent’s text; reject sends nothing and keeps the reason; a newer draft supersedes', async () => {
    const tenant = await hybridTenant();
    const agent = await h.createOperator(tenant, 'AGENT', 'Bia');
    const from = `whatsapp:${randomPhone()}`;
    const first = await draftFor(tenant, from, 'tem desconto?', agent.apiKey);
    const edited = await h.api(`/api/conversations/${first.conversationId}/drafts/${first.draftId}/edit`, {
      key: agent.apiKey,
      body: { text: 'Temos 10% à vista.' },
    });
    expect(edited.status).toBe(201);
    await h.twilio.waitFor(() => sentTo(h, from).length === 1);
    expect(sentTo(h, from)[0]!.body).toBe('Temos 10% à vista.');
    expect(await row(first.draftId)).toMatchObject({
      outcome: 'edited',
      draftText: 'Echo: tem desconto?',
      finalText: 'Temos 10% à vista.',
      decidedBy: agent.id,
    });

    const second = await draftFor(tenant, from, 'e parcelado?', agent.apiKey);
    const third = await draftFor(tenant, from, 'alô?', agent.apiKey);
    expect((await row(second.draftId)).outcome).toBe('superseded');
    const stale = await h.api(`/api/conversations/${second.conversationId}/drafts/${second.draftId}/approve`, {
      key: agent.apiKey,
      body: {},
    });
    expect(stale.status).toBe(409);
    const noReason = await h.api(`/api/conversations/${third.conversationId}/drafts/${third.draftId}/reject`, {
      key: agent.apiKey,
      body: {},
    });
    expect(noReason.status).toBe(400);
    const rejected = await h.api(`/api/conversations/${third.conversationId}/drafts/${third.draftId}/reject`, {
      key: agent.apiKey,
      body: { reason: 'tom informal demais' },
    });
    expect(rejected.status).toBe(200);
    expect(rejected.json.draft).toMatchObject({ outcome: 'rejected', messageId: null });
    expect(await row(third.draftId)).toMatchObject({
      outcome: 'rejected',
      reason: 'tom informal demais',
      finalText: null,
      messageId: null,
      decidedBy: agent.id,
    });
    const decisions = await h.db
      .select()
      .from(events)
      .where(and(eq(events.conversationId, first.conversationId), eq(events.type, 'draft.decided')));
    expect(decisions.map((e) => e.payload.outcome).sort()).toEqual(['edited', 'rejected']);
    expect(sentTo(h, from).map((m) => m.body)).toEqual(['Temos 10% à vista.']);
  });

  it('a draft nobody acts on raises a draft_unattended alert after HYBRID_DRAFT_TIMEOUT; the send settles it', async () => {
    const tenant = await hybridTenant();
    const agent = await h.createOperator(tenant, 'AGENT', 'Caio');
    const from = `whatsapp:${randomPhone()}`;
    const started = Date.now();
    const { workflowId, conversationId, draftId } = await draftFor(tenant, from, 'ninguém responde?', agent.apiKey);
    const alert = await eventually(
      async () =>
        (
          await h.db
            .select()
            .from(alerts)
            .where(and(eq(alerts.conversationId, conversationId), eq(alerts.type, 'draft_unattended')))
        )[0],
      DRAFT_TIMEOUT_MS + 10_000,
      'the draft_unattended alert',
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(DRAFT_TIMEOUT_MS);
    expect(alert).toMatchObject({ severity: 'high', resolvedAt: null, payload: { draftId } });
    expect(alert.message).not.toContain('ninguém');
    expect((await row(draftId)).escalatedAt).not.toBeNull();
    expect(sentTo(h, from)).toEqual([]);

    // Still pending: an agent may send it late, which settles the alert.
    const approved = await h.api(`/api/conversations/${conversationId}/drafts/${draftId}/approve`, {
      key: agent.apiKey,
      body: {},
    });
    expect(approved.status).toBe(201);
    await h.twilio.waitFor(() => sentTo(h, from).length === 1);
    const [settled] = await h.db.select().from(alerts).where(eq(alerts.id, alert.id));
    expect(settled!.resolvedAt).not.toBeNull();
    await recordHistory(h, workflowId, 'conversation-hybrid-unattended');
  });

  it('a conversation that ends with a draft pending leaves it abandoned, never sent', async () => {
    const tenant = await hybridTenant();
    const agent = await h.createOperator(tenant, 'AGENT', 'Edu');
    const from = `whatsapp:${randomPhone()}`;
    const { conversationId, draftId } = await draftFor(tenant, from, 'deixa pra lá', agent.apiKey);
    const resolved = await h.api(`/api/conversations/${conversationId}/resolve`, { key: agent.apiKey, body: {} });
    expect(resolved.status).toBe(200);
    expect(await row(draftId)).toMatchObject({ outcome: 'abandoned', messageId: null });
    const listed = await h.api(`/api/conversations/${conversationId}/drafts`, { key: agent.apiKey });
    expect(listed.json.drafts).toMatchObject([{ id: draftId, outcome: 'abandoned', pending: false }]);
    const late = await h.api(`/api/conversations/${conversationId}/drafts/${draftId}/approve`, {
      key: agent.apiKey,
      body: {},
    });
    expect(late.status).toBe(409);
    expect(sentTo(h, from)).toEqual([]);
  });

  it('is per tenant and per department: off sends at once, a department overrides the tenant', async () => {
    const plain = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    await h.postInbound(plain, { body: 'oi', from });
    await h.twilio.waitFor(() => sentTo(h, from).some((m) => m.body === 'Echo: oi'));

    const tenant = await h.createTestTenant();
    expect((await cli(['tenant', 'update', tenant.slug, '--hybrid', 'on'])).code).toBe(0);
    const off = await cli(['tenant', 'update', tenant.slug, '--hybrid', 'off', '--department', 'billing']);
    expect(off.stdout).toContain('hybrid mode (AI drafts, agents send): on, billing off');
    expect((await cli(['tenant', 'update', tenant.slug, '--department', 'billing'])).code).not.toBe(0);
    const agent = await h.createOperator(tenant);
    const { conversationId } = await draftFor(tenant, `whatsapp:${randomPhone()}`, 'bom dia', agent.apiKey);
    const hybridOf = async () =>
      (
        await h.db.select({ on: hybridEnabledSql() }).from(conversations).where(eq(conversations.id, conversationId))
      )[0]!.on;
    expect(await hybridOf()).toBe(true);
    await h.db.update(conversations).set({ department: 'billing' }).where(eq(conversations.id, conversationId));
    expect(await hybridOf()).toBe(false);
    await setHybridMode(h.db, { tenantId: tenant.tenantId, department: 'billing', enabled: true });
    expect(await hybridOf()).toBe(true);

    const other = await h.createTestTenant();
    const stranger = await h.createOperator(other);
    expect((await h.api(`/api/conversations/${conversationId}/drafts`, { key: stranger.apiKey })).status).toBe(404);
  });
});
