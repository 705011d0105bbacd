import { and, eq, isNull, sql } from 'drizzle-orm';
import type { DbOrTx } from '../core/client';
import { optOutOpenTargets } from '../campaigns/targets';
import { contacts } from '../schema';

export type OptOutSource = 'keyword' | 'twilio_21610' | 'operator';

/** Marks the contact opted out (once) and stops its open campaign targets; returns the campaigns affected. */
export async function markOptedOut(tx: DbOrTx, contactId: string, source: OptOutSource): Promise<string[]> {
  await tx
    .update(contacts)
    .set({ optedOutAt: sql`now()`, optOutSource: source, updatedAt: sql`now()` })
    .where(and(eq(contacts.id, contactId), isNull(contacts.optedOutAt)));
  return optOutOpenTargets(tx, contactId);
}

/** A START-family keyword: the contact may receive campaigns again (targets already stopped stay stopped). */
export async function markOptedIn(tx: DbOrTx, contactId: string): Promise<boolean> {
  const rows = await tx
    .update(contacts)
    .set({ optedOutAt: null, optOutSource: null, updatedAt: sql`now()` })
    .where(eq(contacts.id, contactId))
    .returning({ id: contacts.id });
  return rows.length > 0;
}
