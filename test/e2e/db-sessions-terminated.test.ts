import { and, eq } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messages } from '../../src/db/schema';
import { newMessageSid } from '../../src/integrations/signed-webhook';
import { sentTo } from '../support/conversation';
import { eventually, randomPhone, startHarness, type Harness } from '../support/harness';

let h: Harness;
let admin: postgres.Sql;
let probe: postgres.Sql;
const PROBE = 'causeway-chaos-probe';
let database: string;
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => {
  uncaught.push(error);
};

beforeAll(async () => {
  h = await startHarness({ MESSAGE_DEBOUNCE: '200ms' });
  const url = new URL(h.env.DATABASE_URL!);
  database = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  admin = postgres(url.toString(), { max: 1, onnotice: () => undefined });
  // Reads the test database through a session the kills spare (by its application name), not the project's pool.
  probe = postgres(h.env.DATABASE_URL!, { max: 1, onnotice: () => undefined, connection: { application_name: PROBE } });
  process.on('uncaughtException', onUncaught);
});
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  await admin?.end();
  await probe?.end();
  await h?.close();
});

describe('database sessions terminated under load (H: porsager/postgres#1154 guarded)', () => {
  it('20 rounds of pg_terminate_backend while messages flow: no crash, every message answered exactly once', async () => {
    const tenant = await h.createTestTenant();
    const ROUNDS = 20;
    const PER_ROUND = 3;
    const customers: string[] = [];
    let terminated = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const wave = Array.from({ length: PER_ROUND }, () => `whatsapp:${randomPhone()}`);
      customers.push(...wave);
      // Each webhook is posted once, never retried (as Twilio by default): a killed session under the webhook's
      // tenant lookup is covered by the stale-if-error cache, and the message must still be answered.
      const posted = await Promise.all(
        wave.map(async (from, i) => {
          const r = await h.postInbound(tenant, { body: `pedido ${round}.${i}`, from, messageSid: newMessageSid() });
          expect(r.response.status).toBe(200);
          return r;
        }),
      );
      // Kill the sessions while this wave is in the pipeline: once one of its messages is stored, the rest are
      // between insert, routing, the AI turn and the send, inside transactions on the project's pool.
      await eventually(
        async () =>
          (await admin`SELECT 1 FROM pg_stat_activity WHERE datname = ${database}`).length > 0 &&
          // Read through the admin session: the project's pool is the one being killed, the probe must not depend on it.
          (await probe`SELECT 1 FROM messages WHERE provider_sid = ANY(${posted.map((p) => p.messageSid)})`).length > 0,
        20_000,
        `round ${round} in flight`,
      );
      const killed =
        await admin`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = ${database} AND pid <> pg_backend_pid() AND application_name <> ${PROBE} AND backend_type = 'client backend'`;
      terminated += killed.length;
      expect(h.workerState()).toBe('RUNNING');
    }
    await h.twilio.waitFor(() => customers.every((c) => sentTo(h, c).length >= 1), 50_000);
    expect(uncaught).toEqual([]);
    expect(h.workerState()).toBe('RUNNING');
    expect(terminated).toBeGreaterThanOrEqual(ROUNDS);
    // Exactly once: one reply per customer, the echo of their own message.
    for (const from of customers) expect(sentTo(h, from)).toHaveLength(1);
    const replies = await h.db
      .select({ to: messages.toAddress })
      .from(messages)
      .where(and(eq(messages.tenantId, tenant.tenantId), eq(messages.direction, 'outbound')));
    expect(replies).toHaveLength(customers.length);
  }, 90_000);
});
