import { and, eq } from 'drizzle-orm';
import type { Channel } from '../contract/types';
import type { Database } from '../db/client';
import { phoneNumbers, tenants, twilioAccounts } from '../db/schema';

export interface InboundTarget {
  account: { tenantId: string; authToken: string };
  /** null when the number is not assigned to a tenant under this account (an orphan). */
  tenant: { tenantId: string; tenantSlug: string } | null;
}

/**
 * Resolves (AccountSid, channel, To) for the webhook in one query, cached for a few seconds: the webhook's hot
 * path then costs no SQL round trip per message. A changed auth token or number takes effect within `ttlMs`.
 * Only found accounts are cached, so an unknown account is looked up every time (and rejected every time).
 */
export function createTenantResolver(db: Database, options: { ttlMs: number; maxEntries: number; now?: () => number }) {
  const now = options.now ?? Date.now;
  const cache = new Map<string, { value: InboundTarget; expires: number }>();

  async function load(accountSid: string, channel: Channel, phone: string): Promise<InboundTarget | null> {
    const rows = await db
      .select({ accountTenantId: twilioAccounts.tenantId, authToken: twilioAccounts.authToken, numberTenantId: phoneNumbers.tenantId, tenantSlug: tenants.slug })
      .from(twilioAccounts)
      .leftJoin(phoneNumbers, and(eq(phoneNumbers.twilioAccountId, twilioAccounts.id), eq(phoneNumbers.channel, channel), eq(phoneNumbers.phone, phone)))
      .leftJoin(tenants, eq(tenants.id, phoneNumbers.tenantId))
      .where(eq(twilioAccounts.accountSid, accountSid))
      .limit(1);
    const row = rows[0];
    if (!row) return null;
    return {
      account: { tenantId: row.accountTenantId, authToken: row.authToken },
      tenant: row.numberTenantId && row.tenantSlug ? { tenantId: row.numberTenantId, tenantSlug: row.tenantSlug } : null,
    };
  }

  return async function resolve(accountSid: string, channel: Channel, phone: string): Promise<InboundTarget | null> {
    const key = `${accountSid}|${channel}|${phone}`;
    const hit = cache.get(key);
    if (hit && hit.expires > now()) return hit.value;
    const value = await load(accountSid, channel, phone);
    if (value) {
      if (cache.size >= options.maxEntries) cache.delete(cache.keys().next().value!);
      cache.set(key, { value, expires: now() + options.ttlMs });
    }
    return value;
  };
}
