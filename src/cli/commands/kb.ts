import fs from 'node:fs';
import type { Command } from 'commander';
import { knowledgeGaps, listArticles, removeArticle, upsertArticle } from '../../db/knowledge/kb';
import { articleFromFile, KbInputError } from '../../domain/kb';
import { parseDuration } from '../../domain/duration';
import { type CliContext, CliError, printJson, withTenant } from '../context';

/** Issue 23 D: the tenant's knowledge base (articles the assistant answers from and cites). */
export function registerKbCommands(program: Command, ctx: () => CliContext) {
  const kb = program.command('kb').description("the tenant's knowledge base: articles the assistant answers from");

  kb.command('add')
    .description('add or replace articles from Markdown files (the file name is the article id the replies cite)')
    .option('--tenant <slug>', 'tenant (default: the only one)')
    .argument('<files...>', 'Markdown files (# Title, then paragraphs and ## sections)')
    .action(async (files: string[], o: { tenant?: string }) => {
      const articles = files.map((file) => {
        let text: string;
        try {
          text = fs.readFileSync(file, 'utf8');
        } catch (error) {
          throw new CliError(`${file}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
        }
        try {
          return articleFromFile(file, text);
        } catch (error) {
          if (error instanceof KbInputError) throw new CliError(`${file}: ${error.message}`);
          throw error;
        }
      });
      await withTenant(ctx(), o.tenant, async (db, tenant) => {
        for (const article of articles) {
          const saved = await upsertArticle(db, { tenantId: tenant.id, ...article });
          console.log(
            `${saved.replaced ? 'replaced' : 'added'} ${article.slug} ("${article.title}", ${saved.passages} passage${saved.passages === 1 ? '' : 's'})`,
          );
        }
      });
    });

  kb.command('list')
    .description("the tenant's articles")
    .option('--tenant <slug>', 'tenant (default: the only one)')
    .option('--json', 'machine-readable output', false)
    .action(async (o: { tenant?: string; json: boolean }) => {
      await withTenant(ctx(), o.tenant, async (db, tenant) => {
        const rows = await listArticles(db, tenant.id);
        if (o.json) return printJson(rows);
        if (rows.length === 0) return console.log(`tenant ${tenant.slug}: no articles (causeway kb add FILE.md)`);
        for (const r of rows) console.log(`${r.slug}  ${r.title}  (${r.passages} passages)`);
      });
    });

  kb.command('remove')
    .description('remove an article by its id')
    .option('--tenant <slug>', 'tenant (default: the only one)')
    .argument('<article>', 'article id (as `kb list` shows it)')
    .action(async (slug: string, o: { tenant?: string }) => {
      await withTenant(ctx(), o.tenant, async (db, tenant) => {
        if (!(await removeArticle(db, tenant.id, slug))) throw new CliError(`no article ${slug}`);
        console.log(`removed ${slug}`);
      });
    });

  kb.command('gaps')
    .description('questions the knowledge base had no good answer for, most asked first')
    .option('--tenant <slug>', 'tenant (default: the only one)')
    .option('--since <duration>', 'how far back', '30d')
    .option('--json', 'machine-readable output', false)
    .action(async (o: { tenant?: string; since: string; json: boolean }) => {
      let sinceMs: number;
      try {
        sinceMs = parseDuration(o.since);
      } catch (error) {
        throw new CliError(`--since: ${(error as Error).message}`);
      }
      await withTenant(ctx(), o.tenant, async (db, tenant) => {
        const gaps = await knowledgeGaps(db, tenant.id, { since: new Date(Date.now() - sinceMs), limit: 50 });
        if (o.json) return printJson(gaps);
        if (gaps.length === 0) return console.log('no knowledge gaps');
        for (const g of gaps) console.log(`${String(g.count).padStart(4)}  ${g.question}`);
      });
    });
}
