// `npm run bench kb` (and the default run): recall@3 and MRR of the knowledge base retriever on the labelled set,
// against a scratch database on TEST_DATABASE_URL's server (the embedded PGlite when it is unreachable).
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import type { Env } from '../src/config/env';
import { createDb } from '../src/db/core/client';
import { runMigrations } from '../src/db/core/migrate';
import { createTenant } from '../src/db/tenants/tenants';
import { figure } from './figures';
import { evaluateKb, loadKbSet } from './kb-eval';

export async function benchKb(env: Env, print: (line: string) => void): Promise<void> {
  print('Knowledge base retrieval (bench/kb: labelled Portuguese questions over the articles)');
  const admin = postgres(env.TEST_DATABASE_URL, { max: 1, onnotice: () => undefined });
  const name = `causeway_bench_kb_${randomBytes(4).toString('hex')}`;
  await admin.unsafe(`create database "${name}"`);
  const url = new URL(env.TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const database = createDb(url.toString(), { max: 2 });
  try {
    await runMigrations(url.toString());
    const { tenant } = await createTenant(database.db, {
      slug: `kb-${randomBytes(3).toString('hex')}`,
      name: 'KB bench',
      accountSid: `AC${randomBytes(16).toString('hex')}`,
      authToken: randomBytes(16).toString('hex'),
      numbers: [],
      mode: 'simulated',
    });
    const articles = await loadKbSet(database.db, tenant.id);
    const result = await evaluateKb(database.db, tenant.id, articles);
    print(`  ${result.questions} questions over ${result.articles} articles (lexical: Portuguese full-text + trigram)`);
    figure('kb', 'kb recall@3', result.recallAt3, 'ratio', null, { of: 'value', op: '>=', limit: 0.9 });
    figure('kb', 'kb MRR', result.mrr, 'ratio');
    for (const miss of result.misses)
      print(`    miss: «${miss.question}» expected ${miss.expected}, got ${miss.got.join(', ') || 'nothing'}`);
  } finally {
    await database.close();
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end();
  }
}
