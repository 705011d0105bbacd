// Issue 23 D: retrieval quality on the labelled set in bench/kb (22 articles, 57 questions in Portuguese).
// Shared by `npm run bench` (section kb) and test/integration/kb-retrieval.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from '../src/db/core/client';
import { searchPassages, upsertArticle } from '../src/db/knowledge/kb';
import { articleSlug, parseArticle } from '../src/domain/kb';

export const KB_DIR = path.join(import.meta.dirname, 'kb');

export interface KbEvaluation {
  articles: number;
  questions: number;
  recallAt3: number;
  mrr: number;
  misses: { question: string; expected: string; got: string[] }[];
}

/** Loads the set's articles into the tenant's knowledge base (as `causeway kb add` does). */
export async function loadKbSet(db: Database, tenantId: string): Promise<number> {
  const dir = path.join(KB_DIR, 'articles');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.md'));
  for (const file of files) {
    const body = fs.readFileSync(path.join(dir, file), 'utf8');
    const slug = articleSlug(file);
    const parsed = parseArticle(body, slug);
    await upsertArticle(db, { tenantId, slug, title: parsed.title, body, passages: parsed.passages });
  }
  return files.length;
}

/** recall@3 (the expected article among the first three) and MRR (over the first ten) of every question. */
export async function evaluateKb(db: Database, tenantId: string, articles: number): Promise<KbEvaluation> {
  const questions = JSON.parse(fs.readFileSync(path.join(KB_DIR, 'questions.json'), 'utf8')) as {
    question: string;
    article: string;
  }[];
  let hits = 0;
  let reciprocal = 0;
  const misses: KbEvaluation['misses'] = [];
  for (const q of questions) {
    const found = (await searchPassages(db, { tenantId, question: q.question, limit: 10 })).map((h) => h.slug);
    const rank = found.indexOf(q.article);
    if (rank >= 0 && rank < 3) hits += 1;
    else misses.push({ question: q.question, expected: q.article, got: found.slice(0, 3) });
    if (rank >= 0) reciprocal += 1 / (rank + 1);
  }
  return {
    articles,
    questions: questions.length,
    recallAt3: hits / questions.length,
    mrr: reciprocal / questions.length,
    misses,
  };
}
