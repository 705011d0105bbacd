import { randomBytes } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retentionScheduleId, type RetentionResult } from '../../src/contract';
import { aiResults, contacts, messages } from '../../src/db/schema';
import { RETENTION_BATCH } from '../../src/activities/retention';
import { blankMessageBodiesBefore } from '../../src/db/retention';
import { updateTenant } from '../../src/db/tenants';
import { retentionInput } from '../../src/temporal/retention-schedule';
import { recordHistory, sentTo } from '../support/conversation';
import { eventually, randomPhone, startHarness, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ MESSAGE_DEBOUNCE: '200ms', RETENTION_MESSAGE_BODIES: '180d', RETENTION_AI_TEXTS: '30d' });
});
afterAll(async () => {
  await h?.close();
});

const DAY = 86_400_000;

describe('retention of message bodies and AI texts (F)', () => {
  it('the worker creates the daily `retention` Schedule with the configured limits', async () => {
    const schedule = await h.client.schedule.getHandle(retentionScheduleId(h.env.TEMPORAL_TASK_QUEUE)).describe();
    expect(schedule.spec.calendars?.[0]).toMatchObject({
      hour: [{ start: 3, end: 3, step: 1 }],
      minute: [{ start: 0, end: 0, step: 1 }],
    });
    expect(schedule.action).toMatchObject({
      workflowType: 'retentionWorkflow',
      args: [{ messageBodiesMs: 180 * DAY, aiTextsMs: 30 * DAY }],
    });
  });

  it('blanks bodies older than the limit in batches, and AI texts older than theirs; newer content stays', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    const body = `velho-${randomBytes(4).toString('hex')}`;
    await h.postInbound(tenant, { body, from });
    await h.twilio.waitFor(() => sentTo(h, from).length === 1);
    const [contact] = await h.db
      .select({ id: contacts.id })
      .from(contacts)
      .where(and(eq(contacts.tenantId, tenant.tenantId), eq(contacts.phone, from.slice(9))));
    const conversationMessages = await h.db
      .select({ id: messages.id, conversationId: messages.conversationId })
      .from(messages)
      .where(eq(messages.contactId, contact!.id));
    const conversationId = conversationMessages[0]!.conversationId!;
    // This conversation is 200 days old; its AI results 40 days (past 30d); plus more old rows than one batch.
    await h.sql`update messages set created_at = now() - interval '200 days' where contact_id = ${contact!.id}`;
    await h.sql`update ai_results set created_at = now() - interval '40 days' where conversation_id = ${conversationId}`;
    const fresh = `novo-${randomBytes(4).toString('hex')}`;
    await h.postInbound(tenant, { body: fresh, from });
    await h.twilio.waitFor(() => sentTo(h, from).length === 2);
    const extra = RETENTION_BATCH + 250;
    await h.sql`insert into messages (tenant_id, contact_id, direction, channel, from_address, to_address, body, sent_by, status, correlation_id, created_at)
      select ${tenant.tenantId}, ${contact!.id}, 'inbound', 'whatsapp', ${from}, ${tenant.address}, 'antigo ' || g, 'customer', 'received', 'retention-' || g || '-' || ${randomBytes(4).toString('hex')}, now() - interval '181 days'
      from generate_series(1, ${extra}) g`;

    const workflowId = `retention-test-${randomBytes(4).toString('hex')}`;
    const result = (await h.client.workflow.execute('retentionWorkflow', {
      workflowId,
      taskQueue: h.env.TEMPORAL_TASK_QUEUE,
      args: [retentionInput(h.env)],
    })) as RetentionResult;
    await recordHistory(h, workflowId, 'retention');
    expect(result.messagesBlanked).toBeGreaterThanOrEqual(extra + 2);
    expect(result.aiResultsBlanked).toBeGreaterThanOrEqual(1);

    const rows = await h.db
      .select({ body: messages.body, createdAt: messages.createdAt })
      .from(messages)
      .where(eq(messages.contactId, contact!.id));
    const old = rows.filter((r) => r.createdAt.getTime() < Date.now() - 180 * DAY);
    expect(old).toHaveLength(extra + 2);
    expect(old.every((r) => r.body === '')).toBe(true);
    expect(
      rows
        .filter((r) => r.body !== '')
        .map((r) => r.body)
        .sort(),
    ).toEqual([fresh, `Echo: ${fresh}`].sort());
    const ai = await h.db
      .select({ output: aiResults.output, createdAt: aiResults.createdAt })
      .from(aiResults)
      .where(eq(aiResults.conversationId, conversationId));
    expect(ai.filter((r) => r.createdAt.getTime() < Date.now() - 30 * DAY).every((r) => r.output === null)).toBe(true);
    expect(ai.filter((r) => r.createdAt.getTime() > Date.now() - DAY).some((r) => r.output !== null)).toBe(true);

    // Idempotent, and what the Schedule starts does the same: a triggered run finds nothing left to blank.
    await h.client.schedule.getHandle(retentionScheduleId(h.env.TEMPORAL_TASK_QUEUE)).trigger();
    const scheduled = await eventually(
      async () => {
        for await (const info of h.client.workflow.list({
          query: `WorkflowType = 'retentionWorkflow' AND TaskQueue = '${h.env.TEMPORAL_TASK_QUEUE}' AND ExecutionStatus = 'Completed'`,
        })) {
          if (info.workflowId.startsWith(retentionScheduleId(h.env.TEMPORAL_TASK_QUEUE))) return info;
        }
        return null;
      },
      30_000,
      'scheduled retention run',
    );
    const again = (await h.client.workflow.getHandle(scheduled.workflowId).result()) as RetentionResult;
    expect(again.messagesBlanked).toBe(0);
    expect(
      (
        await h.db
          .select({ id: messages.id })
          .from(messages)
          .where(and(eq(messages.contactId, contact!.id), inArray(messages.body, [fresh])))
      ).length,
    ).toBe(1);
  });

  it('a tenant that keeps its texts longer (--retention-days) keeps them past the default; never shorter', async () => {
    const longer = await h.createTestTenant();
    const shorter = await h.createTestTenant();
    await updateTenant(h.db, longer.slug, { limits: { retentionDays: 400 } });
    await updateTenant(h.db, shorter.slug, { limits: { retentionDays: 10 } });
    const ids: Record<string, string> = {};
    for (const [name, tenant] of [
      ['longer', longer],
      ['shorter', shorter],
    ] as const) {
      const from = `whatsapp:${randomPhone()}`;
      await h.postInbound(tenant, { body: `texto-${name}`, from });
      await h.twilio.waitFor(() => sentTo(h, from).length === 1);
      const [contact] = await h.db
        .select({ id: contacts.id })
        .from(contacts)
        .where(and(eq(contacts.tenantId, tenant.tenantId), eq(contacts.phone, from.slice(9))));
      ids[name] = contact!.id;
      await h.sql`update messages set created_at = now() - interval '200 days' where contact_id = ${contact!.id}`;
      // 100 days: younger than the default 180, older than the shorter tenant's 10.
      await h.sql`insert into messages (tenant_id, contact_id, direction, channel, from_address, to_address, body, sent_by, status, correlation_id, created_at)
        values (${tenant.tenantId}, ${contact!.id}, 'inbound', 'whatsapp', ${from}, ${tenant.address}, 'cem dias', 'customer', 'received', ${`cem-${randomBytes(4).toString('hex')}`}, now() - interval '100 days')`;
    }
    while ((await blankMessageBodiesBefore(h.db, new Date(Date.now() - 180 * DAY), 1000)) > 0);
    const bodies = async (contactId: string) =>
      (await h.db.select({ body: messages.body }).from(messages).where(eq(messages.contactId, contactId)))
        .map((r) => r.body)
        .sort();
    // 400 days: the 200-day-old texts stay.
    expect((await bodies(ids.longer!)).filter((b) => b !== '')).toHaveLength(3);
    // 10 days is shorter than the default: the default holds (200-day-old blanked, 100-day-old kept).
    expect(await bodies(ids.shorter!)).toEqual(['', '', 'cem dias']);
  });
});
