import { and, asc, desc, eq, isNotNull, isNull, lt, ne, or, sql } from 'drizzle-orm';
import type { Database, DbOrTx } from '../core/client';
import { promptTemplates, promptVersions, tenants } from '../schema';

/** A prompt operation that cannot be done as asked (thrown inside the transaction); src/services/prompts.ts maps it. */
export class PromptError extends Error {
  constructor(
    readonly code: 'not_found' | 'conflict' | 'bad_request',
    message: string,
  ) {
    super(message);
    this.name = 'PromptError';
  }
}

export const PROMPT_VERSION = /^[\w.-]{1,32}$/;
export const ASSISTANT_TYPE = /^[a-z][a-z0-9_]{0,31}$/;
/** A system prompt larger than this is a mistake (a pasted file), not a prompt. */
export const MAX_PROMPT_CHARS = 20_000;

export interface PromptVersionRow {
  id: string;
  assistantType: string;
  /** `tenant`: the tenant's own; `built-in`: the default every tenant falls back to (read-only here). */
  scope: 'tenant' | 'built-in';
  version: string;
  active: boolean;
  /** The version the AI turn uses now for this assistant type (the tenant's active one, else the built-in). */
  inEffect: boolean;
  createdBy: string;
  createdAt: Date;
  activatedAt: Date | null;
  activatedBy: string | null;
}

const columns = {
  id: promptVersions.id,
  assistantType: promptTemplates.assistantType,
  tenantId: promptTemplates.tenantId,
  version: promptVersions.version,
  active: promptVersions.active,
  createdBy: promptVersions.createdBy,
  createdAt: promptVersions.createdAt,
  activatedAt: promptVersions.activatedAt,
  activatedBy: promptVersions.activatedBy,
};

/** Every prompt version a tenant sees: its own and the built-in ones, by assistant type, newest first. */
export async function listPromptVersions(db: DbOrTx, tenantId: string): Promise<PromptVersionRow[]> {
  const rows = await db
    .select(columns)
    .from(promptVersions)
    .innerJoin(promptTemplates, eq(promptTemplates.id, promptVersions.templateId))
    .where(or(eq(promptTemplates.tenantId, tenantId), isNull(promptTemplates.tenantId)))
    .orderBy(
      asc(promptTemplates.assistantType),
      sql`${promptTemplates.tenantId} is null`,
      desc(promptVersions.createdAt),
      desc(promptVersions.version),
    );
  const tenantActive = new Set(rows.filter((r) => r.tenantId !== null && r.active).map((r) => r.assistantType));
  return rows.map(({ tenantId: owner, ...r }) => ({
    ...r,
    scope: owner === null ? 'built-in' : 'tenant',
    inEffect: r.active && (owner !== null || !tenantActive.has(r.assistantType)),
  }));
}

/** One version with its text: the tenant's own of that name first, else the built-in one. */
export async function findPromptVersion(db: DbOrTx, tenantId: string, assistantType: string, version: string) {
  const [row] = await db
    .select({ ...columns, content: promptVersions.content })
    .from(promptVersions)
    .innerJoin(promptTemplates, eq(promptTemplates.id, promptVersions.templateId))
    .where(
      and(
        eq(promptTemplates.assistantType, assistantType),
        eq(promptVersions.version, version),
        or(eq(promptTemplates.tenantId, tenantId), isNull(promptTemplates.tenantId)),
      ),
    )
    .orderBy(sql`${promptTemplates.tenantId} is null`)
    .limit(1);
  if (!row) throw new PromptError('not_found', `no ${assistantType} prompt version ${version}`);
  const { tenantId: owner, ...rest } = row;
  return { ...rest, scope: owner === null ? ('built-in' as const) : ('tenant' as const) };
}

/** The tenant's own template for an assistant type, locked for update (activations of one template serialize). */
async function lockTenantTemplate(tx: DbOrTx, tenantId: string, assistantType: string) {
  const [row] = await tx
    .select({ id: promptTemplates.id })
    .from(promptTemplates)
    .where(and(eq(promptTemplates.tenantId, tenantId), eq(promptTemplates.assistantType, assistantType)))
    .for('update');
  return row ?? null;
}

/** `stamp: false` (a rollback) keeps the version's activation time, so repeated rollbacks keep walking back. */
async function activateIn(tx: DbOrTx, templateId: string, versionId: string | null, actor: string, stamp = true) {
  // Deactivate first: prompt_versions_one_active_uq allows one active row per template at any moment.
  await tx
    .update(promptVersions)
    .set({ active: false })
    .where(and(eq(promptVersions.templateId, templateId), eq(promptVersions.active, true)));
  if (versionId)
    await tx
      .update(promptVersions)
      .set(stamp ? { active: true, activatedAt: sql`now()`, activatedBy: actor } : { active: true })
      .where(eq(promptVersions.id, versionId));
}

export interface AddPromptInput {
  tenantId: string;
  assistantType: string;
  version: string;
  content: string;
  actor: string;
  activate?: boolean;
}

/** Adds a version to the tenant's own template (created on first use); inactive unless `activate`. */
export async function addPromptVersion(db: Database, input: AddPromptInput) {
  if (!ASSISTANT_TYPE.test(input.assistantType))
    throw new PromptError('bad_request', 'assistant type: a-z, 0-9 and _, starting with a letter (support, sales…)');
  if (!PROMPT_VERSION.test(input.version))
    throw new PromptError('bad_request', 'version: 1–32 characters of letters, digits, ".", "_" and "-"');
  const content = input.content.replace(/\r\n/g, '\n').trim();
  if (!content) throw new PromptError('bad_request', 'the prompt is empty');
  if (content.length > MAX_PROMPT_CHARS)
    throw new PromptError('bad_request', `the prompt is longer than ${MAX_PROMPT_CHARS} characters`);
  return db.transaction(async (tx) => {
    const [builtIn] = await tx
      .select({ name: promptTemplates.name })
      .from(promptTemplates)
      .where(and(isNull(promptTemplates.tenantId), eq(promptTemplates.assistantType, input.assistantType)));
    await tx
      .insert(promptTemplates)
      .values({
        tenantId: input.tenantId,
        assistantType: input.assistantType,
        name: builtIn?.name ?? input.assistantType,
      })
      .onConflictDoNothing();
    const template = (await lockTenantTemplate(tx, input.tenantId, input.assistantType))!;
    const [created] = await tx
      .insert(promptVersions)
      .values({ templateId: template.id, version: input.version, content, createdBy: input.actor })
      .onConflictDoNothing()
      .returning({ id: promptVersions.id, version: promptVersions.version });
    if (!created)
      throw new PromptError('conflict', `${input.assistantType} prompt version ${input.version} exists already`);
    if (input.activate) await activateIn(tx, template.id, created.id, input.actor);
    return { id: created.id, version: created.version, active: input.activate ?? false };
  });
}

/** Makes one of the tenant's versions the active one, atomically (the previous active one is deactivated). */
export async function activatePromptVersion(
  db: Database,
  input: { tenantId: string; assistantType: string; version: string; actor: string },
) {
  return db.transaction(async (tx) => {
    const template = await lockTenantTemplate(tx, input.tenantId, input.assistantType);
    const [target] = template
      ? await tx
          .select({ id: promptVersions.id, active: promptVersions.active })
          .from(promptVersions)
          .where(and(eq(promptVersions.templateId, template.id), eq(promptVersions.version, input.version)))
      : [];
    if (!template || !target)
      throw new PromptError(
        'not_found',
        `the tenant has no ${input.assistantType} prompt version ${input.version} (built-in versions cannot be activated: add a copy)`,
      );
    const [previous] = await tx
      .select({ version: promptVersions.version })
      .from(promptVersions)
      .where(and(eq(promptVersions.templateId, template.id), eq(promptVersions.active, true)));
    if (!target.active) await activateIn(tx, template.id, target.id, input.actor);
    return { previous: previous?.version ?? null, active: input.version };
  });
}

/**
 * Returns to the version activated before the current one was (repeated rollbacks walk back through the
 * activations); when there is none, the tenant's own prompt is deactivated and the built-in one is in effect again.
 */
export async function rollbackPrompt(db: Database, input: { tenantId: string; assistantType: string; actor: string }) {
  return db.transaction(async (tx) => {
    const template = await lockTenantTemplate(tx, input.tenantId, input.assistantType);
    const [current] = template
      ? await tx
          .select({ id: promptVersions.id, version: promptVersions.version, at: promptVersions.activatedAt })
          .from(promptVersions)
          .where(and(eq(promptVersions.templateId, template.id), eq(promptVersions.active, true)))
      : [];
    if (!template || !current)
      throw new PromptError(
        'conflict',
        `nothing to roll back: the tenant has no active ${input.assistantType} prompt of its own (the built-in one is in effect)`,
      );
    const [previous] = current.at
      ? await tx
          .select({ id: promptVersions.id, version: promptVersions.version })
          .from(promptVersions)
          .where(
            and(
              eq(promptVersions.templateId, template.id),
              ne(promptVersions.id, current.id),
              isNotNull(promptVersions.activatedAt),
              lt(promptVersions.activatedAt, current.at),
            ),
          )
          .orderBy(desc(promptVersions.activatedAt))
          .limit(1)
      : [];
    await activateIn(tx, template.id, previous?.id ?? null, input.actor, false);
    return { from: current.version, to: previous?.version ?? null };
  });
}

/** The tenant a `causeway prompt` command works on, with its default assistant type. */
export async function promptTenantBySlug(db: DbOrTx, slug: string) {
  const [row] = await db
    .select({ id: tenants.id, slug: tenants.slug, assistantType: tenants.assistantType })
    .from(tenants)
    .where(eq(tenants.slug, slug));
  if (!row) throw new PromptError('not_found', `no tenant ${slug} (causeway tenant list)`);
  return row;
}

/** The tenant's default assistant type (what a conversation uses unless a campaign picks collections). */
export async function tenantAssistantType(db: DbOrTx, tenantId: string) {
  const [row] = await db.select({ assistantType: tenants.assistantType }).from(tenants).where(eq(tenants.id, tenantId));
  return row?.assistantType ?? 'support';
}
