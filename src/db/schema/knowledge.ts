// What the assistant is told: prompts, canned responses, the knowledge base.
import { sql } from 'drizzle-orm';
import {
  customType,
  boolean,
  doublePrecision,
  index,
  integer,
  pgTable,
  text,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { id, createdAt, updatedAt, instant } from './columns';
import { tenants, tenantRef } from './tenants';

export const promptTemplates = pgTable(
  'prompt_templates',
  {
    id: id(),
    // null = the built-in default every tenant falls back to.
    tenantId: uuid('tenant_id').references(() => tenants.id),
    assistantType: text('assistant_type').notNull(),
    name: text('name').notNull(),
    createdAt: createdAt(),
  },
  (t) => [unique('prompt_templates_tenant_type_uq').on(t.tenantId, t.assistantType).nullsNotDistinct()],
);

export const promptVersions = pgTable(
  'prompt_versions',
  {
    id: id(),
    templateId: uuid('template_id')
      .notNull()
      .references(() => promptTemplates.id),
    version: text('version').notNull(),
    content: text('content').notNull(),
    active: boolean('active').notNull().default(false),
    createdBy: text('created_by').notNull().default('system'),
    createdAt: createdAt(),
    /** When the version last became active: a rollback returns to the most recently active other version. */
    activatedAt: instant('activated_at'),
    activatedBy: text('activated_by'),
  },
  (t) => [
    uniqueIndex('prompt_versions_template_version_uq').on(t.templateId, t.version),
    uniqueIndex('prompt_versions_one_active_uq')
      .on(t.templateId)
      .where(sql`active`),
  ],
);

/**
 * Issue 20 E: canned responses agents insert into a reply. Per tenant, optionally per department (null: every
 * department). `body` may use {{first_name}}, {{name}}, {{agent_name}}, {{department}} (src/domain/canned.ts).
 */
export const cannedResponses = pgTable(
  'canned_responses',
  {
    id: id(),
    tenantId: tenantRef(),
    department: text('department'),
    /** Short name shown in the picker and used by `causeway canned remove`. */
    title: text('title').notNull(),
    body: text('body').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [unique('canned_responses_tenant_dept_title_uq').on(t.tenantId, t.department, t.title).nullsNotDistinct()],
);

/** Postgres full-text vector (drizzle has no built-in type for it). */
const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/** Issue 23 D: a tenant's knowledge base article (Markdown), cut into passages for retrieval. */
export const kbArticles = pgTable(
  'kb_articles',
  {
    id: id(),
    tenantId: tenantRef(),
    /** Stable name (from the file name): what a reply cites and `kb remove` takes. */
    slug: text('slug').notNull(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('kb_articles_tenant_slug_uq').on(t.tenantId, t.slug)],
);

/**
 * One retrievable passage: Portuguese full-text (generated tsvector, GIN) and, when pg_trgm exists, trigram
 * similarity (GIN, created in the migration); `embedding` when an embeddings model is configured (cosine in SQL).
 */
export const kbPassages = pgTable(
  'kb_passages',
  {
    id: id(),
    articleId: uuid('article_id')
      .notNull()
      .references(() => kbArticles.id, { onDelete: 'cascade' }),
    tenantId: tenantRef(),
    position: integer('position').notNull(),
    content: text('content').notNull(),
    tsv: tsvector('tsv')
      .notNull()
      .generatedAlwaysAs(sql`to_tsvector('portuguese', content)`),
    embedding: doublePrecision('embedding').array(),
  },
  (t) => [index('kb_passages_tenant_idx').on(t.tenantId), index('kb_passages_tsv_idx').using('gin', t.tsv)],
);
