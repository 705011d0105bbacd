import { and, asc, desc, eq, isNotNull, isNull, or, sql } from 'drizzle-orm';
import type { DbOrTx } from '../core/client';
import { contentTemplates, messages, messageTemplates, tenants } from '../schema';

export interface ContentTemplate {
  contentSid: string;
  /** Position → variable name. */
  variables: Record<string, string>;
}

/** Creates or replaces the tenant's Content template for a purpose. */
export async function setContentTemplate(
  db: DbOrTx,
  input: { tenantId: string; purpose: string; contentSid: string; variables: Record<string, string> },
) {
  const [row] = await db
    .insert(contentTemplates)
    .values(input)
    .onConflictDoUpdate({
      target: [contentTemplates.tenantId, contentTemplates.purpose],
      set: { contentSid: input.contentSid, variables: input.variables, updatedAt: sql`now()` },
    })
    .returning();
  return row!;
}

export async function listContentTemplates(db: DbOrTx, tenantId?: string) {
  return db
    .select({
      tenant: tenants.slug,
      purpose: contentTemplates.purpose,
      contentSid: contentTemplates.contentSid,
      variables: contentTemplates.variables,
      updatedAt: contentTemplates.updatedAt,
    })
    .from(contentTemplates)
    .innerJoin(tenants, eq(tenants.id, contentTemplates.tenantId))
    .where(tenantId ? eq(contentTemplates.tenantId, tenantId) : undefined)
    .orderBy(asc(tenants.slug), asc(contentTemplates.purpose));
}

export async function findContentTemplate(
  db: DbOrTx,
  tenantId: string,
  purpose: string,
): Promise<ContentTemplate | null> {
  const [row] = await db
    .select({ contentSid: contentTemplates.contentSid, variables: contentTemplates.variables })
    .from(contentTemplates)
    .where(and(eq(contentTemplates.tenantId, tenantId), eq(contentTemplates.purpose, purpose)));
  return row ?? null;
}

/**
 * When the contact last wrote to this sender on this channel: the start of the WhatsApp window. Derived from the
 * stored inbound messages (a backward scan of messages_contact_created_idx stops at the first hit) rather than kept
 * in a column: the messages row is already the record, written in the inbound's own transaction, so there is no
 * second copy to keep in step, nothing to backfill, and no extra write on the inbound path.
 */
export async function lastInboundAt(
  db: DbOrTx,
  contactId: string,
  channel: 'whatsapp' | 'sms',
  tenantAddress: string,
): Promise<Date | null> {
  const [row] = await db
    .select({ at: messages.createdAt })
    .from(messages)
    .where(
      and(
        eq(messages.contactId, contactId),
        eq(messages.direction, 'inbound'),
        eq(messages.channel, channel),
        eq(messages.toAddress, tenantAddress),
      ),
    )
    .orderBy(desc(messages.createdAt))
    .limit(1);
  return row?.at ?? null;
}

/** Whether a WhatsApp message of this purpose can go out as a template: the tenant's setting or a message template's ContentSid. */
export async function hasContentTemplate(db: DbOrTx, tenantId: string, purpose: string): Promise<boolean> {
  if (await findContentTemplate(db, tenantId, purpose)) return true;
  const [row] = await db
    .select({ id: messageTemplates.id })
    .from(messageTemplates)
    .where(
      and(
        eq(messageTemplates.key, purpose),
        isNotNull(messageTemplates.contentSid),
        or(eq(messageTemplates.tenantId, tenantId), isNull(messageTemplates.tenantId)),
      ),
    )
    .limit(1);
  return row !== undefined;
}
