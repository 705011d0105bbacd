import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ActivityDeps } from '../../src/activities/deps';
import { reconcileTenant } from '../../src/activities/reconcile';
import { messages } from '../../src/db/schema';
import { runMigrations } from '../../src/db/core/migrate';
import { newMessageSid } from '../../src/integrations/signed-webhook';
import { createLedgerPaymentChecker } from '../../src/integrations/payments';
import { createScriptedResponder } from '../../src/integrations/scripted-responder';
import { createTwilioGateway } from '../../src/integrations/twilio-gateway';
import { createLogger } from '../../src/logger';
import { sentTo } from '../support/conversation';
import {
  eventually,
  PUBLIC_BASE_URL,
  randomPhone,
  startHarness,
  type Harness,
  type TestTenant,
} from '../support/harness';

/**
 * Issue 24 D: the database outages a real deployment meets, each with every webhook posted ONCE (Twilio retries no
 * 5xx by default) and status callbacks as Twilio sends them. Every shape must end with each customer answered exactly
 * once and every reply's status settled. These shapes change a whole database (connections, role, read-only), so
 * the file gets a database and an application role of its own: the other test files share the run's database.
 */
let h: Harness;
let admin: postgres.Sql;
let database: string;
let role: string;

beforeAll(async () => {
  if (inject('databaseEmbedded')) return; // the shapes need a real server (ALTER DATABASE / ROLE)
  const base = new URL(inject('databaseUrl'));
  base.pathname = '/postgres';
  admin = postgres(base.toString(), { max: 1, onnotice: () => undefined });
  const suffix = randomBytes(4).toString('hex');
  database = `causeway_outage_${suffix}`;
  role = `causeway_app_${suffix}`;
  await admin.unsafe(`create role ${role} login`);
  await admin.unsafe(`create database ${database} owner ${role}`);
  const url = new URL(base);
  url.pathname = `/${database}`;
  url.username = role;
  // Migrated as the application role, so it owns its tables as in production.
  await runMigrations(url.toString());
  // Tenant cache TTL 0: every webhook looks its tenant up, so the outage always meets the stale-if-error path.
  h = await startHarness(
    { DATABASE_URL: url.toString(), MESSAGE_DEBOUNCE: '100ms' },
    { statusCallbacks: true, api: { tenantCacheTtlMs: 0 } },
  );
}, 180_000);

afterAll(async () => {
  await h?.close();
  if (admin) {
    await admin.unsafe(`alter database ${database} allow_connections true`).catch(() => undefined);
    await admin.unsafe(`drop database if exists ${database} with (force)`).catch(() => undefined);
    await admin.unsafe(`drop role if exists ${role}`).catch(() => undefined);
    await admin.end();
  }
});

const customer = () => `whatsapp:${randomPhone()}`;

/** Ends every session of the application's database, as a failover or maintenance does. */
async function terminateSessions() {
  await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${database} and pid <> pg_backend_pid()`;
}

/** What a new session of the application gets right now (null: it works). */
async function probeConnect(): Promise<{ code: string; severity: string } | null> {
  const url = new URL(h.env.DATABASE_URL!);
  const probe = postgres(url.toString(), { max: 1, onnotice: () => undefined, connect_timeout: 5 });
  try {
    await probe`insert into reconcile_watermarks (tenant_id, listed_until) select id, now() from tenants where false`;
    return null;
  } catch (error) {
    const e = error as { code?: string; severity?: string };
    return { code: e.code ?? 'unknown', severity: e.severity ?? 'unknown' };
  } finally {
    await probe.end({ timeout: 1 }).catch(() => undefined);
  }
}

async function replyRows(tenant: TestTenant) {
  return h.db
    .select({ status: messages.status, to: messages.toAddress })
    .from(messages)
    .where(and(eq(messages.tenantId, tenant.tenantId), eq(messages.direction, 'outbound')));
}

/**
 * One outage: a warm tenant (its webhook lookups cached, a reply already delivered), then the fault, a wave of
 * webhooks and a late status callback during it, then the repair. Every customer is answered exactly once, and every
 * reply reaches `delivered` (the late callback for the first reply: `read`).
 */
async function survives(
  fault: { start: () => Promise<void>; end: () => Promise<void>; expect: { code: string } },
  count = 10,
) {
  const tenant = await h.createTestTenant();
  const first = customer();
  await h.postInbound(tenant, { body: 'antes', from: first });
  await h.twilio.waitFor(() => sentTo(h, first).length === 1 && sentTo(h, first)[0]!.status === 'delivered', 30_000);
  const firstReply = sentTo(h, first)[0]!;
  await eventually(
    async () => (await replyRows(tenant)).some((r) => r.to === first && r.status === 'delivered'),
    20_000,
    'the first reply to be delivered',
  );

  const wave = Array.from({ length: count }, customer);
  let answers: Awaited<ReturnType<Harness['postInbound']>>[];
  let late: Response;
  await fault.start();
  try {
    // The fault is in place for a new session, with the error the shape is about.
    expect(await probeConnect()).toMatchObject({ code: fault.expect.code });
    answers = await Promise.all(
      wave.map((from, i) => h.postInbound(tenant, { body: `durante ${i}`, from, messageSid: newMessageSid() })),
    );
    // A status Twilio sends during the fault (the customer read the first reply) must not be lost either.
    late = await h.postStatus(tenant, { MessageSid: firstReply.sid, MessageStatus: 'read' });
  } finally {
    await fault.end();
  }

  expect(answers.map((a) => a.response.status)).toEqual(wave.map(() => 200));
  expect(late.status).toBeLessThan(300);
  const everyone = [first, ...wave];
  await h.twilio.waitFor(() => everyone.every((c) => sentTo(h, c).length >= 1), 90_000);
  await eventually(
    async () => {
      const rows = await replyRows(tenant);
      return (
        rows.length === everyone.length &&
        rows.every((r) => (r.to === first ? r.status === 'read' : r.status === 'delivered'))
      );
    },
    60_000,
    'every reply settled',
  );
  for (const c of everyone) expect(sentTo(h, c)).toHaveLength(1);
}

describe.skipIf(inject('databaseEmbedded'))('outage shapes (issue 24 D)', () => {
  it('a database closed to new connections (ALLOW_CONNECTIONS false, sessions ended): nothing lost', async () => {
    await survives({
      start: async () => {
        await admin.unsafe(`alter database ${database} allow_connections false`);
        await terminateSessions();
      },
      end: () => admin.unsafe(`alter database ${database} allow_connections true`).then(() => undefined),
      expect: { code: '55000' },
    });
  }, 180_000);

  it("the application's login refused after a credential rotation, then restored: nothing lost", async () => {
    // pg_hba here is `trust`, so a wrong password cannot be refused; NOLOGIN fails the same phase (authentication,
    // FATAL, class 28) the way a rotated password does (28P01).
    await survives({
      start: async () => {
        await admin.unsafe(`alter role ${role} nologin`);
        await terminateSessions();
      },
      end: () => admin.unsafe(`alter role ${role} login`).then(() => undefined),
      expect: { code: '28000' },
    });
  }, 180_000);

  it('a failover to a read-only server and back: nothing lost', async () => {
    // New sessions are read-only (a standby answers reads, refuses writes with 25006), until the failback.
    await survives({
      start: async () => {
        await admin.unsafe(`alter database ${database} set default_transaction_read_only = on`);
        await terminateSessions();
      },
      end: async () => {
        await admin.unsafe(`alter database ${database} reset default_transaction_read_only`);
        await terminateSessions();
      },
      expect: { code: '25006' },
    });
  }, 180_000);

  it('the API down for longer than the reconciliation lookback: the first scheduled run after it catches up', async () => {
    const tenant = await h.createTestTenant();
    const gateway = createTwilioGateway({ apiBaseUrl: h.twilio.url, timeoutMs: 5000 });
    const now = Date.now();
    const deps = (clock: number): ActivityDeps => ({
      db: h.db,
      twilio: gateway,
      ai: createScriptedResponder(),
      payments: createLedgerPaymentChecker(h.db),
      temporal: { client: h.client, taskQueue: h.env.TEMPORAL_TASK_QUEUE },
      log: createLogger('silent'),
      clock: () => new Date(clock),
      config: {
        publicBaseUrl: PUBLIC_BASE_URL,
        timing: { debounceMs: 0, idleAfterMs: 1, closeAfterMs: 2, npsWaitMs: 0, maxTurnsPerRun: 1 },
        campaign: { deliveryTimeoutMs: 60_000 },
        promises: { reminderBeforeMs: 0, checkAfterMs: 0 },
        reconcile: { settleAfterMs: 0, maxPages: 5, maxLookbackMs: 7 * 86_400_000 },
        whatsappWindowMs: h.env.WHATSAPP_WINDOW,
      },
    });
    // The Schedule's window (settle + 2 intervals) scaled down: one minute. A run completed 20 minutes ago...
    const LOOKBACK = 60_000;
    const before = await reconcileTenant(deps(now - 20 * 60_000), {
      tenantSlug: tenant.slug,
      lookbackMs: LOOKBACK,
      catchUp: true,
    });
    expect(before.truncated).toBe(false);
    // ...then the API was down: Twilio logged these messages 10 minutes ago and their webhooks never arrived.
    const lost = Array.from({ length: 5 }, () => ({ from: customer(), sid: newMessageSid() }));
    for (const m of lost)
      h.twilio.receive({
        sid: m.sid,
        accountSid: tenant.accountSid,
        from: m.from,
        to: tenant.address,
        body: 'alguém aí?',
        dateCreated: new Date(now - 10 * 60_000),
      });

    // The fixed window alone (a manual run of the same size) misses them: the loss this issue is about.
    const fixed = await reconcileTenant(deps(Date.now()), { tenantSlug: tenant.slug, lookbackMs: LOOKBACK });
    expect(fixed.inboundMissingFed).toBe(0);
    // The scheduled run reaches back to the last completed run and recovers every one, once.
    const caughtUp = await reconcileTenant(deps(Date.now()), {
      tenantSlug: tenant.slug,
      lookbackMs: LOOKBACK,
      catchUp: true,
    });
    expect(caughtUp.inboundMissingFed).toBe(lost.length);
    expect(caughtUp.caughtUpFrom).toBe(before.until);
    await h.twilio.waitFor(() => lost.every((m) => sentTo(h, m.from).length >= 1), 60_000);
    const again = await reconcileTenant(deps(Date.now()), {
      tenantSlug: tenant.slug,
      lookbackMs: LOOKBACK,
      catchUp: true,
    });
    expect(again.inboundMissingFed).toBe(0);
    await eventually(
      async () => {
        const rows = await replyRows(tenant);
        return rows.length === lost.length && rows.every((r) => r.status === 'delivered');
      },
      60_000,
      'every reply settled',
    );
    for (const m of lost) expect(sentTo(h, m.from)).toHaveLength(1);
  }, 180_000);
});
