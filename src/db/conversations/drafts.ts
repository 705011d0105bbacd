import { and, asc, desc, eq, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../core/client';
import { raiseAlerts } from '../events/alerts';
import { alerts, aiResults, conversations, hybridSettings, suggestedResponses, tenants, users } from '../schema';

export type DraftOutcome = NonNullable<typeof suggestedResponses.$inferSelect.outcome>;

/**
 * Whether the conversation's replies are drafts (hybrid mode): its department's setting (the tenant's default
 * department while it has none), else the tenant's, else off. A column expression over `conversations`, so the AI turn reads it with the context it loads anyway.
 */
export const hybridEnabledSql = (): SQL<boolean> => {
  // Qualified by hand: drizzle leaves columns of a single-table select unqualified, which inside the subqueries
  // would bind to hybrid_settings' own tenant_id and department.
  const tenantId = sql`${conversations}.${sql.identifier('tenant_id')}`;
  // A conversation not routed to a department yet (the AI has it) counts as the tenant's default department.
  const department = sql`coalesce(${conversations}.${sql.identifier('department')},
    (select t.default_department from ${tenants} t where t.id = ${tenantId}))`;
  return hybridEnabledFor({ tenantId, department });
};

/** The same rule for hand-written queries: e.g. `hybridEnabledFor({ tenantId: sql.raw('c.tenant_id'), … })`. */
export const hybridEnabledFor = (of: { tenantId: SQL; department: SQL }): SQL<boolean> => sql<boolean>`coalesce(
    (select hs.enabled from ${hybridSettings} hs where hs.tenant_id = ${of.tenantId} and hs.department = ${of.department}),
    (select hs.enabled from ${hybridSettings} hs where hs.tenant_id = ${of.tenantId} and hs.department is null),
    false)`;

/** `causeway tenant update --hybrid on|off [--department X]`: one row per tenant and department. */
export async function setHybridMode(
  db: DbOrTx,
  input: { tenantId: string; department: string | null; enabled: boolean },
): Promise<void> {
  await db
    .insert(hybridSettings)
    .values(input)
    .onConflictDoUpdate({
      target: [hybridSettings.tenantId, hybridSettings.department],
      set: { enabled: input.enabled, updatedAt: sql`now()` },
    });
}

export async function listHybridSettings(db: DbOrTx, tenantId: string) {
  return db
    .select({ department: hybridSettings.department, enabled: hybridSettings.enabled })
    .from(hybridSettings)
    .where(eq(hybridSettings.tenantId, tenantId))
    .orderBy(asc(hybridSettings.department));
}

export interface NewDraft {
  tenantId: string;
  conversationId: string;
  aiResultId: string;
  text: string;
}

/**
 * Stores the AI's draft (idempotent per AI result: an activity retry finds the same row) and marks any older
 * pending draft of the conversation superseded, in one transaction.
 */
export async function insertDraft(db: DbOrTx, input: NewDraft): Promise<{ draftId: string }> {
  const run = async (tx: DbOrTx) => {
    const [ai] = await tx
      .select({ promptVersionId: aiResults.promptVersionId, inputMessageIds: aiResults.inputMessageIds })
      .from(aiResults)
      .where(eq(aiResults.id, input.aiResultId));
    const [conversation] = await tx
      .select({ department: conversations.department })
      .from(conversations)
      .where(eq(conversations.id, input.conversationId));
    const [row] = await tx
      .insert(suggestedResponses)
      .values({
        tenantId: input.tenantId,
        conversationId: input.conversationId,
        aiResultId: input.aiResultId,
        promptVersionId: ai?.promptVersionId ?? null,
        inputMessageIds: ai?.inputMessageIds ?? [],
        department: conversation?.department ?? null,
        draftText: input.text,
      })
      .onConflictDoUpdate({ target: suggestedResponses.aiResultId, set: { aiResultId: input.aiResultId } })
      .returning({ id: suggestedResponses.id });
    await tx
      .update(suggestedResponses)
      .set({ outcome: 'superseded', decidedAt: sql`now()` })
      .where(
        and(
          eq(suggestedResponses.conversationId, input.conversationId),
          isNull(suggestedResponses.outcome),
          sql`${suggestedResponses.id} <> ${row!.id}`,
        ),
      );
    await resolveUnattendedAlerts(tx, input.conversationId, null);
    return { draftId: row!.id };
  };
  return db.transaction(run);
}

export interface DraftDecision {
  draftId: string;
  outcome: DraftOutcome;
  finalText?: string | null;
  reason?: string | null;
  decidedBy?: string | null;
  messageId?: string | null;
}

/** Records what became of a pending draft (first decision wins) and settles its `draft_unattended` alert. */
export async function recordDraftDecision(
  db: DbOrTx,
  input: DraftDecision,
): Promise<{ recorded: boolean; tenantId: string | null; conversationId: string | null }> {
  const run = async (tx: DbOrTx) => {
    const rows = await tx
      .update(suggestedResponses)
      .set({
        outcome: input.outcome,
        finalText: input.finalText ?? null,
        reason: input.reason ?? null,
        decidedBy: input.decidedBy ?? null,
        messageId: input.messageId ?? null,
        decidedAt: sql`now()`,
      })
      .where(and(eq(suggestedResponses.id, input.draftId), isNull(suggestedResponses.outcome)))
      .returning({ tenantId: suggestedResponses.tenantId, conversationId: suggestedResponses.conversationId });
    if (rows[0]) await resolveUnattendedAlerts(tx, rows[0].conversationId, input.draftId);
    return {
      recorded: rows.length > 0,
      tenantId: rows[0]?.tenantId ?? null,
      conversationId: rows[0]?.conversationId ?? null,
    };
  };
  return db.transaction(run);
}

/** The draft waited longer than HYBRID_DRAFT_TIMEOUT: one `draft_unattended` alert (no text in it). */
export async function raiseDraftUnattended(
  db: DbOrTx,
  input: { draftId: string; waitedMs: number },
): Promise<{ raised: boolean; tenantId: string | null; conversationId: string | null }> {
  const run = async (tx: DbOrTx) => {
    const [draft] = await tx
      .update(suggestedResponses)
      .set({ escalatedAt: sql`now()` })
      .where(
        and(
          eq(suggestedResponses.id, input.draftId),
          isNull(suggestedResponses.outcome),
          isNull(suggestedResponses.escalatedAt),
        ),
      )
      .returning({
        tenantId: suggestedResponses.tenantId,
        conversationId: suggestedResponses.conversationId,
        department: suggestedResponses.department,
      });
    if (!draft) return { raised: false, tenantId: null, conversationId: null };
    await raiseAlerts(tx, [
      {
        tenantId: draft.tenantId,
        conversationId: draft.conversationId,
        type: 'draft_unattended',
        severity: 'high',
        message: `A suggested reply has waited ${Math.round(input.waitedMs / 1000)} s for an agent`,
        payload: { draftId: input.draftId, department: draft.department },
      },
    ]);
    return { raised: true, tenantId: draft.tenantId, conversationId: draft.conversationId };
  };
  return db.transaction(run);
}

async function resolveUnattendedAlerts(tx: DbOrTx, conversationId: string, draftId: string | null) {
  await tx
    .update(alerts)
    .set({ resolvedAt: sql`now()` })
    .where(
      and(
        eq(alerts.conversationId, conversationId),
        eq(alerts.type, 'draft_unattended'),
        isNull(alerts.resolvedAt),
        draftId ? sql`${alerts.payload}->>'draftId' = ${draftId}` : undefined,
      ),
    );
}

/** A conversation's drafts, newest first, with who decided them (the console's draft panel and the API). */
export async function listConversationDrafts(db: DbOrTx, conversationId: string, limit = 50) {
  return db
    .select({
      id: suggestedResponses.id,
      draftText: suggestedResponses.draftText,
      finalText: suggestedResponses.finalText,
      outcome: suggestedResponses.outcome,
      reason: suggestedResponses.reason,
      decidedBy: { id: users.id, name: users.name },
      decidedAt: suggestedResponses.decidedAt,
      escalatedAt: suggestedResponses.escalatedAt,
      aiResultId: suggestedResponses.aiResultId,
      promptVersionId: suggestedResponses.promptVersionId,
      messageId: suggestedResponses.messageId,
      createdAt: suggestedResponses.createdAt,
    })
    .from(suggestedResponses)
    .leftJoin(users, eq(users.id, suggestedResponses.decidedBy))
    .where(eq(suggestedResponses.conversationId, conversationId))
    .orderBy(desc(suggestedResponses.createdAt))
    .limit(limit);
}

export async function findDraft(db: DbOrTx, conversationId: string, draftId: string) {
  const [row] = await db
    .select({ id: suggestedResponses.id, outcome: suggestedResponses.outcome })
    .from(suggestedResponses)
    .where(and(eq(suggestedResponses.id, draftId), eq(suggestedResponses.conversationId, conversationId)));
  return row ?? null;
}

/** Erasure: the drafts of the contact's conversations lose their texts (the rows stay for the counts). */
export async function anonymizeDrafts(tx: DbOrTx, conversationIds: string[], erased: string): Promise<number> {
  if (conversationIds.length === 0) return 0;
  const rows = await tx
    .update(suggestedResponses)
    .set({
      draftText: erased,
      finalText: sql`case when ${suggestedResponses.finalText} is null then null else ${erased} end`,
      reason: sql`case when ${suggestedResponses.reason} is null then null else ${erased} end`,
    })
    .where(inArray(suggestedResponses.conversationId, conversationIds))
    .returning({ id: suggestedResponses.id });
  return rows.length;
}

/** Retention (RETENTION_AI_TEXTS): decided drafts older than the cutoff lose their texts. */
export async function blankDecidedDrafts(db: DbOrTx, cutoff: Date): Promise<void> {
  await db
    .update(suggestedResponses)
    .set({ draftText: '', finalText: null })
    .where(
      and(
        sql`${suggestedResponses.outcome} is not null`,
        sql`${suggestedResponses.createdAt} < ${cutoff.toISOString()}::timestamptz`,
        sql`${suggestedResponses.draftText} <> ''`,
        // Issue 18 H: a tenant's longer retention (tenants.retention_days) holds its drafts too.
        sql`not exists (select 1 from tenants t where t.id = ${suggestedResponses.tenantId} and t.retention_days is not null
          and ${suggestedResponses.createdAt} >= now() - t.retention_days * interval '1 day')`,
      ),
    );
}

/** A cheap version of a conversation's drafts (the console's live draft panel polls it). */
export async function draftsVersion(db: DbOrTx, conversationId: string): Promise<string> {
  const [row] = await db
    .select({
      n: sql<number>`count(*)::int`,
      decided: sql<number>`count(${suggestedResponses.decidedAt})::int`,
      escalated: sql<number>`count(${suggestedResponses.escalatedAt})::int`,
    })
    .from(suggestedResponses)
    .where(eq(suggestedResponses.conversationId, conversationId));
  return `${row?.n ?? 0}.${row?.decided ?? 0}.${row?.escalated ?? 0}`;
}

/** A conversation reached a final state: its pending draft can no longer be sent (same transaction as the change). */
export async function abandonPendingDrafts(tx: DbOrTx, conversationId: string): Promise<void> {
  const abandoned = await tx
    .update(suggestedResponses)
    .set({ outcome: 'abandoned', decidedAt: sql`now()` })
    .where(and(eq(suggestedResponses.conversationId, conversationId), isNull(suggestedResponses.outcome)))
    .returning({ escalatedAt: suggestedResponses.escalatedAt });
  if (abandoned.some((d) => d.escalatedAt)) await resolveUnattendedAlerts(tx, conversationId, null);
}
