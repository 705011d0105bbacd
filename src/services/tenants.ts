import type { DbOrTx } from '../db/core/client';
import { tenantsBySlug } from '../db/campaigns/campaigns';
import { ServiceError } from './errors';

/** The tenant a command names (`--tenant`), or the only one when it names none. */
export async function tenantBySlug(db: DbOrTx, slug: string | undefined) {
  const rows = await tenantsBySlug(db, slug);
  if (rows.length === 0) throw new ServiceError('not_found', slug ? `no tenant ${slug}` : 'no tenants yet');
  if (rows.length > 1)
    throw new ServiceError(
      'invalid',
      `several tenants: pick one with --tenant (${rows.map((r) => r.slug).join(', ')})`,
    );
  return rows[0]!;
}
