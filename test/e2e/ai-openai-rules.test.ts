import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiResults } from '../../src/db/schema';
import { FailureType } from '../../src/contract';
import { sentTo } from '../support/conversation';
import { echoHandler, refusal, truncated } from '../support/fake-openai';
import { eventually, randomPhone, startHarness, type Harness } from '../support/harness';
import { raisedAlert } from '../support/alerts';

const FALLBACK_PT =
  'Desculpe, não consegui responder agora. Por favor, envie sua mensagem novamente em alguns minutos.';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ MESSAGE_DEBOUNCE: '200ms' });
});
afterAll(() => h?.close());

/** The tenant's ai_results rows, oldest first. */
const results = (tenantId: string) =>
  h.db.select().from(aiResults).where(eq(aiResults.tenantId, tenantId)).orderBy(asc(aiResults.createdAt));

describe('the turn against a faithful OpenAI (issue 23 A)', () => {
  it('the real request passes: nothing the fake answered 400, and one stable safety_identifier per contact', async () => {
    const tenant = await h.createTestTenant();
    const phone = randomPhone();
    const from = `whatsapp:${phone}`;
    const rejected = h.openai.rejected.length;
    const first = h.openai.requests.length;
    await h.postInbound(tenant, { body: 'primeira', from });
    await h.twilio.waitFor(() => sentTo(h, from).length === 1, 30_000);
    await h.postInbound(tenant, { body: 'segunda', from });
    await h.twilio.waitFor(() => sentTo(h, from).length === 2, 30_000);
    expect(h.openai.rejected.slice(rejected)).toEqual([]);
    const turns = h.openai.requests.slice(first).filter((r) => r.response_format);
    expect(turns.length).toBe(2);
    const ids = new Set(turns.map((r) => r.safety_identifier));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    expect(id).toMatch(/^cw-[0-9a-f]{40}$/);
    expect(id).not.toContain(phone.slice(1));
    expect(turns.every((r) => r.parallel_tool_calls === false && r.user === undefined)).toBe(true);
    // Another contact, another identifier.
    const other = `whatsapp:${randomPhone()}`;
    await h.postInbound(tenant, { body: 'outro', from: other });
    await h.twilio.waitFor(() => sentTo(h, other).length === 1, 30_000);
    expect(h.openai.requests.at(-1)!.safety_identifier).not.toBe(id);
  });

  for (const [name, answer, failure, kind] of [
    ['a refusal', refusal, FailureType.AiRefused, 'refusal'],
    ['a truncated answer', truncated, FailureType.AiTruncated, 'truncated'],
  ] as const) {
    it(`${name} is not retried: one call, the fallback, recorded in ai_results and the alert`, async () => {
      const tenant = await h.createTestTenant();
      const from = `whatsapp:${randomPhone()}`;
      let calls = 0;
      h.openai.setHandler((request) => {
        if (!request.response_format) return echoHandler(request);
        calls += 1;
        return answer();
      });
      try {
        await h.postInbound(tenant, { body: 'me ajuda', from });
        await h.twilio.waitFor(() => sentTo(h, from).length === 1, 30_000);
        expect(sentTo(h, from)[0]!.body).toBe(FALLBACK_PT);
        expect(calls).toBe(1);
        const rows = await results(tenant.tenantId);
        expect(rows.map((r) => [r.status, r.error?.split(':')[0]])).toEqual([['failed', kind]]);
        const alert = await raisedAlert(h, tenant.tenantId, 'ai_failure', 10_000, 'the ai_failure alert');
        expect(alert.payload).toMatchObject({ failureType: failure });
      } finally {
        h.openai.setHandler(echoHandler);
      }
    });
  }

  it('two parallel tool calls: the handoff is acted on and the ignored call recorded', async () => {
    const tenant = await h.createTestTenant();
    const from = `whatsapp:${randomPhone()}`;
    h.openai.setHandler((request) =>
      request.response_format
        ? {
            content: null,
            toolCalls: [
              { name: 'close_conversation', arguments: { reason: 'resolvido' } },
              { name: 'transfer_to_human', arguments: { department: 'billing', reason: 'contestação' } },
            ],
          }
        : echoHandler(request),
    );
    try {
      await h.postInbound(tenant, { body: 'quero falar com alguém', from });
      const row = await eventually(async () => (await results(tenant.tenantId)).at(0), 30_000, 'the turn');
      expect(row.status).toBe('ok');
      expect(row.output).toMatchObject({
        action: { type: 'handoff', department: 'billing' },
        ignoredToolCalls: ['close_conversation'],
      });
    } finally {
      h.openai.setHandler(echoHandler);
    }
  });
});
