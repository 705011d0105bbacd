import type { IdentityCheck } from '../../contract/statuses';
import { and, eq, type SQL } from 'drizzle-orm';
import type { Channel } from '../../contract/types';
import { newHashKey } from '../../domain/contact-hash';
import { openSecret, sealSecret } from '../../secrets/keyring';
import type { DbOrTx, Database } from '../core/client';
import { listHybridSettings, setHybridMode } from '../conversations/drafts';
import { phoneNumbers, tenants, twilioAccounts } from '../schema';

export interface TenantNumber {
  tenantId: string;
  tenantSlug: string;
  accountSid: string;
  authToken: string;
  mode: 'live' | 'simulated';
  channel: Channel;
  phone: string;
  /** Issue 22 F: sends go through this Messaging Service (MessagingServiceSid) instead of From. */
  messagingServiceSid: string | null;
}

/** Tenant resolution (I2): the number must belong to that exact Twilio account. No fallback tenant, ever. */
export function findTenantNumber(
  db: DbOrTx,
  accountSid: string,
  channel: Channel,
  phone: string,
): Promise<TenantNumber | null> {
  return selectTenantNumber(
    db,
    and(eq(phoneNumbers.channel, channel), eq(phoneNumbers.phone, phone), eq(twilioAccounts.accountSid, accountSid)),
  );
}

/** The tenant's own sender number, for outbound sends: looked up by tenant, never by whoever owns the number. */
export function findTenantSender(
  db: DbOrTx,
  tenantId: string,
  channel: Channel,
  phone: string,
): Promise<TenantNumber | null> {
  return selectTenantNumber(
    db,
    and(eq(phoneNumbers.tenantId, tenantId), eq(phoneNumbers.channel, channel), eq(phoneNumbers.phone, phone)),
  );
}

async function selectTenantNumber(db: DbOrTx, where: SQL | undefined): Promise<TenantNumber | null> {
  const rows = await db
    .select({
      tenantId: phoneNumbers.tenantId,
      tenantSlug: tenants.slug,
      accountSid: twilioAccounts.accountSid,
      authToken: twilioAccounts.authToken,
      mode: twilioAccounts.mode,
      channel: phoneNumbers.channel,
      phone: phoneNumbers.phone,
      messagingServiceSid: tenants.messagingServiceSid,
    })
    .from(phoneNumbers)
    .innerJoin(twilioAccounts, eq(twilioAccounts.id, phoneNumbers.twilioAccountId))
    .innerJoin(tenants, eq(tenants.id, phoneNumbers.tenantId))
    .where(where)
    .limit(1);
  const row = rows[0];
  return row ? { ...row, authToken: openSecret(row.authToken) } : null;
}

export async function findAccount(db: DbOrTx, accountSid: string) {
  const rows = await db.select().from(twilioAccounts).where(eq(twilioAccounts.accountSid, accountSid)).limit(1);
  const row = rows[0];
  return row ? { ...row, authToken: openSecret(row.authToken) } : null;
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
    const [tenant] = await tx
      .insert(tenants)
      .values({ slug: input.slug, name: input.name, hashKey: sealSecret(newHashKey()) })
      .returning();
    const [account] = await tx
      .insert(twilioAccounts)
      .values({
        tenantId: tenant!.id,
        accountSid: input.accountSid,
        authToken: sealSecret(input.authToken),
        mode: input.mode,
      })
      .returning();
    if (input.numbers.length > 0) {
      await tx.insert(phoneNumbers).values(
        input.numbers.map((n) => ({
          tenantId: tenant!.id,
          twilioAccountId: account!.id,
          channel: n.channel,
          phone: n.phone,
        })),
      );
    }
    return { tenant: tenant!, account: { ...account!, authToken: input.authToken } };
  });
}

export async function listTenants(db: Database) {
  const rows = await db
    .select({
      slug: tenants.slug,
      name: tenants.name,
      accountSid: twilioAccounts.accountSid,
      mode: twilioAccounts.mode,
      channel: phoneNumbers.channel,
      phone: phoneNumbers.phone,
    })
    .from(tenants)
    .leftJoin(twilioAccounts, eq(twilioAccounts.tenantId, tenants.id))
    .leftJoin(phoneNumbers, eq(phoneNumbers.twilioAccountId, twilioAccounts.id))
    .orderBy(tenants.slug);
  return rows;
}

export interface TenantChange {
  name?: string;
  addNumbers?: { channel: Channel; phone: string }[];
  removeNumbers?: { channel: Channel; phone: string }[];
  /** A new Twilio auth token for the tenant's account (Twilio rotates it in its console; this records the new one). */
  authToken?: string;
  /** Which account, when the tenant has several. */
  accountSid?: string;
  /** Hybrid mode (AI drafts, agents send) for the whole tenant (department null) or one department. */
  hybrid?: { enabled: boolean; department: string | null };
  /** Where handoffs go when the AI names no department (issue 13 C). */
  defaultDepartment?: string;
  /** Issue 18 E/H: the tenant's own limits; null goes back to the deployment's default. */
  limits?: Partial<{
    aiMaxTurnsPerHour: number | null;
    aiMaxTokensPerDay: number | null;
    promiseMaxDaysAhead: number | null;
    retentionDays: number | null;
  }>;
  /** WhatsApp typing indicator when a turn starts (issue 22 E). */
  typingIndicator?: boolean;
  /** Send through this Messaging Service (MG…), or null to send From the number again (issue 22 F). */
  messagingServiceSid?: string | null;
  /** Issue 23 E: the identity check before debt details are disclosed. */
  identityCheck?: IdentityCheck;
}

export class TenantChangeError extends Error {
  override readonly name = 'TenantChangeError';
}

export interface TenantDetails {
  id: string;
  slug: string;
  name: string;
  locale: string;
  defaultDepartment: string;
  typingIndicator: boolean;
  messagingServiceSid: string | null;
  identityCheck: IdentityCheck;
  accounts: { accountSid: string; mode: 'live' | 'simulated'; numbers: { channel: Channel; phone: string }[] }[];
  /** Hybrid mode settings: the tenant's (department null) and per-department overrides. */
  hybrid: { department: string | null; enabled: boolean }[];
  /** Issue 18 E/H: the tenant's own limits (null: the deployment's default). */
  limits: {
    aiMaxTurnsPerHour: number | null;
    aiMaxTokensPerDay: number | null;
    promiseMaxDaysAhead: number | null;
    retentionDays: number | null;
  };
}

export async function showTenant(db: DbOrTx, slug: string): Promise<TenantDetails | null> {
  const [tenant] = await db
    .select({
      id: tenants.id,
      slug: tenants.slug,
      name: tenants.name,
      locale: tenants.locale,
      defaultDepartment: tenants.defaultDepartment,
      limits: {
        aiMaxTurnsPerHour: tenants.aiMaxTurnsPerHour,
        aiMaxTokensPerDay: tenants.aiMaxTokensPerDay,
        promiseMaxDaysAhead: tenants.promiseMaxDaysAhead,
        retentionDays: tenants.retentionDays,
      },
      typingIndicator: tenants.typingIndicator,
      messagingServiceSid: tenants.messagingServiceSid,
      identityCheck: tenants.identityCheck,
    })
    .from(tenants)
    .where(eq(tenants.slug, slug));
  if (!tenant) return null;
  const accounts = await db
    .select({ id: twilioAccounts.id, accountSid: twilioAccounts.accountSid, mode: twilioAccounts.mode })
    .from(twilioAccounts)
    .where(eq(twilioAccounts.tenantId, tenant.id))
    .orderBy(twilioAccounts.createdAt);
  const numbers = await db
    .select({ accountId: phoneNumbers.twilioAccountId, channel: phoneNumbers.channel, phone: phoneNumbers.phone })
    .from(phoneNumbers)
    .where(eq(phoneNumbers.tenantId, tenant.id))
    .orderBy(phoneNumbers.channel, phoneNumbers.phone);
  return {
    id: tenant.id,
    slug: tenant.slug,
    name: tenant.name,
    limits: tenant.limits,
    locale: tenant.locale,
    hybrid: await listHybridSettings(db, tenant.id),
    defaultDepartment: tenant.defaultDepartment,
    typingIndicator: tenant.typingIndicator,
    messagingServiceSid: tenant.messagingServiceSid,
    identityCheck: tenant.identityCheck,
    accounts: accounts.map((a) => ({
      accountSid: a.accountSid,
      mode: a.mode,
      numbers: numbers.filter((n) => n.accountId === a.id).map(({ channel, phone }) => ({ channel, phone })),
    })),
  };
}

/**
 * Changes a tenant in one transaction: rename, add and remove numbers, record a rotated auth token. The webhook's
 * tenant cache picks the change up within its TTL; a webhook signed with a just-rotated token is verified at once
 * (the cache reloads an entry whose token does not verify). Removing a number does not end its conversations.
 */
export async function updateTenant(db: Database, slug: string, change: TenantChange): Promise<TenantDetails> {
  await db.transaction(async (tx) => {
    const [tenant] = await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, slug)).for('update');
    if (!tenant) throw new TenantChangeError(`no tenant ${slug}`);
    const accounts = await tx
      .select({ id: twilioAccounts.id, accountSid: twilioAccounts.accountSid })
      .from(twilioAccounts)
      .where(eq(twilioAccounts.tenantId, tenant.id));
    const account = change.accountSid
      ? accounts.find((a) => a.accountSid === change.accountSid)
      : accounts.length === 1
        ? accounts[0]
        : undefined;
    const needsAccount = change.authToken !== undefined || (change.addNumbers?.length ?? 0) > 0;
    if (needsAccount && !account) {
      throw new TenantChangeError(
        change.accountSid
          ? `tenant ${slug} has no account ${change.accountSid}`
          : `tenant ${slug} has ${accounts.length} Twilio accounts: say which with --account-sid`,
      );
    }
    if (change.hybrid) await setHybridMode(tx, { tenantId: tenant.id, ...change.hybrid });
    if (change.name !== undefined) await tx.update(tenants).set({ name: change.name }).where(eq(tenants.id, tenant.id));
    if (change.limits && Object.keys(change.limits).length > 0)
      await tx.update(tenants).set(change.limits).where(eq(tenants.id, tenant.id));
    if (change.messagingServiceSid !== undefined)
      await tx
        .update(tenants)
        .set({ messagingServiceSid: change.messagingServiceSid })
        .where(eq(tenants.id, tenant.id));
    if (change.typingIndicator !== undefined)
      await tx.update(tenants).set({ typingIndicator: change.typingIndicator }).where(eq(tenants.id, tenant.id));
    if (change.identityCheck !== undefined)
      await tx.update(tenants).set({ identityCheck: change.identityCheck }).where(eq(tenants.id, tenant.id));
    if (change.defaultDepartment !== undefined)
      await tx.update(tenants).set({ defaultDepartment: change.defaultDepartment }).where(eq(tenants.id, tenant.id));
    if (change.authToken !== undefined)
      await tx
        .update(twilioAccounts)
        .set({ authToken: sealSecret(change.authToken) })
        .where(eq(twilioAccounts.id, account!.id));
    for (const n of change.removeNumbers ?? []) {
      const removed = await tx
        .delete(phoneNumbers)
        .where(
          and(
            eq(phoneNumbers.tenantId, tenant.id),
            eq(phoneNumbers.channel, n.channel),
            eq(phoneNumbers.phone, n.phone),
          ),
        )
        .returning({ id: phoneNumbers.id });
      if (removed.length === 0)
        throw new TenantChangeError(
          `tenant ${slug} does not own ${n.channel === 'whatsapp' ? 'whatsapp:' : ''}${n.phone}`,
        );
    }
    for (const n of change.addNumbers ?? []) {
      const [owner] = await tx
        .select({ tenantId: phoneNumbers.tenantId })
        .from(phoneNumbers)
        .where(and(eq(phoneNumbers.channel, n.channel), eq(phoneNumbers.phone, n.phone)));
      if (owner)
        throw new TenantChangeError(
          owner.tenantId === tenant.id
            ? `tenant ${slug} already owns that ${n.channel} number`
            : `that ${n.channel} number belongs to another tenant`,
        );
      await tx
        .insert(phoneNumbers)
        .values({ tenantId: tenant.id, twilioAccountId: account!.id, channel: n.channel, phone: n.phone });
    }
  });
  return (await showTenant(db, slug))!;
}

/**
 * Issue 22 E: whether to show the WhatsApp typing indicator for messages to this tenant number, and the account to
 * send it with (null: not a live number of the tenant, or the tenant turned it off).
 */
export async function findTypingSender(db: DbOrTx, tenantId: string, phone: string) {
  const [row] = await db
    .select({
      enabled: tenants.typingIndicator,
      accountSid: twilioAccounts.accountSid,
      authToken: twilioAccounts.authToken,
      mode: twilioAccounts.mode,
    })
    .from(phoneNumbers)
    .innerJoin(twilioAccounts, eq(twilioAccounts.id, phoneNumbers.twilioAccountId))
    .innerJoin(tenants, eq(tenants.id, phoneNumbers.tenantId))
    .where(
      and(eq(phoneNumbers.tenantId, tenantId), eq(phoneNumbers.channel, 'whatsapp'), eq(phoneNumbers.phone, phone)),
    )
    .limit(1);
  if (!row || !row.enabled || row.mode !== 'live') return null;
  return { accountSid: row.accountSid, authToken: openSecret(row.authToken) };
}
