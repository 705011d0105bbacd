import { and, eq, type SQL } from 'drizzle-orm';
import type { Channel } from '../contract/types';
import { newHashKey } from '../domain/contact-hash';
import type { DbOrTx, Database } from './client';
import { phoneNumbers, tenants, twilioAccounts } from './schema';

export interface TenantNumber {
  tenantId: string;
  tenantSlug: string;
  accountSid: string;
  authToken: string;
  mode: 'live' | 'simulated';
  channel: Channel;
  phone: string;
}

/** Tenant resolution (I2): the number must belong to that exact Twilio account. No fallback tenant, ever. */
export function findTenantNumber(db: DbOrTx, accountSid: string, channel: Channel, phone: string): Promise<TenantNumber | null> {
  return selectTenantNumber(db, and(eq(phoneNumbers.channel, channel), eq(phoneNumbers.phone, phone), eq(twilioAccounts.accountSid, accountSid)));
}

/** The tenant's own sender number, for outbound sends: looked up by tenant, never by whoever owns the number. */
export function findTenantSender(db: DbOrTx, tenantId: string, channel: Channel, phone: string): Promise<TenantNumber | null> {
  return selectTenantNumber(db, and(eq(phoneNumbers.tenantId, tenantId), eq(phoneNumbers.channel, channel), eq(phoneNumbers.phone, phone)));
}

async function selectTenantNumber(db: DbOrTx, where: SQL | undefined): Promise<TenantNumber | null> {
  const rows = await db
    .select({
      tenantId: phoneNumbers.tenantId, tenantSlug: tenants.slug, accountSid: twilioAccounts.accountSid,
      authToken: twilioAccounts.authToken, mode: twilioAccounts.mode, channel: phoneNumbers.channel, phone: phoneNumbers.phone,
    })
    .from(phoneNumbers)
    .innerJoin(twilioAccounts, eq(twilioAccounts.id, phoneNumbers.twilioAccountId))
    .innerJoin(tenants, eq(tenants.id, phoneNumbers.tenantId))
    .where(where)
    .limit(1);
  return rows[0] ?? null;
}

export async function findAccount(db: DbOrTx, accountSid: string) {
  const rows = await db.select().from(twilioAccounts).where(eq(twilioAccounts.accountSid, accountSid)).limit(1);
  return rows[0] ?? null;
}

export interface NewTenant {
  slug: string;
  name: string;
  accountSid: string;
  authToken: string;
  mode: 'live' | 'simulated';
  numbers: { channel: Channel; phone: string }[];
}

/** Creates a tenant, its Twilio account and numbers in one transaction (seed 003, risk 3: no half-made tenant). */
export async function createTenant(db: Database, input: NewTenant) {
  return db.transaction(async (tx) => {
    const [tenant] = await tx.insert(tenants).values({ slug: input.slug, name: input.name, hashKey: newHashKey() }).returning();
    const [account] = await tx.insert(twilioAccounts)
      .values({ tenantId: tenant!.id, accountSid: input.accountSid, authToken: input.authToken, mode: input.mode })
      .returning();
    if (input.numbers.length > 0) {
      await tx.insert(phoneNumbers).values(input.numbers.map((n) => ({ tenantId: tenant!.id, twilioAccountId: account!.id, channel: n.channel, phone: n.phone })));
    }
    return { tenant: tenant!, account: account! };
  });
}

export async function listTenants(db: Database) {
  const rows = await db
    .select({ slug: tenants.slug, name: tenants.name, accountSid: twilioAccounts.accountSid, mode: twilioAccounts.mode, channel: phoneNumbers.channel, phone: phoneNumbers.phone })
    .from(tenants)
    .leftJoin(twilioAccounts, eq(twilioAccounts.tenantId, tenants.id))
    .leftJoin(phoneNumbers, eq(phoneNumbers.twilioAccountId, twilioAccounts.id))
    .orderBy(tenants.slug);
  return rows;
}
