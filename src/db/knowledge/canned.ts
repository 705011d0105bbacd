import { and, asc, eq, isNull, or, sql } from 'drizzle-orm';
import type { DbOrTx } from '../core/client';
import { cannedResponses, tenants } from '../schema';

export type CannedResponse = typeof cannedResponses.$inferSelect;

/** Creates a canned response, or replaces the body of the one with the same tenant, department and title. */
export async function upsertCannedResponse(
  db: DbOrTx,
  input: { tenantId: string; department: string | null; title: string; body: string; createdBy: string },
): Promise<CannedResponse> {
  const [row] = await db
    .insert(cannedResponses)
    .values(input)
    .onConflictDoUpdate({
      target: [cannedResponses.tenantId, cannedResponses.department, cannedResponses.title],
      set: { body: input.body, updatedAt: sql`now()` },
    })
    .returning();
  return row!;
}

/**
 * The canned responses an operator may use: the tenant's general ones (no department) and those of `department`;
 * `department` undefined (supervisors, the CLI) lists every department's.
 */
export async function listCannedResponses(db: DbOrTx, tenantId: string, department?: string | null) {
  return db
    .select({
      id: cannedResponses.id,
      department: cannedResponses.department,
      title: cannedResponses.title,
      body: cannedResponses.body,
      updatedAt: cannedResponses.updatedAt,
    })
    .from(cannedResponses)
    .where(
      and(
        eq(cannedResponses.tenantId, tenantId),
        department === undefined
          ? undefined
          : or(isNull(cannedResponses.department), department ? eq(cannedResponses.department, department) : undefined),
      ),
    )
    .orderBy(asc(cannedResponses.department), asc(cannedResponses.title));
}

export async function findCannedResponse(db: DbOrTx, tenantId: string, id: string) {
  const [row] = await db
    .select()
    .from(cannedResponses)
    .where(and(eq(cannedResponses.tenantId, tenantId), eq(cannedResponses.id, id)));
  return row ?? null;
}

/** Removes by id, or by title (and department: null = the general one). Returns how many went. */
export async function removeCannedResponse(
  db: DbOrTx,
  tenantId: string,
  which: { id: string } | { title: string; department: string | null },
): Promise<number> {
  const rows = await db
    .delete(cannedResponses)
    .where(
      and(
        eq(cannedResponses.tenantId, tenantId),
        'id' in which
          ? eq(cannedResponses.id, which.id)
          : and(
              eq(cannedResponses.title, which.title),
              which.department === null
                ? isNull(cannedResponses.department)
                : eq(cannedResponses.department, which.department),
            ),
      ),
    )
    .returning({ id: cannedResponses.id });
  return rows.length;
}

/** Every tenant's canned responses with the tenant's slug (the CLI's `canned list` without --tenant). */
export async function listAllCannedResponses(db: DbOrTx) {
  return db
    .select({
      tenant: tenants.slug,
      id: cannedResponses.id,
      department: cannedResponses.department,
      title: cannedResponses.title,
      body: cannedResponses.body,
    })
    .from(cannedResponses)
    .innerJoin(tenants, eq(tenants.id, cannedResponses.tenantId))
    .orderBy(asc(tenants.slug), asc(cannedResponses.department), asc(cannedResponses.title));
}
