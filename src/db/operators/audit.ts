import { and, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import type { Database, DbOrTx } from '../core/client';
import { auditLog, type AUDIT_OUTCOMES } from '../schema';

export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];
export type AuditEntry = typeof auditLog.$inferInsert;
export type AuditRow = typeof auditLog.$inferSelect;

/** Appends one record; the table refuses UPDATE and DELETE (migration 0016), so this is the only write there is. */
export async function recordAudit(db: DbOrTx, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values(entry);
}

/** An HTTP status as an audit outcome (a redirect after a console action counts as ok unless the action said no). */
export function outcomeOfStatus(status: number): AuditOutcome {
  if (status < 400) return 'ok';
  if (status === 401 || status === 403) return 'denied';
  if (status === 404) return 'not_found';
  if (status < 500) return 'rejected';
  return 'error';
}

export interface AuditQuery {
  tenantId: string;
  since?: Date;
  /** A user id, or a CLI actor label (`cli:<user>`). */
  actor?: string;
  /** Page backwards from this id (exclusive). */
  beforeId?: number;
  limit: number;
}

/** Newest first, paged by id: `beforeId` is the last id of the previous page. */
export async function listAudit(db: Database, query: AuditQuery): Promise<AuditRow[]> {
  const where: SQL[] = [eq(auditLog.tenantId, query.tenantId)];
  if (query.since) where.push(gte(auditLog.occurredAt, query.since));
  if (query.beforeId !== undefined) where.push(lt(auditLog.id, query.beforeId));
  if (query.actor) {
    where.push(
      /^[0-9a-f-]{36}$/i.test(query.actor)
        ? eq(auditLog.actorUserId, query.actor)
        : eq(auditLog.actorLabel, query.actor),
    );
  }
  return db
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.id))
    .limit(query.limit);
}

/**
 * Retention: deletes records older than `before`, in one transaction that opens the append-only trigger for
 * DELETE (SET LOCAL, so nothing else in the session is affected). Returns how many went.
 */
export async function purgeAuditBefore(
  db: Database,
  before: Date,
  options: { tenantId?: string } = {},
): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('causeway.audit_retention', 'on', true)`);
    const rows = await tx
      .delete(auditLog)
      .where(
        and(lt(auditLog.occurredAt, before), options.tenantId ? eq(auditLog.tenantId, options.tenantId) : undefined),
      )
      .returning({ id: auditLog.id });
    return rows.length;
  });
}
