import { and, eq, isNull, sql } from 'drizzle-orm';
import { apiKeyMatches, generateApiKey, parseApiKey, type Role } from '../../domain/api-keys';
import type { Database } from '../core/client';
import { apiKeys, operatorSessions, tenants, users } from '../schema';

export interface Operator {
  id: string;
  tenantId: string;
  tenantSlug: string;
  name: string;
  role: Role;
  department: string | null;
  /** The API key that authenticated this request (a console or codec session: the key it was opened with). */
  keyId: string | null;
}

/** Creates a user with one API key; the key is returned once and only its hash is stored. */
export async function createUser(
  db: Database,
  input: { tenantId: string; name: string; role: Role; email?: string | null; department?: string | null },
) {
  return db.transaction(async (tx) => {
    const [user] = await tx
      .insert(users)
      .values({
        tenantId: input.tenantId,
        name: input.name,
        role: input.role,
        email: input.email ?? null,
        department: input.department ?? null,
      })
      .returning();
    const key = generateApiKey();
    await tx.insert(apiKeys).values({ userId: user!.id, prefix: key.prefix, keyHash: key.hash });
    return { user: user!, apiKey: key.key };
  });
}

/** The enabled user owning a valid, unrevoked API key; null for anything else (no detail for an attacker). */
export async function findOperatorByApiKey(db: Database, key: string): Promise<Operator | null> {
  const parsed = parseApiKey(key);
  if (!parsed) return null;
  const [row] = await db
    .select({
      keyId: apiKeys.id,
      keyHash: apiKeys.keyHash,
      id: users.id,
      tenantId: users.tenantId,
      tenantSlug: tenants.slug,
      name: users.name,
      role: users.role,
      department: users.department,
    })
    .from(apiKeys)
    .innerJoin(users, eq(users.id, apiKeys.userId))
    .innerJoin(tenants, eq(tenants.id, users.tenantId))
    .where(and(eq(apiKeys.prefix, parsed.prefix), isNull(apiKeys.revokedAt), isNull(users.disabledAt)));
  if (!row || !apiKeyMatches(key, row.keyHash)) return null;
  await db
    .update(apiKeys)
    .set({ lastUsedAt: sql`now()` })
    .where(eq(apiKeys.id, row.keyId));
  const { keyHash: _keyHash, ...operator } = row;
  return operator;
}

/** Revokes every key of a user; with `issueNew`, returns a fresh key (rotation). Null when the user is unknown. */
export async function rotateApiKeys(
  db: Database,
  userId: string,
  issueNew: boolean,
): Promise<{ tenantId: string; revoked: number; apiKey: string | null } | null> {
  return db.transaction(async (tx) => {
    const [user] = await tx.select({ id: users.id, tenantId: users.tenantId }).from(users).where(eq(users.id, userId));
    if (!user) return null;
    const revoked = await tx
      .update(apiKeys)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
      .returning({ id: apiKeys.id });
    if (!issueNew) return { tenantId: user.tenantId, revoked: revoked.length, apiKey: null };
    const key = generateApiKey();
    await tx.insert(apiKeys).values({ userId, prefix: key.prefix, keyHash: key.hash });
    return { tenantId: user.tenantId, revoked: revoked.length, apiKey: key.key };
  });
}

/**
 * Disables (or enables again) one of the tenant's users. A disabled user's keys and sessions stop working at once:
 * every API request and every console or codec request reads `disabled_at` (findOperatorByApiKey,
 * findOperatorBySession). Disabling also revokes the open sessions, so enabling the user again does not revive them.
 * Null when the user is not the tenant's; `changed` false when it already was in that state.
 */
export async function setUserDisabled(
  db: Database,
  tenantId: string,
  userId: string,
  disabled: boolean,
): Promise<{ id: string; name: string; role: Role; changed: boolean } | null> {
  return db.transaction(async (tx) => {
    const [user] = await tx
      .select({ id: users.id, name: users.name, role: users.role, disabledAt: users.disabledAt })
      .from(users)
      .where(and(eq(users.id, userId), eq(users.tenantId, tenantId)))
      .for('update');
    if (!user) return null;
    const changed = (user.disabledAt !== null) !== disabled;
    if (changed)
      await tx
        .update(users)
        .set({ disabledAt: disabled ? sql`now()` : null })
        .where(eq(users.id, userId));
    if (disabled)
      await tx
        .update(operatorSessions)
        .set({ revokedAt: sql`now()` })
        .where(and(eq(operatorSessions.userId, userId), isNull(operatorSessions.revokedAt)));
    return { id: user.id, name: user.name, role: user.role, changed };
  });
}

/** A user of the tenant (for the CLI's messages); null when there is none. */
export async function findTenantUser(db: Database, tenantId: string, userId: string) {
  const [row] = await db
    .select({ id: users.id, name: users.name, role: users.role, disabledAt: users.disabledAt })
    .from(users)
    .where(and(eq(users.id, userId), eq(users.tenantId, tenantId)));
  return row ?? null;
}
