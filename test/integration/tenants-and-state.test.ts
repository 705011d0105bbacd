import { randomBytes } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { transition } from '../../src/activities/conversation';
import { createTenantResolver } from '../../src/api/tenant-cache';
import {
  apiKeys,
  contacts,
  conversations,
  conversationStateHistory,
  events,
  twilioAccounts,
} from '../../src/db/schema';
import { insertSendingOutbound } from '../../src/db/outbound/outbox';
import { recordInbound } from '../../src/db/ingress/inbound';
import { createUser, findOperatorByApiKey, rotateApiKeys } from '../../src/db/operators/users';
import { hashApiKey } from '../../src/domain/api-keys';
import { createTenant, findTenantNumber } from '../../src/db/tenants/tenants';
import { seedTenant, testDb } from '../support/db';
import { randomPhone } from '../support/harness';

const handle = testDb();
const { db } = handle;
afterAll(() => handle.close());

const trace = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) };

describe('tenant resolution (I2)', () => {
  it('finds the tenant only for its own account, number and channel', async () => {
    const a = await seedTenant(db);
    const b = await seedTenant(db);
    expect(await findTenantNumber(db, a.accountSid, 'whatsapp', a.phone)).toMatchObject({
      tenantSlug: a.slug,
      mode: 'live',
    });
    expect(await findTenantNumber(db, b.accountSid, 'whatsapp', a.phone)).toBeNull();
    expect(await findTenantNumber(db, a.accountSid, 'sms', a.phone)).toBeNull();
    expect(await findTenantNumber(db, a.accountSid, 'whatsapp', randomPhone())).toBeNull();
  });

  it('the webhook resolver answers in one query, caches found accounts for its TTL, never unknown ones', async () => {
    const a = await seedTenant(db);
    let clock = 1_000;
    const resolve = createTenantResolver(db, { ttlMs: 10_000, maxEntries: 100, now: () => clock });
    expect(await resolve(a.accountSid, 'whatsapp', a.phone)).toMatchObject({
      tenant: { tenantSlug: a.slug },
      account: { tenantId: a.tenant.id, authToken: 'tok' },
    });
    expect(await resolve(a.accountSid, 'whatsapp', randomPhone())).toMatchObject({
      tenant: null,
      account: { tenantId: a.tenant.id },
    });
    expect(await resolve(`AC${randomBytes(16).toString('hex')}`, 'whatsapp', a.phone)).toBeNull();

    await db.update(twilioAccounts).set({ authToken: 'rotated' }).where(eq(twilioAccounts.accountSid, a.accountSid));
    expect((await resolve(a.accountSid, 'whatsapp', a.phone))!.account.authToken).toBe('tok');
    clock += 10_001;
    expect((await resolve(a.accountSid, 'whatsapp', a.phone))!.account.authToken).toBe('rotated');
  });

  it('creates a tenant atomically: a clash on the number leaves no half-made tenant', async () => {
    const a = await seedTenant(db);
    const slug = `t-${randomBytes(5).toString('hex')}`;
    await expect(
      createTenant(db, {
        slug,
        name: slug,
        accountSid: `AC${randomBytes(16).toString('hex')}`,
        authToken: 't',
        mode: 'live',
        numbers: [{ channel: 'whatsapp', phone: a.phone }],
      }),
    ).rejects.toThrow();
    const { tenants } = await import('../../src/db/schema');
    expect(await db.select().from(tenants).where(eq(tenants.slug, slug))).toHaveLength(0);
  });
});

describe('operator API keys', () => {
  it('are stored hashed, found by key, and stop working once rotated', async () => {
    const { tenant } = await seedTenant(db);
    const { user, apiKey } = await createUser(db, { tenantId: tenant.id, name: 'Ana', role: 'AGENT' });
    const [stored] = await db.select().from(apiKeys).where(eq(apiKeys.userId, user.id));
    const secret = apiKey.slice('cw_'.length + 12 + 1);
    expect(secret).toHaveLength(32);
    expect(stored!.keyHash).toBe(hashApiKey(apiKey));
    expect(stored!.keyHash).not.toContain(secret);
    expect(await findOperatorByApiKey(db, apiKey)).toMatchObject({ id: user.id, role: 'AGENT', tenantId: tenant.id });
    expect(await findOperatorByApiKey(db, apiKey.slice(0, -1) + (apiKey.endsWith('A') ? 'B' : 'A'))).toBeNull();
    const rotated = await rotateApiKeys(db, user.id, true);
    expect(rotated!.revoked).toBe(1);
    expect(await findOperatorByApiKey(db, apiKey)).toBeNull();
    expect(await findOperatorByApiKey(db, rotated!.apiKey!)).toMatchObject({ id: user.id });
  });
});

describe('conversation transitions under optimistic locking (I6)', () => {
  async function newConversation() {
    const { tenant } = await seedTenant(db);
    const [contact] = await db
      .insert(contacts)
      .values({ tenantId: tenant.id, phone: randomPhone(), phoneHash: randomBytes(10).toString('hex') })
      .returning();
    const [conversation] = await db
      .insert(conversations)
      .values({ tenantId: tenant.id, contactId: contact!.id, channel: 'whatsapp', workflowId: 'wf' })
      .returning();
    return conversation!;
  }

  it('of two concurrent transitions exactly one applies, and history records only it', async () => {
    const conversation = await newConversation();
    const results = await Promise.all([
      db.transaction((tx) =>
        transition(tx, {
          conversationId: conversation.id,
          to: 'HUMAN',
          reason: 'agent took over',
          actor: 'agent:1',
          expectedVersion: 1,
          trace,
        }),
      ),
      db.transaction((tx) =>
        transition(tx, {
          conversationId: conversation.id,
          to: 'PROGRESS',
          reason: 'assistant replied',
          actor: 'ai',
          expectedVersion: 1,
          trace,
        }),
      ),
    ]);
    expect(results.filter((r) => r.applied)).toHaveLength(1);
    const winner = results.find((r) => r.applied)!;
    const [row] = await db.select().from(conversations).where(eq(conversations.id, conversation.id));
    expect(row).toMatchObject({ status: winner.status, version: 2 });
    const history = await db
      .select()
      .from(conversationStateHistory)
      .where(eq(conversationStateHistory.conversationId, conversation.id));
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ fromStatus: 'PENDING', toStatus: winner.status, version: 2 });
  });

  it('refuses to leave a terminal state and to act on a stale version', async () => {
    const conversation = await newConversation();
    const closed = await transition(db, {
      conversationId: conversation.id,
      to: 'EXPIRED',
      reason: 'idle timeout',
      actor: 'system',
      trace,
    });
    expect(closed).toMatchObject({ applied: true, status: 'EXPIRED', version: 2 });
    expect(
      await transition(db, { conversationId: conversation.id, to: 'PROGRESS', reason: 'late', actor: 'ai', trace }),
    ).toMatchObject({ applied: false, status: 'EXPIRED' });
    expect(
      await transition(db, {
        conversationId: conversation.id,
        to: 'CLOSED',
        reason: 'stale',
        actor: 'ai',
        expectedVersion: 1,
        trace,
      }),
    ).toMatchObject({ applied: false, version: 2 });
    const [row] = await db.select().from(conversations).where(eq(conversations.id, conversation.id));
    expect(row!.closedAt).not.toBeNull();
    expect(row!.sessionKey).toBe(`${row!.tenantId}:${row!.contactId}`);
  });

  // Issue 25 A: the first reply's move to PROGRESS is written with its message, under the same version guard.
  it('a reply carrying the move to PROGRESS applies it with its message, only at the guarded version', async () => {
    const conversation = await newConversation();
    const key = () => `k-${randomBytes(6).toString('hex')}`;
    const reply = (c: typeof conversation, idempotencyKey: string, expectedVersion: number) => ({
      tenantId: c.tenantId,
      conversationId: c.id,
      contactId: c.contactId,
      channel: 'whatsapp' as const,
      from: 'whatsapp:+5511900000000',
      to: 'whatsapp:+5511911111111',
      body: 'hello',
      sentBy: 'ai' as const,
      authorId: null,
      correlationId: idempotencyKey,
      traceId: trace.traceId,
      spanId: trace.spanId,
      parentSpanId: null,
      idempotencyKey,
      purpose: 'ai_reply',
      variables: {},
      content: null,
      expectedVersion,
      advance: { reason: 'assistant replied', actor: 'ai', trace },
    });
    const taken = key();
    const first = await insertSendingOutbound(db, reply(conversation, taken, 1));
    expect(first?.advanced).toEqual({ status: 'PROGRESS', version: 2 });
    // At the old version nothing is written (the guard); at the new one the message goes without a move (PROGRESS
    // is not a state a reply moves from).
    expect(await insertSendingOutbound(db, reply(conversation, key(), 1))).toBeNull();
    expect(await insertSendingOutbound(db, reply(conversation, key(), 2))).toMatchObject({ advanced: null });
    // A send that loses the race for its key moves nothing.
    const other = await newConversation();
    expect(await insertSendingOutbound(db, reply(other, taken, 1))).toBeNull();
    const rows = await db
      .select()
      .from(conversations)
      .where(inArray(conversations.id, [conversation.id, other.id]));
    expect(Object.fromEntries(rows.map((r) => [r.id, [r.status, r.version]]))).toEqual({
      [conversation.id]: ['PROGRESS', 2],
      [other.id]: ['PENDING', 1],
    });
    const history = await db
      .select()
      .from(conversationStateHistory)
      .where(eq(conversationStateHistory.conversationId, conversation.id));
    expect(history.map((h) => [h.fromStatus, h.toStatus, h.version, h.actor])).toEqual([
      ['PENDING', 'PROGRESS', 2, 'ai'],
    ]);
    const transitions = await db
      .select()
      .from(events)
      .where(and(eq(events.conversationId, conversation.id), eq(events.type, 'conversation.transition')));
    expect(transitions.map((e) => e.payload)).toEqual([
      { from: 'PENDING', to: 'PROGRESS', version: 2, reason: 'assistant replied', actor: 'ai' },
    ]);
  });
});

// Issue 25 A: the inbound statement opens the contact's conversation, the way openConversation does.
describe('the inbound statement opens the conversation', () => {
  const inbound = (tenantId: string, phone: string, openUnlessClosedWithinMs: number) => {
    const sid = `SM${randomBytes(16).toString('hex')}`;
    return {
      tenantId,
      channel: 'whatsapp' as const,
      messageSid: sid,
      from: `whatsapp:${phone}`,
      to: 'whatsapp:+5511900000000',
      phone,
      phoneHash: `h-${phone}`,
      profileName: null,
      body: 'oi',
      media: [],
      receivedAt: new Date().toISOString(),
      originalRepliedMessageSid: null,
      trace,
      storedSpan: trace,
      webhookPayload: {},
      routed: { workflowId: `wf-${phone}`, trace, openUnlessClosedWithinMs },
    };
  };

  it('opens one row per contact, finds it for the next message, and leaves a lately ended one to its run', async () => {
    const { tenant } = await seedTenant(db);
    const phone = randomPhone();
    const first = await recordInbound(db, inbound(tenant.id, phone, 60_000));
    expect(first.conversation).toMatchObject({ status: 'PENDING', version: 1 });
    const second = await recordInbound(db, inbound(tenant.id, phone, 60_000));
    expect(second.conversation).toEqual(first.conversation);
    // A redelivery of a stored message opens nothing new and finds the open row.
    const again = inbound(tenant.id, phone, 60_000);
    await recordInbound(db, again);
    expect((await recordInbound(db, again)).conversation).toEqual(first.conversation);
    const [opened] = await db
      .select()
      .from(events)
      .where(
        and(eq(events.conversationId, first.conversation!.conversationId), eq(events.type, 'conversation.opened')),
      );
    expect(opened).toMatchObject({ tenantId: tenant.id, contactId: first.contactId });

    await transition(db, {
      conversationId: first.conversation!.conversationId,
      to: 'EXPIRED',
      reason: 'idle timeout',
      actor: 'system',
      trace,
    });
    // Ended a moment ago: its run may be waiting for an NPS answer, so no row is opened beside it.
    expect((await recordInbound(db, inbound(tenant.id, phone, 60_000))).conversation).toBeNull();
    // Past the window a new conversation is opened, with its first history row.
    const later = await recordInbound(db, inbound(tenant.id, phone, 0));
    expect(later.conversation).toMatchObject({ status: 'PENDING', version: 1 });
    expect(later.conversation!.conversationId).not.toBe(first.conversation!.conversationId);
    const history = await db
      .select()
      .from(conversationStateHistory)
      .where(eq(conversationStateHistory.conversationId, later.conversation!.conversationId));
    expect(history.map((h) => [h.fromStatus, h.toStatus, h.version])).toEqual([[null, 'PENDING', 1]]);
    // Without `openUnlessClosedWithinMs` (the stand-alone record step) nothing is opened or looked up.
    const plain = { ...inbound(tenant.id, randomPhone(), 0), routed: null };
    expect((await recordInbound(db, plain)).conversation).toBeNull();
  });
});
