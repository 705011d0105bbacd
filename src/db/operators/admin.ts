import { and, asc, desc, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import { generateApiKey } from '../../domain/api-keys';
import type { Database, DbOrTx } from '../core/client';
import { apiKeys, conversations, departments, tenants, users } from '../schema';

/** A department name: what users, conversations and the AI's transfer tool carry. */
export const DEPARTMENT_NAME = /^[a-z][a-z0-9_-]{0,39}$/;

/** The tenant's operators with their keys (prefix and dates only: the key itself is shown once, at issue). */
export async function listUsersWithKeys(db: DbOrTx, tenantId: string) {
  const rows = await db
    .select({
      id: users.id,
      name: users.name,
      email: users.email,
      role: users.role,
      department: users.department,
      disabledAt: users.disabledAt,
      createdAt: users.createdAt,
      key: {
        id: apiKeys.id,
        prefix: apiKeys.prefix,
        createdAt: apiKeys.createdAt,
        lastUsedAt: apiKeys.lastUsedAt,
        revokedAt: apiKeys.revokedAt,
      },
    })
    .from(users)
    .leftJoin(apiKeys, eq(apiKeys.userId, users.id))
    .where(eq(users.tenantId, tenantId))
    .orderBy(asc(users.name), asc(users.id), desc(apiKeys.createdAt));
  const byUser = new Map<
    string,
    Omit<(typeof rows)[number], 'key'> & { keys: NonNullable<(typeof rows)[number]['key']>[] }
  >();
  for (const { key, ...user } of rows) {
    const entry = byUser.get(user.id) ?? { ...user, keys: [] };
    if (key) entry.keys.push(key);
    byUser.set(user.id, entry);
  }
  return [...byUser.values()];
}

/** A new key for one of the tenant's users (existing keys stay valid); null when the user is not the tenant's. */
export async function issueApiKey(db: Database, tenantId: string, userId: string) {
  return db.transaction(async (tx) => {
    const [user] = await tx
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.id, userId), eq(users.tenantId, tenantId)));
    if (!user) return null;
    const key = generateApiKey();
    const [row] = await tx
      .insert(apiKeys)
      .values({ userId, prefix: key.prefix, keyHash: key.hash })
      .returning({ id: apiKeys.id, prefix: apiKeys.prefix });
    return { ...row!, apiKey: key.key };
  });
}

/** Revokes one key of the tenant's users; false when there is no such unrevoked key in the tenant. */
export async function revokeApiKey(db: DbOrTx, tenantId: string, keyId: string): Promise<boolean> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: sql`now()` })
    .where(
      and(
        eq(apiKeys.id, keyId),
        isNull(apiKeys.revokedAt),
        sql`${apiKeys.userId} in (select ${users.id} from ${users} where ${users.tenantId} = ${tenantId})`,
      ),
    )
    .returning({ id: apiKeys.id });
  return rows.length > 0;
}

/**
 * The tenant's departments: those added here, and any name its users or conversations already carry (they
 * were free text before the table existed), with how many users and open handoffs each has.
 */
export async function listDepartments(db: DbOrTx, tenantId: string) {
  const [declared, staffed, queued, [tenant]] = await Promise.all([
    db
      .select({ name: departments.name, createdAt: departments.createdAt })
      .from(departments)
      .where(eq(departments.tenantId, tenantId)),
    db
      .select({ name: users.department, n: sql<number>`count(*)::int` })
      .from(users)
      .where(and(eq(users.tenantId, tenantId), isNotNull(users.department), isNull(users.disabledAt)))
      .groupBy(users.department),
    db
      .select({ name: conversations.department, n: sql<number>`count(*)::int` })
      .from(conversations)
      .where(
        and(
          eq(conversations.tenantId, tenantId),
          eq(conversations.status, 'HUMAN'),
          isNotNull(conversations.department),
        ),
      )
      .groupBy(conversations.department),
    db.select({ defaultDepartment: tenants.defaultDepartment }).from(tenants).where(eq(tenants.id, tenantId)),
  ]);
  const fallback = tenant?.defaultDepartment ?? null;
  const names = new Set([
    ...(fallback ? [fallback] : []),
    ...declared.map((d) => d.name),
    ...staffed.map((s) => s.name!),
    ...queued.map((q) => q.name!),
  ]);
  return [...names].sort().map((name) => ({
    name,
    declared: declared.some((d) => d.name === name),
    /** Handoffs go here when the AI names no department (tenants.default_department). */
    isDefault: name === fallback,
    users: staffed.find((s) => s.name === name)?.n ?? 0,
    waiting: queued.find((q) => q.name === name)?.n ?? 0,
  }));
}

/** Adds a department; false when the tenant has it already. */
export async function addDepartment(db: DbOrTx, tenantId: string, name: string): Promise<boolean> {
  const rows = await db
    .insert(departments)
    .values({ tenantId, name })
    .onConflictDoNothing()
    .returning({ id: departments.id });
  return rows.length > 0;
}

/** The department a handoff goes to when the AI names none; declared on the way if it was not. */
export async function setDefaultDepartment(db: Database, tenantId: string, name: string) {
  await db.transaction(async (tx) => {
    await tx.insert(departments).values({ tenantId, name }).onConflictDoNothing();
    await tx.update(tenants).set({ defaultDepartment: name }).where(eq(tenants.id, tenantId));
  });
}
