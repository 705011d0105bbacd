import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateKb, loadKbSet } from '../../bench/kb-eval';
import { knowledgeGaps, listArticles, removeArticle, searchPassages, upsertArticle } from '../../src/db/knowledge/kb';
import { parseArticle } from '../../src/domain/kb';
import { seedTenant, testDb } from '../support/db';

const database = testDb();
let tenantId: string;
let articles: number;
beforeAll(async () => {
  tenantId = (await seedTenant(database.db)).tenant.id;
  articles = await loadKbSet(database.db, tenantId);
});
afterAll(() => database.close());

describe('knowledge base retrieval (issue 23 D)', () => {
  it('recall@3 ≥ 0.9 on the labelled set with the lexical retriever (Portuguese full-text + trigram)', async () => {
    const result = await evaluateKb(database.db, tenantId, articles);
    expect(result.articles).toBeGreaterThanOrEqual(20);
    expect(result.questions).toBeGreaterThanOrEqual(50);
    expect(result.recallAt3, JSON.stringify(result.misses, null, 1)).toBeGreaterThanOrEqual(0.9);
    expect(result.mrr).toBeGreaterThan(0.8);
  });

  it('articles are per tenant, replaced by slug and removed with their passages', async () => {
    const other = (await seedTenant(database.db)).tenant.id;
    expect(await searchPassages(database.db, { tenantId: other, question: 'segunda via do boleto', limit: 3 })).toEqual(
      [],
    );
    const parsed = parseArticle('# Horário\n\nAbrimos às 9h.\n\n## Feriados\n\nFechado no Natal.', 'horario');
    expect(parsed).toEqual({
      title: 'Horário',
      passages: ['Horário: Abrimos às 9h.', 'Horário — Feriados: Fechado no Natal.'],
    });
    await upsertArticle(database.db, {
      tenantId: other,
      slug: 'horario',
      title: parsed.title,
      body: '',
      passages: parsed.passages,
    });
    const again = await upsertArticle(database.db, {
      tenantId: other,
      slug: 'horario',
      title: 'Horário',
      body: '',
      passages: ['Horário: Abrimos às 8h.'],
    });
    expect(again).toMatchObject({ replaced: true, passages: 1 });
    expect(await listArticles(database.db, other)).toEqual([expect.objectContaining({ slug: 'horario', passages: 1 })]);
    const [hit] = await searchPassages(database.db, { tenantId: other, question: 'que horas vocês abrem?', limit: 3 });
    expect(hit).toMatchObject({ slug: 'horario', content: 'Horário: Abrimos às 8h.' });
    expect(await removeArticle(database.db, other, 'horario')).toBe(true);
    expect(await removeArticle(database.db, other, 'horario')).toBe(false);
    expect(await knowledgeGaps(database.db, other, { since: new Date(0), limit: 10 })).toEqual([]);
  });
});
