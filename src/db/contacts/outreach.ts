import { and, asc, eq, sql } from 'drizzle-orm';
import type { Channel } from '../../contract/types';
import type { DbOrTx } from '../core/client';
import { contacts, phoneNumbers } from '../schema';

/** The tenant's first number on `channel` (the one outreach sends from); null: the tenant has none. */
export async function tenantFirstNumber(db: DbOrTx, tenantId: string, channel: Channel): Promise<string | null> {
  const [row] = await db
    .select({ phone: phoneNumbers.phone })
    .from(phoneNumbers)
    .where(and(eq(phoneNumbers.tenantId, tenantId), eq(phoneNumbers.channel, channel)))
    .orderBy(asc(phoneNumbers.createdAt), asc(phoneNumbers.id))
    .limit(1);
  return row?.phone ?? null;
}

/** The contact of `phone` (created if new, its name set when given and unknown). */
export async function upsertOutreachContact(
  db: DbOrTx,
  input: { tenantId: string; phone: string; phoneHash: string; name: string | null },
) {
  const [row] = await db
    .insert(contacts)
    .values(input)
    .onConflictDoUpdate({
      target: [contacts.tenantId, contacts.phone],
      set: { name: sql`coalesce(${contacts.name}, excluded.name)`, updatedAt: sql`now()` },
    })
    .returning({ id: contacts.id, name: contacts.name, optedOutAt: contacts.optedOutAt });
  return row!;
}

export async function outreachContact(db: DbOrTx, tenantId: string, contactId: string) {
  const [row] = await db
    .select({ phone: contacts.phone, name: contacts.name, optedOutAt: contacts.optedOutAt })
    .from(contacts)
    .where(and(eq(contacts.tenantId, tenantId), eq(contacts.id, contactId)));
  return row ?? null;
}
