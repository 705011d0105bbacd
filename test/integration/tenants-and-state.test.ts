import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { transition } from '../../src/activities/conversation';
import { createTenantResolver } from '../../src/api/tenant-cache';
import { apiKeys, contacts, conversations, conversationStateHistory, twilioAccounts } from '../../src/db/schema';
import { createUser, findOperatorByApiKey, rotateApiKeys } from '../../src/db/users';
import { hashApiKey } from '../../src/domain/api-keys';
import { createTenant, findTenantNumber } from '../../src/db/tenants';
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
});
