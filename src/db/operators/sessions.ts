import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Database } from '../core/client';
import { apiKeys, codecAudit, operatorSessions, tenants, users } from '../schema';
import type { Operator } from './users';

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** A new browser session for an operator; the token (256 random bits) is returned once, only its hash is kept. */
export async function createOperatorSession(
  db: Database,
  operator: Pick<Operator, 'id' | 'keyId'>,
  ttlMs: number,
): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + ttlMs);
  await db
    .insert(operatorSessions)
    .values({ userId: operator.id, apiKeyId: operator.keyId, tokenHash: hashToken(token), expiresAt });
  return { token, expiresAt };
}

/**
 * The enabled operator of a live (unexpired, unrevoked) session whose API key is still unrevoked; null for anything
 * else. Checked on every use, so disabling the user or revoking the key ends the session at the next request. A
 * session from before sessions named their key (api_key_id null) is refused: nothing could end it but its expiry.
 */
export async function findOperatorBySession(db: Database, token: string): Promise<Operator | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const [row] = await db
    .select({
      id: users.id,
      tenantId: users.tenantId,
      tenantSlug: tenants.slug,
      name: users.name,
      role: users.role,
      department: users.department,
      keyId: operatorSessions.apiKeyId,
    })
    .from(operatorSessions)
    .innerJoin(apiKeys, eq(apiKeys.id, operatorSessions.apiKeyId))
    .innerJoin(users, eq(users.id, operatorSessions.userId))
    .innerJoin(tenants, eq(tenants.id, users.tenantId))
    .where(
      and(
        eq(operatorSessions.tokenHash, hashToken(token)),
        isNull(operatorSessions.revokedAt),
        gt(operatorSessions.expiresAt, sql`now()`),
        isNull(users.disabledAt),
        isNull(apiKeys.revokedAt),
      ),
    );
  return row ?? null;
}

export async function revokeOperatorSession(db: Database, token: string): Promise<void> {
  await db
    .update(operatorSessions)
    .set({ revokedAt: sql`now()` })
    .where(eq(operatorSessions.tokenHash, hashToken(token)));
}

export type CodecAuditEntry = typeof codecAudit.$inferInsert;

export async function recordCodecAccess(db: Database, entry: CodecAuditEntry): Promise<void> {
  await db.insert(codecAudit).values(entry);
}
