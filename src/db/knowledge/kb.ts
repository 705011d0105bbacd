import { and, eq, sql } from 'drizzle-orm';
import type { Database, DbOrTx } from '../core/client';
import { kbArticles, kbPassages } from '../schema';
import { KB_TRIGRAM_MATCH } from '../../domain/kb';

export type KbHit = {
  passageId: string;
  articleId: string;
  slug: string;
  title: string;
  content: string;
  score: number;
  /** The full-text part of the score (0: no word of the question, stemmed, is in the passage). */
  lexical: number;
  /** Trigram word similarity (0 without pg_trgm). */
  trigram: number;
};

/** Adds or replaces (same slug) an article and its passages in one transaction. */
export async function upsertArticle(
  db: Database,
  input: { tenantId: string; slug: string; title: string; body: string; passages: string[]; embeddings?: number[][] },
): Promise<{ id: string; passages: number; replaced: boolean }> {
  return db.transaction(async (tx) => {
    const [existing] = await tx
      .select({ id: kbArticles.id })
      .from(kbArticles)
      .where(and(eq(kbArticles.tenantId, input.tenantId), eq(kbArticles.slug, input.slug)));
    if (existing) await tx.delete(kbArticles).where(eq(kbArticles.id, existing.id));
    const [row] = await tx
      .insert(kbArticles)
      .values({ tenantId: input.tenantId, slug: input.slug, title: input.title, body: input.body })
      .returning({ id: kbArticles.id });
    if (input.passages.length > 0)
      await tx.insert(kbPassages).values(
        input.passages.map((content, position) => ({
          articleId: row!.id,
          tenantId: input.tenantId,
          position,
          content,
          embedding: input.embeddings?.[position] ?? null,
        })),
      );
    return { id: row!.id, passages: input.passages.length, replaced: Boolean(existing) };
  });
}

export async function listArticles(db: DbOrTx, tenantId: string) {
  return db
    .select({
      slug: kbArticles.slug,
      title: kbArticles.title,
      updatedAt: kbArticles.updatedAt,
      passages: sql<number>`(select count(*)::int from kb_passages p where p.article_id = "kb_articles"."id")`,
    })
    .from(kbArticles)
    .where(eq(kbArticles.tenantId, tenantId))
    .orderBy(kbArticles.slug);
}

/** Removes an article (its passages go with it); false when there was none. */
export async function removeArticle(db: DbOrTx, tenantId: string, slug: string): Promise<boolean> {
  const removed = await db
    .delete(kbArticles)
    .where(and(eq(kbArticles.tenantId, tenantId), eq(kbArticles.slug, slug)))
    .returning({ id: kbArticles.id });
  return removed.length > 0;
}

let trigram: Promise<boolean> | undefined;
/** Whether pg_trgm is installed (checked once per process): without it retrieval is full-text only. */
function hasTrigram(db: DbOrTx): Promise<boolean> {
  trigram ??= db
    .execute<{ ok: boolean }>(sql`select exists (select 1 from pg_extension where extname = 'pg_trgm') as ok`)
    .then((rows) => rows[0]?.ok === true)
    .catch(() => false);
  return trigram;
}

/**
 * The best passages for a question, at most one per article, best first. Full-text: the question's Portuguese
 * lexemes OR-ed (a question rarely shares all its words with the answer), ranked by cover density; plus trigram
 * word similarity where pg_trgm exists (typos, word forms the stemmer misses); plus cosine similarity of embeddings
 * when both the question and the passages have one.
 */
export async function searchPassages(
  db: DbOrTx,
  input: { tenantId: string; question: string; limit: number; embedding?: number[] | null },
): Promise<KbHit[]> {
  const trgm = await hasTrigram(db);
  const similarity = trgm ? sql`word_similarity(${input.question}, p.content)` : sql`0`;
  const cosine = input.embedding
    ? sql`coalesce((select sum(a * b) / nullif(sqrt(sum(a * a)) * sqrt(sum(b * b)), 0)
        from unnest(p.embedding, ${`{${input.embedding.join(',')}}`}::float8[]) as v(a, b)), 0)`
    : sql`0`;
  const rows = await db.execute<KbHit>(sql`
    with q as (
      select nullif(array_to_string(tsvector_to_array(to_tsvector('portuguese', ${input.question})), ' | '), '') as terms
    ),
    query as (select case when terms is null then null else to_tsquery('portuguese', terms) end as tsq from q),
    parts as (
      select p.id, p.article_id, p.content,
        coalesce(ts_rank_cd(p.tsv, (select tsq from query), 1), 0) as lexical, ${similarity} as trigram,
        ${cosine} as cosine
      from kb_passages p
      where p.tenant_id = ${input.tenantId}
    ),
    scored as (select *, lexical + 0.5 * trigram + cosine as score from parts),
    best as (
      select distinct on (article_id) id, article_id, content, score, lexical, trigram
      from scored order by article_id, score desc
    )
    select b.id as "passageId", b.article_id as "articleId", a.slug, a.title, b.content, b.score::float8 as score,
      b.lexical::float8 as lexical, b.trigram::float8 as trigram
    from best b join kb_articles a on a.id = b.article_id
    where b.score > 0
    order by b.score desc
    limit ${input.limit}`);
  return rows.map((r) => ({ ...r, score: Number(r.score), lexical: Number(r.lexical), trigram: Number(r.trigram) }));
}

/**
 * Knowledge gaps: customer questions the knowledge base had no good match for (recorded with the turn in
 * ai_results, so retention and erasure cover them), grouped by their text, most asked first.
 */
export async function knowledgeGaps(db: DbOrTx, tenantId: string, options: { since: Date; limit: number }) {
  return db.execute<{ question: string; count: number; lastAsked: string }>(sql`
    select lower(trim(output->'kb'->>'query')) as question, count(*)::int as count, max(created_at) as "lastAsked"
    from ai_results
    where tenant_id = ${tenantId} and status = 'ok' and created_at >= ${options.since.toISOString()}::timestamptz
      and (output->'kb'->>'gap')::boolean
    group by 1
    order by count desc, "lastAsked" desc
    limit ${options.limit}`);
}

/**
 * A passage answers the question when they share a (stemmed) word, or when they are very close in spelling (typos):
 * trigram similarity alone rates any short text against any passage around 0.1–0.3, so it cannot decide a match.
 */
export const isMatch = (hit: KbHit) => hit.lexical > 0 || hit.trigram >= KB_TRIGRAM_MATCH;
