import { randomBytes } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retentionScheduleId, type RetentionResult } from '../../src/contract';
import { aiResults, contacts, messages, outbox } from '../../src/db/schema';
import { newMessageSid } from '../../src/integrations/signed-webhook';
import { RETENTION_BATCH } from '../../src/activities/retention';
import { blankMessageBodiesBefore } from '../../src/db/conversations/retention';
import { updateTenant } from '../../src/db/tenants/tenants';
import { retentionInput } from '../../src/temporal/retention-schedule';
import { launchCampaign, targetRows, targets } from '../support/campaigns';
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

  it("reaches the copies of customers' words beside the messages: outbox variables, finished target lines, failures, orphans, drained inbox", async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    const words = `palavras-${randomBytes(4).toString('hex')}`;
    await h.postInbound(tenant, { body: words, from });
    await h.twilio.waitFor(() => sentTo(h, from).length === 1);
    const [contact] = await h.db
      .select({ id: contacts.id })
      .from(contacts)
      .where(and(eq(contacts.tenantId, tenant.tenantId), eq(contacts.phone, from.slice(9))));
    const replies = await h.db
      .select({ id: outbox.id, variables: outbox.variables })
      .from(outbox)
      .innerJoin(messages, eq(messages.id, outbox.messageId))
      .where(eq(messages.contactId, contact!.id));
    expect(replies.some((r) => JSON.stringify(r.variables).includes(words))).toBe(true); // the reply's text is a variable
    // A finished campaign target and an open one, with their imported line's personal columns.
    const campaign = await launchCampaign(h, tenant, targets(2, { name: 'Maria Devedora' }), {}, false);
    const [done, open] = await targetRows(h, campaign.campaignId);
    await h.sql`update campaign_targets set state = 'completed', document = '12345678909', variables = '{"amount":"R$ 10"}' where id = ${done!.id}`;
    await h.sql`update campaign_targets set document = '98765432100' where id = ${open!.id}`;
    const sid = newMessageSid();
    await h.sql`insert into inbound_failures (tenant_id, message_sid, stage, failure_type, reason, input, created_at)
      values (${tenant.tenantId}, ${sid}, 'record', 'Database', 'test', ${JSON.stringify({ body: words })}, now() - interval '200 days')`;
    await h.sql`insert into orphan_inbound (message_sid, account_sid, to_address, reason, payload, received_at)
      values (${newMessageSid()}, ${tenant.accountSid}, ${tenant.address}, 'unknown_number', ${JSON.stringify({ Body: words, From: from })}::jsonb, now() - interval '200 days')`;
    await h.sql`insert into inbound_inbox (message_sid, tenant_id, task_queue, input, state, created_at)
      values (${sid}, ${tenant.tenantId}, 'q', ${JSON.stringify({ body: words })}::jsonb, 'drained', now() - interval '200 days')`;
    // Everything of this tenant is 200 days old.
    await h.sql`update outbox set created_at = now() - interval '200 days' where tenant_id = ${tenant.tenantId}`;
    await h.sql`update campaign_targets set updated_at = now() - interval '200 days' where tenant_id = ${tenant.tenantId}`;

    const workflowId = `retention-copies-${randomBytes(4).toString('hex')}`;
    const result = (await h.client.workflow.execute('retentionWorkflow', {
      workflowId,
      taskQueue: h.env.TEMPORAL_TASK_QUEUE,
      args: [retentionInput(h.env)],
    })) as RetentionResult;
    expect(result.copiesBlanked).toBeGreaterThanOrEqual(replies.length + 4);

    const after = await h.db
      .select({ variables: outbox.variables, content: outbox.content })
      .from(outbox)
      .where(eq(outbox.tenantId, tenant.tenantId));
    expect(JSON.stringify(after)).not.toContain(words);
    expect(after.every((r) => r.variables === null)).toBe(true);
    const [doneAfter, openAfter] = await targetRows(h, campaign.campaignId);
    expect(doneAfter).toMatchObject({ name: null, document: null, variables: {}, state: 'completed' });
    // A target still to be sent keeps what its message needs.
    expect(openAfter).toMatchObject({ name: 'Maria Devedora', document: '98765432100', state: 'pending' });
    const [failure] = await h.sql`select input from inbound_failures where message_sid = ${sid}`;
    expect(failure!.input).toBe('');
    const orphans = await h.sql`select payload::text as p from orphan_inbound where account_sid = ${tenant.accountSid}`;
    expect(orphans.map((o) => o.p)).toEqual(['{}']);
    expect(await h.sql`select 1 from inbound_inbox where message_sid = ${sid}`).toHaveLength(0);
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
