import { eq } from 'drizzle-orm';
import type { DbOrTx } from '../core/client';
import { tenants, users } from '../schema';

/** Operators (of one tenant, or all), by tenant and name, for `causeway user list`. */
export function listOperators(db: DbOrTx, tenantSlug: string | undefined) {
  return db
    .select({
      id: users.id,
      tenant: tenants.slug,
      name: users.name,
      role: users.role,
      department: users.department,
      disabled: users.disabledAt,
    })
    .from(users)
    .innerJoin(tenants, eq(tenants.id, users.tenantId))
    .where(tenantSlug ? eq(tenants.slug, tenantSlug) : undefined)
    .orderBy(tenants.slug, users.name);
}
