import { and, asc, eq } from 'drizzle-orm';
import type { Channel } from '../../contract/types';
import { openSecret } from '../../secrets/keyring';
import type { DbOrTx } from '../core/client';
import { phoneNumbers, tenants, twilioAccounts } from '../schema';

/** What the webhook needs to verify and route one request (src/api/tenant-cache.ts caches it). */
export interface InboundTarget {
  account: { tenantId: string; authToken: string };
  /** null when the number is not assigned to a tenant under this account (an orphan). */
  tenant: { tenantId: string; tenantSlug: string } | null;
}

/**
 * (AccountSid, channel, To) → the account's owner and auth token, and the tenant owning that number under that
 * account, in one query. null when the account is unknown.
 */
export async function findInboundTarget(
  db: DbOrTx,
  accountSid: string,
  channel: Channel,
  phone: string,
): Promise<InboundTarget | null> {
  const rows = await db
    .select({
      accountTenantId: twilioAccounts.tenantId,
      authToken: twilioAccounts.authToken,
      numberTenantId: phoneNumbers.tenantId,
      tenantSlug: tenants.slug,
    })
    .from(twilioAccounts)
    .leftJoin(
      phoneNumbers,
      and(
        eq(phoneNumbers.twilioAccountId, twilioAccounts.id),
        eq(phoneNumbers.channel, channel),
        eq(phoneNumbers.phone, phone),
      ),
    )
    .leftJoin(tenants, eq(tenants.id, phoneNumbers.tenantId))
    .where(eq(twilioAccounts.accountSid, accountSid))
    .limit(1);
  const row = rows[0];
  if (!row) return null;
  return {
    account: { tenantId: row.accountTenantId, authToken: openSecret(row.authToken) },
    tenant: row.numberTenantId && row.tenantSlug ? { tenantId: row.numberTenantId, tenantSlug: row.tenantSlug } : null,
  };
}

/** The account (owning tenant and auth token) by AccountSid, for status callbacks. */
export async function findAccountCredentials(db: DbOrTx, accountSid: string): Promise<InboundTarget['account'] | null> {
  const [row] = await db
    .select({ tenantId: twilioAccounts.tenantId, authToken: twilioAccounts.authToken })
    .from(twilioAccounts)
    .where(eq(twilioAccounts.accountSid, accountSid))
    .limit(1);
  return row ? { tenantId: row.tenantId, authToken: openSecret(row.authToken) } : null;
}

/** The tenant with that slug, or every tenant without one, by slug (the CLI's `--tenant`, optional or not). */
export function findTenantsBySlug(db: DbOrTx, slug: string | undefined): Promise<{ id: string; slug: string }[]> {
  return db
    .select({ id: tenants.id, slug: tenants.slug })
    .from(tenants)
    .where(slug ? eq(tenants.slug, slug) : undefined)
    .orderBy(tenants.slug);
}

/** Slugs of the tenants with at least one live Twilio account (simulated ones have no message log to reconcile). */
export async function listLiveTenantSlugs(db: DbOrTx): Promise<string[]> {
  const rows = await db
    .selectDistinct({ slug: tenants.slug })
    .from(tenants)
    .innerJoin(twilioAccounts, and(eq(twilioAccounts.tenantId, tenants.id), eq(twilioAccounts.mode, 'live')));
  return rows.map((r) => r.slug);
}

/** A tenant by id or slug with the key its contacts' phones are hashed with (erasure requests). */
export async function findTenantWithHashKey(
  db: DbOrTx,
  tenant: { id: string } | { slug: string },
): Promise<{ id: string; slug: string; hashKey: string } | null> {
  const [row] = await db
    .select({ id: tenants.id, slug: tenants.slug, hashKey: tenants.hashKey })
    .from(tenants)
    .where('id' in tenant ? eq(tenants.id, tenant.id) : eq(tenants.slug, tenant.slug));
  return row ? { ...row, hashKey: openSecret(row.hashKey) } : null;
}

/** Every tenant number on a channel with its account's SID and (sealed) auth token, oldest first (`causeway simulate`). */
export function listNumbersWithCredentials(db: DbOrTx, channel: Channel) {
  return db
    .select({
      slug: tenants.slug,
      phone: phoneNumbers.phone,
      accountSid: twilioAccounts.accountSid,
      authToken: twilioAccounts.authToken,
    })
    .from(phoneNumbers)
    .innerJoin(tenants, eq(tenants.id, phoneNumbers.tenantId))
    .innerJoin(twilioAccounts, eq(twilioAccounts.id, phoneNumbers.twilioAccountId))
    .where(eq(phoneNumbers.channel, channel))
    .orderBy(asc(phoneNumbers.createdAt));
}
