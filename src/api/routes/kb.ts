import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { knowledgeGaps, listArticles, removeArticle, upsertArticle } from '../../db/knowledge/kb';
import { articleFromFile, KbInputError } from '../../domain/kb';
import { authenticate, requireRole } from '../auth';
import { readJson } from '../body';
import type { AppDeps, AppEnv } from '../context';
import { ApiError } from '../errors';

const articleBody = z.object({
  /** The article id replies cite (a-z, 0-9, -). */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,79}$/),
  /** Markdown: `# Title`, paragraphs, `## Sections`. */
  markdown: z.string().min(1).max(200_000),
});

/**
 * Issue 23 D: the tenant's knowledge base for ADMINs: `GET/POST /api/admin/kb/articles`,
 * `DELETE /api/admin/kb/articles/:id`, and `GET /api/admin/kb/gaps?days=30` (questions with no good match, counted).
 */
export function kbRoutes(deps: AppDeps) {
  const { db } = deps;
  const tenantOf = (c: Context<AppEnv>) => c.get('operator').tenantId;
  return new Hono<AppEnv>()
    .use('*', authenticate(deps), requireRole('ADMIN'))
    .get('/articles', async (c) => c.json({ articles: await listArticles(db, tenantOf(c)) }))
    .post('/articles', async (c) => {
      const body = await readJson(c, articleBody);
      let article;
      try {
        article = articleFromFile(`${body.id}.md`, body.markdown, body.id);
      } catch (error) {
        if (error instanceof KbInputError) throw new ApiError('bad_request', error.message);
        throw error;
      }
      const saved = await upsertArticle(db, { tenantId: tenantOf(c), ...article });
      const { passages, replaced } = saved;
      return c.json({ article: { id: article.slug, title: article.title, passages, replaced } }, replaced ? 200 : 201);
    })
    .delete('/articles/:id', async (c) => {
      if (!(await removeArticle(db, tenantOf(c), c.req.param('id'))))
        throw new ApiError('not_found', 'no such article');
      return c.body(null, 204);
    })
    .get('/gaps', async (c) => {
      const days = Number(c.req.query('days') ?? '30');
      if (!Number.isInteger(days) || days < 1 || days > 365) throw new ApiError('bad_request', 'days: 1 to 365');
      return c.json({
        gaps: await knowledgeGaps(db, tenantOf(c), { since: new Date(Date.now() - days * 86_400_000), limit: 100 }),
      });
    });
}
