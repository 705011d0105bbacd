import { and, eq, or, sql } from 'drizzle-orm';
import type { Database, DbOrTx } from '../core/client';
import { contacts } from '../schema';

/**
 * Issue 22 A: a contact is a phone, a WhatsApp BSUID, or both. `contacts.phone` is the contact's key (E.164, or the
 * BSUID for a customer known only by it) and `phone_hash` its conversation key, which never changes: so a customer
 * first seen by BSUID who later shares the number stays one contact with one conversation history, and existing
 * phone contacts keep their conversation ids. Run only for an inbound message that carries a BSUID (one statement
 * more, in a transaction); returns the key and hash the inbound statement then uses.
 */
export async function resolveContactIdentity(
  db: Database,
  input: { tenantId: string; phone: string | null; bsuid: string; hashOf: (key: string) => string },
): Promise<{ key: string; hash: string }> {
  return db.transaction(async (tx) => {
    // Two first messages of one customer at once (a burst) must not create two contacts.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`bsuid:${input.tenantId}:${input.bsuid}`}))`);
    const [byBsuid] = await tx
      .select({ id: contacts.id, phone: contacts.phone, hash: contacts.phoneHash, bsuid: contacts.bsuid })
      .from(contacts)
      .where(
        and(
          eq(contacts.tenantId, input.tenantId),
          or(eq(contacts.bsuid, input.bsuid), eq(contacts.phone, input.bsuid)),
        ),
      )
      .orderBy(sql`${contacts.bsuid} is null`)
      .limit(1);
    if (input.phone === null) {
      if (byBsuid) return { key: byBsuid.phone, hash: byBsuid.hash };
      const hash = input.hashOf(input.bsuid);
      await tx
        .insert(contacts)
        .values({ tenantId: input.tenantId, phone: input.bsuid, phoneHash: hash, bsuid: input.bsuid })
        .onConflictDoNothing();
      return { key: input.bsuid, hash };
    }
    const [byPhone] = await tx
      .select({ id: contacts.id, hash: contacts.phoneHash, bsuid: contacts.bsuid })
      .from(contacts)
      .where(and(eq(contacts.tenantId, input.tenantId), eq(contacts.phone, input.phone)));
    if (byPhone) {
      // Linked unless another contact already holds the BSUID (both existed apart: kept apart, see docs/channels.md).
      if (byPhone.bsuid === null && !byBsuid)
        await tx.update(contacts).set({ bsuid: input.bsuid }).where(eq(contacts.id, byPhone.id));
      return { key: input.phone, hash: byPhone.hash };
    }
    if (byBsuid) {
      // Known by BSUID only, now with the number: the same contact takes the phone as its key, its hash stays.
      await tx
        .update(contacts)
        .set({ phone: input.phone, bsuid: input.bsuid, updatedAt: sql`now()` })
        .where(eq(contacts.id, byBsuid.id));
      return { key: input.phone, hash: byBsuid.hash };
    }
    const hash = input.hashOf(input.phone);
    await tx
      .insert(contacts)
      .values({ tenantId: input.tenantId, phone: input.phone, phoneHash: hash, bsuid: input.bsuid })
      .onConflictDoNothing();
    return { key: input.phone, hash };
  });
}

/** The stored conversation key of the contact with this phone or BSUID (erasure by either identity), if any. */
export async function findContactHashByIdentity(db: DbOrTx, tenantId: string, identity: string) {
  const [row] = await db
    .select({ hash: contacts.phoneHash })
    .from(contacts)
    .where(and(eq(contacts.tenantId, tenantId), or(eq(contacts.phone, identity), eq(contacts.bsuid, identity))))
    .limit(1);
  return row?.hash ?? null;
}
