import { and, desc, eq, isNull, or, sql } from 'drizzle-orm';
import type { DbOrTx } from '../core/client';
import { messageTemplates, promptTemplates, promptVersions } from '../schema';

/** The active prompt version for an assistant type: the tenant's own template first, else the built-in one. */
export async function loadActivePrompt(db: DbOrTx, tenantId: string, assistantType: string) {
  const rows = await db
    .select({
      versionId: promptVersions.id,
      version: promptVersions.version,
      content: promptVersions.content,
      tenantId: promptTemplates.tenantId,
    })
    .from(promptVersions)
    .innerJoin(promptTemplates, eq(promptTemplates.id, promptVersions.templateId))
    .where(
      and(
        eq(promptVersions.active, true),
        eq(promptTemplates.assistantType, assistantType),
        or(eq(promptTemplates.tenantId, tenantId), isNull(promptTemplates.tenantId)),
      ),
    )
    .orderBy(sql`${promptTemplates.tenantId} is null`)
    .limit(1);
  return rows[0] ?? null;
}

/** A system message template: tenant + locale, then built-in + locale, then built-in English. */
export async function loadMessageTemplate(db: DbOrTx, tenantId: string, key: string, locale: string) {
  const rows = await db
    .select({
      body: messageTemplates.body,
      contentSid: messageTemplates.contentSid,
      contentVariables: messageTemplates.contentVariables,
      tenantId: messageTemplates.tenantId,
      locale: messageTemplates.locale,
    })
    .from(messageTemplates)
    .where(
      and(
        eq(messageTemplates.key, key),
        or(eq(messageTemplates.tenantId, tenantId), isNull(messageTemplates.tenantId)),
        or(eq(messageTemplates.locale, locale), eq(messageTemplates.locale, 'en')),
      ),
    )
    .orderBy(
      sql`${messageTemplates.tenantId} is null`,
      sql`${messageTemplates.locale} <> ${locale}`,
      desc(messageTemplates.createdAt),
    )
    .limit(1);
  return rows[0] ?? null;
}
