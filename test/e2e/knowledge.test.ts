import fs from 'node:fs';
import path from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiResults } from '../../src/db/schema';
import { sentTo } from '../support/conversation';
import { echoHandler, turn, type ChatRequest } from '../support/fake-openai';
import { randomPhone, startHarness, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ MESSAGE_DEBOUNCE: '100ms' });
});
afterAll(() => h?.close());

const article = (slug: string) => fs.readFileSync(path.resolve('bench/kb/articles', `${slug}.md`), 'utf8');

describe('knowledge base with citations (issue 23 D)', () => {
  it('articles added through the API reach the turn with their ids; the reply cites one; unmatched questions are gaps', async () => {
    const tenant = await h.createTestTenant();
    const admin = await h.createOperator(tenant, 'ADMIN');
    const agent = await h.createOperator(tenant, 'AGENT');
    for (const slug of ['segunda-via-boleto', 'pagamento-pix', 'planos-fibra']) {
      const added = await h.api('/api/admin/kb/articles', {
        key: admin.apiKey,
        body: { id: slug, markdown: article(slug) },
      });
      expect(added.status, JSON.stringify(added.json)).toBe(201);
    }
    expect((await h.api('/api/admin/kb/articles', { key: agent.apiKey })).status).toBe(403);
    expect(
      (await h.api('/api/admin/kb/articles', { key: admin.apiKey, body: { id: 'Bad Id', markdown: 'x' } })).status,
    ).toBe(400);
    const listed = await h.api('/api/admin/kb/articles', { key: admin.apiKey });
    expect(listed.json.articles.map((a: { slug: string }) => a.slug)).toEqual([
      'pagamento-pix',
      'planos-fibra',
      'segunda-via-boleto',
    ]);

    // A model that cites the first passage it was given.
    h.openai.setHandler((request: ChatRequest) => {
      if (!request.response_format) return echoHandler(request);
      const cited = /^\[([a-z0-9-]+)\] /m.exec(request.messages[0]!.content)?.[1];
      return { content: JSON.stringify({ ...JSON.parse(turn('Resposta').content), sources: cited ? [cited] : [] }) };
    });
    const from = `whatsapp:${randomPhone()}`;
    try {
      await h.postInbound(tenant, { body: 'como tiro a segunda via do boleto?', from });
      await h.twilio.waitFor(() => sentTo(h, from).length === 1, 30_000);
      const system = h.openai.requests.filter((r) => r.response_format).at(-1)!.messages[0]!.content;
      expect(system).toMatch(/^\[segunda-via-boleto\] Segunda via do boleto: Para emitir/m);
      for (const body of ['vocês vendem seguro de carro?', 'Vocês vendem seguro de carro?']) {
        await h.postInbound(tenant, { body, from });
        await h.twilio.waitFor(() => sentTo(h, from).length === (body.startsWith('v') ? 2 : 3), 30_000);
      }
    } finally {
      h.openai.setHandler(echoHandler);
    }
    const rows = await h.db
      .select({ output: aiResults.output })
      .from(aiResults)
      .where(eq(aiResults.tenantId, tenant.tenantId))
      .orderBy(asc(aiResults.createdAt));
    const kb = rows.map((r) => (r.output as { kb: Record<string, unknown> }).kb);
    expect(kb[0]).toMatchObject({ gap: false, cited: ['segunda-via-boleto'] });
    expect((kb[0]!.passages as { article: string }[])[0]!.article).toBe('segunda-via-boleto');
    expect(kb[1]).toMatchObject({ gap: true, passages: [], cited: [] });
    const gaps = await h.api('/api/admin/kb/gaps', { key: admin.apiKey });
    expect(gaps.json.gaps).toEqual([expect.objectContaining({ question: 'vocês vendem seguro de carro?', count: 2 })]);

    expect((await h.api('/api/admin/kb/articles/planos-fibra', { key: admin.apiKey, method: 'DELETE' })).status).toBe(
      204,
    );
    expect((await h.api('/api/admin/kb/articles/planos-fibra', { key: admin.apiKey, method: 'DELETE' })).status).toBe(
      404,
    );
  });
});
