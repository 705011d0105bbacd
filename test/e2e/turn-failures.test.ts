import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FailureType } from '../../src/contract';
import { conversationOf, sentTo } from '../support/conversation';
import { echoHandler, openAiError } from '../support/fake-openai';
import { eventually, randomPhone, startHarness, type Harness } from '../support/harness';
import { raisedAlert, tenantAlerts } from '../support/alerts';

const FALLBACK_EN = 'Sorry, I could not answer just now. Please send your message again in a few minutes.';
const FALLBACK_PT =
  'Desculpe, não consegui responder agora. Por favor, envie sua mensagem novamente em alguns minutos.';

let h: Harness;
let admin: postgres.Sql;
let database: string;
beforeAll(async () => {
  h = await startHarness({ MESSAGE_DEBOUNCE: '200ms' });
  // The admin session lives in another database, so cutting off the test database leaves it standing.
  const url = new URL(h.env.DATABASE_URL!);
  database = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  admin = postgres(url.toString(), { max: 1, onnotice: () => undefined });
});
afterAll(async () => {
  await admin?.unsafe(`ALTER DATABASE "${database}" WITH ALLOW_CONNECTIONS true`).catch(() => undefined);
  await admin?.end();
  await h?.close();
});

/** A Postgres outage for the project: no new sessions, every open one terminated (as a restart does). */
async function cutOffDatabase() {
  await admin.unsafe(`ALTER DATABASE "${database}" WITH ALLOW_CONNECTIONS false`);
  await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${database} AND pid <> pg_backend_pid()`;
}
const restoreDatabase = () => admin.unsafe(`ALTER DATABASE "${database}" WITH ALLOW_CONNECTIONS true`);

describe('the fallback is for AI failures only (G)', () => {
  it('a Postgres outage during the turn: the customer waits and gets the real answer, never the apology', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    let cut = false;
    h.openai.setHandler(async (request) => {
      // The AI answers fine, but the database goes away while it thinks: storing the result fails.
      if (!cut && request.messages.some((m) => m.content === 'onde está meu pedido?')) {
        cut = true;
        await cutOffDatabase();
      }
      return echoHandler(request);
    });
    try {
      const { messageSid } = await h.postInbound(tenant, { body: 'onde está meu pedido?', from });
      // The inbound workflow hands the message over before the (debounced) AI turn starts.
      const workflowId = await conversationOf(h, messageSid);
      await eventually(() => Promise.resolve(cut), 20_000, 'the AI call that cuts the database off');
      // The AI activity used its tries on the outage: the workflow saw a DatabaseUnavailable failure (and is waiting).
      await eventually(
        async () => {
          const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
          // A regular activity's failure, or (issue 14: the turn's steps are local activities) a local one's marker.
          const failures = (history.events ?? []).map(
            (e) => e.activityTaskFailedEventAttributes?.failure ?? e.markerRecordedEventAttributes?.failure,
          );
          return failures.some(
            (f) =>
              f?.applicationFailureInfo?.type === FailureType.DatabaseUnavailable ||
              f?.cause?.applicationFailureInfo?.type === FailureType.DatabaseUnavailable,
          );
        },
        30_000,
        'the turn to fail on the database',
      );
      await restoreDatabase();
      await h.twilio.waitFor(() => sentTo(h, from).length === 1, 60_000);
      expect(sentTo(h, from).map((m) => m.body)).toEqual(['Echo: onde está meu pedido?']);
      expect(h.twilio.sent.filter((m) => m.body === FALLBACK_EN || m.body === FALLBACK_PT)).toHaveLength(0);
      expect(await tenantAlerts(h, tenant.tenantId, 'ai_failure')).toHaveLength(0);
    } finally {
      await restoreDatabase();
      h.openai.setHandler(echoHandler);
    }
  });

  it('an AI outage (OpenAI answering 500/503): the fallback, which promises nothing, and one ai_failure alert', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    let calls = 0;
    h.openai.setHandler(() => openAiError(calls++ % 2 === 0 ? 500 : 503));
    try {
      await h.postInbound(tenant, { body: 'alô?', from });
      await h.twilio.waitFor(() => sentTo(h, from).length === 1, 30_000);
      expect(sentTo(h, from)[0]!.body).toBe(FALLBACK_PT);
      const raised = await raisedAlert(h, tenant.tenantId, 'ai_failure', 10_000, 'the ai_failure alert');
      expect(raised.severity).toBe('high');
      expect(raised.message).not.toContain('alô');
      expect(await tenantAlerts(h, tenant.tenantId, 'ai_failure')).toHaveLength(1);
    } finally {
      h.openai.setHandler(echoHandler);
    }
  });
});
