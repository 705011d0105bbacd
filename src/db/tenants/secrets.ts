import { and, eq, inArray } from 'drizzle-orm';
import { keyring, open, seal, sealedKeyId, type Keyring } from '../../secrets/keyring';
import type { Database } from '../core/client';
import { tenants, twilioAccounts } from '../schema';

export interface SealResult {
  /** Plain rows (from before encryption) now sealed. */
  sealed: number;
  /** Rows sealed with an older key of the ring, now sealed with the current one. */
  resealed: number;
  /** Ids of keys not in the ring that some rows are sealed with: those rows stay as they are (and do not open). */
  unknownKeyIds: string[];
  /** Tenants' contact-hash keys sealed or re-sealed (issue 18 H). */
  hashKeysSealed: number;
}

/**
 * One-shot and idempotent, run at worker start, at `npm start` and by `causeway db migrate`: seals every auth token
 * that is still plain or sealed with a key that is no longer the current one (a rotation). A row is rewritten only
 * if it still holds the value that was read, so concurrent runs (two workers starting) never overwrite each other,
 * and a token rotated meanwhile (`tenant update --rotate-auth-token`) is already sealed anew. `accountSids` limits
 * the pass to some accounts (tests sharing one database).
 */
export async function sealStoredSecrets(
  db: Database,
  ring: Keyring = keyring(),
  options: { accountSids?: string[] } = {},
): Promise<SealResult> {
  const rows = await db
    .select({ id: twilioAccounts.id, authToken: twilioAccounts.authToken })
    .from(twilioAccounts)
    .where(options.accountSids ? inArray(twilioAccounts.accountSid, options.accountSids) : undefined);
  const result: SealResult = { sealed: 0, resealed: 0, unknownKeyIds: [], hashKeysSealed: 0 };
  for (const row of rows) {
    const keyId = sealedKeyId(row.authToken);
    if (keyId === ring.current.id) continue;
    if (keyId !== null && !ring.byId.has(keyId)) {
      if (!result.unknownKeyIds.includes(keyId)) result.unknownKeyIds.push(keyId);
      continue;
    }
    const plain = keyId === null ? row.authToken : open(ring, row.authToken);
    const updated = await db
      .update(twilioAccounts)
      .set({ authToken: seal(ring, plain) })
      .where(and(eq(twilioAccounts.id, row.id), eq(twilioAccounts.authToken, row.authToken)))
      .returning({ id: twilioAccounts.id });
    if (updated.length === 0) continue;
    if (keyId === null) result.sealed += 1;
    else result.resealed += 1;
  }
  // Issue 18 H: the tenants' contact-hash keys, sealed the same way (only on a full pass: tests limit by account).
  if (!options.accountSids) {
    const keys = await db.select({ id: tenants.id, hashKey: tenants.hashKey }).from(tenants);
    for (const row of keys) {
      const keyId = sealedKeyId(row.hashKey);
      if (keyId === ring.current.id) continue;
      if (keyId !== null && !ring.byId.has(keyId)) {
        if (!result.unknownKeyIds.includes(keyId)) result.unknownKeyIds.push(keyId);
        continue;
      }
      const plain = keyId === null ? row.hashKey : open(ring, row.hashKey);
      const updated = await db
        .update(tenants)
        .set({ hashKey: seal(ring, plain) })
        .where(and(eq(tenants.id, row.id), eq(tenants.hashKey, row.hashKey)))
        .returning({ id: tenants.id });
      if (updated.length > 0) result.hashKeysSealed += 1;
    }
  }
  return result;
}
